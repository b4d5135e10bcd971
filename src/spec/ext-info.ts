/**
 * func_info and line_info for PROG_LOAD, rebuilt from the metadata the
 * linked instructions carry: after subprograms are appended, each record's
 * instruction offset is simply where its instruction ended up.
 */
import type { Instruction } from "../insn/insn.js";

export interface ExtInfoBlob {
  recSize: number;
  bytes: Uint8Array;
  count: number;
}

/** struct bpf_func_info { u32 insn_off; u32 type_id; } */
export function funcInfoBlob(insns: readonly Instruction[]): ExtInfoBlob | undefined {
  let count = 0;
  for (const insn of insns) if (insn.funcInfo) count++;
  if (count === 0) return undefined;
  const words = new Uint32Array(count * 2);
  for (let i = 0, w = 0; i < insns.length; i++) {
    const fi = insns[i]!.funcInfo;
    if (!fi) continue;
    words[w++] = i;
    words[w++] = fi.typeId;
  }
  return { recSize: 8, bytes: littleEndianBytes(words), count };
}

/** struct bpf_line_info { u32 insn_off; u32 file_name_off; u32 line_off; u32 line_col; } */
export function lineInfoBlob(insns: readonly Instruction[]): ExtInfoBlob | undefined {
  // Flat loops into one typed array: a load builds these for every program, mostly before V8
  // has compiled this, so no array per record.
  let count = 0;
  for (const insn of insns) if (insn.lineInfo) count++;
  if (count === 0) return undefined;
  const words = new Uint32Array(count * 4);
  for (let i = 0, w = 0; i < insns.length; i++) {
    const li = insns[i]!.lineInfo;
    if (!li) continue;
    words[w++] = i;
    words[w++] = li.fileNameOff;
    words[w++] = li.lineOff;
    words[w++] = li.lineCol;
  }
  return { recSize: 16, bytes: littleEndianBytes(words), count };
}

/** u32 words as the kernel reads them: little-endian, which is also the host order on x86-64 and arm64. */
function littleEndianBytes(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}
