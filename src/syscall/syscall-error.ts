/**
 * A failed system call, as a typed error: which call (for bpf(), which
 * command), the errno by name, and a hint at the usual cause.
 */
import { TsbpfError } from "../errors.js";
import { errnoMessage, errnoName, E2BIG, EACCES, ENOSPC, EPERM, ENOENT, EINVAL } from "./errno.js";
import type { SyscallRequest } from "./requests.js";
import { BpfCmdNames, BpfCmd } from "./uapi-enums.js";

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

function hintFor(req: SyscallRequest, errno: number): string | undefined {
  if (errno === EPERM || errno === EACCES) {
    if (req.call === "perf_event_open") return "perf events need CAP_PERFMON (or CAP_SYS_ADMIN); run as root or grant the capability";
    if (req.call === "bpf") {
      if (req.cmd === BpfCmd.PROG_LOAD && errno === EACCES) return "the verifier refused the program; see its log";
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
    super(
      `${context ? context + ": " : ""}${call} failed: ${errnoName(errno)} (${errnoMessage(errno)})` +
        (hint ? ` — ${hint}` : ""),
    );
    this.call = call;
    this.code = errnoName(errno);
    this.hint = hint;
  }
}
