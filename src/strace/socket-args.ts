/**
 * socket(2), bind(2), sendmsg(2) and recvmsg(2) as strace 6.1 prints them
 * (src/net.c, sockaddr.c, msghdr.c, io.c at tag v6.1), for the netlink
 * sockets tsbpf opens:
 *
 *     socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 5
 *     bind(5, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 0
 *     sendmsg(5, {msg_name={sa_family=AF_NETLINK, …}, msg_namelen=12, msg_iov=[{iov_base=[…], iov_len=48}],
 *             msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 48
 *
 * As in strace, an iovec is decoded as netlink messages when the message's
 * address is an AF_NETLINK one, else as a string; recvmsg shows what the
 * kernel wrote (as many bytes as it returned).
 */
import { AF_NETLINK, SOCKADDR_NL_SIZE } from "../abi/netlink.js";
import { msghdrOut } from "../syscall/socket.js";
import type { BindRequest, MsgRequest, SocketRequest, SyscallResult } from "../syscall/requests.js";
import type { PrintContext } from "./bpf-args.js";
import { addr } from "./bpf-args.js";
import { ADDRESS_FAMILIES, netlinkMessages, vals } from "./netlink-args.js";
import { printstrFetchSize, printstrFetched } from "./quote.js";
import * as X from "./xlat.js";

const SOCKET_TYPES = vals([
  [1, "SOCK_STREAM"],
  [2, "SOCK_DGRAM"],
  [3, "SOCK_RAW"],
  [4, "SOCK_RDM"],
  [5, "SOCK_SEQPACKET"],
  [6, "SOCK_DCCP"],
  [10, "SOCK_PACKET"],
]);
const SOCKET_TYPE_FLAGS = vals([
  [0o2000000, "SOCK_CLOEXEC"],
  [0o4000, "SOCK_NONBLOCK"],
]);
const NETLINK_PROTOCOLS = vals([
  [0, "NETLINK_ROUTE"],
  [1, "NETLINK_UNUSED"],
  [2, "NETLINK_USERSOCK"],
  [3, "NETLINK_FIREWALL"],
  [4, "NETLINK_SOCK_DIAG"],
  [5, "NETLINK_NFLOG"],
  [6, "NETLINK_XFRM"],
  [7, "NETLINK_SELINUX"],
  [8, "NETLINK_ISCSI"],
  [9, "NETLINK_AUDIT"],
  [10, "NETLINK_FIB_LOOKUP"],
  [11, "NETLINK_CONNECTOR"],
  [12, "NETLINK_NETFILTER"],
  [13, "NETLINK_IP6_FW"],
  [14, "NETLINK_DNRTMSG"],
  [15, "NETLINK_KOBJECT_UEVENT"],
  [16, "NETLINK_GENERIC"],
  [18, "NETLINK_SCSITRANSPORT"],
  [19, "NETLINK_ECRYPTFS"],
  [20, "NETLINK_RDMA"],
  [21, "NETLINK_CRYPTO"],
  [22, "NETLINK_SMC"],
]);
const MSG_FLAGS = vals([
  [0x1, "MSG_OOB"],
  [0x2, "MSG_PEEK"],
  [0x4, "MSG_DONTROUTE"],
  [0x8, "MSG_CTRUNC"],
  [0x10, "MSG_PROXY"],
  [0x20, "MSG_TRUNC"],
  [0x40, "MSG_DONTWAIT"],
  [0x80, "MSG_EOR"],
  [0x100, "MSG_WAITALL"],
  [0x200, "MSG_FIN"],
  [0x400, "MSG_SYN"],
  [0x800, "MSG_CONFIRM"],
  [0x1000, "MSG_RST"],
  [0x2000, "MSG_ERRQUEUE"],
  [0x4000, "MSG_NOSIGNAL"],
  [0x8000, "MSG_MORE"],
  [0x10000, "MSG_WAITFORONE"],
  [0x40000, "MSG_BATCH"],
  [0x4000000, "MSG_ZEROCOPY"],
  [0x20000000, "MSG_FASTOPEN"],
  [0x40000000, "MSG_CMSG_CLOEXEC"],
]);

export function formatSocketArgs(req: SocketRequest): string {
  const family = X.printxval(ADDRESS_FAMILIES, req.domain, "AF_???");
  let type = X.printxval(SOCKET_TYPES, req.type & 0xf, "SOCK_???");
  const flags = req.type & ~0xf;
  if (flags) type += `|${X.printflags(SOCKET_TYPE_FLAGS, flags, null)}`;
  const protocol = req.domain === AF_NETLINK ? X.printxval(NETLINK_PROTOCOLS, req.protocol, "NETLINK_???") : String(req.protocol);
  return `${family}, ${type}, ${protocol}`;
}

/** `%#08x`: "00000000" for zero, "0x000008" otherwise. */
function hex08(v: number): string {
  return v === 0 ? "00000000" : `0x${v.toString(16).padStart(6, "0")}`;
}

/** decode_sockaddr for the `len` bytes given. */
function sockaddr(ctx: PrintContext, bytes: Uint8Array, len: number): string {
  if (len <= 0) return addr(0n);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = len >= 2 ? v.getUint16(0, true) : -1;
  if (family === AF_NETLINK && len >= SOCKADDR_NL_SIZE) {
    return `{sa_family=AF_NETLINK, nl_pid=${v.getUint32(4, true)}, nl_groups=${hex08(v.getUint32(8, true))}}`;
  }
  const data = bytes.subarray(2, len);
  return `{sa_family=${X.printxval(ADDRESS_FAMILIES, family, "AF_???")}, sa_data=${printstrFetched(data.subarray(0, printstrFetchSize(BigInt(data.byteLength), ctx.maxStrlen)), BigInt(data.byteLength), 0, ctx.maxStrlen)}}`;
}

export function formatBindArgs(ctx: PrintContext, req: BindRequest): string {
  return `${req.fd | 0}, ${sockaddr(ctx, req.addr, req.addr.byteLength)}, ${req.addr.byteLength}`;
}

function iovBase(ctx: PrintContext, data: Uint8Array, netlink: boolean): string {
  if (netlink) return netlinkMessages(ctx, data);
  return printstrFetched(
    data.subarray(0, printstrFetchSize(BigInt(data.byteLength), ctx.maxStrlen)),
    BigInt(data.byteLength),
    0,
    ctx.maxStrlen,
  );
}

export function formatMsgArgs(ctx: PrintContext, req: MsgRequest, result: SyscallResult): string {
  const failed = Number(result.ret) === -1;
  const flagsArg = X.printflags(MSG_FLAGS, req.flags >>> 0, "MSG_???");
  if (req.call === "recvmsg" && failed)
    return `${req.fd | 0}, ${ctx.addressOf(req.msghdr) !== undefined ? addr(ctx.addressOf(req.msghdr)!) : "0x?"}, ${flagsArg}`;
  const out = msghdrOut(req);
  const given = req.name.byteLength;
  const namelen = req.call === "recvmsg" ? out.namelen : given;
  const shownName = req.call === "recvmsg" && namelen > given ? given : namelen;
  const netlink = shownName >= 2 && new DataView(req.name.buffer, req.name.byteOffset).getUint16(0, true) === AF_NETLINK;
  // sendmsg shows every iovec in full; recvmsg only the bytes the kernel returned.
  let left = req.call === "recvmsg" ? Number(result.ret) : Infinity;
  const iovs: string[] = [];
  for (const [i, b] of req.iov.entries()) {
    if (!ctx.verbose && i >= ctx.maxStrlen) {
      iovs.push("...");
      break;
    }
    const n = Math.min(b.byteLength, left);
    left -= n;
    const base = b.byteLength === 0 ? "NULL" : iovBase(ctx, b.subarray(0, n), netlink);
    iovs.push(`{iov_base=${base}, iov_len=${b.byteLength}}`);
  }
  const namelenText = req.call === "recvmsg" && namelen !== given ? `${given} => ${namelen}` : String(namelen);
  const msg =
    `{msg_name=${given ? sockaddr(ctx, req.name, shownName) : "NULL"}, msg_namelen=${namelenText}, ` +
    `msg_iov=[${iovs.join(", ")}], msg_iovlen=${req.iov.length}, msg_controllen=0, ` +
    `msg_flags=${X.printflags(MSG_FLAGS, req.call === "recvmsg" ? out.flags >>> 0 : 0, "MSG_???")}}`;
  return `${req.fd | 0}, ${msg}, ${flagsArg}`;
}
