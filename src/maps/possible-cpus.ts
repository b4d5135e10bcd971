/**
 * Number of possible CPUs (/sys/devices/system/cpu/possible, e.g. "0-3"):
 * per-CPU maps hold one value slot for each, online or not.
 */
import { readFileSync } from "node:fs";

let cached: number | undefined;

export function parseCpuList(text: string): number {
  let max = -1;
  for (const part of text.trim().split(",")) {
    if (!part) continue;
    const [a, b] = part.split("-");
    max = Math.max(max, Number(b ?? a));
  }
  return max + 1;
}

export function possibleCpuCount(): number {
  cached ??= parseCpuList(readFileSync("/sys/devices/system/cpu/possible", "utf8"));
  return cached;
}
