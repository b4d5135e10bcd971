/**
 * perf_event_open(2) and the perf ioctls, for attaching BPF programs to
 * tracepoints, kprobes, uprobes and perf events.
 */
import { endOf, decodeStruct, encodeStruct } from "../abi/layout.js";
import { PERF_EVENT_ATTR, type PerfEventAttr, type PerfEventAttrInput } from "../abi/perf-event-attr.js";
import { syscall } from "./kernel.js";
import { addressOf } from "./libc.js";
import type { PerfEventOpenRequest } from "./requests.js";

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

/**
 * The size tsbpf sends: PERF_ATTR_SIZE_VER7 (through sig_data), what libbpf
 * sends; the kernel zero-extends a smaller struct, so newer fields read as 0.
 */
export const PERF_ATTR_SIZE = endOf(PERF_EVENT_ATTR.fields.sig_data);

export function encodePerfEventAttr(a: PerfEventAttrInput): Uint8Array {
  return encodeStruct(PERF_EVENT_ATTR, { ...a, size: PERF_ATTR_SIZE }, addressOf, PERF_ATTR_SIZE);
}

export function perfEventOpenRequest(
  attr: PerfEventAttrInput,
  pid: number,
  cpu: number,
  groupFd = -1,
  flags = PERF_FLAG_FD_CLOEXEC,
): PerfEventOpenRequest {
  const encoded = encodePerfEventAttr(attr);
  // Decoded only when read (by the tracer): as sent, before the kernel writes its size into `attr` on E2BIG.
  const sent = encoded.slice();
  let fields: PerfEventAttr | undefined;
  return {
    call: "perf_event_open",
    attr: encoded,
    get fields() {
      fields ??= decodeStruct(PERF_EVENT_ATTR, sent);
      return fields;
    },
    pid,
    cpu,
    groupFd,
    flags,
  };
}

export function perfEventOpen(attr: PerfEventAttrInput, pid: number, cpu: number, groupFd = -1, flags = PERF_FLAG_FD_CLOEXEC): number {
  return syscall(perfEventOpenRequest(attr, pid, cpu, groupFd, flags));
}

export function perfIoctl(fd: number, request: number, arg = 0): number {
  return syscall({ call: "ioctl", fd, request, requestName: PERF_IOCTL_NAMES[request] ?? `0x${request.toString(16)}`, arg });
}
