/**
 * `union bpf_attr` as tsbpf sends it: the generated layout of each command's
 * attributes (abi/bpf-attr.ts) and how many bytes of it go to the kernel.
 *
 * That size is bpf(2)'s third argument. It is libbpf's (offsetofend of the
 * last field libbpf fills), because strace decodes only the fields that fit
 * in it, and traces are meant to be diffed; the kernel requires every byte
 * past its own fields to be zero, so a larger size than needed only costs.
 */
import { type AttrFieldOf, BPF_ATTR_LAYOUTS } from "../abi/bpf-attr.js";
import { type AbiField, type AbiStruct, encodeStruct, endOf } from "../abi/layout.js";
import { BpfCmd } from "../abi/uapi-enums.js";

export interface AttrLayout {
  cmd: BpfCmd;
  /** Bytes passed to bpf(2). */
  size: number;
  /** The command's member of union bpf_attr. */
  struct: AbiStruct;
}

/** Command → the last field tsbpf sends; `pad` rounds up to 8 as libbpf's sizeof does. Others send their whole member. */
const SENT_THROUGH: { readonly [C in BpfCmd]?: { last: AttrFieldOf<C>; pad?: true } } = {
  [BpfCmd.MAP_CREATE]: { last: "map_extra" },
  [BpfCmd.MAP_LOOKUP_ELEM]: { last: "flags" },
  [BpfCmd.MAP_UPDATE_ELEM]: { last: "flags" },
  [BpfCmd.MAP_DELETE_ELEM]: { last: "flags" },
  [BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM]: { last: "flags" },
  [BpfCmd.MAP_GET_NEXT_KEY]: { last: "next_key" },
  [BpfCmd.MAP_FREEZE]: { last: "map_fd" },
  [BpfCmd.MAP_LOOKUP_BATCH]: { last: "flags" },
  [BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH]: { last: "flags" },
  [BpfCmd.MAP_UPDATE_BATCH]: { last: "flags" },
  [BpfCmd.MAP_DELETE_BATCH]: { last: "flags" },
  [BpfCmd.PROG_LOAD]: { last: "fd_array" },
  [BpfCmd.OBJ_PIN]: { last: "file_flags" },
  [BpfCmd.OBJ_GET]: { last: "file_flags" },
  [BpfCmd.PROG_ATTACH]: { last: "replace_bpf_fd" },
  [BpfCmd.PROG_DETACH]: { last: "replace_bpf_fd" },
  [BpfCmd.PROG_TEST_RUN]: { last: "batch_size", pad: true },
  [BpfCmd.PROG_GET_NEXT_ID]: { last: "open_flags" },
  [BpfCmd.MAP_GET_NEXT_ID]: { last: "open_flags" },
  [BpfCmd.LINK_GET_NEXT_ID]: { last: "open_flags" },
  [BpfCmd.BTF_GET_NEXT_ID]: { last: "open_flags" },
  [BpfCmd.PROG_GET_FD_BY_ID]: { last: "open_flags" },
  [BpfCmd.MAP_GET_FD_BY_ID]: { last: "open_flags" },
  [BpfCmd.LINK_GET_FD_BY_ID]: { last: "open_flags" },
  [BpfCmd.BTF_GET_FD_BY_ID]: { last: "open_flags" },
  [BpfCmd.OBJ_GET_INFO_BY_FD]: { last: "info" },
  [BpfCmd.RAW_TRACEPOINT_OPEN]: { last: "prog_fd", pad: true },
  [BpfCmd.BTF_LOAD]: { last: "btf_log_level" },
  // The largest union member libbpf fills (kprobe_multi), whatever the attach type.
  [BpfCmd.LINK_CREATE]: { last: "kprobe_multi.cookies" },
  [BpfCmd.LINK_DETACH]: { last: "link_fd" },
  [BpfCmd.ITER_CREATE]: { last: "flags" },
  [BpfCmd.PROG_BIND_MAP]: { last: "flags" },
};

/** A field of a layout by path; throws for a path the kernel's struct does not have. */
export function attrField(struct: AbiStruct, path: string): AbiField {
  const field = (struct.fields as Record<string, AbiField | undefined>)[path];
  if (!field) throw new Error(`${struct.name} has no field ${path}`);
  return field;
}

const layouts = new Map<BpfCmd, AttrLayout>();

export function attrLayout(cmd: BpfCmd): AttrLayout {
  let layout = layouts.get(cmd);
  if (!layout) {
    const struct = (BPF_ATTR_LAYOUTS as Partial<Record<BpfCmd, AbiStruct>>)[cmd];
    if (!struct) throw new Error(`no bpf_attr layout for command ${cmd}`);
    const through = (SENT_THROUGH as Partial<Record<BpfCmd, { last: string; pad?: true }>>)[cmd];
    const end = through ? endOf(attrField(struct, through.last)) : struct.size;
    layout = { cmd, size: through?.pad ? (end + 7) & ~7 : end, struct };
    layouts.set(cmd, layout);
  }
  return layout;
}

/**
 * LINK_CREATE of a uprobe_multi link (Linux 6.6+): its union member ends past
 * kprobe_multi's, so more of the attr is sent. strace 6.1 knows no
 * uprobe_multi member and shows the bytes past the common ones as extra_data.
 */
export function linkCreateUprobeMultiLayout(): AttrLayout {
  const common = attrLayout(BpfCmd.LINK_CREATE);
  return { ...common, size: endOf(attrField(common.struct, "uprobe_multi.pid")) };
}

/**
 * Encodes `values` into a zeroed attr of `layout.size` bytes. Pointer fields
 * take a Uint8Array (its address is written, via `addressOf`), a bigint
 * address, or null. Fields not given stay zero.
 */
export function encodeAttr(layout: AttrLayout, values: object, addressOf: (buf: Uint8Array) => bigint): Uint8Array {
  return encodeStruct(layout.struct, values, addressOf, layout.size);
}
