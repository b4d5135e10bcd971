/**
 * XDP and tcx: a bpf_link on a network interface (LINK_CREATE with the
 * interface index as target). Links detach when closed, so a crashed
 * process leaves nothing attached.
 */
import { UnsupportedError } from "../../errors.js";
import { bpf } from "../../syscall/bpf.js";
import { readHostValue } from "../../syscall/host-files.js";
import { BpfAttachType } from "../../abi/uapi-enums.js";
import { BpfCmd } from "../../abi/uapi-enums.js";
import { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";

/** An interface index from a name ("lo") or a number. */
export function interfaceIndex(iface: number | string): number {
  if (typeof iface === "number") return iface;
  try {
    return Number(readHostValue(`/sys/class/net/${iface}/ifindex`).trim());
  } catch {
    throw new UnsupportedError(`no network interface named ${iface} (see /sys/class/net)`);
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
  const fd = bpf(
    BpfCmd.LINK_CREATE,
    { prog_fd: t.progFd, target_fd: ifindex, attach_type: attachType, flags: kind === "xdp" ? (opts.xdpFlags ?? 0) : 0 },
    `attaching ${t.program} to ${kind} on interface ${opts.interface}`,
  );
  return new Link(kind, t.program, String(opts.interface), { linkFd: fd });
}
