/**
 * Netlink messages as strace 6.1 decodes them in an iovec (src/netlink.c,
 * nlattr.c, rtnl_tc.c at tag v6.1), for the rtnetlink traffic of tc filters:
 *
 *     [{nlmsg_len=48, nlmsg_type=RTM_NEWQDISC, nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE, nlmsg_seq=1, nlmsg_pid=0},
 *      {tcm_family=AF_UNSPEC, tcm_ifindex=if_nametoindex("eth0"), tcm_handle=4294901760, tcm_parent=4294967281, tcm_info=0},
 *      [{nla_len=11, nla_type=TCA_KIND}, "clsact"]]
 *
 * Several messages (or attributes) print as an array, one alone does not;
 * payloads strace has no decoder for print as hex strings (QUOTE_FORCE_HEX),
 * cut at -s. Of rtnetlink's family headers only struct tcmsg (qdiscs,
 * classes, filters, chains) is decoded; other route messages print their
 * family and `...`. Without -v, at most -s messages and attributes print.
 */
import {
  NLA_F_NESTED,
  NLA_HDRLEN,
  NLA_TYPE_MASK,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLM_F_CAPPED,
  TCMSG_SIZE,
} from "../abi/netlink.js";
import { knownErrnoName } from "../syscall/errno.js";
import { type PrintContext, ifindex } from "./bpf-args.js";
import { QUOTE_0_TERMINATED, QUOTE_EXPECT_TRAILING_0, QUOTE_FORCE_HEX, printstrFetchSize, printstrFetched } from "./quote.js";
import * as X from "./xlat.js";

/** An xlat table from (number, name) pairs. */
export const vals = (entries: Array<[number, string]>): X.Xlat => entries.map(([v, n]) => [BigInt(v), n] as const);

const NLMSG_MIN_TYPE = 0x10;
const RTM_BASE = 16;
const NLA_F_NET_BYTEORDER = 1 << 14;

const NETLINK_TYPES = vals([
  [1, "NLMSG_NOOP"],
  [2, "NLMSG_ERROR"],
  [3, "NLMSG_DONE"],
  [4, "NLMSG_OVERRUN"],
]);

/** nl_route_types: RTM_BASE (16) .. RTM_GETTUNNEL (122), as strace 6.1 names them. */
const ROUTE_TYPES: X.Xlat = (() => {
  // Each family takes four numbers: NEW, DEL, GET, SET; most lack some.
  const families: Array<[string, string]> = [
    ["LINK", "NDGS"],
    ["ADDR", "NDG"],
    ["ROUTE", "NDG"],
    ["NEIGH", "NDG"],
    ["RULE", "NDG"],
    ["QDISC", "NDG"],
    ["TCLASS", "NDG"],
    ["TFILTER", "NDG"],
    ["ACTION", "NDG"],
    ["PREFIX", "N"],
    ["MULTICAST", "G"],
    ["ANYCAST", "G"],
    ["NEIGHTBL", "NGS"],
    ["NDUSEROPT", "N"],
    ["ADDRLABEL", "NDG"],
    ["DCB", "GS"],
    ["NETCONF", "NDG"],
    ["MDB", "NDG"],
    ["NSID", "NDG"],
    ["STATS", "NG"],
    ["CACHEREPORT", "N"],
    ["CHAIN", "NDG"],
    ["NEXTHOP", "NDG"],
    ["LINKPROP", "NDG"],
    ["VLAN", "NDG"],
    ["NEXTHOPBUCKET", "NDG"],
    ["TUNNEL", "NDG"],
  ];
  const ops = { N: ["NEW", 0], D: ["DEL", 1], G: ["GET", 2], S: ["SET", 3] } as const;
  return families.flatMap(([name, which], i) =>
    [...which].map((c) => {
      const [op, n] = ops[c as keyof typeof ops];
      return [BigInt(RTM_BASE + i * 4 + n), `RTM_${op}${name}`] as const;
    }),
  );
})();

const NETLINK_FLAGS = vals([
  [0x01, "NLM_F_REQUEST"],
  [0x02, "NLM_F_MULTI"],
  [0x04, "NLM_F_ACK"],
  [0x08, "NLM_F_ECHO"],
  [0x10, "NLM_F_DUMP_INTR"],
  [0x20, "NLM_F_DUMP_FILTERED"],
]);
const NETLINK_GET_FLAGS = vals([
  [0x300, "NLM_F_DUMP"],
  [0x100, "NLM_F_ROOT"],
  [0x200, "NLM_F_MATCH"],
  [0x400, "NLM_F_ATOMIC"],
]);
const NETLINK_NEW_FLAGS = vals([
  [0x100, "NLM_F_REPLACE"],
  [0x200, "NLM_F_EXCL"],
  [0x400, "NLM_F_CREATE"],
  [0x800, "NLM_F_APPEND"],
]);
const NETLINK_ACK_FLAGS = vals([
  [0x100, "NLM_F_CAPPED"],
  [0x200, "NLM_F_ACK_TLVS"],
]);

export const ADDRESS_FAMILIES = vals([
  [0, "AF_UNSPEC"],
  [1, "AF_UNIX"],
  [2, "AF_INET"],
  [10, "AF_INET6"],
  [16, "AF_NETLINK"],
  [17, "AF_PACKET"],
]);

const TCA_ATTRS = vals([
  [0, "TCA_UNSPEC"],
  [1, "TCA_KIND"],
  [2, "TCA_OPTIONS"],
  [3, "TCA_STATS"],
  [4, "TCA_XSTATS"],
  [5, "TCA_RATE"],
  [6, "TCA_FCNT"],
  [7, "TCA_STATS2"],
  [8, "TCA_STAB"],
  [9, "TCA_PAD"],
  [10, "TCA_DUMP_INVISIBLE"],
  [11, "TCA_CHAIN"],
  [12, "TCA_HW_OFFLOAD"],
  [13, "TCA_INGRESS_BLOCK"],
  [14, "TCA_EGRESS_BLOCK"],
  [15, "TCA_DUMP_FLAGS"],
]);

const NLMSGERR_ATTRS = vals([
  [0, "NLMSGERR_ATTR_UNUSED"],
  [1, "NLMSGERR_ATTR_MSG"],
  [2, "NLMSGERR_ATTR_OFFS"],
  [3, "NLMSGERR_ATTR_COOKIE"],
  [4, "NLMSGERR_ATTR_POLICY"],
  [5, "NLMSGERR_ATTR_MISS_TYPE"],
  [6, "NLMSGERR_ATTR_MISS_NEST"],
]);

/** An attribute payload decoder; false: print it as a hex string instead. */
type NlaDecoder = (ctx: PrintContext, data: Uint8Array) => string | false;

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const align4 = (n: number) => (n + 3) & ~3;

/** printstr_ex on bytes we hold: what strace would fetch, then its quoting. */
function printstr(ctx: PrintContext, data: Uint8Array, style: number): string {
  let fetched = data.subarray(0, printstrFetchSize(BigInt(data.byteLength), ctx.maxStrlen));
  if (style & QUOTE_0_TERMINATED) {
    const nul = fetched.indexOf(0);
    if (nul >= 0) fetched = fetched.subarray(0, nul + 1);
  }
  return printstrFetched(fetched, BigInt(data.byteLength), style, ctx.maxStrlen);
}

const hexString = (ctx: PrintContext, data: Uint8Array) => printstr(ctx, data, QUOTE_FORCE_HEX);
const nlaStr: NlaDecoder = (ctx, d) => printstr(ctx, d, QUOTE_0_TERMINATED | QUOTE_EXPECT_TRAILING_0);
const nlaU32: NlaDecoder = (_ctx, d) => (d.byteLength < 4 ? false : String(dv(d).getUint32(0, true)));
const nlaU8: NlaDecoder = (_ctx, d) => (d.byteLength < 1 ? false : String(d[0]));

const TCA_DECODERS: Record<number, NlaDecoder> = { 1: nlaStr, 6: nlaU32, 11: nlaU32, 12: nlaU8, 13: nlaU32, 14: nlaU32 };
const NLMSGERR_DECODERS: Record<number, NlaDecoder> = { 1: nlaStr, 2: nlaU32 };

/** The elements of a list, as strace prints them: alone bare, several as an array, at most -s without -v. */
function list(items: string[], more: boolean): string {
  if (items.length === 1 && !more) return items[0]!;
  return `[${items.join(", ")}]`;
}

/** decode_nlattr: the attributes in `data`. */
function nlattrs(ctx: PrintContext, data: Uint8Array, table: X.Xlat, dflt: string, decoders: Record<number, NlaDecoder>): string {
  const items: string[] = [];
  let at = 0;
  let truncated = false;
  while (data.byteLength - at >= NLA_HDRLEN) {
    if (!ctx.verbose && items.length === ctx.maxStrlen) {
      items.push("...");
      truncated = true;
      break;
    }
    const v = dv(data);
    const nlaLen = v.getUint16(at, true);
    const type = v.getUint16(at + 2, true);
    const len = Math.min(nlaLen, data.byteLength - at);
    let hdr = `{nla_len=${nlaLen}, nla_type=`;
    if (type & NLA_F_NESTED) hdr += "NLA_F_NESTED|";
    if (type & NLA_F_NET_BYTEORDER) hdr += "NLA_F_NET_BYTEORDER|";
    hdr += `${X.printxval(table, type & NLA_TYPE_MASK, dflt)}}`;
    if (len > NLA_HDRLEN) {
      const payload = data.subarray(at + NLA_HDRLEN, at + len);
      const decoder = decoders[type & NLA_TYPE_MASK];
      const shown = decoder?.(ctx, payload) || hexString(ctx, payload);
      items.push(`[${hdr}, ${shown}]`);
    } else items.push(hdr);
    if (nlaLen < NLA_HDRLEN) break;
    at += align4(nlaLen);
    if (at >= data.byteLength) break;
  }
  const rest = data.byteLength - at;
  if (rest > 0 && rest < NLA_HDRLEN && items.length) items.push(hexString(ctx, data.subarray(at)));
  if (items.length === 0) return hexString(ctx, data);
  return list(items, truncated || items.length > 1);
}

function flagsOf(type: number, flags: number): string {
  let extra: X.Xlat = [];
  if (type < NLMSG_MIN_TYPE) {
    if (type === NLMSG_ERROR) extra = NETLINK_ACK_FLAGS;
  } else if (type === 49 /* RTM_DELACTION */) extra = NETLINK_GET_FLAGS;
  else if ((type & 3) === 0) extra = NETLINK_NEW_FLAGS;
  else if ((type & 3) === 2) extra = NETLINK_GET_FLAGS;
  return X.printflags([...NETLINK_FLAGS, ...extra], flags, "NLM_F_???");
}

function nlmsghdr(data: Uint8Array): string {
  const v = dv(data);
  const type = v.getUint16(4, true);
  const typeName = type < NLMSG_MIN_TYPE ? X.printxval(NETLINK_TYPES, type, "NLMSG_???") : X.printxval(ROUTE_TYPES, type, "RTM_???");
  return (
    `{nlmsg_len=${v.getUint32(0, true)}, nlmsg_type=${typeName}, nlmsg_flags=${flagsOf(type, v.getUint16(6, true))}, ` +
    `nlmsg_seq=${v.getUint32(8, true)}, nlmsg_pid=${v.getUint32(12, true)}}`
  );
}

/** Whether a route message type carries a struct tcmsg. */
function isTcMessage(type: number): boolean {
  const family = (type - RTM_BASE) >> 2;
  return family === 5 || family === 6 || family === 7 || family === 21; // QDISC, TCLASS, TFILTER, CHAIN
}

function tcmsg(ctx: PrintContext, data: Uint8Array): string {
  let s = `{tcm_family=${X.printxval(ADDRESS_FAMILIES, data[0]!, "AF_???")}, `;
  if (data.byteLength < TCMSG_SIZE) return `${s}...}`;
  const v = dv(data);
  s += `tcm_ifindex=${ifindex(ctx, v.getInt32(4, true))}, tcm_handle=${v.getUint32(8, true)}, tcm_parent=${v.getUint32(12, true)}, tcm_info=${v.getUint32(16, true)}}`;
  if (data.byteLength > TCMSG_SIZE) s += `, ${nlattrs(ctx, data.subarray(TCMSG_SIZE), TCA_ATTRS, "TCA_???", TCA_DECODERS)}`;
  return s;
}

/** decode_payload of one message. */
function payload(ctx: PrintContext, type: number, flags: number, data: Uint8Array): string {
  if (type === NLMSG_ERROR) return nlmsgerr(ctx, data, (flags & NLM_F_CAPPED) !== 0);
  if (type >= NLMSG_MIN_TYPE) {
    if (isTcMessage(type)) return tcmsg(ctx, data);
    return `{family=${X.printxval(ADDRESS_FAMILIES, data[0]!, "AF_???")}${data.byteLength > 1 ? ", ..." : ""}}`;
  }
  if (type === NLMSG_DONE && data.byteLength === 4) return String(dv(data).getInt32(0, true));
  return hexString(ctx, data);
}

/** One message (header, and payload when there is one), `len` bytes of it present. */
function message(ctx: PrintContext, data: Uint8Array): string {
  const v = dv(data);
  const len = Math.min(v.getUint32(0, true), data.byteLength);
  const hdr = nlmsghdr(data);
  if (len <= NLMSG_HDRLEN) return hdr;
  return `[${hdr}, ${payload(ctx, v.getUint16(4, true), v.getUint16(6, true), data.subarray(NLMSG_HDRLEN, len))}]`;
}

function nlmsgerr(ctx: PrintContext, data: Uint8Array, capped: boolean): string {
  if (data.byteLength < 4) return hexString(ctx, data);
  const error = dv(data).getInt32(0, true);
  const name = error < 0 ? knownErrnoName(-error) : undefined;
  let s = `{error=${name ? `-${name}` : error}`;
  const rest = data.subarray(4);
  if (!rest.byteLength) return `${s}}`;
  if (rest.byteLength < NLMSG_HDRLEN) return `${s}, msg=${hexString(ctx, rest)}}`;
  const echoed = Math.min(capped ? NLMSG_HDRLEN : dv(rest).getUint32(0, true), rest.byteLength);
  s += `, msg=${message(ctx, rest.subarray(0, echoed))}}`;
  if (rest.byteLength <= echoed) return s;
  return `[${s}, ${nlattrs(ctx, rest.subarray(echoed), NLMSGERR_ATTRS, "NLMSGERR_ATTR_???", NLMSGERR_DECODERS)}]`;
}

/** decode_netlink: the messages in one iovec's bytes. */
export function netlinkMessages(ctx: PrintContext, data: Uint8Array): string {
  if (data.byteLength < NLMSG_HDRLEN) return hexString(ctx, data);
  const items: string[] = [];
  let at = 0;
  let more = false;
  for (;;) {
    if (!ctx.verbose && items.length === ctx.maxStrlen) {
      items.push("...");
      more = true;
      break;
    }
    const rest = data.subarray(at);
    if (rest.byteLength < NLMSG_HDRLEN) {
      items.push(hexString(ctx, rest));
      break;
    }
    items.push(message(ctx, rest));
    const len = dv(rest).getUint32(0, true);
    if (len < NLMSG_HDRLEN) break;
    const next = align4(len);
    if (next >= rest.byteLength) break;
    more = true;
    at += next;
  }
  return list(items, more);
}
