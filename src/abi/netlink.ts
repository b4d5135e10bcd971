/**
 * Netlink and rtnetlink constants tsbpf uses to manage tc filters
 * (include/uapi/linux/{socket,netlink,rtnetlink,pkt_sched,pkt_cls}.h).
 * Plain numbers: the message builder (syscall/netlink.ts), the tc attach
 * (programs/attach/tc.ts) and the strace printer all read them from here.
 */

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_ROUTE = 0;
export const SOL_NETLINK = 270;
export const NETLINK_EXT_ACK = 11;
/** sizeof(struct sockaddr_nl): family u16, pad u16, pid u32, groups u32. */
export const SOCKADDR_NL_SIZE = 12;

/** struct nlmsghdr (16 bytes) and struct nlattr (4 bytes) headers; both align to 4. */
export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 1 << 15;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | (1 << 14)) & 0xffff;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
/** Flags of NEW requests. */
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** Flags of GET requests: NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH. */
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = 0x300;
/** Flags of an NLMSG_ERROR: the original message is cut to its header; extended-ACK attributes follow. */
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

/** Extended ACK attributes (enum nlmsgerr_attrs). */
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

export const RTM_NEWQDISC = 36;
export const RTM_DELQDISC = 37;
export const RTM_GETQDISC = 38;
export const RTM_NEWTFILTER = 44;
export const RTM_DELTFILTER = 45;
export const RTM_GETTFILTER = 46;

/** struct tcmsg: family u8, pad, ifindex s32, handle u32, parent u32, info u32 (20 bytes). */
export const TCMSG_SIZE = 20;

/** enum TCA_* (attributes of qdisc and filter messages). */
export const TCA_KIND = 1;
export const TCA_OPTIONS = 2;
export const TCA_CHAIN = 11;

/** enum TCA_BPF_* (options of a cls_bpf filter). */
export const TCA_BPF_FD = 6;
export const TCA_BPF_NAME = 7;
export const TCA_BPF_FLAGS = 8;
export const TCA_BPF_ID = 11;
export const TCA_BPF_FLAG_ACT_DIRECT = 1;

/** Handles (pkt_sched.h): the clsact qdisc and its two hooks. */
export const TC_H_CLSACT = 0xfffffff1;
export const TC_H_MIN_INGRESS = 0xfff2;
export const TC_H_MIN_EGRESS = 0xfff3;
export const TC_H_MAJ_MASK = 0xffff0000;
export const TC_H_MIN_MASK = 0x0000ffff;

/** TC_H_MAKE(maj, min). */
export function tcHandle(major: number, minor: number): number {
  return ((major & TC_H_MAJ_MASK) | (minor & TC_H_MIN_MASK)) >>> 0;
}

/** ETH_P_ALL (every protocol), as the filter's protocol. */
export const ETH_P_ALL = 0x0003;
