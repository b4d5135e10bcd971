/**
 * rtnetlink, as much as managing tc filters needs: a NETLINK_ROUTE socket
 * with extended ACKs, request/acknowledge exchanges over sendmsg/recvmsg
 * through the choke point, and the message format (nlmsghdr, then a fixed
 * family header such as struct tcmsg, then nlattr attributes, each padded
 * to 4 bytes).
 *
 * The kernel handles an rtnetlink request inside sendmsg() and queues its
 * answer before returning, so the recvmsg() that follows never waits.
 */
import {
  AF_NETLINK,
  NETLINK_EXT_ACK,
  NETLINK_ROUTE,
  NLA_F_NESTED,
  NLA_HDRLEN,
  NLA_TYPE_MASK,
  NLMSGERR_ATTR_MSG,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_REQUEST,
  SOCKADDR_NL_SIZE,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_NETLINK,
} from "../abi/netlink.js";
import { StateError, TsbpfError } from "../errors.js";
import { closeFd } from "./bpf.js";
import { errnoMessage, errnoName } from "./errno.js";
import { syscall } from "./kernel.js";
import { MSG_TRUNC, msgRequest, msghdrOut } from "./socket.js";

/** The kernel refused a netlink request: errno, and the kernel's own explanation (extended ACK) when it gave one. */
export class NetlinkError extends TsbpfError {
  override name = "NetlinkError";
  constructor(
    errno: number,
    /** The kernel's NLMSGERR_ATTR_MSG text, e.g. "Filter already exists". */
    readonly extack: string | undefined,
    context: string,
  ) {
    super(`${context}: ${errnoName(errno)} (${errnoMessage(errno)})${extack ? ` — the kernel says: ${JSON.stringify(extack)}` : ""}`, {
      errno,
      code: errnoName(errno),
    });
  }
}

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** What follows the 16-byte header. */
  payload: Uint8Array;
}

/** An attribute to encode: a u32, a NUL-terminated string, raw bytes, or nested attributes. */
export interface NlAttr {
  type: number;
  value: number | string | Uint8Array | NlAttr[];
}

const align4 = (n: number) => (n + 3) & ~3;

function attrPayload(value: NlAttr["value"]): Uint8Array {
  if (typeof value === "number") {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return b;
  }
  if (typeof value === "string") {
    const s = new TextEncoder().encode(value);
    const b = new Uint8Array(s.byteLength + 1);
    b.set(s);
    return b;
  }
  if (value instanceof Uint8Array) return value;
  return encodeAttrs(value);
}

/** Attributes, each `{ u16 len, u16 type }` + payload, padded to 4 bytes. Nested lists get NLA_F_NESTED. */
export function encodeAttrs(attrs: NlAttr[]): Uint8Array {
  const parts = attrs.map((a) => ({ type: Array.isArray(a.value) ? a.type | NLA_F_NESTED : a.type, payload: attrPayload(a.value) }));
  const out = new Uint8Array(parts.reduce((n, p) => n + align4(NLA_HDRLEN + p.payload.byteLength), 0));
  const v = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    v.setUint16(at, NLA_HDRLEN + p.payload.byteLength, true);
    v.setUint16(at + 2, p.type, true);
    out.set(p.payload, at + NLA_HDRLEN);
    at += align4(NLA_HDRLEN + p.payload.byteLength);
  }
  return out;
}

/** One message: header, fixed family header, attributes. */
export function encodeMessage(type: number, flags: number, seq: number, header: Uint8Array, attrs: NlAttr[]): Uint8Array {
  const body = encodeAttrs(attrs);
  const len = NLMSG_HDRLEN + align4(header.byteLength) + body.byteLength;
  // Its own ArrayBuffer: the kernel is given its address.
  const out = new Uint8Array(new ArrayBuffer(len));
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, 0, true);
  out.set(header, NLMSG_HDRLEN);
  out.set(body, NLMSG_HDRLEN + align4(header.byteLength));
  return out;
}

/** The messages in a datagram; stops at the first truncated one. */
export function parseMessages(bytes: Uint8Array): NetlinkMessage[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NetlinkMessage[] = [];
  let at = 0;
  while (at + NLMSG_HDRLEN <= bytes.byteLength) {
    const len = v.getUint32(at, true);
    if (len < NLMSG_HDRLEN || at + len > bytes.byteLength) break;
    out.push({
      type: v.getUint16(at + 4, true),
      flags: v.getUint16(at + 6, true),
      seq: v.getUint32(at + 8, true),
      pid: v.getUint32(at + 12, true),
      payload: bytes.subarray(at + NLMSG_HDRLEN, at + len),
    });
    at += align4(len);
  }
  return out;
}

/** Attributes by type (the last of a repeated type wins); payloads are views. */
export function parseAttrs(bytes: Uint8Array): Map<number, Uint8Array> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<number, Uint8Array>();
  let at = 0;
  while (at + NLA_HDRLEN <= bytes.byteLength) {
    const len = v.getUint16(at, true);
    if (len < NLA_HDRLEN || at + len > bytes.byteLength) break;
    out.set(v.getUint16(at + 2, true) & NLA_TYPE_MASK, bytes.subarray(at + NLA_HDRLEN, at + len));
    at += align4(len);
  }
  return out;
}

/** A C string attribute's text. */
export function attrString(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  const end = b.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? b.subarray(0, end) : b);
}

/** struct nlmsgerr: int error, then the request's header (and body unless capped), then extended-ACK attributes. */
function parseError(m: NetlinkMessage): { errno: number; extack: string | undefined } {
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  const errno = m.payload.byteLength >= 4 ? -v.getInt32(0, true) : 0;
  let extack: string | undefined;
  if (m.flags & NLM_F_ACK_TLVS && m.payload.byteLength >= 4 + NLMSG_HDRLEN) {
    // The echoed request: only its header when NLM_F_CAPPED, else all of it.
    const echoed = m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : v.getUint32(4, true);
    extack = attrString(parseAttrs(m.payload.subarray(4 + align4(echoed))).get(NLMSGERR_ATTR_MSG));
  }
  return { errno, extack };
}

const RECEIVE_SIZE = 32768;

/** A NETLINK_ROUTE socket. Requests are answered in order; each call waits for its acknowledgement. */
export class NetlinkSocket {
  private seq = 0;
  private closed = false;
  /** struct sockaddr_nl of the kernel (pid 0), the address of every message. */
  private readonly kernelAddress = sockaddrNl(0);

  private constructor(readonly fd: number) {}

  static open(): NetlinkSocket {
    const fd = syscall({ call: "socket", domain: AF_NETLINK, type: SOCK_RAW | SOCK_CLOEXEC, protocol: NETLINK_ROUTE });
    try {
      const one = new Uint8Array(4);
      one[0] = 1;
      // Extended ACKs: errors come with the kernel's explanation ("Filter already exists").
      syscall({ call: "setsockopt", fd, level: SOL_NETLINK, optname: NETLINK_EXT_ACK, optionName: "NETLINK_EXT_ACK", value: one });
      syscall({ call: "bind", fd, addr: sockaddrNl(0) });
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    return new NetlinkSocket(fd);
  }

  /**
   * Sends one request (NLM_F_REQUEST | NLM_F_ACK added) and reads until its
   * acknowledgement; returns the other messages the kernel sent for it (the
   * echo of NLM_F_ECHO). A refusal is a NetlinkError naming `context`.
   */
  request(type: number, flags: number, header: Uint8Array, attrs: NlAttr[], context: string): NetlinkMessage[] {
    if (this.closed) throw new StateError("netlink socket is closed");
    const seq = ++this.seq;
    const msg = encodeMessage(type, flags | NLM_F_REQUEST | NLM_F_ACK, seq, header, attrs);
    syscall(msgRequest("sendmsg", this.fd, this.kernelAddress, [msg], 0, "netlink_route"));
    const replies: NetlinkMessage[] = [];
    for (;;) {
      const buf = new Uint8Array(new ArrayBuffer(RECEIVE_SIZE));
      const req = msgRequest("recvmsg", this.fd, sockaddrNl(0), [buf], 0, "netlink_route");
      const n = syscall(req);
      if (msghdrOut(req).flags & MSG_TRUNC) throw new TsbpfError(`${context}: a netlink reply did not fit in ${RECEIVE_SIZE} bytes`);
      for (const m of parseMessages(buf.subarray(0, n))) {
        if (m.seq !== seq) continue; // not ours (a late answer to an earlier request)
        if (m.type === NLMSG_ERROR) {
          const { errno, extack } = parseError(m);
          if (errno) throw new NetlinkError(errno, extack, context);
          return replies;
        }
        if (m.type === NLMSG_DONE) return replies;
        replies.push(m);
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeFd(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** struct sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups; } in its own buffer. */
function sockaddrNl(pid: number): Uint8Array {
  const b = new Uint8Array(new ArrayBuffer(SOCKADDR_NL_SIZE));
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_NETLINK, true);
  v.setUint32(4, pid, true);
  return b;
}
