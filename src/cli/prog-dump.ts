/**
 * `tsbpf prog dump xlated PROG [linum] [opcodes]`: a loaded program's
 * instructions as the kernel translated them, in `bpftool prog dump
 * xlated`'s text. Calls are named from /proc/kallsyms as bpftool names
 * them: a helper at __bpf_call_base + imm, a BPF-to-BPF call by the JITed
 * subprogram's symbol.
 */
import { Btf } from "../btf/btf.js";
import { formatXlated } from "../disasm/xlated.js";
import { btfBytesById } from "../syscall/btf-by-id.js";
import { readHostText } from "../syscall/host-files.js";
import { progInfo } from "../syscall/obj-info.js";

let symbols: Map<bigint, string> | undefined;

/**
 * kallsyms by address (bpftool keeps module symbols too, by their bare
 * name). Programs loaded since the last read have new symbols: `fresh`
 * reads again.
 */
function kernelSymbols(fresh = false): Map<bigint, string> {
  if (symbols && !fresh) return symbols;
  symbols = new Map();
  for (const line of readHostText("/proc/kallsyms", 1 << 22).split("\n")) {
    const [addr, , name] = line.split(/\s+/);
    if (!addr || !name) continue;
    const a = BigInt(`0x${addr}`);
    if (!symbols.has(a)) symbols.set(a, name);
  }
  return symbols;
}

/** The text for the program behind `fd`. */
export function dumpXlated(fd: number, opts: { linum: boolean; opcodes: boolean }): string {
  const info = progInfo(fd, { xlated: true, funcInfo: true, lineInfo: true, jitedKsyms: true });
  const btf = info.btfId ? Btf.parse(btfBytesById(info.btfId)) : undefined;
  const ksymsKnown = (m: Map<bigint, string>) => (info.jitedKsyms ?? []).every((a) => m.has(a));
  let syms = kernelSymbols();
  if (!ksymsKnown(syms)) syms = kernelSymbols(true);
  const callBase = [...syms].find(([, n]) => n === "__bpf_call_base")?.[0] ?? 0n;
  const ksyms = info.jitedKsyms ?? [];
  return formatXlated(info.xlated ?? new Uint8Array(0), {
    btf,
    funcInfo: info.funcInfo,
    lineInfo: info.lineInfo,
    linum: opts.linum,
    opcodes: opts.opcodes,
    callTarget(imm, pseudoCall, off) {
      const rel = off < 0 ? String(off) : `+${off}`;
      if (pseudoCall) {
        const address = imm >>> 0 < ksyms.length ? ksyms[imm >>> 0]! : BigInt.asUintN(64, callBase + BigInt(imm));
        if (!ksyms.length) return rel;
        const sym = syms.get(address);
        return sym ? `${rel}#${sym}` : `${rel}#0x${address.toString(16)}`;
      }
      const address = BigInt.asUintN(64, callBase + BigInt(imm));
      return syms.get(address) ?? `0x${address.toString(16)}`;
    },
  });
}
