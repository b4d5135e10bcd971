/**
 * CPU lists from sysfs ("0-3,5,7-8"): the online CPUs (one perf event each)
 * and the possible ones (per-CPU maps hold a value slot for each, online or not).
 */
import { ObjectFormatError, UnsupportedError } from "../errors.js";
import { readHostValue } from "./host-files.js";

export const CPU_ONLINE = "/sys/devices/system/cpu/online";
export const CPU_POSSIBLE = "/sys/devices/system/cpu/possible";

/** "0-3,5,7-8" → [0, 1, 2, 3, 5, 7, 8]. */
export function parseCpuRanges(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (!part) continue;
    const m = part.match(/^(\d+)(?:-(\d+))?$/);
    if (!m) throw new ObjectFormatError("CPU list", 0, `cannot parse ${JSON.stringify(part)} in ${JSON.stringify(text.trim())}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

function readCpuList(path: string): number[] {
  let text: string;
  try {
    text = readHostValue(path);
  } catch (e) {
    throw new UnsupportedError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseCpuRanges(text);
}

/** The CPUs that are online now. */
export function onlineCpus(path = CPU_ONLINE): number[] {
  return readCpuList(path);
}

let possible: number | undefined;

/** How many CPUs are possible: the highest possible CPU number + 1. */
export function possibleCpuCount(): number {
  possible ??= Math.max(...readCpuList(CPU_POSSIBLE)) + 1;
  return possible;
}
