/**
 * tc programs (SEC("tc"), SEC("classifier")) through netlink, as iproute2's
 * `tc filter add … bpf da` and libbpf's bpf_tc_attach do, for kernels and
 * setups without tcx: a `clsact` qdisc on the interface (created if absent),
 * and on its ingress or egress hook a `cls_bpf` filter in direct-action
 * mode holding the program fd and name.
 *
 * Detaching deletes exactly that filter: it is looked up by priority and
 * handle first, and left alone if it no longer holds this program. The
 * qdisc is deleted only if this process created it and no filter is left on
 * either hook. Unlike a bpf_link, a filter outlives the process that added
 * it: a process that dies without destroying its links leaves it in place
 * (as `tc filter add` does).
 */
import {
  ETH_P_ALL,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_EXCL,
  RTM_DELQDISC,
  RTM_DELTFILTER,
  RTM_GETTFILTER,
  RTM_NEWQDISC,
  RTM_NEWTFILTER,
  TCA_BPF_FD,
  TCA_BPF_FLAGS,
  TCA_BPF_FLAG_ACT_DIRECT,
  TCA_BPF_ID,
  TCA_BPF_NAME,
  TCA_KIND,
  TCA_OPTIONS,
  TCMSG_SIZE,
  TC_H_CLSACT,
  TC_H_MIN_EGRESS,
  TC_H_MIN_INGRESS,
  tcHandle,
} from "../../abi/netlink.js";
import { UnsupportedError } from "../../errors.js";
import { EEXIST, EINVAL, ENODEV, ENOENT } from "../../syscall/errno.js";
import { NetlinkError, type NetlinkMessage, NetlinkSocket, attrString, parseAttrs } from "../../syscall/netlink.js";
import { progInfo } from "../../syscall/obj-info.js";
import { Link } from "../link.js";
import { interfaceIndex } from "./netdev.js";
import type { AttachOptions, AttachTarget } from "./options.js";

export type TcDirection = "ingress" | "egress";

/** Whether a refusal means the interface, qdisc or filter no longer exists. */
function gone(e: unknown): boolean {
  return e instanceof NetlinkError && (e.errno === ENOENT || e.errno === ENODEV || e.errno === EINVAL);
}

/** Interfaces whose clsact qdisc this process created (so may delete once it is empty). */
const createdQdiscs = new Set<number>();

interface TcMsg {
  ifindex: number;
  handle: number;
  parent: number;
  info: number;
}

/** struct tcmsg (family AF_UNSPEC). */
function tcmsg(m: TcMsg): Uint8Array {
  const b = new Uint8Array(TCMSG_SIZE);
  const v = new DataView(b.buffer);
  v.setInt32(4, m.ifindex, true);
  v.setUint32(8, m.handle >>> 0, true);
  v.setUint32(12, m.parent >>> 0, true);
  v.setUint32(16, m.info >>> 0, true);
  return b;
}

function readTcmsg(p: Uint8Array): TcMsg {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return { ifindex: v.getInt32(4, true), handle: v.getUint32(8, true), parent: v.getUint32(12, true), info: v.getUint32(16, true) };
}

/** tcm_info of a filter: priority in the upper half, protocol (network byte order) in the lower. */
function filterInfo(priority: number, protocol: number): number {
  const be = ((protocol & 0xff) << 8) | ((protocol >> 8) & 0xff);
  return tcHandle(priority << 16, be);
}

const hookParent = (direction: TcDirection) => tcHandle(TC_H_CLSACT, direction === "ingress" ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
const CLSACT_HANDLE = tcHandle(TC_H_CLSACT, 0);

/** The program id a cls_bpf filter message holds (TCA_OPTIONS → TCA_BPF_ID), if it is one. */
function filterProgId(m: NetlinkMessage): number | undefined {
  const attrs = parseAttrs(m.payload.subarray(TCMSG_SIZE));
  if (attrString(attrs.get(TCA_KIND)) !== "bpf") return undefined;
  const id = parseAttrs(attrs.get(TCA_OPTIONS) ?? new Uint8Array(0)).get(TCA_BPF_ID);
  return id && id.byteLength >= 4 ? new DataView(id.buffer, id.byteOffset, 4).getUint32(0, true) : undefined;
}

/** A tc filter holding a program; destroy() removes it. */
export class TcLink extends Link {
  constructor(
    program: string,
    iface: string,
    readonly ifindex: number,
    readonly direction: TcDirection,
    /** The filter's priority and handle (the kernel's choice when 0 was asked for). */
    readonly priority: number,
    readonly handle: number,
    progId: number,
  ) {
    super("tc", program, `${iface} ${direction}`, { cleanup: () => detachTc(ifindex, direction, priority, handle, progId, program) });
  }
}

function createClsact(sock: NetlinkSocket, ifindex: number, iface: string): boolean {
  try {
    sock.request(
      RTM_NEWQDISC,
      NLM_F_EXCL | NLM_F_CREATE,
      tcmsg({ ifindex, handle: CLSACT_HANDLE, parent: TC_H_CLSACT, info: 0 }),
      [{ type: TCA_KIND, value: "clsact" }],
      `creating the clsact qdisc on ${iface}`,
    );
    createdQdiscs.add(ifindex);
    return true;
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === EEXIST) return false; // there already (ours or someone else's)
    throw e;
  }
}

/** Deletes the clsact qdisc if this process created it and neither hook has a filter left. */
function releaseClsact(sock: NetlinkSocket, ifindex: number): void {
  if (!createdQdiscs.has(ifindex)) return;
  for (const direction of ["ingress", "egress"] as const) {
    let dump: NetlinkMessage[];
    try {
      dump = sock.request(
        RTM_GETTFILTER,
        NLM_F_DUMP,
        tcmsg({ ifindex, handle: 0, parent: hookParent(direction), info: 0 }),
        [],
        `listing the ${direction} filters of interface ${ifindex}`,
      );
    } catch (e) {
      if (!gone(e)) throw e;
      createdQdiscs.delete(ifindex); // the interface or the qdisc went away with everything on it
      return;
    }
    if (dump.some((m) => m.type === RTM_NEWTFILTER)) return;
  }
  createdQdiscs.delete(ifindex);
  sock.request(
    RTM_DELQDISC,
    0,
    tcmsg({ ifindex, handle: CLSACT_HANDLE, parent: TC_H_CLSACT, info: 0 }),
    [{ type: TCA_KIND, value: "clsact" }],
    `deleting the clsact qdisc of interface ${ifindex}`,
  );
}

export function attachTc(t: AttachTarget, opts: AttachOptions): TcLink {
  if (opts.interface === undefined) {
    throw new UnsupportedError(
      `program ${t.program} (${t.sectionName}) is a tc filter: pass { interface: "eth0", direction: "ingress" | "egress" }`,
    );
  }
  const direction = opts.direction ?? "ingress";
  if (direction !== "ingress" && direction !== "egress")
    throw new UnsupportedError(`tc direction must be "ingress" or "egress", not ${String(direction)}`);
  const priority = opts.priority ?? 0;
  const handle = opts.handle ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 0xffff)
    throw new UnsupportedError(`tc priority must be 0..65535, not ${priority}`);
  if (!Number.isInteger(handle) || handle < 0 || handle > 0xffffffff) throw new UnsupportedError(`tc handle must be a u32, not ${handle}`);
  const ifindex = interfaceIndex(opts.interface);
  const iface = String(opts.interface);
  const where = `${t.program} to tc ${direction} of ${iface}`;
  using sock = NetlinkSocket.open();
  const created = createClsact(sock, ifindex, iface);
  try {
    const echo = sock.request(
      RTM_NEWTFILTER,
      NLM_F_ECHO | NLM_F_EXCL | NLM_F_CREATE,
      tcmsg({ ifindex, handle, parent: hookParent(direction), info: filterInfo(priority, ETH_P_ALL) }),
      [
        { type: TCA_KIND, value: "bpf" },
        {
          type: TCA_OPTIONS,
          value: [
            { type: TCA_BPF_FD, value: t.progFd },
            { type: TCA_BPF_NAME, value: t.program },
            { type: TCA_BPF_FLAGS, value: TCA_BPF_FLAG_ACT_DIRECT },
          ],
        },
      ],
      `attaching ${where}`,
    );
    // The echo says which priority and handle the kernel gave the filter.
    const added = echo.find((m) => m.type === RTM_NEWTFILTER);
    const msg = added ? readTcmsg(added.payload) : undefined;
    const progId = (added && filterProgId(added)) ?? progInfo(t.progFd).id;
    return new TcLink(t.program, iface, ifindex, direction, msg ? msg.info >>> 16 : priority, msg ? msg.handle : handle, progId);
  } catch (e) {
    if (created) {
      try {
        releaseClsact(sock, ifindex);
      } catch {
        // The attach error is the one to report.
      }
    }
    throw e;
  }
}

function detachTc(ifindex: number, direction: TcDirection, priority: number, handle: number, progId: number, program: string): void {
  using sock = NetlinkSocket.open();
  const filter = tcmsg({ ifindex, handle, parent: hookParent(direction), info: filterInfo(priority, ETH_P_ALL) });
  let current: NetlinkMessage | undefined;
  try {
    current = sock
      .request(RTM_GETTFILTER, 0, filter, [{ type: TCA_KIND, value: "bpf" }], `looking up the tc filter of ${program}`)
      .find((m) => m.type === RTM_NEWTFILTER);
  } catch (e) {
    // Gone already (the interface, the qdisc or the filter): nothing of ours is left to remove.
    if (!gone(e)) throw e;
  }
  if (current && filterProgId(current) === progId) {
    sock.request(RTM_DELTFILTER, 0, filter, [{ type: TCA_KIND, value: "bpf" }], `detaching ${program} from tc ${direction}`);
  }
  releaseClsact(sock, ifindex);
}
