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
  return extInfoBlob(
    insns,
    2,
    (insn) => insn.funcInfo,
    (fi, words, w) => {
      words[w] = fi.typeId;
    },
  );
}

/** struct bpf_line_info { u32 insn_off; u32 file_name_off; u32 line_off; u32 line_col; } */
export function lineInfoBlob(insns: readonly Instruction[]): ExtInfoBlob | undefined {
  return extInfoBlob(
    insns,
    4,
    (insn) => insn.lineInfo,
    (li, words, w) => {
      words[w] = li.fileNameOff;
      words[w + 1] = li.lineOff;
      words[w + 2] = li.lineCol;
    },
  );
}

/**
 * One record of `recWords` u32s per instruction that carries `info`: its
 * index, then what `fill` writes. Flat loops into one typed array: a load
 * builds these for every program, mostly before V8 has compiled this, so no
 * array per record. Little-endian, the kernel's order and the host's on
 * x86-64 and arm64.
 */
function extInfoBlob<I>(
  insns: readonly Instruction[],
  recWords: number,
  info: (insn: Instruction) => I | undefined,
  fill: (info: I, words: Uint32Array, at: number) => void,
): ExtInfoBlob | undefined {
  let count = 0;
  // An index loop: unoptimised (a cold load), for-of allocates an iterator result per instruction.
  for (let i = 0; i < insns.length; i++) if (info(insns[i]!)) count++;
  if (count === 0) return undefined;
  const words = new Uint32Array(count * recWords);
  for (let i = 0, w = 0; i < insns.length; i++) {
    const found = info(insns[i]!);
    if (!found) continue;
    words[w] = i;
    fill(found, words, w + 1);
    w += recWords;
  }
  return { recSize: recWords * 4, bytes: new Uint8Array(words.buffer), count };
}
