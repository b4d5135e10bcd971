/**
 * `union bpf_attr`, described once, declaratively: for each bpf(2) command the
 * fields tsbpf sends, at their UAPI offsets (include/uapi/linux/bpf.h). The
 * encoder below and the strace-style printer both read these tables, so the
 * layout is never written twice. A test checks the offsets against the
 * kernel's own BTF for `union bpf_attr`.
 *
 * `size` is what tsbpf passes as bpf(2)'s third argument. It matches libbpf's
 * (offsetofend of the last field libbpf fills), because strace decodes only
 * the fields that fit in that size, and traces are meant to be diffed.
 */
import { BpfAttachType, BpfCmd } from "../abi/uapi-enums.js";

/** How a field is stored and how strace shows it. */
export type FieldKind =
  | "u32"
  | "s32" // printed signed (target_fd=-1)
  | "u64" // printed unsigned (UINT64_MAX by name)
  | "x32" // u32 printed in hex (link_create.flags)
  | "x64" // u64 printed in hex (perf_event.bpf_cookie, batch.flags)
  | "fd" // u32 fd, printed as a number
  | "ifindex" // u32 network interface index: `if_nametoindex("lo")` when the interface exists
  | "numa_node" // u32, NUMA_NO_NODE by name
  | "ptr" // user pointer: address of a buffer, printed as 0x... or NULL
  | "str" // pointer to a NUL-terminated string, printed quoted
  | "path" // pointer to a path (like str, but strace does not cut it at -s)
  | "log_buf" // pointer to a log buffer of `lengthField` bytes, printed as a string (strace reads it on entry)
  | "insns" // pointer to `lengthField` struct bpf_insn; strace -v decodes them, plain strace prints the pointer
  | "obj_info" // pointer to struct bpf_{prog,map}_info; strace -v decodes it on exit
  | "iter_info" // pointer to union bpf_iter_link_info; strace -v prints it as an array
  | "name" // char[16] inline (BPF_OBJ_NAME_LEN)
  | "map_type"
  | "prog_type"
  | "attach_type"
  | "map_flags"
  | "prog_flags"
  | "elem_flags" // update flags: BPF_ANY / BPF_NOEXIST / BPF_EXIST / BPF_F_LOCK, as one value
  | "lookup_flags" // lookup flags: BPF_ANY, BPF_F_LOCK, as flags
  | "file_flags" // BPF_F_RDONLY / BPF_F_WRONLY (open_flags, file_flags)
  | "attach_flags" // BPF_F_ALLOW_OVERRIDE / BPF_F_ALLOW_MULTI / BPF_F_REPLACE
  | "test_run_flags" // BPF_F_TEST_RUN_ON_CPU / BPF_F_TEST_XDP_LIVE_FRAMES
  | "kern_version" // KERNEL_VERSION(a, b, c)
  | "btf_blob"; // pointer to BTF bytes, printed as a quoted string

const POINTER_KINDS: ReadonlySet<FieldKind> = new Set<FieldKind>([
  "ptr",
  "str",
  "path",
  "log_buf",
  "insns",
  "obj_info",
  "iter_info",
  "btf_blob",
]);

/** Whether a field of this kind holds a user pointer (encoded from a Uint8Array or a bigint address). */
export function isPointerKind(kind: FieldKind): boolean {
  return POINTER_KINDS.has(kind);
}

export interface AttrField {
  name: string;
  offset: number;
  size: 4 | 8 | 16;
  kind: FieldKind;
  /**
   * strace prints this field only when the predicate holds (e.g. numa_node
   * with BPF_F_NUMA_NODE, a link_create union member for its attach type).
   * Fields at or past the end of strace's own struct for the command, or past
   * the size passed to bpf(2), are never printed; the printer knows those sizes.
   */
  printIf?: (values: AttrValues) => boolean;
  /** The kernel writes this field back and strace shows `old => new` when it changed (next_id, info_len). */
  showUpdate?: boolean;
  /** For str fields: strace reads at most this many bytes (raw_tracepoint.name: 128). */
  maxLen?: number;
  /** strace nests some fields in a struct (`link_create={...}`, `perf_event={...}`). */
  group?: string[];
  /** For ptr fields: the field holding the pointed-to length, used by tracer and fake kernel. */
  lengthField?: string;
}

export interface AttrLayout {
  cmd: BpfCmd;
  size: number;
  fields: AttrField[];
}

/** A value for a field: numbers, a bigint (u64), a buffer (ptr/str/btf_blob fields), a string (name/str), or null. */
export type AttrValue = number | bigint | string | Uint8Array | null | undefined;
export type AttrValues = Record<string, AttrValue>;

const f = (name: string, offset: number, kind: FieldKind, extra: Partial<AttrField> = {}): AttrField => ({
  name,
  offset,
  size:
    kind === "u64" || kind === "x64" || kind === "elem_flags" || kind === "lookup_flags" || isPointerKind(kind)
      ? 8
      : kind === "name"
        ? 16
        : 4,
  kind,
  ...extra,
});

const BPF_F_NUMA_NODE = 1 << 2;

const MAP_CREATE: AttrLayout = {
  cmd: BpfCmd.MAP_CREATE,
  size: 72,
  fields: [
    f("map_type", 0, "map_type"),
    f("key_size", 4, "u32"),
    f("value_size", 8, "u32"),
    f("max_entries", 12, "u32"),
    f("map_flags", 16, "map_flags"),
    f("inner_map_fd", 20, "fd"),
    f("numa_node", 24, "numa_node", { printIf: (v) => (Number(v.map_flags ?? 0) & BPF_F_NUMA_NODE) !== 0 }),
    f("map_name", 28, "name"),
    f("map_ifindex", 44, "ifindex"),
    f("btf_fd", 48, "fd"),
    f("btf_key_type_id", 52, "u32"),
    f("btf_value_type_id", 56, "u32"),
    f("btf_vmlinux_value_type_id", 60, "u32"),
    f("map_extra", 64, "u64"),
  ],
};

const elemFields = (third: "value" | "next_key", flags: "elem_flags" | "lookup_flags" = "elem_flags"): AttrField[] => [
  f("map_fd", 0, "fd"),
  f("key", 8, "ptr"),
  f(third, 16, "ptr"),
  f("flags", 24, flags),
];

const PROG_LOAD: AttrLayout = {
  cmd: BpfCmd.PROG_LOAD,
  size: 128,
  fields: [
    f("prog_type", 0, "prog_type"),
    f("insn_cnt", 4, "u32"),
    f("insns", 8, "insns", { lengthField: "insn_cnt" }),
    f("license", 16, "str"),
    f("log_level", 24, "u32"),
    f("log_size", 28, "u32"),
    f("log_buf", 32, "log_buf", { lengthField: "log_size" }),
    f("kern_version", 40, "kern_version"),
    f("prog_flags", 44, "prog_flags"),
    f("prog_name", 48, "name"),
    f("prog_ifindex", 64, "ifindex"),
    f("expected_attach_type", 68, "attach_type"),
    f("prog_btf_fd", 72, "fd"),
    f("func_info_rec_size", 76, "u32"),
    f("func_info", 80, "ptr"),
    f("func_info_cnt", 88, "u32"),
    f("line_info_rec_size", 92, "u32"),
    f("line_info", 96, "ptr"),
    f("line_info_cnt", 104, "u32"),
    f("attach_btf_id", 108, "u32"),
    f("attach_prog_fd", 112, "fd"),
    f("fd_array", 120, "ptr"),
  ],
};

const BTF_LOAD: AttrLayout = {
  cmd: BpfCmd.BTF_LOAD,
  size: 28,
  fields: [
    f("btf", 0, "btf_blob", { lengthField: "btf_size" }),
    f("btf_log_buf", 8, "ptr", { lengthField: "btf_log_size" }),
    f("btf_size", 16, "u32"),
    f("btf_log_size", 20, "u32"),
    f("btf_log_level", 24, "u32"),
  ],
};

const LINK = ["link_create"];
const linkAttach = (v: AttrValues) => Number(v.attach_type ?? 0);
const LINK_CREATE: AttrLayout = {
  cmd: BpfCmd.LINK_CREATE,
  size: 48,
  fields: [
    f("prog_fd", 0, "fd", { group: LINK }),
    f("target_fd", 4, "s32", { group: LINK }),
    f("attach_type", 8, "attach_type", { group: LINK }),
    f("flags", 12, "x32", { group: LINK }),
    // The union after `flags` depends on the attach type; tsbpf fills the
    // member that applies. perf_event.bpf_cookie shares offset 16 with
    // target_btf_id and iter_info. strace picks the member by attach type.
    f("bpf_cookie", 16, "x64", { group: [...LINK, "perf_event"], printIf: (v) => linkAttach(v) === BpfAttachType.PERF_EVENT }),
    f("iter_info", 16, "iter_info", {
      group: LINK,
      lengthField: "iter_info_len",
      printIf: (v) => linkAttach(v) === BpfAttachType.TRACE_ITER,
    }),
    f("iter_info_len", 24, "u32", { group: LINK, printIf: (v) => linkAttach(v) === BpfAttachType.TRACE_ITER }),
    f("target_btf_id", 16, "u32", { group: LINK, printIf: (v) => linkAttach(v) === 0 && Number(v.target_btf_id ?? 0) !== 0 }),
  ],
};

/**
 * LINK_CREATE of a uprobe_multi link (Linux 6.6+): its union member ends
 * past the 48 bytes of the common layout, so it has a layout of its own.
 * link_create.flags (offset 12) is left out: always 0 here, and its name is
 * taken by uprobe_multi.flags. strace 6.1 knows no uprobe_multi member and
 * shows those bytes as extra_data, so the printer does too.
 */
export const LINK_CREATE_UPROBE_MULTI: AttrLayout = {
  cmd: BpfCmd.LINK_CREATE,
  size: 64,
  fields: [
    ...LINK_CREATE.fields.filter((x) => x.offset < 12),
    ...(
      [
        ["path", 16, "path"],
        ["offsets", 24, "ptr"],
        ["ref_ctr_offsets", 32, "ptr"],
        ["cookies", 40, "ptr"],
        ["cnt", 48, "u32"],
        ["flags", 52, "x32"],
        ["pid", 56, "s32"],
      ] as const
    ).map(([name, offset, kind]) => f(name, offset, kind, { group: [...LINK, "uprobe_multi"], printIf: () => false })),
  ],
};

const simple = (cmd: BpfCmd, size: number, fields: AttrField[]): AttrLayout => ({ cmd, size, fields });

const INFO = ["info"];

/** Every command tsbpf issues, keyed by command. */
export const ATTR_LAYOUTS: ReadonlyMap<BpfCmd, AttrLayout> = new Map<BpfCmd, AttrLayout>([
  [BpfCmd.MAP_CREATE, MAP_CREATE],
  [BpfCmd.MAP_LOOKUP_ELEM, simple(BpfCmd.MAP_LOOKUP_ELEM, 32, elemFields("value", "lookup_flags"))],
  [BpfCmd.MAP_UPDATE_ELEM, simple(BpfCmd.MAP_UPDATE_ELEM, 32, elemFields("value"))],
  [BpfCmd.MAP_DELETE_ELEM, simple(BpfCmd.MAP_DELETE_ELEM, 32, elemFields("value"))],
  [BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, simple(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, 32, elemFields("value", "lookup_flags"))],
  [BpfCmd.MAP_GET_NEXT_KEY, simple(BpfCmd.MAP_GET_NEXT_KEY, 24, elemFields("next_key").slice(0, 3))],
  [BpfCmd.MAP_FREEZE, simple(BpfCmd.MAP_FREEZE, 4, [f("map_fd", 0, "fd")])],
  [BpfCmd.PROG_LOAD, PROG_LOAD],
  [BpfCmd.BTF_LOAD, BTF_LOAD],
  [BpfCmd.LINK_CREATE, LINK_CREATE],
  [BpfCmd.LINK_DETACH, simple(BpfCmd.LINK_DETACH, 4, [f("link_fd", 0, "fd", { group: ["link_detach"] })])],
  [
    BpfCmd.OBJ_GET_INFO_BY_FD,
    simple(BpfCmd.OBJ_GET_INFO_BY_FD, 16, [
      f("bpf_fd", 0, "fd", { group: INFO }),
      f("info_len", 4, "u32", { group: INFO, showUpdate: true }),
      f("info", 8, "obj_info", { group: INFO, lengthField: "info_len" }),
    ]),
  ],
  [
    BpfCmd.PROG_BIND_MAP,
    simple(BpfCmd.PROG_BIND_MAP, 12, [
      f("prog_fd", 0, "fd", { group: ["prog_bind_map"] }),
      f("map_fd", 4, "fd", { group: ["prog_bind_map"] }),
      f("flags", 8, "u32", { group: ["prog_bind_map"] }),
    ]),
  ],
  ...(
    [
      [BpfCmd.PROG_GET_NEXT_ID, "start_id"],
      [BpfCmd.MAP_GET_NEXT_ID, "start_id"],
      [BpfCmd.LINK_GET_NEXT_ID, "start_id"],
      [BpfCmd.BTF_GET_NEXT_ID, "start_id"],
      [BpfCmd.PROG_GET_FD_BY_ID, "prog_id"],
      [BpfCmd.MAP_GET_FD_BY_ID, "map_id"],
      [BpfCmd.LINK_GET_FD_BY_ID, "link_id"],
      [BpfCmd.BTF_GET_FD_BY_ID, "btf_id"],
    ] as const
  ).map(([cmd, first]): [BpfCmd, AttrLayout] => [
    cmd,
    simple(cmd, 12, [
      f(first, 0, "u32"),
      // GET_NEXT_ID: the kernel writes next_id back.
      f("next_id", 4, "u32", { showUpdate: first === "start_id" }),
      f("open_flags", 8, "file_flags"),
    ]),
  ]),
  [
    BpfCmd.RAW_TRACEPOINT_OPEN,
    simple(BpfCmd.RAW_TRACEPOINT_OPEN, 16, [
      f("name", 0, "str", { group: ["raw_tracepoint"], maxLen: 128 }),
      f("prog_fd", 8, "fd", { group: ["raw_tracepoint"] }),
    ]),
  ],
  [
    BpfCmd.PROG_TEST_RUN,
    simple(BpfCmd.PROG_TEST_RUN, 80, [
      f("prog_fd", 0, "fd", { group: ["test"] }),
      f("retval", 4, "u32", { group: ["test"] }),
      f("data_size_in", 8, "u32", { group: ["test"] }),
      f("data_size_out", 12, "u32", { group: ["test"] }),
      f("data_in", 16, "ptr", { group: ["test"], lengthField: "data_size_in" }),
      f("data_out", 24, "ptr", { group: ["test"], lengthField: "data_size_out" }),
      f("repeat", 32, "u32", { group: ["test"] }),
      f("duration", 36, "u32", { group: ["test"] }),
      f("ctx_size_in", 40, "u32", { group: ["test"] }),
      f("ctx_size_out", 44, "u32", { group: ["test"] }),
      f("ctx_in", 48, "ptr", { group: ["test"], lengthField: "ctx_size_in" }),
      f("ctx_out", 56, "ptr", { group: ["test"], lengthField: "ctx_size_out" }),
      f("flags", 64, "test_run_flags", { group: ["test"] }),
      f("cpu", 68, "u32", { group: ["test"] }),
      f("batch_size", 72, "u32", { group: ["test"] }),
    ]),
  ],
  [BpfCmd.OBJ_PIN, simple(BpfCmd.OBJ_PIN, 16, [f("pathname", 0, "path"), f("bpf_fd", 8, "fd"), f("file_flags", 12, "file_flags")])],
  [BpfCmd.OBJ_GET, simple(BpfCmd.OBJ_GET, 16, [f("pathname", 0, "path"), f("bpf_fd", 8, "fd"), f("file_flags", 12, "file_flags")])],
  [
    BpfCmd.ITER_CREATE,
    simple(BpfCmd.ITER_CREATE, 8, [f("link_fd", 0, "fd", { group: ["iter_create"] }), f("flags", 4, "u32", { group: ["iter_create"] })]),
  ],
  [
    BpfCmd.PROG_ATTACH,
    simple(BpfCmd.PROG_ATTACH, 20, [
      f("target_fd", 0, "fd"),
      f("attach_bpf_fd", 4, "fd"),
      f("attach_type", 8, "attach_type"),
      f("attach_flags", 12, "attach_flags"),
      f("replace_bpf_fd", 16, "fd"),
    ]),
  ],
  [
    BpfCmd.PROG_DETACH,
    simple(BpfCmd.PROG_DETACH, 20, [
      f("target_fd", 0, "fd"),
      // strace 6.1 treats this word as padding for PROG_DETACH and never shows it.
      f("attach_bpf_fd", 4, "fd", { printIf: () => false }),
      f("attach_type", 8, "attach_type"),
      f("attach_flags", 12, "attach_flags"),
      f("replace_bpf_fd", 16, "fd"),
    ]),
  ],
  ...[BpfCmd.MAP_LOOKUP_BATCH, BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH, BpfCmd.MAP_UPDATE_BATCH, BpfCmd.MAP_DELETE_BATCH].map(
    (cmd): [BpfCmd, AttrLayout] => {
      // strace shows in/out_batch only for the lookups, and no values for DELETE_BATCH.
      const lookup = cmd === BpfCmd.MAP_LOOKUP_BATCH || cmd === BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH;
      return [
        cmd,
        simple(cmd, 56, [
          f("in_batch", 0, "ptr", { group: ["batch"], printIf: () => lookup }),
          f("out_batch", 8, "ptr", { group: ["batch"], printIf: () => lookup }),
          f("keys", 16, "ptr", { group: ["batch"] }),
          f("values", 24, "ptr", { group: ["batch"], printIf: () => cmd !== BpfCmd.MAP_DELETE_BATCH }),
          f("count", 32, "u32", { group: ["batch"], showUpdate: true }),
          f("map_fd", 36, "fd", { group: ["batch"] }),
          f("elem_flags", 40, "lookup_flags", { group: ["batch"] }),
          f("flags", 48, "x64", { group: ["batch"] }),
        ]),
      ];
    },
  ),
]);

export function attrLayout(cmd: BpfCmd): AttrLayout {
  const layout = ATTR_LAYOUTS.get(cmd);
  if (!layout) throw new Error(`no bpf_attr layout for command ${cmd}`);
  return layout;
}

/**
 * Encodes `values` into a zeroed attr buffer. Pointer-valued fields take a
 * Uint8Array (its address is written, via `addressOf`) or null. Fields not
 * given stay zero, which the kernel requires of every unused byte.
 */
export function encodeAttr(layout: AttrLayout, values: AttrValues, addressOf: (buf: Uint8Array) => bigint): Uint8Array {
  const buf = new Uint8Array(layout.size);
  const view = new DataView(buf.buffer);
  for (const field of layout.fields) {
    const value = values[field.name];
    if (value === undefined || value === null) continue;
    switch (field.kind) {
      case "name": {
        if (typeof value !== "string") throw new TypeError(`${field.name} must be a string`);
        // BPF_OBJ_NAME_LEN is 16 including the NUL; the kernel rejects longer.
        buf.set(new TextEncoder().encode(value).subarray(0, 15), field.offset);
        break;
      }
      case "ptr":
      case "str":
      case "path":
      case "log_buf":
      case "insns":
      case "obj_info":
      case "iter_info":
      case "btf_blob": {
        if (typeof value === "bigint") view.setBigUint64(field.offset, value, true);
        else if (value instanceof Uint8Array) view.setBigUint64(field.offset, value.byteLength ? addressOf(value) : 0n, true);
        else throw new TypeError(`${field.name} must be a buffer`);
        break;
      }
      case "u64":
      case "x64":
        view.setBigUint64(field.offset, BigInt(value as number | bigint), true);
        break;
      default:
        if (field.size === 8) view.setBigUint64(field.offset, BigInt(value as number | bigint), true);
        else view.setUint32(field.offset, Number(value) >>> 0, true);
    }
  }
  return buf;
}

/** Reads a u32 field back from an attr buffer (for fields the kernel writes: next_id, retval, ...). */
export function readAttrU32(layout: AttrLayout, attr: Uint8Array, name: string): number {
  const field = layout.fields.find((x) => x.name === name);
  if (!field) throw new Error(`no field ${name} in layout of command ${layout.cmd}`);
  return new DataView(attr.buffer, attr.byteOffset, attr.byteLength).getUint32(field.offset, true);
}
