/** `tsbpf/disasm`: llvm-objdump-style listings and annotated disassembly of objects and programs; kernel-free. */
export * from "./disasm.js";
