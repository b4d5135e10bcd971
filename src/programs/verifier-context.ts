/**
 * Where a verifier rejection happened, in words: the verifier log names the
 * failing instruction by index ("12: (61) r1 = *(u32 *)(r1 +0)"); the
 * loaded instructions carry their disassembly and, through line_info, the C
 * source line they came from.
 */
import { disassemble } from "../disasm/disasm.js";
import type { Instruction } from "../insn/insn.js";

/** The index of the instruction the verifier stopped at: the last one the log shows. */
export function failingInstruction(log: string): number | undefined {
  let last: number | undefined;
  for (const line of log.split("\n")) {
    const m = line.match(/^(\d+): \([0-9a-f]{2}\)/);
    if (m) last = Number(m[1]);
  }
  return last;
}

/** "instruction 12: r1 = *(u32 *)(r1 + 0x0)\n  from bootstrap.bpf.c:42: e->pid = pid;" */
export function describeFailure(log: string, insns: readonly Instruction[]): string | undefined {
  const idx = failingInstruction(log);
  if (idx === undefined || !insns[idx]) return undefined;
  const text = disassemble(insns[idx]!, insns[idx + 1]);
  let source: string | undefined;
  for (let i = idx; i >= 0; i--) {
    const li = insns[i]!.lineInfo;
    if (li) {
      source = `${li.fileName.replace(/^.*\//, "")}:${li.line}: ${li.lineText.trim()}`;
      break;
    }
  }
  return `failing instruction ${idx}: ${text}` + (source ? `\n  from ${source}` : "");
}
