/**
 * Tracepoint attachment: open a perf event for the tracepoint, then bind
 * the program to it with BPF_LINK_CREATE (attach type BPF_PERF_EVENT).
 * Kernels before 5.15 lack perf links; there the fall-back is
 * ioctl(PERF_EVENT_IOC_SET_BPF). Either way the event is then enabled.
 */
import { bpfRequest, closeFd } from "../../syscall/bpf.js";
import { EINVAL, ENOTSUPP, EOPNOTSUPP } from "../../syscall/errno.js";
import { trySyscall } from "../../syscall/kernel.js";
import { PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF, perfEventOpen, perfIoctl } from "../../syscall/perf.js";
import { SyscallError } from "../../syscall/syscall-error.js";
import { BpfAttachType, BpfCmd, PerfTypeId } from "../../abi/uapi-enums.js";
import { Link } from "../link.js";
import { splitTracepoint, tracepointId } from "../tracefs.js";
import type { AttachStepListener } from "./attach-steps.js";

/**
 * Binds a program to an open perf event fd (tracepoint, kprobe, uprobe or
 * perf_event); on failure the perf fd is closed. Without a cookie, kernels
 * lacking perf links (< 5.15) fall back to ioctl(PERF_EVENT_IOC_SET_BPF); a
 * cookie needs the link.
 */
export function attachToPerfEvent(
  progFd: number,
  perfFd: number,
  kind: string,
  program: string,
  target: string,
  cookie = 0n,
  onStep?: AttachStepListener,
): Link {
  const event = `${kind} ${target}`;
  try {
    onStep?.({ kind: "perf-link", program, event });
    const req = bpfRequest(BpfCmd.LINK_CREATE, {
      prog_fd: progFd,
      target_fd: perfFd,
      attach_type: BpfAttachType.PERF_EVENT,
      flags: 0,
      perf_event: { bpf_cookie: cookie },
    });
    const r = trySyscall(req);
    if (r.ret !== -1) {
      const linkFd = Number(r.ret);
      try {
        onStep?.({ kind: "perf-enable", event });
        perfIoctl(perfFd, PERF_EVENT_IOC_ENABLE);
      } catch (e) {
        closeFd(linkFd);
        throw e;
      }
      return new Link(kind, program, target, { linkFd, perfFd });
    }
    const noLinks = r.errno === EINVAL || r.errno === EOPNOTSUPP || r.errno === ENOTSUPP;
    if (!noLinks || cookie) {
      const why = cookie && noLinks ? " (BPF cookies need perf links, Linux 5.15 or later)" : "";
      throw new SyscallError(
        req,
        r.errno,
        `attaching ${program} to ${kind} ${target}${cookie ? ` with cookie 0x${cookie.toString(16)}` : ""}${why}`,
      );
    }
    // No perf links in this kernel: the older ioctl interface.
    perfIoctl(perfFd, PERF_EVENT_IOC_SET_BPF, progFd);
    onStep?.({ kind: "perf-enable", event });
    perfIoctl(perfFd, PERF_EVENT_IOC_ENABLE);
    return new Link(kind, program, target, { perfFd });
  } catch (e) {
    closeFd(perfFd);
    throw e;
  }
}

/** Attaches to tracepoint "category/name" (what follows "tp/" in the section name). */
export function attachTracepoint(progFd: number, program: string, target: string, onStep?: AttachStepListener): Link {
  const { category, name } = splitTracepoint(target);
  // Before tracefsDir(): finding where tracefs is mounted is part of the lookup.
  onStep?.({ kind: "tracefs-id", tracepoint: `${category}/${name}`, path: `events/${category}/${name}/id` });
  const id = tracepointId(category, name);
  onStep?.({ kind: "perf-event-open", program, event: `tracepoint ${category}/${name} (id ${id})` });
  // pid -1, cpu 0: the program hangs off the tracepoint itself and runs on every CPU.
  const perfFd = perfEventOpen({ type: PerfTypeId.TRACEPOINT, config: id }, -1, 0);
  return attachToPerfEvent(progFd, perfFd, "tracepoint", program, `${category}/${name}`, 0n, onStep);
}
