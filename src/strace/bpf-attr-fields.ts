/**
 * How strace 6.1 prints each bpf(2) command's attributes: which fields, in
 * which order, nested how, formatted as what, and when; and where its own
 * struct for each command ends. Offsets and sizes are not here: they come
 * from the generated layout of the command's member of union bpf_attr
 * (abi/bpf-attr.ts), looked up by field path.
 */
import { type AttrFieldOf, type AttrOf, BPF_ATTR_LAYOUTS } from "../abi/bpf-attr.js";
import { type AbiField, endOf } from "../abi/layout.js";
import { BPF_F_NUMA_NODE } from "../abi/uapi-flags.js";
import { BpfAttachType, BpfCmd } from "../abi/uapi-enums.js";
import { type AttrLayout, attrField } from "../syscall/bpf-attr.js";

/** How a field prints. */
export type FormatKind =
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

/** A printed field, its place in the attr resolved from the generated layout. */
export interface PrintedField {
  /** The name strace prints (the last part of the path). */
  name: string;
  /** The field's path in the command's attributes ("perf_event.bpf_cookie"). */
  path: string;
  field: AbiField;
  as: FormatKind;
  /**
   * strace prints this field only when the predicate holds (e.g. numa_node
   * with BPF_F_NUMA_NODE, a link_create union member for its attach type).
   * Fields at or past the end of strace's own struct for the command, or past
   * the size passed to bpf(2), are never printed; the printer knows those sizes.
   */
  printIf?: (values: object) => boolean;
  /** The kernel writes this field back and strace shows `old => new` when it changed (next_id, info_len). */
  showUpdate?: boolean;
  /** For str fields: strace reads at most this many bytes (raw_tracepoint.name: 128). */
  maxLen?: number;
  /** strace nests some fields in a struct (`link_create={...}`, `perf_event={...}`). */
  group?: string[];
  /** For pointer fields: the field holding the pointed-to length. */
  lengthField?: AbiField;
}

/** How one field of attributes `A` (field paths `F`) prints. */
interface Annotation<A, F extends string> {
  as: FormatKind;
  printIf?: (values: A) => boolean;
  showUpdate?: boolean;
  maxLen?: number;
  group?: string[];
  lengthField?: F;
}

type Printed<C extends BpfCmd> = ReadonlyArray<readonly [AttrFieldOf<C>, Annotation<AttrOf<C>, AttrFieldOf<C>>]>;

const LINK = ["link_create"];
const INFO = ["info"];
const TEST = ["test"];
const BATCH = ["batch"];

const elemFields = (flags: "elem_flags" | "lookup_flags"): Printed<BpfCmd.MAP_UPDATE_ELEM> => [
  ["map_fd", { as: "fd" }],
  ["key", { as: "ptr" }],
  ["value", { as: "ptr" }],
  ["flags", { as: flags }],
];

const idFields = (first: "start_id" | "prog_id" | "map_id" | "link_id" | "btf_id"): Printed<BpfCmd.PROG_GET_NEXT_ID> => [
  [first, { as: "u32" }],
  // GET_NEXT_ID: the kernel writes next_id back.
  ["next_id", { as: "u32", showUpdate: first === "start_id" }],
  ["open_flags", { as: "file_flags" }],
];

const batchFields = (cmd: BpfCmd): Printed<BpfCmd.MAP_LOOKUP_BATCH> => {
  // strace shows in/out_batch only for the lookups, and no values for DELETE_BATCH.
  const lookup = cmd === BpfCmd.MAP_LOOKUP_BATCH || cmd === BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH;
  return [
    ["in_batch", { as: "ptr", group: BATCH, printIf: () => lookup }],
    ["out_batch", { as: "ptr", group: BATCH, printIf: () => lookup }],
    ["keys", { as: "ptr", group: BATCH }],
    ["values", { as: "ptr", group: BATCH, printIf: () => cmd !== BpfCmd.MAP_DELETE_BATCH }],
    ["count", { as: "u32", group: BATCH, showUpdate: true }],
    ["map_fd", { as: "fd", group: BATCH }],
    ["elem_flags", { as: "lookup_flags", group: BATCH }],
    ["flags", { as: "x64", group: BATCH }],
  ];
};

const pinFields: Printed<BpfCmd.OBJ_PIN> = [
  ["pathname", { as: "path" }],
  ["bpf_fd", { as: "fd" }],
  ["file_flags", { as: "file_flags" }],
];

const attachFields = (detach: boolean): Printed<BpfCmd.PROG_ATTACH> => [
  ["target_fd", { as: "fd" }],
  // strace 6.1 treats this word as padding for PROG_DETACH and never shows it.
  ["attach_bpf_fd", { as: "fd", ...(detach ? { printIf: () => false } : {}) }],
  ["attach_type", { as: "attach_type" }],
  ["attach_flags", { as: "attach_flags" }],
  ["replace_bpf_fd", { as: "fd" }],
];

const linkAttach = (v: AttrOf<BpfCmd.LINK_CREATE>) => Number(v.attach_type ?? 0);

/** The fields strace prints, per command (every command tsbpf issues). */
const PRINTED: { readonly [C in BpfCmd]?: Printed<C> } = {
  [BpfCmd.MAP_CREATE]: [
    ["map_type", { as: "map_type" }],
    ["key_size", { as: "u32" }],
    ["value_size", { as: "u32" }],
    ["max_entries", { as: "u32" }],
    ["map_flags", { as: "map_flags" }],
    ["inner_map_fd", { as: "fd" }],
    ["numa_node", { as: "numa_node", printIf: (v) => (Number(v.map_flags ?? 0) & BPF_F_NUMA_NODE) !== 0 }],
    ["map_name", { as: "name" }],
    ["map_ifindex", { as: "ifindex" }],
    ["btf_fd", { as: "fd" }],
    ["btf_key_type_id", { as: "u32" }],
    ["btf_value_type_id", { as: "u32" }],
    ["btf_vmlinux_value_type_id", { as: "u32" }],
    ["map_extra", { as: "u64" }],
  ],
  [BpfCmd.MAP_LOOKUP_ELEM]: elemFields("lookup_flags"),
  [BpfCmd.MAP_UPDATE_ELEM]: elemFields("elem_flags"),
  [BpfCmd.MAP_DELETE_ELEM]: elemFields("elem_flags"),
  [BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM]: elemFields("lookup_flags"),
  [BpfCmd.MAP_GET_NEXT_KEY]: [
    ["map_fd", { as: "fd" }],
    ["key", { as: "ptr" }],
    ["next_key", { as: "ptr" }],
  ],
  [BpfCmd.MAP_FREEZE]: [["map_fd", { as: "fd" }]],
  [BpfCmd.PROG_LOAD]: [
    ["prog_type", { as: "prog_type" }],
    ["insn_cnt", { as: "u32" }],
    ["insns", { as: "insns", lengthField: "insn_cnt" }],
    ["license", { as: "str" }],
    ["log_level", { as: "u32" }],
    ["log_size", { as: "u32" }],
    ["log_buf", { as: "log_buf", lengthField: "log_size" }],
    ["kern_version", { as: "kern_version" }],
    ["prog_flags", { as: "prog_flags" }],
    ["prog_name", { as: "name" }],
    ["prog_ifindex", { as: "ifindex" }],
    ["expected_attach_type", { as: "attach_type" }],
    ["prog_btf_fd", { as: "fd" }],
    ["func_info_rec_size", { as: "u32" }],
    ["func_info", { as: "ptr" }],
    ["func_info_cnt", { as: "u32" }],
    ["line_info_rec_size", { as: "u32" }],
    ["line_info", { as: "ptr" }],
    ["line_info_cnt", { as: "u32" }],
    ["attach_btf_id", { as: "u32" }],
    ["attach_prog_fd", { as: "fd" }],
    ["fd_array", { as: "ptr" }],
  ],
  [BpfCmd.BTF_LOAD]: [
    ["btf", { as: "btf_blob", lengthField: "btf_size" }],
    ["btf_log_buf", { as: "ptr", lengthField: "btf_log_size" }],
    ["btf_size", { as: "u32" }],
    ["btf_log_size", { as: "u32" }],
    ["btf_log_level", { as: "u32" }],
  ],
  [BpfCmd.LINK_CREATE]: [
    ["prog_fd", { as: "fd", group: LINK }],
    ["target_fd", { as: "s32", group: LINK }],
    ["attach_type", { as: "attach_type", group: LINK }],
    ["flags", { as: "x32", group: LINK }],
    // The union after `flags` depends on the attach type; tsbpf fills the
    // member that applies, strace picks the member by attach type.
    ["perf_event.bpf_cookie", { as: "x64", group: [...LINK, "perf_event"], printIf: (v) => linkAttach(v) === BpfAttachType.PERF_EVENT }],
    [
      "iter_info",
      { as: "iter_info", group: LINK, lengthField: "iter_info_len", printIf: (v) => linkAttach(v) === BpfAttachType.TRACE_ITER },
    ],
    ["iter_info_len", { as: "u32", group: LINK, printIf: (v) => linkAttach(v) === BpfAttachType.TRACE_ITER }],
    ["target_btf_id", { as: "u32", group: LINK, printIf: (v) => linkAttach(v) === 0 && Number(v.target_btf_id ?? 0) !== 0 }],
  ],
  [BpfCmd.LINK_DETACH]: [["link_fd", { as: "fd", group: ["link_detach"] }]],
  [BpfCmd.OBJ_GET_INFO_BY_FD]: [
    ["bpf_fd", { as: "fd", group: INFO }],
    ["info_len", { as: "u32", group: INFO, showUpdate: true }],
    ["info", { as: "obj_info", group: INFO, lengthField: "info_len" }],
  ],
  [BpfCmd.PROG_BIND_MAP]: [
    ["prog_fd", { as: "fd", group: ["prog_bind_map"] }],
    ["map_fd", { as: "fd", group: ["prog_bind_map"] }],
    ["flags", { as: "u32", group: ["prog_bind_map"] }],
  ],
  [BpfCmd.PROG_GET_NEXT_ID]: idFields("start_id"),
  [BpfCmd.MAP_GET_NEXT_ID]: idFields("start_id"),
  [BpfCmd.LINK_GET_NEXT_ID]: idFields("start_id"),
  [BpfCmd.BTF_GET_NEXT_ID]: idFields("start_id"),
  [BpfCmd.PROG_GET_FD_BY_ID]: idFields("prog_id"),
  [BpfCmd.MAP_GET_FD_BY_ID]: idFields("map_id"),
  [BpfCmd.LINK_GET_FD_BY_ID]: idFields("link_id"),
  [BpfCmd.BTF_GET_FD_BY_ID]: idFields("btf_id"),
  [BpfCmd.RAW_TRACEPOINT_OPEN]: [
    ["name", { as: "str", group: ["raw_tracepoint"], maxLen: 128 }],
    ["prog_fd", { as: "fd", group: ["raw_tracepoint"] }],
  ],
  [BpfCmd.PROG_TEST_RUN]: [
    ["prog_fd", { as: "fd", group: TEST }],
    ["retval", { as: "u32", group: TEST }],
    ["data_size_in", { as: "u32", group: TEST }],
    ["data_size_out", { as: "u32", group: TEST }],
    ["data_in", { as: "ptr", group: TEST, lengthField: "data_size_in" }],
    ["data_out", { as: "ptr", group: TEST, lengthField: "data_size_out" }],
    ["repeat", { as: "u32", group: TEST }],
    ["duration", { as: "u32", group: TEST }],
    ["ctx_size_in", { as: "u32", group: TEST }],
    ["ctx_size_out", { as: "u32", group: TEST }],
    ["ctx_in", { as: "ptr", group: TEST, lengthField: "ctx_size_in" }],
    ["ctx_out", { as: "ptr", group: TEST, lengthField: "ctx_size_out" }],
    ["flags", { as: "test_run_flags", group: TEST }],
    ["cpu", { as: "u32", group: TEST }],
    ["batch_size", { as: "u32", group: TEST }],
  ],
  [BpfCmd.OBJ_PIN]: pinFields,
  [BpfCmd.OBJ_GET]: pinFields,
  [BpfCmd.ITER_CREATE]: [
    ["link_fd", { as: "fd", group: ["iter_create"] }],
    ["flags", { as: "u32", group: ["iter_create"] }],
  ],
  [BpfCmd.PROG_ATTACH]: attachFields(false),
  [BpfCmd.PROG_DETACH]: attachFields(true),
  [BpfCmd.MAP_LOOKUP_BATCH]: batchFields(BpfCmd.MAP_LOOKUP_BATCH),
  [BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH]: batchFields(BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH),
  [BpfCmd.MAP_UPDATE_BATCH]: batchFields(BpfCmd.MAP_UPDATE_BATCH),
  [BpfCmd.MAP_DELETE_BATCH]: batchFields(BpfCmd.MAP_DELETE_BATCH),
};

const resolved = new WeakMap<AttrLayout, PrintedField[]>();

/** The fields strace prints for a request's layout, in order (none for commands tsbpf does not issue). */
export function printedFields(layout: AttrLayout): PrintedField[] {
  let list = resolved.get(layout);
  if (!list) {
    type AnyPrinted = ReadonlyArray<readonly [string, Annotation<object, string>]>;
    const printed = (PRINTED as unknown as Partial<Record<BpfCmd, AnyPrinted>>)[layout.cmd] ?? [];
    list = printed.map(([path, a]) => ({
      name: path.slice(path.lastIndexOf(".") + 1),
      path,
      field: attrField(layout.struct, path),
      as: a.as,
      ...(a.printIf ? { printIf: a.printIf } : {}),
      ...(a.showUpdate ? { showUpdate: true } : {}),
      ...(a.maxLen !== undefined ? { maxLen: a.maxLen } : {}),
      ...(a.group ? { group: a.group } : {}),
      ...(a.lengthField ? { lengthField: attrField(layout.struct, a.lengthField) } : {}),
    }));
    resolved.set(layout, list);
  }
  return list;
}

/** strace 6.1's view of one bpf command: where its struct ends, or undecoded (printed as a pointer). */
interface CmdProfile<F extends string> {
  /** The last field of strace 6.1's struct for the command; fields past it are not shown. */
  last: F;
  /** The last field decode_attr_extra_data skips, when the decoder moves it (LINK_CREATE's union). */
  extraFrom?: (attr: Uint8Array) => F;
  /** The decoder runs on exit too (fields with showUpdate, OBJ_GET_INFO_BY_FD's info). */
  exit?: "inline" | "batch";
}

const linkCreate = BPF_ATTR_LAYOUTS[BpfCmd.LINK_CREATE];

/** The commands strace 6.1 decodes (bpf_cmd_decoders[] in src/bpf.c), with where bpf_attr.h's struct for each ends. */
const STRACE61: { readonly [C in BpfCmd]?: CmdProfile<AttrFieldOf<C>> } = {
  [BpfCmd.MAP_CREATE]: { last: "map_extra" },
  [BpfCmd.MAP_LOOKUP_ELEM]: { last: "flags" },
  [BpfCmd.MAP_UPDATE_ELEM]: { last: "flags" },
  [BpfCmd.MAP_DELETE_ELEM]: { last: "key" },
  [BpfCmd.MAP_GET_NEXT_KEY]: { last: "next_key" },
  [BpfCmd.PROG_LOAD]: { last: "fd_array" },
  [BpfCmd.OBJ_PIN]: { last: "file_flags" },
  [BpfCmd.OBJ_GET]: { last: "file_flags" },
  [BpfCmd.PROG_ATTACH]: { last: "replace_bpf_fd" },
  [BpfCmd.PROG_DETACH]: { last: "attach_type" },
  [BpfCmd.PROG_TEST_RUN]: { last: "batch_size" },
  [BpfCmd.PROG_GET_NEXT_ID]: { last: "open_flags", exit: "inline" },
  [BpfCmd.MAP_GET_NEXT_ID]: { last: "open_flags", exit: "inline" },
  [BpfCmd.PROG_GET_FD_BY_ID]: { last: "open_flags" },
  [BpfCmd.MAP_GET_FD_BY_ID]: { last: "open_flags" },
  [BpfCmd.OBJ_GET_INFO_BY_FD]: { last: "info", exit: "inline" },
  [BpfCmd.PROG_QUERY]: { last: "prog_cnt" },
  [BpfCmd.RAW_TRACEPOINT_OPEN]: { last: "prog_fd" },
  [BpfCmd.BTF_LOAD]: { last: "btf_log_level" },
  [BpfCmd.BTF_GET_FD_BY_ID]: { last: "btf_id" },
  [BpfCmd.TASK_FD_QUERY]: { last: "probe_addr" },
  [BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM]: { last: "flags" },
  [BpfCmd.MAP_FREEZE]: { last: "map_fd" },
  [BpfCmd.BTF_GET_NEXT_ID]: { last: "open_flags", exit: "inline" },
  [BpfCmd.MAP_LOOKUP_BATCH]: { last: "flags", exit: "batch" },
  [BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH]: { last: "flags", exit: "batch" },
  [BpfCmd.MAP_UPDATE_BATCH]: { last: "flags", exit: "batch" },
  [BpfCmd.MAP_DELETE_BATCH]: { last: "flags", exit: "batch" },
  [BpfCmd.LINK_CREATE]: {
    last: "kprobe_multi.cookies",
    // The union member strace decodes decides where its struct ends.
    extraFrom: (a) => {
      switch (new DataView(a.buffer, a.byteOffset, a.byteLength).getUint32(linkCreate.fields.attach_type.offset, true)) {
        case 0:
          return "target_btf_id";
        case BpfAttachType.TRACE_ITER:
          return "iter_info_len";
        case BpfAttachType.PERF_EVENT:
          return "perf_event.bpf_cookie";
        case BpfAttachType.TRACE_KPROBE_MULTI:
          return "kprobe_multi.cookies";
        default:
          return "flags";
      }
    },
  },
  [BpfCmd.LINK_UPDATE]: { last: "old_prog_fd" },
  [BpfCmd.LINK_GET_FD_BY_ID]: { last: "link_id" },
  [BpfCmd.LINK_GET_NEXT_ID]: { last: "open_flags", exit: "inline" },
};

/** A command's profile with field names resolved to byte offsets. */
export interface Profile {
  structSize: number;
  extraFrom?: (attr: Uint8Array) => number;
  exit?: "inline" | "batch";
}

export function profileOf(layout: AttrLayout): Profile | undefined {
  const p = (STRACE61 as Partial<Record<BpfCmd, CmdProfile<string>>>)[layout.cmd];
  if (!p) return undefined;
  const end = (path: string) => endOf(attrField(layout.struct, path));
  const extraFrom = p.extraFrom;
  return {
    structSize: end(p.last),
    ...(extraFrom ? { extraFrom: (a: Uint8Array) => end(extraFrom(a)) } : {}),
    ...(p.exit ? { exit: p.exit } : {}),
  };
}
