/**
 * What attaching a program may need beyond its section name: an interface,
 * a cgroup, a socket, a binary to probe, a CPU. Each attach kind reads the
 * fields that concern it and says clearly which one is missing.
 */
import type { AttachStepListener } from "./attach-steps.js";
import type { UsdtManager } from "./usdt-manager.js";

export interface AttachOptions {
  /** Told each step of the attachment just before its syscalls (tracepoints so far). */
  onStep?: AttachStepListener;
  /** XDP / tcx / tc: network interface index or name ("lo"). */
  interface?: number | string;
  /** tc (cls_bpf) filters: the hook of the interface's clsact qdisc. Default "ingress". */
  direction?: "ingress" | "egress";
  /** tc filters: priority (1..65535) and handle; 0 or absent lets the kernel choose (see TcLink for its choice). */
  priority?: number;
  handle?: number;
  /** XDP: XDP_FLAGS_* (e.g. SKB mode). */
  xdpFlags?: number;
  /** cgroup programs: path of a cgroup v2 directory (default: the root cgroup). */
  cgroup?: string;
  /** socket filters: the fd of a socket to attach to (SO_ATTACH_BPF). */
  socketFd?: number;
  /** uprobes: the binary or shared library, and the function (or a raw offset). */
  binary?: string;
  func?: string;
  offset?: number;
  /** USDT: the probe's provider and name (with `binary`), as in `usdt/PATH:PROVIDER:NAME`. */
  provider?: string;
  name?: string;
  /** uprobes / USDT / perf events: only this process (-1: all). */
  pid?: number;
  /** kprobe / uprobe: attach as a return probe. */
  retprobe?: boolean;
  /** perf_event programs: the event (software/hardware) and CPUs (default all online CPUs). */
  perfEvent?: { type: number; config: number | bigint; samplePeriod?: number; sampleFreq?: number; cpus?: number[] };
  /** A value the program reads with bpf_get_attach_cookie() (USDT: with bpf_usdt_cookie()). */
  cookie?: bigint;
}

/** What an attach function is given. */
export interface AttachTarget {
  /** The object's USDT maps and spec ids, when it includes usdt.bpf.h. */
  usdt?: UsdtManager;
  progFd: number;
  program: string;
  /** The section name and what follows its prefix, e.g. "syscalls/sys_enter_write". */
  sectionName: string;
  target: string;
  expectedAttachType: number;
  retprobe: boolean;
}
