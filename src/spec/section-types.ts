/**
 * ELF section name → program type, expected attach type and how to attach,
 * following libbpf's SEC() conventions (its `section_defs` table), so objects
 * written for libbpf load unchanged.
 *
 * Pattern syntax (as in libbpf): "xdp" matches exactly; "tp+" matches "tp"
 * or "tp/<anything>"; "kprobe/" requires something after the slash.
 */
import { UnsupportedError } from "../errors.js";
import { BpfAttachType, BpfProgType } from "../abi/uapi-enums.js";

/** How a program of this section is attached automatically, if at all. */
export type AttachKind =
  | "tracepoint"
  | "raw_tracepoint"
  | "tp_btf"
  | "trampoline" // fentry/fexit/fmod_ret/lsm: LINK_CREATE with attach_btf_id
  | "iter"
  | "kprobe"
  | "uprobe"
  | "ksyscall"
  | "usdt" // uprobes on a binary's SystemTap (USDT) probe sites
  | "xdp"
  | "tcx"
  | "tc"
  | "cgroup"
  | "socket"
  | "perf_event"
  | "syscall"
  | "none";

export interface SectionDef {
  readonly pattern: string;
  readonly progType: BpfProgType;
  readonly expectedAttachType: BpfAttachType | 0;
  readonly attach: AttachKind;
  /** libbpf's SEC_ATTACH_BTF: the program needs attach_btf_id from kernel BTF. */
  readonly attachBtf?: boolean;
  /** sleepable variant (".s" sections): BPF_F_SLEEPABLE. */
  readonly sleepable?: boolean;
  /** kretprobe / uretprobe. */
  readonly retprobe?: boolean;
}

const P = BpfProgType;
const A = BpfAttachType;

const def = (
  pattern: string,
  progType: BpfProgType,
  expectedAttachType: BpfAttachType | 0,
  attach: AttachKind,
  extra: Partial<SectionDef> = {},
): SectionDef => Object.freeze({ pattern, progType, expectedAttachType, attach, ...extra });

/** In libbpf's order: the first match wins. */
export const SECTION_DEFS: readonly SectionDef[] = [
  def("socket", P.SOCKET_FILTER, 0, "socket"),
  def("sk_reuseport/migrate", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, "none"),
  def("sk_reuseport", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT, "none"),
  def("kprobe+", P.KPROBE, 0, "kprobe"),
  def("uprobe+", P.KPROBE, 0, "uprobe"),
  def("uprobe.s+", P.KPROBE, 0, "uprobe", { sleepable: true }),
  def("kretprobe+", P.KPROBE, 0, "kprobe", { retprobe: true }),
  def("uretprobe+", P.KPROBE, 0, "uprobe", { retprobe: true }),
  def("uretprobe.s+", P.KPROBE, 0, "uprobe", { retprobe: true, sleepable: true }),
  def("ksyscall+", P.KPROBE, 0, "ksyscall"),
  def("kretsyscall+", P.KPROBE, 0, "ksyscall", { retprobe: true }),
  def("usdt+", P.KPROBE, 0, "usdt"),
  def("usdt.s+", P.KPROBE, 0, "usdt", { sleepable: true }),
  def("tc/ingress", P.SCHED_CLS, A.TCX_INGRESS, "tcx"),
  def("tc/egress", P.SCHED_CLS, A.TCX_EGRESS, "tcx"),
  def("tcx/ingress", P.SCHED_CLS, A.TCX_INGRESS, "tcx"),
  def("tcx/egress", P.SCHED_CLS, A.TCX_EGRESS, "tcx"),
  def("tc", P.SCHED_CLS, 0, "tc"),
  def("classifier", P.SCHED_CLS, 0, "tc"),
  def("action", P.SCHED_ACT, 0, "none"),
  def("tracepoint+", P.TRACEPOINT, 0, "tracepoint"),
  def("tp+", P.TRACEPOINT, 0, "tracepoint"),
  def("raw_tracepoint+", P.RAW_TRACEPOINT, 0, "raw_tracepoint"),
  def("raw_tp+", P.RAW_TRACEPOINT, 0, "raw_tracepoint"),
  def("raw_tracepoint.w+", P.RAW_TRACEPOINT_WRITABLE, 0, "raw_tracepoint"),
  def("raw_tp.w+", P.RAW_TRACEPOINT_WRITABLE, 0, "raw_tracepoint"),
  def("tp_btf+", P.TRACING, A.TRACE_RAW_TP, "tp_btf", { attachBtf: true }),
  def("fentry+", P.TRACING, A.TRACE_FENTRY, "trampoline", { attachBtf: true }),
  def("fmod_ret+", P.TRACING, A.MODIFY_RETURN, "trampoline", { attachBtf: true }),
  def("fexit+", P.TRACING, A.TRACE_FEXIT, "trampoline", { attachBtf: true }),
  def("fentry.s+", P.TRACING, A.TRACE_FENTRY, "trampoline", { attachBtf: true, sleepable: true }),
  def("fmod_ret.s+", P.TRACING, A.MODIFY_RETURN, "trampoline", { attachBtf: true, sleepable: true }),
  def("fexit.s+", P.TRACING, A.TRACE_FEXIT, "trampoline", { attachBtf: true, sleepable: true }),
  def("freplace+", P.EXT, 0, "none", { attachBtf: true }),
  def("lsm+", P.LSM, A.LSM_MAC, "trampoline", { attachBtf: true }),
  def("lsm.s+", P.LSM, A.LSM_MAC, "trampoline", { attachBtf: true, sleepable: true }),
  def("lsm_cgroup+", P.LSM, A.LSM_CGROUP, "none", { attachBtf: true }),
  def("iter+", P.TRACING, A.TRACE_ITER, "iter", { attachBtf: true }),
  def("iter.s+", P.TRACING, A.TRACE_ITER, "iter", { attachBtf: true, sleepable: true }),
  def("syscall", P.SYSCALL, 0, "syscall", { sleepable: true }),
  def("xdp.frags/devmap", P.XDP, A.XDP_DEVMAP, "none"),
  def("xdp/devmap", P.XDP, A.XDP_DEVMAP, "none"),
  def("xdp.frags/cpumap", P.XDP, A.XDP_CPUMAP, "none"),
  def("xdp/cpumap", P.XDP, A.XDP_CPUMAP, "none"),
  def("xdp.frags", P.XDP, A.XDP, "xdp"),
  def("xdp", P.XDP, A.XDP, "xdp"),
  def("perf_event", P.PERF_EVENT, 0, "perf_event"),
  def("lwt_in", P.LWT_IN, 0, "none"),
  def("lwt_out", P.LWT_OUT, 0, "none"),
  def("lwt_xmit", P.LWT_XMIT, 0, "none"),
  def("lwt_seg6local", P.LWT_SEG6LOCAL, 0, "none"),
  def("sockops", P.SOCK_OPS, A.CGROUP_SOCK_OPS, "cgroup"),
  def("sk_skb/stream_parser", P.SK_SKB, A.SK_SKB_STREAM_PARSER, "none"),
  def("sk_skb/stream_verdict", P.SK_SKB, A.SK_SKB_STREAM_VERDICT, "none"),
  def("sk_skb", P.SK_SKB, 0, "none"),
  def("sk_msg", P.SK_MSG, A.SK_MSG_VERDICT, "none"),
  def("lirc_mode2", P.LIRC_MODE2, A.LIRC_MODE2, "none"),
  def("flow_dissector", P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, "none"),
  def("cgroup_skb/ingress", P.CGROUP_SKB, A.CGROUP_INET_INGRESS, "cgroup"),
  def("cgroup_skb/egress", P.CGROUP_SKB, A.CGROUP_INET_EGRESS, "cgroup"),
  def("cgroup/skb", P.CGROUP_SKB, 0, "none"),
  def("cgroup/sock_create", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, "cgroup"),
  def("cgroup/sock_release", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE, "cgroup"),
  def("cgroup/sock", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, "cgroup"),
  def("cgroup/post_bind4", P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND, "cgroup"),
  def("cgroup/post_bind6", P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND, "cgroup"),
  def("cgroup/bind4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND, "cgroup"),
  def("cgroup/bind6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND, "cgroup"),
  def("cgroup/connect4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT, "cgroup"),
  def("cgroup/connect6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT, "cgroup"),
  def("cgroup/connect_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, "cgroup"),
  def("cgroup/sendmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG, "cgroup"),
  def("cgroup/sendmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG, "cgroup"),
  def("cgroup/recvmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG, "cgroup"),
  def("cgroup/recvmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG, "cgroup"),
  def("cgroup/getpeername4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME, "cgroup"),
  def("cgroup/getpeername6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME, "cgroup"),
  def("cgroup/getsockname4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME, "cgroup"),
  def("cgroup/getsockname6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME, "cgroup"),
  def("cgroup/sysctl", P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, "cgroup"),
  def("cgroup/getsockopt", P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, "cgroup"),
  def("cgroup/setsockopt", P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT, "cgroup"),
  def("cgroup/dev", P.CGROUP_DEVICE, A.CGROUP_DEVICE, "cgroup"),
  def("struct_ops+", P.STRUCT_OPS, 0, "none"),
  def("struct_ops.s+", P.STRUCT_OPS, 0, "none", { sleepable: true }),
  def("sk_lookup", P.SK_LOOKUP, A.SK_LOOKUP, "none"),
  def("netfilter", P.NETFILTER, A.NETFILTER, "none"),
];

export interface SectionMatch {
  readonly def: SectionDef;
  /** What follows the prefix and its slash: "syscalls/sys_enter_write" for "tp/syscalls/sys_enter_write". */
  readonly target: string;
}

/** BPF_F_SLEEPABLE: the prog_flags bit of ".s" sections (fentry.s, uprobe.s, syscall, ...). */
export { BPF_F_SLEEPABLE } from "../abi/uapi-flags.js";

/**
 * A section name no convention matches (a custom SEC("...")): the program
 * has no type until the user gives it one, and load() refuses it until then.
 */
export const UNKNOWN_SECTION: SectionDef = Object.freeze({
  pattern: "",
  progType: BpfProgType.UNSPEC,
  expectedAttachType: 0,
  attach: "none",
});

function matchOne(pattern: string, section: string): string | undefined {
  if (pattern.endsWith("+")) {
    const prefix = pattern.slice(0, -1);
    if (section === prefix) return "";
    if (section.startsWith(prefix + "/")) return section.slice(prefix.length + 1);
    return undefined;
  }
  if (pattern.endsWith("/")) {
    return section.startsWith(pattern) && section.length > pattern.length ? section.slice(pattern.length) : undefined;
  }
  return section === pattern ? "" : undefined;
}

/** The definition for a program section, or undefined if it is unknown. */
export function findSectionDef(section: string): SectionMatch | undefined {
  for (const d of SECTION_DEFS) {
    const target = matchOne(d.pattern, section);
    if (target !== undefined) return { def: d, target };
  }
  return undefined;
}

/** The convention of a section name; an unknown name gets UNKNOWN_SECTION (typed later by the user). */
export function classifySection(section: string): SectionMatch {
  return Object.freeze(findSectionDef(section) ?? { def: UNKNOWN_SECTION, target: "" });
}

/**
 * The convention a program follows once its type or expected attach type is
 * edited: how it attaches is that of the first section kind with the same
 * pair (else the same type), as if it had been declared in that section.
 */
export function conventionFor(progType: BpfProgType, expectedAttachType: BpfAttachType | 0, previous: SectionDef): SectionDef {
  if (previous.progType === progType && previous.expectedAttachType === expectedAttachType) return previous;
  const like =
    SECTION_DEFS.find((d) => d.progType === progType && d.expectedAttachType === expectedAttachType) ??
    SECTION_DEFS.find((d) => d.progType === progType);
  return Object.freeze({
    pattern: previous.pattern,
    progType,
    expectedAttachType,
    attach: like?.attach ?? "none",
    ...(like?.attachBtf ? { attachBtf: true } : {}),
    ...(previous.sleepable ? { sleepable: true } : {}),
    ...(previous.retprobe && like?.attach === previous.attach ? { retprobe: true } : {}),
  });
}

/** Why a program whose section no convention matches cannot load (yet). */
export function unknownSectionError(section: string, programName: string): UnsupportedError {
  const known = [...new Set(SECTION_DEFS.map((d) => d.pattern.replace(/\+$/, "")))].join(", ");
  return new UnsupportedError(
    `program ${programName}: section "${section}" is not a known program type; give it one before load() ` +
      `(spec.editProgram("${programName}").setType(...)), or turn its autoload off. ` +
      `Known section names (libbpf's SEC() conventions): ${known}`,
  );
}
