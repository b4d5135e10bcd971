/**
 * Writing a relocation result into its instruction (libbpf's
 * bpf_core_patch_insn). Relocatable instructions are:
 *
 *   rX = imm / rX op= imm           ALU, ALU64 with BPF_K: the imm
 *   rX = *(T *)(rY + off)           LDX: the off (and T, when the field's size changed)
 *   *(T *)(rX + off) = rY / imm     STX, ST: the off (and T)
 *   rX = imm64                      ld_imm64: both halves of the immediate
 *
 * Before patching, the instruction must hold the local value (unless the
 * result says it cannot be checked). A poisoned instruction becomes
 * `call 0xbad2310`: if the verifier reaches it, it fails with
 * "invalid func unknown#195896080"; if it is dead code, it is dropped.
 */
import { RelocationError } from "../errors.js";
import { BPF_ALU, BPF_ALU64, BPF_B, BPF_DW, BPF_H, BPF_K, BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_W, CALL, LD_IMM64 } from "../insn/insn.js";
import type { Instruction } from "../insn/insn.js";
import type { CoreReloResult } from "./calc.js";

/** The imm of a poisoned instruction: 0xbad2310, "bad relo". */
export const CORE_POISON_IMM = 0xbad2310;
const SHRT_MAX = 0x7fff;

/** What patching did, for the relocation's report. */
export interface PatchOutcome {
  poisoned: boolean;
  /** Set when patching itself decided to poison (a load/store that cannot be resized safely). */
  poisonReason?: string;
  /** The memory access size in bytes before/after, when a load/store was resized. */
  resized?: { from: number; to: number };
}

/** Turns `insn` into `call 0xbad2310`, keeping its metadata. */
export function poisonInstruction(insn: Instruction): void {
  insn.opcode = CALL;
  insn.dst = 0;
  insn.src = 0;
  insn.off = 0;
  insn.imm = CORE_POISON_IMM;
}

/** True for an instruction poisoned by a failed CO-RE relocation. */
export function isPoisonedInstruction(insn: Instruction): boolean {
  return insn.opcode === CALL && insn.src === 0 && insn.imm === CORE_POISON_IMM;
}

function memSizeBytes(opcode: number): number {
  switch (opcode & 0x18) {
    case BPF_DW:
      return 8;
    case BPF_W:
      return 4;
    case BPF_H:
      return 2;
    default:
      return 1;
  }
}

function memSizeCode(bytes: number): number | undefined {
  switch (bytes) {
    case 8:
      return BPF_DW;
    case 4:
      return BPF_W;
    case 2:
      return BPF_H;
    case 1:
      return BPF_B;
    default:
      return undefined;
  }
}

const u64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

/**
 * Patches `insns[index]` (and, for ld_imm64, `insns[index + 1]`) with `res`.
 * Throws RelocationError when the instruction is not one CO-RE can patch or
 * does not hold the local value; `what` prefixes those messages.
 */
export function patchInstruction(insns: Instruction[], index: number, res: CoreReloResult, what = "CO-RE relocation"): PatchOutcome {
  const insn = insns[index];
  if (!insn) throw new RelocationError(`${what}: instruction #${index} is past the end of the program (${insns.length} instructions)`);
  const poison = (reason?: string): PatchOutcome => {
    // Both slots of an ld_imm64, so the verifier does not trip over a lone second half ("unknown opcode 00").
    if (insn.opcode === LD_IMM64 && insns[index + 1]) poisonInstruction(insns[index + 1]!);
    poisonInstruction(insn);
    return reason === undefined ? { poisoned: true } : { poisoned: true, poisonReason: reason };
  };
  if (res.poison) return poison();

  const cls = insn.opcode & 0x07;
  const unexpected = (form: string, got: bigint | number): never => {
    throw new RelocationError(
      `${what}: unexpected value in instruction #${index} (${form}): got ${got}, expected ${res.origVal} (to become ${res.newVal})`,
    );
  };
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      if ((insn.opcode & 0x08) !== BPF_K)
        throw new RelocationError(`${what}: instruction #${index} is an ALU op on a register, not an immediate`);
      if (res.validate && u64(insn.imm) !== res.origVal) unexpected("ALU/ALU64 imm", insn.imm);
      insn.imm = Number(BigInt.asIntN(32, res.newVal));
      return { poisoned: false };
    }
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
      if (res.validate && u64(insn.off) !== res.origVal) unexpected("LDX/ST/STX off", insn.off);
      if (res.newVal > BigInt(SHRT_MAX)) {
        throw new RelocationError(`${what}: offset ${res.newVal} does not fit instruction #${index}'s 16-bit offset`);
      }
      if (res.failMemszAdjust) {
        return poison(
          `the field is ${res.origSize} bytes locally but ${res.newSize} bytes in the target, and a load/store can only be resized for pointers and unsigned integers`,
        );
      }
      insn.off = Number(res.newVal);
      if (res.newSize !== res.origSize) {
        const have = memSizeBytes(insn.opcode);
        if (have !== res.origSize) {
          throw new RelocationError(`${what}: instruction #${index} accesses ${have} bytes, expected ${res.origSize}`);
        }
        const code = memSizeCode(res.newSize);
        if (code === undefined) throw new RelocationError(`${what}: instruction #${index} cannot access ${res.newSize} bytes`);
        insn.opcode = (insn.opcode & 0xe0) | code | cls;
        return { poisoned: false, resized: { from: res.origSize, to: res.newSize } };
      }
      return { poisoned: false };
    }
    case BPF_LD: {
      const hi = insns[index + 1];
      if (
        insn.opcode !== LD_IMM64 ||
        insn.src !== 0 ||
        insn.off !== 0 ||
        !hi ||
        hi.opcode !== 0 ||
        hi.dst !== 0 ||
        hi.src !== 0 ||
        hi.off !== 0
      ) {
        throw new RelocationError(`${what}: instruction #${index} (ld_imm64) has an unexpected form`);
      }
      const imm = (BigInt(hi.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
      if (res.validate && imm !== res.origVal) unexpected("ld_imm64 imm", imm);
      insn.imm = Number(BigInt.asIntN(32, res.newVal));
      hi.imm = Number(BigInt.asIntN(32, res.newVal >> 32n));
      return { poisoned: false };
    }
    default:
      throw new RelocationError(
        `${what}: instruction #${index} (opcode 0x${insn.opcode.toString(16)}) is not an instruction CO-RE can relocate`,
      );
  }
}
