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
import { readKallsyms } from "../syscall/kallsyms.js";
import { progInfo } from "../syscall/obj-info.js";

interface SymbolTable {
  byAddress: Map<bigint, string>;
  /** __bpf_call_base: a helper call's imm is its address minus this. */
  callBase: bigint;
}

let symbols: SymbolTable | undefined;

/**
 * kallsyms by address (module symbols too, by their bare name, as bpftool
 * keeps them). Programs loaded since the last read have new symbols:
 * `fresh` reads again.
 */
function kernelSymbols(fresh = false): SymbolTable {
  if (symbols && !fresh) return symbols;
  const byAddress = new Map<bigint, string>();
  let callBase = 0n;
  for (const { address, name } of readKallsyms()) {
    if (!byAddress.has(address)) byAddress.set(address, name);
    if (name === "__bpf_call_base") callBase = address;
  }
  symbols = { byAddress, callBase };
  return symbols;
}

/** The text for the program behind `fd`. */
export function dumpXlated(fd: number, opts: { linum: boolean; opcodes: boolean }): string {
  const info = progInfo(fd, { xlated: true, funcInfo: true, lineInfo: true, jitedKsyms: true });
  const btf = info.btfId ? Btf.parse(btfBytesById(info.btfId)) : undefined;
  const ksymsKnown = (t: SymbolTable) => (info.jitedKsyms ?? []).every((a) => t.byAddress.has(a));
  let table = kernelSymbols();
  if (!ksymsKnown(table)) table = kernelSymbols(true);
  const { byAddress: syms, callBase } = table;
  const ksyms = info.jitedKsyms ?? [];
  return formatXlated(info.xlated ?? new Uint8Array(0), {
    btf,
    funcInfo: info.funcInfo,
    lineInfo: info.lineInfo,
    linum: opts.linum,
    opcodes: opts.opcodes,
    callTarget(imm, pseudoCall, off) {
      const helperAddress = BigInt.asUintN(64, callBase + BigInt(imm));
      const named = (address: bigint) => syms.get(address) ?? `0x${address.toString(16)}`;
      if (!pseudoCall) return named(helperAddress);
      // A BPF-to-BPF call: its offset, and once JITed the subprogram's symbol (imm is its index).
      const rel = off < 0 ? String(off) : `+${off}`;
      if (!ksyms.length) return rel;
      return `${rel}#${named(ksyms[imm >>> 0] ?? helperAddress)}`;
    },
  });
}
