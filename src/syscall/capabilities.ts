/**
 * This process's effective capabilities, read with capget(2) through the
 * choke point: what the kernel checks for bpf() and perf_event_open(), and
 * so what a message may blame only after looking.
 */
import { trySyscall } from "./kernel.js";

/** Capability numbers (linux/capability.h) of the ones BPF needs. */
export const CAPS = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
export type Cap = keyof typeof CAPS;

/** _LINUX_CAPABILITY_VERSION_3: 64 capabilities in two 32-bit words. */
const CAPABILITY_VERSION_3 = 0x20080522;

/** The effective set as a bit mask, or undefined when capget fails. */
export function effectiveCapabilities(): bigint | undefined {
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, CAPABILITY_VERSION_3, true); // pid 0: this thread
  const data = new Uint8Array(24);
  const r = trySyscall({ call: "capget", header, data });
  if (r.ret === -1) return undefined;
  const v = new DataView(data.buffer);
  // struct __user_cap_data_struct[2]: { effective, permitted, inheritable } for caps 0-31, then 32-63.
  return (BigInt(v.getUint32(12, true)) << 32n) | BigInt(v.getUint32(0, true));
}

/** Which of `caps` are not in the effective set ([] when the set cannot be read). */
export function lackedCapabilities(caps: readonly Cap[]): Cap[] {
  const effective = effectiveCapabilities();
  if (effective === undefined) return [];
  return caps.filter((cap) => ((effective >> BigInt(CAPS[cap])) & 1n) === 0n);
}
