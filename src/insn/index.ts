/** `tsbpf/insn`: the BPF instruction model (decode, encode, symbolic references); kernel-free. */
export * from "./insn.js";
