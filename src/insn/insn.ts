/**
 * `struct bpf_insn` as objects. An instruction keeps its raw fields plus
 * metadata (what it refers to symbolically, its CO-RE relocation, its source
 * line) from parsing until the moment it is encoded for PROG_LOAD, so the
 * disassembler, --explain and the verifier-log annotator can all read it.
 *
 * The array of a program is indexed by 8-byte slot, exactly as the kernel
 * counts instructions: `ld_imm64` takes two slots, and its second slot is a
 * continuation instruction (opcode 0) holding the upper 32 bits in `imm`.
 */
import { ObjectFormatError } from "../errors.js";
import type { CoreRelo, FuncInfo, LineInfo } from "../btf/ext.js";

export const INSN_SIZE = 8;

// Instruction classes (low 3 bits of the opcode).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// Sizes and modes for loads/stores.
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

// ALU/JMP operations (high 4 bits) and source bit.
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_MOV = 0xb0;
export const BPF_ADD = 0x00;
export const BPF_JA = 0x00;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;

/** The first slot of a 64-bit immediate load. */
export const LD_IMM64 = BPF_LD | BPF_DW | BPF_IMM; // 0x18
export const CALL = BPF_JMP | BPF_CALL; // 0x85
export const EXIT = BPF_JMP | BPF_EXIT; // 0x95

// src_reg values with a special meaning (include/uapi/linux/bpf.h).
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;
/** src_reg of a call to a BPF-to-BPF subprogram. */
export const BPF_PSEUDO_CALL = 1;
/** src_reg of a call to a kernel function (kfunc). */
export const BPF_PSEUDO_KFUNC_CALL = 2;

/** What an instruction refers to by name until fds and offsets are bound. */
export type Reference =
  /** ld_imm64 of a map's fd (BPF_PSEUDO_MAP_FD). */
  | { kind: "map"; map: string }
  /** ld_imm64 of an address inside a map's value (BPF_PSEUDO_MAP_VALUE): global data. */
  | { kind: "map_value"; map: string; offset: number; symbol?: string }
  /** call to a BPF subprogram, by function name (BPF_PSEUDO_CALL). */
  | { kind: "call"; function: string }
  /** ld_imm64 of a subprogram's address, for callbacks (BPF_PSEUDO_FUNC). */
  | { kind: "func_addr"; function: string }
  /** extern variable or function resolved at load time (.kconfig / .ksyms). */
  | { kind: "extern"; name: string };

export interface Instruction {
  opcode: number;
  dst: number;
  src: number;
  /** Signed 16-bit offset. */
  off: number;
  /** Signed 32-bit immediate. */
  imm: number;
  reference?: Reference;
  /** The CO-RE relocation that applies to this instruction, if any. */
  coreRelo?: CoreRelo;
  /** Set on the first instruction of a function: its BTF FUNC type (for func_info). */
  funcInfo?: FuncInfo;
  /** Source line (for line_info and for explaining verifier errors). */
  lineInfo?: LineInfo;
  /** Name of the function that starts at this instruction. */
  symbol?: string;
}

export function isLdImm64(insn: Instruction): boolean {
  return insn.opcode === LD_IMM64;
}

export function isPseudoCall(insn: Instruction): boolean {
  return insn.opcode === CALL && insn.src === BPF_PSEUDO_CALL;
}

/** Decodes the instructions of a code section; `where` names it in errors. */
export function decodeInstructions(bytes: Uint8Array, where: string): Instruction[] {
  if (bytes.byteLength % INSN_SIZE !== 0) {
    throw new ObjectFormatError(where, 0, `size ${bytes.byteLength} is not a multiple of the 8-byte instruction size`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Instruction[] = new Array(bytes.byteLength / INSN_SIZE);
  for (let i = 0, off = 0; off < bytes.byteLength; i++, off += INSN_SIZE) {
    const regs = view.getUint8(off + 1);
    out[i] = {
      opcode: view.getUint8(off),
      dst: regs & 0x0f,
      src: regs >> 4,
      off: view.getInt16(off + 2, true),
      imm: view.getInt32(off + 4, true),
    };
  }
  for (let i = 0; i < out.length; i++) {
    if (isLdImm64(out[i]!)) {
      if (i + 1 >= out.length) throw new ObjectFormatError(where, i * INSN_SIZE, "ld_imm64 is missing its second slot");
      i++;
    }
  }
  return out;
}

/** Encodes instructions into the bytes PROG_LOAD takes. */
export function encodeInstructions(insns: readonly Instruction[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * INSN_SIZE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    const off = i * INSN_SIZE;
    view.setUint8(off, insn.opcode);
    view.setUint8(off + 1, ((insn.src & 0x0f) << 4) | (insn.dst & 0x0f));
    view.setInt16(off + 2, insn.off, true);
    view.setInt32(off + 4, insn.imm | 0, true);
  }
  return bytes;
}

/** A shallow copy that can be patched without touching the parsed spec. */
export function cloneInstruction(insn: Instruction): Instruction {
  return { ...insn };
}
