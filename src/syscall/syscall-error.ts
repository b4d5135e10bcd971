/**
 * A failed system call, as a typed error: which call (for bpf(), which
 * command), the errno by name, and a hint at the usual cause.
 */
import { release } from "node:os";
import { dirname } from "node:path";
import { TsbpfError } from "../errors.js";
import { type Cap, lackedCapabilities } from "./capabilities.js";
import { errnoMessage, errnoName, E2BIG, EACCES, EEXIST, ENOMEM, ENOSPC, EPERM, ENOENT, EINVAL } from "./errno.js";
import { type BpfRequest, type SyscallRequest, isBpfCmd } from "./requests.js";
import { pathStat } from "./host-files.js";
import { S_IFDIR, S_IFMT } from "./stat.js";
import { BPF_FS_MAGIC, filesystemMagic } from "./statfs.js";
import { BpfCmdNames, BpfCmd, BpfMapType, BpfMapTypeNames, BpfProgType, BpfProgTypeNames } from "../abi/uapi-enums.js";
import { kernelVersionCode, runningKernelVersion } from "./kernel-version.js";

/** "bpf(BPF_PROG_LOAD)", "perf_event_open", "ioctl(PERF_EVENT_IOC_ENABLE)", "openat(\"/sys/kernel/btf/vmlinux\")". */
export function describeCall(req: SyscallRequest): string {
  switch (req.call) {
    case "bpf":
      return `bpf(${BpfCmdNames[req.cmd] ?? req.cmd})`;
    case "ioctl":
      return `ioctl(${req.requestName})`;
    case "openat":
    case "access":
    case "mkdirat":
      return `${req.call}(${JSON.stringify(req.path)})`;
    case "renameat2":
      return `${req.call}(${JSON.stringify(req.oldpath)}, ${JSON.stringify(req.newpath)})`;
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

/** Map commands that write, and that read, the map: EPERM with every capability means the map or fd forbids it. */
const MAP_WRITES = new Set<number>([BpfCmd.MAP_UPDATE_ELEM, BpfCmd.MAP_DELETE_ELEM, BpfCmd.MAP_UPDATE_BATCH, BpfCmd.MAP_DELETE_BATCH]);
const MAP_READS = new Set<number>([
  BpfCmd.MAP_LOOKUP_ELEM,
  BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM,
  BpfCmd.MAP_GET_NEXT_KEY,
  BpfCmd.MAP_LOOKUP_BATCH,
  BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH,
]);

/**
 * Which of `needed` this process lacks (CAP_SYS_ADMIN stands in for each, as
 * in the kernel); [] when it has them all or the set cannot be read (then
 * the EPERM has another cause: lockdown, an LSM). One capget.
 */
function missingCapabilities(needed: Cap[]): Cap[] {
  const lacked = lackedCapabilities(["CAP_SYS_ADMIN", ...needed]);
  return lacked.includes("CAP_SYS_ADMIN") ? lacked.filter((c) => c !== "CAP_SYS_ADMIN") : [];
}

function lacking(missing: Cap[]): string {
  return `this process lacks ${missing.join(" and ")} (CAP_SYS_ADMIN would also do); run as root or grant ${missing.length > 1 ? "them" : "it"}`;
}

/** What the kernel refused, in words: "the kernel refused to create a BPF_MAP_TYPE_ARENA map". */
function refused(req: BpfRequest): string {
  if (isBpfCmd(req, BpfCmd.MAP_CREATE)) {
    const type = req.values.map_type;
    return `the kernel refused to create a ${BpfMapTypeNames[Number(type)] ?? `type ${type}`} map`;
  }
  if (isBpfCmd(req, BpfCmd.PROG_LOAD)) {
    const type = req.values.prog_type;
    return `the kernel refused to load a ${BpfProgTypeNames[Number(type)] ?? `type ${type}`} program`;
  }
  return `the kernel refused ${BpfCmdNames[req.cmd] ?? `command ${req.cmd}`}`;
}

/** The kernel's rule for object names (bpf_obj_name_cpy): letters, digits, '_' and '.'. */
const VALID_OBJ_NAME = /^[A-Za-z0-9_.]*$/;

/** A map or program name in the request that the kernel refuses, if any. */
function invalidName(req: SyscallRequest): string | undefined {
  const name = isBpfCmd(req, BpfCmd.MAP_CREATE) ? req.values.map_name : isBpfCmd(req, BpfCmd.PROG_LOAD) ? req.values.prog_name : undefined;
  return typeof name === "string" && !VALID_OBJ_NAME.test(name) ? name : undefined;
}

function pathOf(req: SyscallRequest): string | undefined {
  const pinOrGet = isBpfCmd(req, BpfCmd.OBJ_PIN) || isBpfCmd(req, BpfCmd.OBJ_GET) ? (req as BpfRequest<BpfCmd.OBJ_PIN>) : undefined;
  const bytes = pinOrGet?.values.pathname;
  if (!(bytes instanceof Uint8Array)) return undefined;
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
}

/**
 * Why BPF_OBJ_GET or BPF_OBJ_PIN refused a path with EACCES/EPERM when no
 * capability is missing: the kernel answers so for a directory, for a file
 * that is not a pinned object, and for a path outside the BPF filesystem.
 */
function pinPathHint(cmd: BpfCmd, path: string): string {
  const target = cmd === BpfCmd.OBJ_PIN ? dirname(path) : path;
  let magic: number | undefined;
  try {
    magic = filesystemMagic(target);
  } catch {
    return `${target} cannot be examined`;
  }
  if (magic !== BPF_FS_MAGIC) return `${target} is not on a BPF filesystem: objects are pinned under /sys/fs/bpf (or another bpffs mount)`;
  if (cmd === BpfCmd.OBJ_PIN) return `${target} does not accept pins`;
  let isDir = false;
  try {
    isDir = ((pathStat(path)?.mode ?? 0) & S_IFMT) === S_IFDIR;
  } catch {
    // cannot be examined: say only what is sure
  }
  return isDir ? `${path} is a directory, not a pinned BPF object` : `${path} is not a pinned BPF object`;
}

function mapSizeText(req: BpfRequest<BpfCmd.MAP_CREATE>): string {
  const v = req.values;
  return `max_entries ${Number(v.max_entries ?? 0)}, key ${Number(v.key_size ?? 0)} B, value ${Number(v.value_size ?? 0)} B`;
}

function permissionHint(req: SyscallRequest, errno: number): string | undefined {
  if (req.call === "perf_event_open") {
    const missing = missingCapabilities(["CAP_PERFMON"]);
    if (missing.length) return `perf events need CAP_PERFMON: ${lacking(missing)}`;
    return "this process has CAP_PERFMON, so the refusal comes from elsewhere: kernel.perf_event_paranoid, a lockdown or a security module";
  }
  if (req.call !== "bpf") return undefined;
  if (req.cmd === BpfCmd.PROG_LOAD && errno === EACCES) return "the verifier refused the program; see its log";
  const needed: Cap[] = ["CAP_BPF"];
  if (isBpfCmd(req, BpfCmd.PROG_LOAD)) {
    const type = Number(req.values.prog_type ?? 0);
    if (PERFMON_PROG_TYPES.has(type)) needed.push("CAP_PERFMON");
    if (NET_ADMIN_PROG_TYPES.has(type)) needed.push("CAP_NET_ADMIN");
  }
  const missing = missingCapabilities(needed);
  if (missing.length) return lacking(missing);
  const path = pathOf(req);
  if (path !== undefined && (req.cmd === BpfCmd.OBJ_GET || req.cmd === BpfCmd.OBJ_PIN)) return pinPathHint(req.cmd, path);
  if (MAP_WRITES.has(req.cmd)) return "the map is frozen or read-only to user space (BPF_F_RDONLY), or this fd to it is read-only";
  if (MAP_READS.has(req.cmd)) return "the map is write-only to user space (BPF_F_WRONLY), or this fd to it is write-only";
  return `${refused(req)}, and this process has ${needed.join(" and ")}: the refusal comes from elsewhere (a lockdown, a security module (LSM), a seccomp filter, or this kernel's own restrictions)`;
}

function hintFor(req: SyscallRequest, errno: number): string | undefined {
  const badName = errno === EINVAL ? invalidName(req) : undefined;
  if (badName !== undefined) {
    return `the name "${badName}" has characters the kernel refuses in object names (only letters, digits, "_" and ".")`;
  }
  if (errno === EPERM || errno === EACCES) return permissionHint(req, errno);
  if (req.call !== "bpf") return undefined;
  if (errno === ENOSPC && (req.cmd === BpfCmd.PROG_LOAD || req.cmd === BpfCmd.BTF_LOAD)) {
    return "the verifier log did not fit in the log buffer";
  }
  if (errno === E2BIG) {
    if (isBpfCmd(req, BpfCmd.MAP_CREATE)) return `the map is larger than the kernel allows for its type (${mapSizeText(req)})`;
    if (req.cmd === BpfCmd.PROG_LOAD) return "the program has more instructions than the kernel accepts";
    return "the kernel does not know a non-zero attribute field (kernel too old for this feature)";
  }
  if (errno === ENOMEM && isBpfCmd(req, BpfCmd.MAP_CREATE)) return `the kernel could not allocate the map (${mapSizeText(req)})`;
  if (errno === EEXIST && req.cmd === BpfCmd.OBJ_PIN) {
    const path = pathOf(req);
    return `something is already pinned at ${path} (or it is a directory); unpin it (rm ${path}) first`;
  }
  if (errno === ENOENT && req.cmd === BpfCmd.MAP_LOOKUP_ELEM) return "no such key";
  if (errno === EINVAL && isBpfCmd(req, BpfCmd.MAP_CREATE)) {
    // BPF_F_LINK (1 << 13) on a struct_ops map: registration through a bpf_link arrived in 6.4.
    if (Number(req.values.map_type) === BpfMapType.STRUCT_OPS && Number(req.values.map_flags ?? 0) & (1 << 13)) {
      if (runningKernelVersion() < kernelVersionCode(6, 4, 0)) {
        return `struct_ops maps registered through a link (SEC(".struct_ops.link"), BPF_F_LINK) need Linux 6.4 or later, and this kernel is ${release()}; SEC(".struct_ops") registers without one`;
      }
    }
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
  readonly call: string;
  readonly hint: string | undefined;

  constructor(
    readonly request: SyscallRequest,
    errno: number,
    context?: string,
  ) {
    const call = describeCall(request);
    const hint = hintFor(request, errno);
    super(`${context ? context + ": " : ""}${call} failed: ${errnoName(errno)} (${errnoMeaning(errno)})` + (hint ? ` — ${hint}` : ""), {
      errno,
      code: errnoName(errno),
    });
    this.call = call;
    this.hint = hint;
  }
}
