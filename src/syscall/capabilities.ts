/**
 * This process's effective capabilities (CapEff in /proc/self/status): what
 * the kernel checks for bpf() and perf_event_open(), and so what a message
 * may blame only after looking.
 */
import { readFileSync } from "node:fs";

/** Capability numbers (linux/capability.h) of the ones BPF needs. */
export const CAPS = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
export type Cap = keyof typeof CAPS;

/** The effective set as a bit mask, or undefined when it cannot be read. */
export function effectiveCapabilities(): bigint | undefined {
  try {
    const m = readFileSync("/proc/self/status", "utf8").match(/^CapEff:\s*([0-9a-f]+)$/m);
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

/** Which of `caps` are not in the effective set ([] when the set cannot be read). */
export function lackedCapabilities(caps: readonly Cap[]): Cap[] {
  const effective = effectiveCapabilities();
  if (effective === undefined) return [];
  return caps.filter((cap) => ((effective >> BigInt(CAPS[cap])) & 1n) === 0n);
}
