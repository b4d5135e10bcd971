/**
 * A failed system call, as a typed error: which call (for bpf(), which
 * command), the errno by name, and a hint at the usual cause.
 */
import { readFileSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { errnoMessage, errnoName, E2BIG, EACCES, ENOSPC, EPERM, ENOENT, EINVAL } from "./errno.js";
import type { BpfRequest, SyscallRequest } from "./requests.js";
import { BpfCmdNames, BpfCmd, BpfMapTypeNames, BpfProgType, BpfProgTypeNames } from "../abi/uapi-enums.js";

/** "bpf(BPF_PROG_LOAD)", "perf_event_open", "ioctl(PERF_EVENT_IOC_ENABLE)". */
export function describeCall(req: SyscallRequest): string {
  switch (req.call) {
    case "bpf":
      return `bpf(${BpfCmdNames[req.cmd] ?? req.cmd})`;
    case "ioctl":
      return `ioctl(${req.requestName})`;
    default:
      return req.call;
  }
}

/** Capability numbers (linux/capability.h) of the ones bpf() and perf_event_open() check. */
const CAPS = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
type Cap = keyof typeof CAPS;

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
 * in the kernel), from CapEff in /proc/self/status; [] when it has them all
 * or the file cannot be read (then the EPERM has another cause: lockdown, an LSM).
 */
function missingCapabilities(needed: Cap[]): Cap[] {
  let effective: bigint;
  try {
    const m = readFileSync("/proc/self/status", "utf8").match(/^CapEff:\s*([0-9a-f]+)$/m);
    if (!m) return [];
    effective = BigInt(`0x${m[1]}`);
  } catch {
    return [];
  }
  const has = (cap: Cap) => ((effective >> BigInt(CAPS[cap])) & 1n) === 1n;
  return has("CAP_SYS_ADMIN") ? [] : needed.filter((cap) => !has(cap));
}

function lacking(missing: Cap[]): string {
  return `this process lacks ${missing.join(" and ")} (CAP_SYS_ADMIN would also do); run as root or grant ${missing.length > 1 ? "them" : "it"}`;
}

/** What the kernel refused, in words: "the kernel refused to create a BPF_MAP_TYPE_ARENA map". */
function refused(req: BpfRequest): string {
  const v = req.values;
  if (req.cmd === BpfCmd.MAP_CREATE)
    return `the kernel refused to create a ${BpfMapTypeNames[Number(v.map_type)] ?? `type ${v.map_type}`} map`;
  if (req.cmd === BpfCmd.PROG_LOAD)
    return `the kernel refused to load a ${BpfProgTypeNames[Number(v.prog_type)] ?? `type ${v.prog_type}`} program`;
  return `the kernel refused ${BpfCmdNames[req.cmd] ?? `command ${req.cmd}`}`;
}

function hintFor(req: SyscallRequest, errno: number): string | undefined {
  if (errno === EPERM || errno === EACCES) {
    if (req.call === "perf_event_open") {
      const missing = missingCapabilities(["CAP_PERFMON"]);
      if (missing.length) return `perf events need CAP_PERFMON: ${lacking(missing)}`;
      return "this process has CAP_PERFMON, so the refusal comes from elsewhere: kernel.perf_event_paranoid, a lockdown or a security module";
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
      // Not a capability: say what was refused, and where else a refusal comes from.
      return `${refused(req)}, and this process has ${needed.join(" and ")}: the refusal comes from elsewhere (a lockdown, a security module (LSM), a seccomp filter, or this kernel's own restrictions)`;
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
    super(`${context ? context + ": " : ""}${call} failed: ${errnoName(errno)} (${errnoMessage(errno)})` + (hint ? ` — ${hint}` : ""));
    this.call = call;
    this.code = errnoName(errno);
    this.hint = hint;
  }
}
