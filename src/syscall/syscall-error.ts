/**
 * A failed system call, as a typed error: which call (for bpf(), which
 * command), the errno by name, and a hint at the usual cause.
 */
import { TsbpfError } from "../errors.js";
import { type Cap, lackedCapabilities } from "./capabilities.js";
import { errnoMessage, errnoName, E2BIG, EACCES, ENOSPC, EPERM, ENOENT, EINVAL } from "./errno.js";
import type { SyscallRequest } from "./requests.js";
import { BpfCmdNames, BpfCmd, BpfProgType } from "../abi/uapi-enums.js";

/** "bpf(BPF_PROG_LOAD)", "perf_event_open", "ioctl(PERF_EVENT_IOC_ENABLE)", "openat(\"/sys/kernel/btf/vmlinux\")". */
export function describeCall(req: SyscallRequest): string {
  switch (req.call) {
    case "bpf":
      return `bpf(${BpfCmdNames[req.cmd] ?? req.cmd})`;
    case "ioctl":
      return `ioctl(${req.requestName})`;
    case "openat":
    case "access":
      return `${req.call}(${JSON.stringify(req.path)})`;
    default:
      return req.call;
  }
}

/** Program types the kernel loads only with CAP_PERFMON (is_perfmon_prog_type in kernel/bpf/syscall.c). */
const PERFMON_PROG_TYPES = new Set<number>([
  BpfProgType.KPROBE,
  BpfProgType.TRACEPOINT,
  BpfProgType.PERF_EVENT,
  BpfProgType.RAW_TRACEPOINT,
  BpfProgType.RAW_TRACEPOINT_WRITABLE,
  BpfProgType.TRACING,
  BpfProgType.LSM,
  BpfProgType.STRUCT_OPS,
  BpfProgType.EXT,
]);
/** ... and with CAP_NET_ADMIN (is_net_admin_prog_type). */
const NET_ADMIN_PROG_TYPES = new Set<number>([
  BpfProgType.SCHED_CLS,
  BpfProgType.SCHED_ACT,
  BpfProgType.XDP,
  BpfProgType.LWT_IN,
  BpfProgType.LWT_OUT,
  BpfProgType.LWT_XMIT,
  BpfProgType.LWT_SEG6LOCAL,
  BpfProgType.SK_SKB,
  BpfProgType.SK_MSG,
  BpfProgType.FLOW_DISSECTOR,
  BpfProgType.CGROUP_DEVICE,
  BpfProgType.CGROUP_SOCK,
  BpfProgType.CGROUP_SOCK_ADDR,
  BpfProgType.CGROUP_SOCKOPT,
  BpfProgType.CGROUP_SYSCTL,
  BpfProgType.SOCK_OPS,
  BpfProgType.EXT,
  BpfProgType.NETFILTER,
]);

/**
 * Which of `needed` this process lacks (CAP_SYS_ADMIN stands in for each, as
 * in the kernel); [] when it has them all or the set cannot be read (then
 * the EPERM has another cause: lockdown, an LSM).
 */
function missingCapabilities(needed: Cap[]): Cap[] {
  if (lackedCapabilities(["CAP_SYS_ADMIN"]).length === 0) return [];
  return lackedCapabilities(needed);
}

function lacking(missing: Cap[]): string {
  return `this process lacks ${missing.join(" and ")} (CAP_SYS_ADMIN would also do); run as root or grant ${missing.length > 1 ? "them" : "it"}`;
}

function hintFor(req: SyscallRequest, errno: number): string | undefined {
  if (errno === EPERM || errno === EACCES) {
    if (req.call === "perf_event_open") {
      const missing = missingCapabilities(["CAP_PERFMON"]);
      if (missing.length) return `perf events need CAP_PERFMON: ${lacking(missing)}`;
      return "perf events need CAP_PERFMON (or CAP_SYS_ADMIN); run as root or grant the capability";
    }
    if (req.call === "bpf") {
      if (req.cmd === BpfCmd.PROG_LOAD && errno === EACCES) return "the verifier refused the program; see its log";
      const needed: Cap[] = ["CAP_BPF"];
      if (req.cmd === BpfCmd.PROG_LOAD) {
        const type = Number(req.values.prog_type ?? 0);
        if (PERFMON_PROG_TYPES.has(type)) needed.push("CAP_PERFMON");
        if (NET_ADMIN_PROG_TYPES.has(type)) needed.push("CAP_NET_ADMIN");
      }
      const missing = missingCapabilities(needed);
      if (missing.length) return lacking(missing);
      return "bpf() needs CAP_BPF (plus CAP_PERFMON for tracing programs, CAP_NET_ADMIN for networking ones); run as root or grant the capabilities";
    }
  }
  if (errno === ENOSPC && req.call === "bpf" && (req.cmd === BpfCmd.PROG_LOAD || req.cmd === BpfCmd.BTF_LOAD)) {
    return "the verifier log did not fit in the log buffer";
  }
  if (errno === E2BIG && req.call === "bpf") {
    return "the kernel does not know a non-zero attribute field (kernel too old for this feature) or the program is too large";
  }
  if (errno === ENOENT && req.call === "bpf" && req.cmd === BpfCmd.MAP_LOOKUP_ELEM) return "no such key";
  if (errno === EINVAL && req.call === "bpf" && req.cmd === BpfCmd.MAP_CREATE) {
    return "the kernel rejected the map's type, sizes or flags";
  }
  return undefined;
}

/**
 * Kernel-internal errnos that bpf() lets out to user space: glibc has no
 * text for them ("Unknown error 524"), so a message says what they mean.
 */
const KERNEL_INTERNAL_MEANING: Record<number, string> = {
  524: "not supported: the kernel's internal ENOTSUPP, returned when this kernel, program type or attach point lacks the requested feature",
};

/** strerror()'s text, or what a kernel-internal errno means. */
export function errnoMeaning(errno: number): string {
  return KERNEL_INTERNAL_MEANING[errno] ?? errnoMessage(errno);
}

export class SyscallError extends TsbpfError {
  override name = "SyscallError";
  /** "EPERM", "EINVAL", ... */
  readonly code: string;
  readonly call: string;
  readonly hint: string | undefined;

  constructor(
    readonly request: SyscallRequest,
    readonly errno: number,
    context?: string,
  ) {
    const call = describeCall(request);
    const hint = hintFor(request, errno);
    super(`${context ? context + ": " : ""}${call} failed: ${errnoName(errno)} (${errnoMeaning(errno)})` + (hint ? ` — ${hint}` : ""));
    this.call = call;
    this.code = errnoName(errno);
    this.hint = hint;
  }
}
