/**
 * XDP and tcx: a bpf_link on a network interface (LINK_CREATE with the
 * interface index as target). Links detach when closed, so a crashed
 * process leaves nothing attached.
 */
import { release } from "node:os";
import { UnsupportedError } from "../../errors.js";
import { bpf } from "../../syscall/bpf.js";
import { kernelVersionCode, runningKernelVersion } from "../../syscall/kernel-version.js";
import { SyscallError } from "../../syscall/syscall-error.js";
import { readHostValue } from "../../syscall/host-files.js";
import { BpfAttachType } from "../../abi/uapi-enums.js";
import { BpfCmd } from "../../abi/uapi-enums.js";
import { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";

/** The first kernel with tcx links (BPF_TCX_INGRESS / BPF_TCX_EGRESS). */
const TCX_KERNEL = kernelVersionCode(6, 6, 0);

/** An interface index from a name ("lo") or a number. */
export function interfaceIndex(iface: number | string): number {
  if (typeof iface === "number") return iface;
  try {
    return Number(readHostValue(`/sys/class/net/${iface}/ifindex`).trim());
  } catch (e) {
    throw new UnsupportedError(`no network interface named ${iface} (see /sys/class/net)`, { cause: e });
  }
}

export function attachNetdev(t: AttachTarget, opts: AttachOptions): Link {
  if (opts.interface === undefined) {
    throw new UnsupportedError(
      `program ${t.program} (${t.sectionName}) attaches to a network interface: pass { interface: "eth0" } (or an index)`,
    );
  }
  const ifindex = interfaceIndex(opts.interface);
  const attachType = t.expectedAttachType || BpfAttachType.XDP;
  const kind = attachType === BpfAttachType.XDP ? "xdp" : "tcx";
  const context = `attaching ${t.program} to ${kind} on interface ${opts.interface}`;
  let fd: number;
  try {
    fd = bpf(
      BpfCmd.LINK_CREATE,
      { prog_fd: t.progFd, target_fd: ifindex, attach_type: attachType, flags: kind === "xdp" ? (opts.xdpFlags ?? 0) : 0 },
      context,
    );
  } catch (e) {
    // Kernels before 6.6 have no tcx attach types: LINK_CREATE answers a bare EINVAL.
    if (kind === "tcx" && e instanceof SyscallError && e.code === "EINVAL" && runningKernelVersion() < TCX_KERNEL) {
      throw new UnsupportedError(
        `${context}: tcx needs Linux 6.6 or later, and this kernel is ${release()} (${e.call} failed: EINVAL); ` +
          "on older kernels a sched_cls program attaches through tc's clsact qdisc instead",
      );
    }
    throw e;
  }
  return new Link(kind, t.program, String(opts.interface), { linkFd: fd });
}
