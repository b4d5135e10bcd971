/**
 * /proc/kallsyms, read through the one door: every kernel symbol with its
 * address, in the kernel's order (module symbols carry their module after
 * the name, which is dropped here, as bpftool and libbpf drop it).
 */
import { readHostText } from "./host-files.js";

export interface KernelSymbol {
  address: bigint;
  name: string;
}

export function readKallsyms(): KernelSymbol[] {
  const out: KernelSymbol[] = [];
  for (const line of readHostText("/proc/kallsyms", 1 << 22).split("\n")) {
    const [addr, , name] = line.split(/\s+/);
    if (addr && name) out.push({ address: BigInt(`0x${addr}`), name });
  }
  return out;
}
