/**
 * The last relocation step, the only one that needs the kernel: symbolic
 * map references become fds in ld_imm64 instructions, and .ksyms externs
 * become kernel BTF ids or addresses (a missing __weak one: address 0, and
 * a poisoned call, as libbpf binds them).
 *   map       → src_reg BPF_PSEUDO_MAP_FD,    imm = map fd
 *   map_value → src_reg BPF_PSEUDO_MAP_VALUE, imm = map fd, 2nd slot imm = offset
 */
import { RelocationError, UnsupportedError } from "../errors.js";
import {
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  type Instruction,
  cloneInstruction,
  isLdImm64,
} from "../insn/insn.js";

/** libbpf's marker for the call of an unresolved __weak kfunc: helper id base + the extern's index. */
export const POISON_CALL_KFUNC_BASE = 2002000000;

/**
 * Why the verifier refused a poisoned kfunc call ("invalid func
 * unknown#2002000001"), from its log and the bindings the program was bound
 * with; undefined when the log shows no such refusal.
 */
export function explainUnresolvedKfunc(log: string, externs: ReadonlyMap<string, ExternBinding>): string | undefined {
  const m = log.match(/invalid func unknown#(\d+)/);
  const name = m ? [...externs.keys()][Number(m[1]) - POISON_CALL_KFUNC_BASE] : undefined;
  if (name === undefined) return undefined;
  return (
    `kfunc ${name} is declared __weak and this kernel does not have it, but the program calls it where the verifier ` +
    `cannot prove the call dead: call it only when bpf_ksym_exists(${name}) is true`
  );
}

/** How an extern (.ksyms) is bound at load time. */
export type ExternBinding =
  /** kfunc call: src_reg BPF_PSEUDO_KFUNC_CALL, imm = FUNC id in kernel BTF. */
  | { kind: "kfunc"; btfId: number }
  /** typed kernel variable: ld_imm64 src_reg BPF_PSEUDO_BTF_ID, imm = VAR id. */
  | { kind: "btf_var"; btfId: number }
  /** untyped kernel symbol: ld_imm64 of its address. */
  | { kind: "address"; address: bigint };

export function bindMapReferences(
  program: string,
  insns: readonly Instruction[],
  mapFd: (name: string) => number | undefined,
  externs: ReadonlyMap<string, ExternBinding> = new Map(),
): Instruction[] {
  // Copy on write: only the instructions patched here and the slot after each are copies (an
  // ld_imm64's second slot is written; so is whatever follows a reference a malformed object put
  // on another instruction); the rest stay the caller's objects, which nothing writes.
  const out = insns.slice();
  for (let i = 0; i < out.length; i++) {
    const ref = out[i]!.reference;
    if (!ref) continue;
    const insn = (out[i] = cloneInstruction(out[i]!));
    if (i + 1 < out.length) out[i + 1] = cloneInstruction(out[i + 1]!);
    if (ref.kind === "map" || ref.kind === "map_value") {
      const fd = mapFd(ref.map);
      if (fd === undefined) throw new RelocationError(`${program}: instruction ${i} refers to map ${ref.map}, which was not created`);
      insn.src = ref.kind === "map" ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
      insn.imm = fd;
      out[i + 1]!.imm = ref.kind === "map" ? 0 : ref.offset;
    } else if (ref.kind === "extern") {
      const b = externs.get(ref.name);
      if (!b) throw new UnsupportedError(`${program}: instruction ${i} uses extern ${ref.name}, which was not resolved`);
      if (b.kind === "kfunc" && isLdImm64(insn)) {
        // The kfunc's address (bpf_ksym_exists): BPF_PSEUDO_BTF_ID of its FUNC, or 0 when a
        // __weak kfunc is missing, so the guarded call is dead code the verifier removes.
        insn.src = b.btfId ? BPF_PSEUDO_BTF_ID : 0;
        insn.imm = b.btfId;
        out[i + 1]!.imm = 0; // BTF object fd: 0 is vmlinux
      } else if (b.kind === "kfunc" && b.btfId === 0) {
        // A missing __weak kfunc's call, as libbpf poisons it: a call to a helper that does not
        // exist, which the verifier refuses only if the call can run (explainUnresolvedKfunc).
        insn.src = 0;
        insn.dst = 0;
        insn.off = 0;
        insn.imm = POISON_CALL_KFUNC_BASE + [...externs.keys()].indexOf(ref.name);
      } else if (b.kind === "kfunc") {
        insn.src = BPF_PSEUDO_KFUNC_CALL;
        insn.imm = b.btfId;
        insn.off = 0; // index into fd_array: 0 is vmlinux
      } else if (b.kind === "btf_var") {
        insn.src = BPF_PSEUDO_BTF_ID;
        insn.imm = b.btfId;
        out[i + 1]!.imm = 0; // BTF object fd: 0 is vmlinux
      } else {
        insn.src = 0;
        insn.imm = Number(BigInt.asIntN(32, b.address & 0xffffffffn));
        out[i + 1]!.imm = Number(BigInt.asIntN(32, b.address >> 32n));
      }
    }
  }
  return out;
}
