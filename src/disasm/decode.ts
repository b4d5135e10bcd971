/**
 * One BPF instruction as text, in exactly the syntax llvm-objdump-19 prints
 * for it (`llvm-objdump -d`, whose default is hexadecimal immediates).
 *
 * The rules here mirror what LLVM 19's BPF disassembler accepts, which is
 * narrower than "any opcode the kernel knows": an encoding LLVM cannot
 * decode prints as `<unknown>`, and fields LLVM does not look at are
 * ignored exactly as LLVM ignores them (an ALU-immediate instruction's
 * src_reg, a jump's imm when it compares registers, ...). By default this
 * is llvm-objdump's default subtarget, which lacks the `alu32` feature: so
 * 32-bit loads and stores name 64-bit registers (`r1 = *(u32 *)(r2 + 0x0)`)
 * and 32-bit xchg/cmpxchg/fetch atomics do not decode. `{ alu32: true }`
 * gives `llvm-objdump --mattr=+alu32` instead.
 *
 * Written from the instruction set (Documentation/bpf/standardization/
 * instruction-set.rst) and checked against llvm-objdump-19's output on
 * every opcode (test/disasm.test.ts).
 */
import type { Instruction } from "../insn/insn.js";

export interface DisasmOptions {
  /** Decode as `llvm-objdump --mattr=+alu32` does (w registers for 32-bit memory access, 32-bit atomics). */
  alu32?: boolean;
}

export interface DecodedInstruction {
  /** The text llvm-objdump prints after the raw bytes; "<unknown>" when LLVM cannot decode it. */
  text: string;
  /** Slots consumed: 2 for a 64-bit immediate load (ld_imm64 / ld_pseudo), else 1. */
  slots: 1 | 2;
  /** For a branch (goto, gotol, conditional jumps, may_goto): the jump in slots, relative to the next slot. */
  jump?: number;
  /** False when LLVM cannot decode the instruction (text is "<unknown>"). */
  known: boolean;
}

export const UNKNOWN = "<unknown>";

const UNKNOWN_INSN: DecodedInstruction = { text: UNKNOWN, slots: 1, known: false };

/** LLVM's formatHex for a signed value: "0x1f", "-0x4". */
export function hex(value: number | bigint): string {
  const v = BigInt(value);
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** LLVM's GPR decoder accepts r0..r11 (r11 exists in LLVM's register file); 12..15 fail. */
function reg(n: number, w: boolean): string | undefined {
  return n <= 11 ? `${w ? "w" : "r"}${n}` : undefined;
}

/** A memory operand: "r10 - 0x4", "r1 + 0x0". */
function mem(base: number, off: number): string | undefined {
  const r = reg(base, false);
  if (r === undefined) return undefined;
  return off >= 0 ? `${r} + ${hex(off)}` : `${r} - ${hex(-off)}`;
}

/** A branch operand: "+0x3", "-0x1". */
function brTarget(v: number): string {
  return `${v >= 0 ? "+" : ""}${hex(v)}`;
}

const SIZE_NAMES = ["u32", "u16", "u8", "u64"] as const;
const SIGNED_SIZE_NAMES = ["s32", "s16", "s8"] as const;

/** ALU operations that have both forms and take an off of 0 (off 1 for the signed DIV/MOD). */
const ALU_OPS: Record<number, string> = {
  0: "+=",
  1: "-=",
  2: "*=",
  3: "/=",
  4: "|=",
  5: "&=",
  6: "<<=",
  7: ">>=",
  9: "%=",
  10: "^=",
  12: "s>>=",
};

const JMP_CONDS: Record<number, string> = {
  1: "==",
  2: ">",
  3: ">=",
  4: "&",
  5: "!=",
  6: "s>",
  7: "s>=",
  10: "<",
  11: "<=",
  12: "s<",
  13: "s<=",
};

/** Non-fetching atomic ops (bits 7-4 of imm) and their operator. */
const ATOMIC_OPS: Record<number, [string, string]> = {
  0: ["+", "add"],
  4: ["|", "or"],
  5: ["&", "and"],
  10: ["^", "xor"],
};
const BPF_FETCH = 0x1;
const ATOMIC_XCHG = 0xe;
const ATOMIC_CMPXCHG = 0xf;

function known(text: string | undefined, jump?: number): DecodedInstruction {
  if (text === undefined) return UNKNOWN_INSN;
  return jump === undefined ? { text, slots: 1, known: true } : { text, slots: 1, known: true, jump };
}

function decodeAlu(insn: Instruction, w: boolean): DecodedInstruction {
  const op = insn.opcode >> 4;
  const x = (insn.opcode & 0x08) !== 0;
  const dst = reg(insn.dst, w);
  const src = reg(insn.src, w);
  if (dst === undefined) return UNKNOWN_INSN;
  const opStr = ALU_OPS[op];
  if (opStr !== undefined) {
    let s = opStr;
    if (insn.off === 1 && (op === 0x3 || op === 0x9)) s = `s${opStr}`;
    else if (insn.off !== 0) return UNKNOWN_INSN;
    return known(x ? (src === undefined ? undefined : `${dst} ${s} ${src}`) : `${dst} ${s} ${hex(insn.imm | 0)}`);
  }
  switch (op) {
    case 0x8: // neg: only dst is looked at
      return known(x ? undefined : `${dst} = -${dst}`);
    case 0xb: // mov, movsx, addr_space_cast
      if (!x) return known(insn.off === 0 ? `${dst} = ${hex(insn.imm | 0)}` : undefined);
      if (src === undefined) return UNKNOWN_INSN;
      if (insn.off === 0) return known(`${dst} = ${src}`);
      if (insn.off === 8 || insn.off === 16 || (insn.off === 32 && !w)) return known(`${dst} = (s${insn.off})${src}`);
      if (insn.off === 1 && !w) {
        const imm = insn.imm >>> 0;
        return known(`${dst} = addr_space_cast(${src}, ${hex(imm >>> 16)}, ${hex(imm & 0xffff)})`);
      }
      return UNKNOWN_INSN;
    case 0xd: {
      // byte swaps name 64-bit registers whatever the class
      if (insn.imm !== 16 && insn.imm !== 32 && insn.imm !== 64) return UNKNOWN_INSN;
      const r = reg(insn.dst, false)!;
      const name = !w ? (x ? undefined : "bswap") : x ? "be" : "le";
      return known(name === undefined ? undefined : `${r} = ${name}${insn.imm} ${r}`);
    }
    default:
      return UNKNOWN_INSN;
  }
}

function decodeJmp(insn: Instruction, jmp32: boolean): DecodedInstruction {
  const op = insn.opcode >> 4;
  const x = (insn.opcode & 0x08) !== 0;
  const cond = JMP_CONDS[op];
  if (cond !== undefined) {
    const dst = reg(insn.dst, jmp32);
    if (dst === undefined) return UNKNOWN_INSN;
    let rhs: string | undefined = hex(insn.imm | 0);
    if (x) rhs = reg(insn.src, jmp32);
    return known(rhs === undefined ? undefined : `if ${dst} ${cond} ${rhs} goto ${brTarget(insn.off)}`, insn.off);
  }
  if (x) {
    // callx names its register in dst_reg (LLVM 19); every other X form is undefined
    return known(op === 0x8 && !jmp32 ? (reg(insn.dst, false) === undefined ? undefined : `callx ${reg(insn.dst, false)}`) : undefined);
  }
  if (jmp32) {
    if (op === 0x0) return known(`gotol ${brTarget(insn.imm | 0)}`, insn.imm | 0);
    return UNKNOWN_INSN;
  }
  switch (op) {
    case 0x0:
      return known(`goto ${brTarget(insn.off)}`, insn.off);
    case 0x8:
      return known(`call ${hex(insn.imm | 0)}`);
    case 0x9:
      return known(insn.imm === 0 ? "exit" : undefined);
    case 0xe:
      return known(`may_goto ${brTarget(insn.off)}`, insn.off);
    default:
      return UNKNOWN_INSN;
  }
}

function decodeLd(insn: Instruction, next: Instruction | undefined): DecodedInstruction {
  const mode = insn.opcode & 0xe0;
  const size = (insn.opcode >> 3) & 0x3;
  if (mode === 0x00) {
    if (size !== 3 || insn.off !== 0) return UNKNOWN_INSN;
    const dst = reg(insn.dst, false);
    // LLVM needs both slots; without the second it fails the whole instruction.
    if (dst === undefined || next === undefined) return UNKNOWN_INSN;
    if (insn.src === 0) {
      const value = BigInt.asIntN(64, (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0));
      return { text: `${dst} = ${hex(value)} ll`, slots: 2, known: true };
    }
    // LLVM's ld_pseudo: the second slot's imm lands in the upper half of the pseudo operand, printed as int32.
    return { text: `ld_pseudo\t${dst}, ${hex(insn.src)}, ${hex(insn.imm >>> 0)}`, slots: 2, known: true };
  }
  if (size === 3) return UNKNOWN_INSN;
  if (mode === 0x20) return known(`r0 = *(${SIZE_NAMES[size]} *)skb[${hex(insn.imm | 0)}]`);
  if (mode === 0x40) {
    const src = reg(insn.src, false);
    return known(src === undefined ? undefined : `r0 = *(${SIZE_NAMES[size]} *)skb[${src}]`);
  }
  return UNKNOWN_INSN;
}

function decodeLdx(insn: Instruction, opts: DisasmOptions): DecodedInstruction {
  const mode = insn.opcode & 0xe0;
  const size = (insn.opcode >> 3) & 0x3;
  const addr = mem(insn.src, insn.off);
  if (mode === 0x60) {
    const dst = reg(insn.dst, !!opts.alu32 && size !== 3);
    return known(dst === undefined || addr === undefined ? undefined : `${dst} = *(${SIZE_NAMES[size]} *)(${addr})`);
  }
  if (mode === 0x80 && size !== 3) {
    const dst = reg(insn.dst, false);
    return known(dst === undefined || addr === undefined ? undefined : `${dst} = *(${SIGNED_SIZE_NAMES[size]} *)(${addr})`);
  }
  return UNKNOWN_INSN;
}

function decodeSt(insn: Instruction): DecodedInstruction {
  if ((insn.opcode & 0xe0) !== 0x60) return UNKNOWN_INSN;
  const addr = mem(insn.dst, insn.off);
  return known(addr === undefined ? undefined : `*(${SIZE_NAMES[(insn.opcode >> 3) & 0x3]} *)(${addr}) = ${hex(insn.imm | 0)}`);
}

function decodeStx(insn: Instruction, opts: DisasmOptions): DecodedInstruction {
  const mode = insn.opcode & 0xe0;
  const size = (insn.opcode >> 3) & 0x3;
  const addr = mem(insn.dst, insn.off);
  if (addr === undefined) return UNKNOWN_INSN;
  const w = !!opts.alu32 && size !== 3;
  const src = reg(insn.src, w);
  if (src === undefined) return UNKNOWN_INSN;
  const ty = SIZE_NAMES[size];
  if (mode === 0x60) return known(`*(${ty} *)(${addr}) = ${src}`);
  if (mode !== 0xc0 || size === 1 || size === 2) return UNKNOWN_INSN;
  const aop = (insn.imm >> 4) & 0xf;
  const fetch = (insn.imm & 0xf) === BPF_FETCH;
  if (size === 0 && !opts.alu32) {
    // Without alu32 LLVM knows one 32-bit atomic: add, whatever the fetch bits say.
    return known(aop === 0x0 ? `lock *(u32 *)(${addr}) += ${src}` : undefined);
  }
  const ops = ATOMIC_OPS[aop];
  if (ops) {
    return known(fetch ? `${src} = atomic_fetch_${ops[1]}((${ty} *)(${addr}), ${src})` : `lock *(${ty} *)(${addr}) ${ops[0]}= ${src}`);
  }
  if (!fetch) return UNKNOWN_INSN;
  const bits = size === 3 ? "_64" : "32_32";
  if (aop === ATOMIC_XCHG) return known(`${src} = xchg${bits}(${addr}, ${src})`);
  const r0 = w ? "w0" : "r0";
  if (aop === ATOMIC_CMPXCHG) return known(`${r0} = cmpxchg${bits}(${addr}, ${r0}, ${src})`);
  return UNKNOWN_INSN;
}

/**
 * Decodes one instruction. `next` is the following slot, which a 64-bit
 * immediate load needs for its upper half.
 */
export function decodeInstruction(insn: Instruction, next?: Instruction, opts: DisasmOptions = {}): DecodedInstruction {
  switch (insn.opcode & 0x07) {
    case 0x00:
      return decodeLd(insn, next);
    case 0x01:
      return decodeLdx(insn, opts);
    case 0x02:
      return decodeSt(insn);
    case 0x03:
      return decodeStx(insn, opts);
    case 0x04:
      return decodeAlu(insn, true);
    case 0x05:
      return decodeJmp(insn, false);
    case 0x06:
      return decodeJmp(insn, true);
    default:
      return decodeAlu(insn, false);
  }
}

/** The instruction's text exactly as llvm-objdump-19 -d prints it (see decodeInstruction). */
export function disassemble(insn: Instruction, next?: Instruction, opts: DisasmOptions = {}): string {
  return decodeInstruction(insn, next, opts).text;
}
