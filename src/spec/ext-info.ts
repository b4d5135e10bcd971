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
  const recs: Array<[number, number]> = [];
  insns.forEach((insn, i) => {
    if (insn.funcInfo) recs.push([i, insn.funcInfo.typeId]);
  });
  if (recs.length === 0) return undefined;
  const bytes = new Uint8Array(recs.length * 8);
  const v = new DataView(bytes.buffer);
  recs.forEach(([off, type], i) => {
    v.setUint32(i * 8, off, true);
    v.setUint32(i * 8 + 4, type, true);
  });
  return { recSize: 8, bytes, count: recs.length };
}

/** struct bpf_line_info { u32 insn_off; u32 file_name_off; u32 line_off; u32 line_col; } */
export function lineInfoBlob(insns: readonly Instruction[]): ExtInfoBlob | undefined {
  const recs: number[][] = [];
  insns.forEach((insn, i) => {
    const li = insn.lineInfo;
    if (li) recs.push([i, li.fileNameOff, li.lineOff, li.lineCol]);
  });
  if (recs.length === 0) return undefined;
  const bytes = new Uint8Array(recs.length * 16);
  const v = new DataView(bytes.buffer);
  recs.forEach((r, i) => {
    r.forEach((x, j) => {
      v.setUint32(i * 16 + j * 4, x, true);
    });
  });
  return { recSize: 16, bytes, count: recs.length };
}
