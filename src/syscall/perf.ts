/**
 * perf_event_open(2) and the perf ioctls, for attaching BPF programs to
 * tracepoints, kprobes, uprobes and perf events.
 */
import { syscall } from "./kernel.js";
import type { PerfEventOpenRequest } from "./requests.js";

export const PERF_TYPE_HARDWARE = 0;
export const PERF_TYPE_SOFTWARE = 1;
export const PERF_TYPE_TRACEPOINT = 2;

export const PERF_FLAG_FD_CLOEXEC = 1 << 3;

/** _IO('$', n) encodings of the perf ioctls (include/uapi/linux/perf_event.h). */
export const PERF_EVENT_IOC_ENABLE = 0x2400;
export const PERF_EVENT_IOC_DISABLE = 0x2401;
/** _IOW('$', 8, __u32) */
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;

export const PERF_IOCTL_NAMES: Record<number, string> = {
  [PERF_EVENT_IOC_ENABLE]: "PERF_EVENT_IOC_ENABLE",
  [PERF_EVENT_IOC_DISABLE]: "PERF_EVENT_IOC_DISABLE",
  [PERF_EVENT_IOC_SET_BPF]: "PERF_EVENT_IOC_SET_BPF",
};

/** sizeof(struct perf_event_attr) as of PERF_ATTR_SIZE_VER7, what libbpf sends. */
export const PERF_ATTR_SIZE = 128;

export interface PerfEventAttr {
  type: number;
  config: bigint | number;
  samplePeriod?: bigint | number;
  sampleType?: bigint | number;
  /** The bitfield word at offset 40 (disabled, inherit, ..., freq bits). */
  flagBits?: bigint | number;
  wakeupEvents?: number;
  config1?: bigint | number;
  config2?: bigint | number;
}

export function encodePerfEventAttr(a: PerfEventAttr): Uint8Array {
  const buf = new Uint8Array(PERF_ATTR_SIZE);
  const v = new DataView(buf.buffer);
  v.setUint32(0, a.type, true);
  v.setUint32(4, PERF_ATTR_SIZE, true);
  v.setBigUint64(8, BigInt(a.config), true);
  v.setBigUint64(16, BigInt(a.samplePeriod ?? 0), true);
  v.setBigUint64(24, BigInt(a.sampleType ?? 0), true);
  v.setBigUint64(40, BigInt(a.flagBits ?? 0), true);
  v.setUint32(48, a.wakeupEvents ?? 0, true);
  v.setBigUint64(56, BigInt(a.config1 ?? 0), true);
  v.setBigUint64(64, BigInt(a.config2 ?? 0), true);
  return buf;
}

export function perfEventOpen(attr: PerfEventAttr, pid: number, cpu: number, groupFd = -1, flags = PERF_FLAG_FD_CLOEXEC): number {
  const req: PerfEventOpenRequest = {
    call: "perf_event_open",
    attr: encodePerfEventAttr(attr),
    fields: {
      type: attr.type,
      size: PERF_ATTR_SIZE,
      config: BigInt(attr.config),
      sample_period: BigInt(attr.samplePeriod ?? 0),
      sample_type: BigInt(attr.sampleType ?? 0),
      flag_bits: BigInt(attr.flagBits ?? 0),
      config1: BigInt(attr.config1 ?? 0),
      config2: BigInt(attr.config2 ?? 0),
    },
    pid,
    cpu,
    groupFd,
    flags,
  };
  return syscall(req);
}

export function perfIoctl(fd: number, request: number, arg = 0): number {
  return syscall({ call: "ioctl", fd, request, requestName: PERF_IOCTL_NAMES[request] ?? `0x${request.toString(16)}`, arg });
}
