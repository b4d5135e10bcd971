/**
 * struct bpf_link_info for every link type (BPF_OBJ_GET_INFO_BY_FD on a
 * link fd): the common head (type, id, prog_id) and the union member of its
 * type. Names (tracepoint, iterator target, probed file or function, the
 * uprobe_multi path) and arrays (kprobe_multi addresses, uprobe_multi
 * offsets) come from a second call with buffers sized by the first.
 */
import { BPF_LINK_INFO, type BpfLinkInfoField } from "../abi/bpf-info.js";
import type { AbiField } from "../abi/layout.js";
import { BpfLinkType, BpfLinkTypeNames } from "../abi/uapi-enums.js";
import { cName, getInfo, kernelBuffer, setArray } from "./obj-info.js";

/** Byte offsets in struct bpf_link_info by member path, from the generated ABI (abi/bpf-info.ts). */
export const LINK_INFO_LAYOUT = Object.fromEntries(
  Object.entries(BPF_LINK_INFO.fields).map(([path, field]) => [path, (field as AbiField).offset]),
) as Record<BpfLinkInfoField, number>;

const L = LINK_INFO_LAYOUT;
const LINK_INFO_SIZE = 64;

/** enum bpf_perf_event_type, by name. */
const PERF_EVENT_TYPES = ["unspec", "uprobe", "uretprobe", "kprobe", "kretprobe", "tracepoint", "event"] as const;
export type PerfEventLinkType = (typeof PERF_EVENT_TYPES)[number];

interface LinkInfoBase {
  /** enum bpf_link_type, and its kernel name (BPF_LINK_TYPE_XDP). */
  type: number;
  typeName: string;
  id: number;
  progId: number;
}

/** What the kernel reports of a link, by kind (the link type's name, lower case). */
export type LinkInfo = LinkInfoBase &
  (
    | { kind: "raw_tracepoint"; tpName: string; cookie: bigint }
    | { kind: "tracing"; attachType: number; targetObjId: number; targetBtfId: number; cookie: bigint }
    | { kind: "cgroup"; cgroupId: bigint; attachType: number }
    | {
        kind: "iter";
        targetName: string;
        /** Iterators over a map's elements: the map. */
        mapId: number;
        /** cgroup iterators: the cgroup and walk order. */
        cgroupId?: bigint;
        order?: number;
        /** task iterators: the task (0: all). */
        tid?: number;
        pid?: number;
      }
    | { kind: "netns"; netnsIno: number; attachType: number }
    | { kind: "xdp"; ifindex: number }
    | { kind: "struct_ops"; mapId: number }
    | { kind: "netfilter"; pf: number; hooknum: number; priority: number; flags: number }
    | { kind: "kprobe_multi"; count: number; flags: number; missed: bigint; addrs: bigint[]; cookies: bigint[] }
    | {
        kind: "uprobe_multi";
        path: string;
        count: number;
        flags: number;
        pid: number;
        offsets: bigint[];
        refCtrOffsets: bigint[];
        cookies: bigint[];
      }
    | {
        kind: "perf_event";
        eventType: PerfEventLinkType;
        /** uprobes: the probed file; kprobes: the function; tracepoints: the tracepoint. */
        name?: string;
        offset?: number;
        /** kprobes: the address; uprobes: the reference counter offset. */
        addr?: bigint;
        refCtrOffset?: bigint;
        missed?: bigint;
        /** Generic perf events: the event's type and config. */
        perfType?: number;
        config?: bigint;
        cookie: bigint;
      }
    | { kind: "tcx" | "netkit"; ifindex: number; attachType: number }
    | { kind: "sockmap"; mapId: number; attachType: number }
    | { kind: "unknown" }
  );

/** Reads a link's info; `fd` is a bpf_link fd. */
export function linkInfo(fd: number): LinkInfo {
  const first = kernelBuffer(LINK_INFO_SIZE);
  const v = getInfo(fd, first, "reading link info");
  const type = v.getUint32(L.type, true);
  const base: LinkInfoBase = {
    type,
    typeName: BpfLinkTypeNames[type] ?? `BPF_LINK_TYPE_${type}`,
    id: v.getUint32(L.id, true),
    progId: v.getUint32(L.prog_id, true),
  };
  const u32 = (at: number) => v.getUint32(at, true);
  const u64 = (at: number) => v.getBigUint64(at, true);

  /** A second call with a string buffer of the length the first one reported (NUL included). */
  const withString = (ptrAt: number, lenAt: number, decode: (s: DataView, str: string) => LinkInfo): LinkInfo => {
    const len = u32(lenAt);
    const str = kernelBuffer(len);
    const second = kernelBuffer(LINK_INFO_SIZE);
    const s = new DataView(second.buffer);
    setArray(s, lenAt, ptrAt, len, str);
    // perf_event links need the event type echoed to know which union member is meant.
    if (type === BpfLinkType.PERF_EVENT) s.setUint32(L["perf_event.type"], u32(L["perf_event.type"]), true);
    if (len) getInfo(fd, second, "reading link info");
    return decode(len ? s : v, cName(str));
  };

  switch (type) {
    case BpfLinkType.RAW_TRACEPOINT:
      return withString(L["raw_tracepoint.tp_name"], L["raw_tracepoint.tp_name_len"], (s, tpName) => ({
        ...base,
        kind: "raw_tracepoint",
        tpName,
        cookie: s.getBigUint64(L["raw_tracepoint.cookie"], true),
      }));
    case BpfLinkType.TRACING:
      return {
        ...base,
        kind: "tracing",
        attachType: u32(L["tracing.attach_type"]),
        targetObjId: u32(L["tracing.target_obj_id"]),
        targetBtfId: u32(L["tracing.target_btf_id"]),
        cookie: u64(L["tracing.cookie"]),
      };
    case BpfLinkType.CGROUP:
      return { ...base, kind: "cgroup", cgroupId: u64(L["cgroup.cgroup_id"]), attachType: u32(L["cgroup.attach_type"]) };
    case BpfLinkType.ITER:
      return withString(L["iter.target_name"], L["iter.target_name_len"], (s, targetName) => ({
        ...base,
        kind: "iter",
        targetName,
        mapId: s.getUint32(L["iter.map.map_id"], true),
        ...(targetName === "cgroup"
          ? { cgroupId: s.getBigUint64(L["iter.cgroup.cgroup_id"], true), order: s.getUint32(L["iter.cgroup.order"], true) }
          : {}),
        ...(targetName.startsWith("task")
          ? { tid: s.getUint32(L["iter.task.tid"], true), pid: s.getUint32(L["iter.task.pid"], true) }
          : {}),
      }));
    case BpfLinkType.NETNS:
      return { ...base, kind: "netns", netnsIno: u32(L["netns.netns_ino"]), attachType: u32(L["netns.attach_type"]) };
    case BpfLinkType.XDP:
      return { ...base, kind: "xdp", ifindex: u32(L["xdp.ifindex"]) };
    case BpfLinkType.STRUCT_OPS:
      return { ...base, kind: "struct_ops", mapId: u32(L["struct_ops.map_id"]) };
    case BpfLinkType.NETFILTER:
      return {
        ...base,
        kind: "netfilter",
        pf: u32(L["netfilter.pf"]),
        hooknum: u32(L["netfilter.hooknum"]),
        priority: v.getInt32(L["netfilter.priority"], true),
        flags: u32(L["netfilter.flags"]),
      };
    case BpfLinkType.TCX:
    case BpfLinkType.NETKIT: {
      const at = type === BpfLinkType.TCX ? L["tcx.ifindex"] : L["netkit.ifindex"];
      return { ...base, kind: type === BpfLinkType.TCX ? "tcx" : "netkit", ifindex: u32(at), attachType: u32(at + 4) };
    }
    case BpfLinkType.SOCKMAP:
      return { ...base, kind: "sockmap", mapId: u32(L["sockmap.map_id"]), attachType: u32(L["sockmap.attach_type"]) };
    case BpfLinkType.KPROBE_MULTI:
      return kprobeMulti(fd, base, v);
    case BpfLinkType.UPROBE_MULTI:
      return uprobeMulti(fd, base, v);
    case BpfLinkType.PERF_EVENT:
      return perfEvent(base, v, withString);
    default:
      return { ...base, kind: "unknown" };
  }
}

function perfEvent(
  base: LinkInfoBase,
  v: DataView,
  withString: (ptrAt: number, lenAt: number, decode: (s: DataView, str: string) => LinkInfo) => LinkInfo,
): LinkInfo {
  const eventType = PERF_EVENT_TYPES[v.getUint32(L["perf_event.type"], true)] ?? "unspec";
  switch (eventType) {
    case "uprobe":
    case "uretprobe":
      return withString(L["perf_event.uprobe.file_name"], L["perf_event.uprobe.name_len"], (s, name) => ({
        ...base,
        kind: "perf_event",
        eventType,
        name,
        offset: s.getUint32(L["perf_event.uprobe.offset"], true),
        refCtrOffset: s.getBigUint64(L["perf_event.uprobe.ref_ctr_offset"], true),
        cookie: s.getBigUint64(L["perf_event.uprobe.cookie"], true),
      }));
    case "kprobe":
    case "kretprobe":
      return withString(L["perf_event.kprobe.func_name"], L["perf_event.kprobe.name_len"], (s, name) => ({
        ...base,
        kind: "perf_event",
        eventType,
        name,
        offset: s.getUint32(L["perf_event.kprobe.offset"], true),
        addr: s.getBigUint64(L["perf_event.kprobe.addr"], true),
        missed: s.getBigUint64(L["perf_event.kprobe.missed"], true),
        cookie: s.getBigUint64(L["perf_event.kprobe.cookie"], true),
      }));
    case "tracepoint":
      return withString(L["perf_event.tracepoint.tp_name"], L["perf_event.tracepoint.name_len"], (s, name) => ({
        ...base,
        kind: "perf_event",
        eventType,
        name,
        cookie: s.getBigUint64(L["perf_event.tracepoint.cookie"], true),
      }));
    case "event":
      return {
        ...base,
        kind: "perf_event",
        eventType,
        config: v.getBigUint64(L["perf_event.event.config"], true),
        perfType: v.getUint32(L["perf_event.event.type"], true),
        cookie: v.getBigUint64(L["perf_event.event.cookie"], true),
      };
    default:
      return { ...base, kind: "perf_event", eventType, cookie: 0n };
  }
}

const u64s = (b: Uint8Array, n: number) => Array.from({ length: n }, (_, i) => new DataView(b.buffer).getBigUint64(i * 8, true));

function kprobeMulti(fd: number, base: LinkInfoBase, v: DataView): LinkInfo {
  const count = v.getUint32(L["kprobe_multi.count"], true);
  const addrs = kernelBuffer(count * 8);
  const cookies = kernelBuffer(count * 8);
  let s = v;
  if (count) {
    const second = kernelBuffer(LINK_INFO_SIZE);
    s = new DataView(second.buffer);
    setArray(s, L["kprobe_multi.count"], L["kprobe_multi.addrs"], count, addrs);
    setArray(s, L["kprobe_multi.count"], L["kprobe_multi.cookies"], count, cookies);
    getInfo(fd, second, "reading link info");
  }
  return {
    ...base,
    kind: "kprobe_multi",
    count,
    flags: s.getUint32(L["kprobe_multi.flags"], true),
    missed: s.getBigUint64(L["kprobe_multi.missed"], true),
    addrs: u64s(addrs, count),
    cookies: u64s(cookies, count),
  };
}

function uprobeMulti(fd: number, base: LinkInfoBase, v: DataView): LinkInfo {
  const count = v.getUint32(L["uprobe_multi.count"], true);
  const pathSize = v.getUint32(L["uprobe_multi.path_size"], true);
  const path = kernelBuffer(pathSize);
  const offsets = kernelBuffer(count * 8);
  const refs = kernelBuffer(count * 8);
  const cookies = kernelBuffer(count * 8);
  let s = v;
  if (count || pathSize) {
    const second = kernelBuffer(LINK_INFO_SIZE);
    s = new DataView(second.buffer);
    setArray(s, L["uprobe_multi.path_size"], L["uprobe_multi.path"], pathSize, path);
    setArray(s, L["uprobe_multi.count"], L["uprobe_multi.offsets"], count, offsets);
    setArray(s, L["uprobe_multi.count"], L["uprobe_multi.ref_ctr_offsets"], count, refs);
    setArray(s, L["uprobe_multi.count"], L["uprobe_multi.cookies"], count, cookies);
    getInfo(fd, second, "reading link info");
  }
  return {
    ...base,
    kind: "uprobe_multi",
    path: cName(path),
    count,
    flags: s.getUint32(L["uprobe_multi.flags"], true),
    pid: s.getUint32(L["uprobe_multi.pid"], true),
    offsets: u64s(offsets, count),
    refCtrOffsets: u64s(refs, count),
    cookies: u64s(cookies, count),
  };
}

/** The program a link holds. */
export function linkProgId(fd: number): number {
  return linkInfo(fd).progId;
}
