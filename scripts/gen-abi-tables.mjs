// The explicit tables of scripts/gen-abi.mjs: what BTF does not say. BTF
// describes types, not intent: which member of union bpf_attr serves which
// command, which u64 fields hold user pointers (the UAPI's __aligned_u64
// does not survive into BTF), and the program flags (#defines, which BTF does
// not carry). Also which enums and structs are generated, under which names.

/** Enums as TS enums: C name → [TS name, prefix stripped from member names, with a name table]. */
export const ENUMS = [
  ["bpf_cmd", "BpfCmd", "BPF_", true],
  ["bpf_map_type", "BpfMapType", "BPF_MAP_TYPE_", true],
  ["bpf_prog_type", "BpfProgType", "BPF_PROG_TYPE_", true],
  ["bpf_attach_type", "BpfAttachType", "BPF_", true],
  ["bpf_link_type", "BpfLinkType", "BPF_LINK_TYPE_", true],
  ["perf_type_id", "PerfTypeId", "PERF_TYPE_", false],
  ["perf_sw_ids", "PerfSwId", "PERF_COUNT_SW_", false],
  ["perf_hw_id", "PerfHwId", "PERF_COUNT_HW_", false],
  ["perf_event_sample_format", "PerfSampleFormat", "PERF_SAMPLE_", false],
];

/**
 * union bpf_attr's members carry no command: an anonymous member is found by
 * a field only it has, a named one by its name (the comments of
 * include/uapi/linux/bpf.h say which command reads which).
 */
export const ATTRS = [
  ["MapCreate", { has: "map_type" }, ["MAP_CREATE"]],
  [
    "MapElem",
    { has: "next_key" },
    ["MAP_LOOKUP_ELEM", "MAP_UPDATE_ELEM", "MAP_DELETE_ELEM", "MAP_GET_NEXT_KEY", "MAP_LOOKUP_AND_DELETE_ELEM", "MAP_FREEZE"],
  ],
  ["MapBatch", { named: "batch" }, ["MAP_LOOKUP_BATCH", "MAP_LOOKUP_AND_DELETE_BATCH", "MAP_UPDATE_BATCH", "MAP_DELETE_BATCH"]],
  ["ProgLoad", { has: "insns" }, ["PROG_LOAD"]],
  ["ObjPin", { has: "pathname" }, ["OBJ_PIN", "OBJ_GET"]],
  ["ProgAttach", { has: "attach_bpf_fd" }, ["PROG_ATTACH", "PROG_DETACH"]],
  ["ProgTestRun", { named: "test" }, ["PROG_TEST_RUN"]],
  [
    "GetId",
    { has: "start_id" },
    [
      "PROG_GET_NEXT_ID",
      "MAP_GET_NEXT_ID",
      "BTF_GET_NEXT_ID",
      "LINK_GET_NEXT_ID",
      "PROG_GET_FD_BY_ID",
      "MAP_GET_FD_BY_ID",
      "BTF_GET_FD_BY_ID",
      "LINK_GET_FD_BY_ID",
    ],
  ],
  ["ObjGetInfo", { named: "info" }, ["OBJ_GET_INFO_BY_FD"]],
  ["ProgQuery", { named: "query" }, ["PROG_QUERY"]],
  ["RawTracepointOpen", { named: "raw_tracepoint" }, ["RAW_TRACEPOINT_OPEN"]],
  ["BtfLoad", { has: "btf_log_buf" }, ["BTF_LOAD"]],
  ["TaskFdQuery", { named: "task_fd_query" }, ["TASK_FD_QUERY"]],
  ["LinkCreate", { named: "link_create" }, ["LINK_CREATE"]],
  ["LinkUpdate", { named: "link_update" }, ["LINK_UPDATE"]],
  ["LinkDetach", { named: "link_detach" }, ["LINK_DETACH"]],
  ["EnableStats", { named: "enable_stats" }, ["ENABLE_STATS"]],
  ["IterCreate", { named: "iter_create" }, ["ITER_CREATE"]],
  ["ProgBindMap", { named: "prog_bind_map" }, ["PROG_BIND_MAP"]],
  ["TokenCreate", { named: "token_create" }, ["TOKEN_CREATE"]],
  ["ProgStreamRead", { named: "prog_stream_read" }, ["PROG_STREAM_READ_BY_FD"]],
];

/** Structs laid out whole: C name → TS name. */
export const STRUCTS = [
  ["bpf_prog_info", "BpfProgInfo", "bpf-info"],
  ["bpf_map_info", "BpfMapInfo", "bpf-info"],
  ["bpf_btf_info", "BpfBtfInfo", "bpf-info"],
  ["bpf_link_info", "BpfLinkInfo", "bpf-info"],
  ["perf_event_attr", "PerfEventAttr", "perf-event-attr"],
];

/** u64 fields that hold user addresses (__aligned_u64 in the UAPI, plain u64 in BTF), by struct. */
export const POINTERS = {
  MapCreate: ["excl_prog_hash"],
  MapElem: ["key", "value", "next_key"],
  MapBatch: ["in_batch", "out_batch", "keys", "values"],
  ProgLoad: ["insns", "license", "log_buf", "func_info", "line_info", "fd_array", "core_relos", "signature"],
  ObjPin: ["pathname"],
  ProgTestRun: ["data_in", "data_out", "ctx_in", "ctx_out"],
  ObjGetInfo: ["info"],
  ProgQuery: ["prog_ids", "prog_attach_flags", "link_ids", "link_attach_flags"],
  RawTracepointOpen: ["name"],
  BtfLoad: ["btf", "btf_log_buf"],
  TaskFdQuery: ["buf"],
  LinkCreate: [
    "iter_info",
    "kprobe_multi.syms",
    "kprobe_multi.addrs",
    "kprobe_multi.cookies",
    "uprobe_multi.path",
    "uprobe_multi.offsets",
    "uprobe_multi.ref_ctr_offsets",
    "uprobe_multi.cookies",
  ],
  ProgStreamRead: ["stream_buf"],
  BpfProgInfo: [
    "jited_prog_insns",
    "xlated_prog_insns",
    "map_ids",
    "jited_ksyms",
    "jited_func_lens",
    "func_info",
    "line_info",
    "jited_line_info",
    "prog_tags",
  ],
  BpfMapInfo: ["hash"],
  BpfBtfInfo: ["btf", "name"],
  BpfLinkInfo: [
    "raw_tracepoint.tp_name",
    "iter.target_name",
    "kprobe_multi.addrs",
    "kprobe_multi.cookies",
    "uprobe_multi.path",
    "uprobe_multi.offsets",
    "uprobe_multi.ref_ctr_offsets",
    "uprobe_multi.cookies",
    "perf_event.uprobe.file_name",
    "perf_event.kprobe.func_name",
    "perf_event.tracepoint.tp_name",
  ],
  PerfEventAttr: ["kprobe_func", "uprobe_path"],
};

/** BPF_PROG_LOAD's prog_flags: #defines in include/uapi/linux/bpf.h, so not in BTF. */
export const PROG_FLAGS = [
  ["BPF_F_STRICT_ALIGNMENT", 0],
  ["BPF_F_ANY_ALIGNMENT", 1],
  ["BPF_F_TEST_RND_HI32", 2],
  ["BPF_F_TEST_STATE_FREQ", 3],
  ["BPF_F_SLEEPABLE", 4],
  ["BPF_F_XDP_HAS_FRAGS", 5],
  ["BPF_F_XDP_DEV_BOUND_ONLY", 6],
  ["BPF_F_TEST_REG_INVARIANTS", 7],
];
