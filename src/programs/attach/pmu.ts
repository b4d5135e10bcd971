/**
 * The dynamic perf PMUs behind kprobes and uprobes. Their perf type is not a
 * constant: the kernel assigns it at boot and publishes it in
 * /sys/bus/event_source/devices/{kprobe,uprobe}/type, with the config bit
 * that makes a return probe in .../format/retprobe ("config:0"). A probe is
 * then one perf_event_open with config1 = pointer to the function name
 * (kprobe) or binary path (uprobe) and config2 = offset.
 *
 * The sysfs directory is a module setting so tests can point it at a fake
 * tree (a temp dir with `kprobe/type` and `kprobe/format/retprobe`).
 */
import { join } from "node:path";
import { ObjectFormatError, UnsupportedError } from "../../errors.js";
import { pathAccessible, readHostValue } from "../../syscall/host-files.js";
import { addressOf } from "../../syscall/native.js";
import { perfEventOpen } from "../../syscall/perf.js";
import { cString } from "../../syscall/c-string.js";

export const EVENT_SOURCE_DEVICES = "/sys/bus/event_source/devices";

export type ProbePmu = "kprobe" | "uprobe";

let eventSourceRoot = EVENT_SOURCE_DEVICES;

/** Points PMU lookups at another directory (tests: a fake sysfs); returns the previous one. */
export function setEventSourceRoot(dir: string): string {
  const prev = eventSourceRoot;
  eventSourceRoot = dir;
  return prev;
}

export function getEventSourceRoot(): string {
  return eventSourceRoot;
}

const MISSING: Record<ProbePmu, string> = {
  kprobe: "this kernel was built without kprobes (CONFIG_KPROBES is off)",
  uprobe: "this kernel was built without uprobes (CONFIG_UPROBE_EVENTS is off)",
};
const ALTERNATIVES: Record<ProbePmu, string> = {
  kprobe: "use a tracepoint (tp/...), raw_tp or fentry instead",
  uprobe: "user-space functions cannot be probed on it",
};

function pmuDir(pmu: ProbePmu): string {
  const dir = join(eventSourceRoot, pmu);
  if (!pathAccessible(dir)) {
    if (!pathAccessible(eventSourceRoot)) {
      throw new UnsupportedError(`cannot find the ${pmu} PMU: ${eventSourceRoot} does not exist (is sysfs mounted at /sys?)`);
    }
    throw new UnsupportedError(`${MISSING[pmu]}: ${dir} does not exist; ${ALTERNATIVES[pmu]}`);
  }
  return dir;
}

function readSysfs(path: string): string {
  try {
    return readHostValue(path);
  } catch (e) {
    throw new UnsupportedError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** The perf event type the kernel gave the kprobe or uprobe PMU. */
export function probePmuType(pmu: ProbePmu): number {
  const path = join(pmuDir(pmu), "type");
  const text = readSysfs(path).trim();
  if (!/^\d+$/.test(text)) throw new ObjectFormatError(path, 0, `expected a decimal perf type, found ${JSON.stringify(text)}`);
  return Number(text);
}

/** First bit of a PMU format field: "config:0" → 0, "config:32-63" → 32. Only `config` fields are accepted. */
export function parseFormatBit(text: string, where = "format"): number {
  const m = text.trim().match(/^config:(\d+)(?:-(\d+))?$/);
  if (!m) throw new ObjectFormatError(where, 0, `expected "config:N", found ${JSON.stringify(text.trim())}`);
  const bit = Number(m[1]);
  if (bit > 63) throw new ObjectFormatError(where, 0, `bit ${bit} does not fit the 64-bit config`);
  return bit;
}

/** The config bit that turns a probe into a return probe (format/retprobe). */
export function probeRetprobeBit(pmu: ProbePmu): number {
  const path = join(pmuDir(pmu), "format", "retprobe");
  return parseFormatBit(readSysfs(path), path);
}

/**
 * The first config bit of a uprobe's reference counter offset
 * (format/ref_ctr_offset, "config:32-63"), or undefined on kernels without
 * it (before 4.20): with it the kernel increments a USDT semaphore in each
 * process while the probe is attached.
 */
export function uprobeRefCtrShift(): number | undefined {
  const path = join(pmuDir("uprobe"), "format", "ref_ctr_offset");
  if (!pathAccessible(path)) return undefined;
  return parseFormatBit(readSysfs(path), path);
}

export { CPU_ONLINE, onlineCpus, parseCpuRanges } from "../../syscall/cpus.js";

export interface ProbeEvent {
  pmu: ProbePmu;
  retprobe: boolean;
  /** kprobe: the kernel function; uprobe: the binary's path. */
  name: string;
  /** kprobe: offset into the function; uprobe: file offset in the binary. */
  offset: bigint | number;
  /** Only this process (-1: every process). */
  pid: number;
  /** uprobe: file offset of a 2-byte semaphore the kernel increments while the probe exists (0: none). */
  refCtrOffset?: number;
}

/** What perf_event_open gets for a probe, before the name pointer is filled in. */
export interface ProbeAttr {
  type: number;
  config: bigint;
  pid: number;
  cpu: number;
}

/** Computes type, config and the pid/cpu pair (cpu 0 for pid -1, as libbpf does; -1 with a pid). */
export function probeAttr(p: ProbeEvent): ProbeAttr {
  const type = probePmuType(p.pmu);
  let config = p.retprobe ? 1n << BigInt(probeRetprobeBit(p.pmu)) : 0n;
  if (p.refCtrOffset) {
    const shift = p.pmu === "uprobe" ? uprobeRefCtrShift() : undefined;
    if (shift === undefined)
      throw new UnsupportedError("this kernel's uprobes cannot maintain a USDT semaphore (no format/ref_ctr_offset; Linux 4.20+)");
    config |= BigInt(p.refCtrOffset) << BigInt(shift);
  }
  const pid = p.pid < 0 ? -1 : p.pid;
  return { type, config, pid, cpu: pid === -1 ? 0 : -1 };
}

/**
 * Opens the perf event of a kprobe or uprobe; returns its fd. The kernel
 * copies the name string during the call (strndup_user), so the buffer only
 * has to live until perf_event_open returns.
 */
export function openProbeEvent(p: ProbeEvent): number {
  const a = probeAttr(p);
  const name = cString(p.name);
  const fd = perfEventOpen({ type: a.type, config: a.config, config1: addressOf(name), config2: BigInt(p.offset) }, a.pid, a.cpu);
  keepAlive(name);
  return fd;
}

/** Keeps a buffer reachable until this point (its address was handed to the kernel). */
function keepAlive(buf: Uint8Array): void {
  if (buf.byteLength < 0) throw new Error("unreachable");
}
