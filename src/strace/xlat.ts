/**
 * strace 6.1's value → name tables ("xlat", src/xlat/*.in at tag v6.1), for
 * the syscalls tsbpf makes, and its two ways of printing them:
 * `printxval` (one value: `BPF_MAP_TYPE_HASH`, or `0x24 /* BPF_MAP_TYPE_??? *\/`)
 * and `printflags` (bits: `BPF_F_RDONLY_PROG|BPF_F_MMAPABLE|0x10000`).
 *
 * These are strace's tables, not the kernel's: a map type, program type or
 * attach type newer than strace 6.1 prints as a number with a `???` comment,
 * exactly as strace 6.1 prints it, although uapi-enums.ts knows its name.
 * Order matters for flags (strace prints them in table order), so each table
 * keeps the order of its .in file. Values are those of x86-64 and arm64.
 */

import { MAP_FLAG_NAMES, PROG_FLAG_NAMES } from "../abi/uapi-flags.js";

export type Xlat = ReadonlyArray<readonly [bigint, string]>;

const seq = (names: string[]): Xlat => names.map((n, i) => [BigInt(i), n] as const);
const bits = (entries: Array<[number, string]>): Xlat => entries.map(([b, n]) => [1n << BigInt(b), n] as const);
const vals = (entries: Array<[number | bigint, string]>): Xlat => entries.map(([v, n]) => [BigInt(v), n] as const);

export const BPF_COMMANDS = seq([
  "BPF_MAP_CREATE",
  "BPF_MAP_LOOKUP_ELEM",
  "BPF_MAP_UPDATE_ELEM",
  "BPF_MAP_DELETE_ELEM",
  "BPF_MAP_GET_NEXT_KEY",
  "BPF_PROG_LOAD",
  "BPF_OBJ_PIN",
  "BPF_OBJ_GET",
  "BPF_PROG_ATTACH",
  "BPF_PROG_DETACH",
  "BPF_PROG_TEST_RUN",
  "BPF_PROG_GET_NEXT_ID",
  "BPF_MAP_GET_NEXT_ID",
  "BPF_PROG_GET_FD_BY_ID",
  "BPF_MAP_GET_FD_BY_ID",
  "BPF_OBJ_GET_INFO_BY_FD",
  "BPF_PROG_QUERY",
  "BPF_RAW_TRACEPOINT_OPEN",
  "BPF_BTF_LOAD",
  "BPF_BTF_GET_FD_BY_ID",
  "BPF_TASK_FD_QUERY",
  "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
  "BPF_MAP_FREEZE",
  "BPF_BTF_GET_NEXT_ID",
  "BPF_MAP_LOOKUP_BATCH",
  "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
  "BPF_MAP_UPDATE_BATCH",
  "BPF_MAP_DELETE_BATCH",
  "BPF_LINK_CREATE",
  "BPF_LINK_UPDATE",
  "BPF_LINK_GET_FD_BY_ID",
  "BPF_LINK_GET_NEXT_ID",
  "BPF_ENABLE_STATS",
  "BPF_ITER_CREATE",
  "BPF_LINK_DETACH",
  "BPF_PROG_BIND_MAP",
]);

export const BPF_MAP_TYPES = seq([
  "BPF_MAP_TYPE_UNSPEC",
  "BPF_MAP_TYPE_HASH",
  "BPF_MAP_TYPE_ARRAY",
  "BPF_MAP_TYPE_PROG_ARRAY",
  "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
  "BPF_MAP_TYPE_PERCPU_HASH",
  "BPF_MAP_TYPE_PERCPU_ARRAY",
  "BPF_MAP_TYPE_STACK_TRACE",
  "BPF_MAP_TYPE_CGROUP_ARRAY",
  "BPF_MAP_TYPE_LRU_HASH",
  "BPF_MAP_TYPE_LRU_PERCPU_HASH",
  "BPF_MAP_TYPE_LPM_TRIE",
  "BPF_MAP_TYPE_ARRAY_OF_MAPS",
  "BPF_MAP_TYPE_HASH_OF_MAPS",
  "BPF_MAP_TYPE_DEVMAP",
  "BPF_MAP_TYPE_SOCKMAP",
  "BPF_MAP_TYPE_CPUMAP",
  "BPF_MAP_TYPE_XSKMAP",
  "BPF_MAP_TYPE_SOCKHASH",
  "BPF_MAP_TYPE_CGROUP_STORAGE",
  "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY",
  "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE",
  "BPF_MAP_TYPE_QUEUE",
  "BPF_MAP_TYPE_STACK",
  "BPF_MAP_TYPE_SK_STORAGE",
  "BPF_MAP_TYPE_DEVMAP_HASH",
  "BPF_MAP_TYPE_STRUCT_OPS",
  "BPF_MAP_TYPE_RINGBUF",
  "BPF_MAP_TYPE_INODE_STORAGE",
  "BPF_MAP_TYPE_TASK_STORAGE",
  "BPF_MAP_TYPE_BLOOM_FILTER",
  "BPF_MAP_TYPE_USER_RINGBUF",
]);

export const BPF_PROG_TYPES = seq([
  "BPF_PROG_TYPE_UNSPEC",
  "BPF_PROG_TYPE_SOCKET_FILTER",
  "BPF_PROG_TYPE_KPROBE",
  "BPF_PROG_TYPE_SCHED_CLS",
  "BPF_PROG_TYPE_SCHED_ACT",
  "BPF_PROG_TYPE_TRACEPOINT",
  "BPF_PROG_TYPE_XDP",
  "BPF_PROG_TYPE_PERF_EVENT",
  "BPF_PROG_TYPE_CGROUP_SKB",
  "BPF_PROG_TYPE_CGROUP_SOCK",
  "BPF_PROG_TYPE_LWT_IN",
  "BPF_PROG_TYPE_LWT_OUT",
  "BPF_PROG_TYPE_LWT_XMIT",
  "BPF_PROG_TYPE_SOCK_OPS",
  "BPF_PROG_TYPE_SK_SKB",
  "BPF_PROG_TYPE_CGROUP_DEVICE",
  "BPF_PROG_TYPE_SK_MSG",
  "BPF_PROG_TYPE_RAW_TRACEPOINT",
  "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
  "BPF_PROG_TYPE_LWT_SEG6LOCAL",
  "BPF_PROG_TYPE_LIRC_MODE2",
  "BPF_PROG_TYPE_SK_REUSEPORT",
  "BPF_PROG_TYPE_FLOW_DISSECTOR",
  "BPF_PROG_TYPE_CGROUP_SYSCTL",
  "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE",
  "BPF_PROG_TYPE_CGROUP_SOCKOPT",
  "BPF_PROG_TYPE_TRACING",
  "BPF_PROG_TYPE_STRUCT_OPS",
  "BPF_PROG_TYPE_EXT",
  "BPF_PROG_TYPE_LSM",
  "BPF_PROG_TYPE_SK_LOOKUP",
  "BPF_PROG_TYPE_SYSCALL",
]);

export const BPF_ATTACH_TYPES = seq([
  "BPF_CGROUP_INET_INGRESS",
  "BPF_CGROUP_INET_EGRESS",
  "BPF_CGROUP_INET_SOCK_CREATE",
  "BPF_CGROUP_SOCK_OPS",
  "BPF_SK_SKB_STREAM_PARSER",
  "BPF_SK_SKB_STREAM_VERDICT",
  "BPF_CGROUP_DEVICE",
  "BPF_SK_MSG_VERDICT",
  "BPF_CGROUP_INET4_BIND",
  "BPF_CGROUP_INET6_BIND",
  "BPF_CGROUP_INET4_CONNECT",
  "BPF_CGROUP_INET6_CONNECT",
  "BPF_CGROUP_INET4_POST_BIND",
  "BPF_CGROUP_INET6_POST_BIND",
  "BPF_CGROUP_UDP4_SENDMSG",
  "BPF_CGROUP_UDP6_SENDMSG",
  "BPF_LIRC_MODE2",
  "BPF_FLOW_DISSECTOR",
  "BPF_CGROUP_SYSCTL",
  "BPF_CGROUP_UDP4_RECVMSG",
  "BPF_CGROUP_UDP6_RECVMSG",
  "BPF_CGROUP_GETSOCKOPT",
  "BPF_CGROUP_SETSOCKOPT",
  "BPF_TRACE_RAW_TP",
  "BPF_TRACE_FENTRY",
  "BPF_TRACE_FEXIT",
  "BPF_MODIFY_RETURN",
  "BPF_LSM_MAC",
  "BPF_TRACE_ITER",
  "BPF_CGROUP_INET4_GETPEERNAME",
  "BPF_CGROUP_INET6_GETPEERNAME",
  "BPF_CGROUP_INET4_GETSOCKNAME",
  "BPF_CGROUP_INET6_GETSOCKNAME",
  "BPF_XDP_DEVMAP",
  "BPF_CGROUP_INET_SOCK_RELEASE",
  "BPF_XDP_CPUMAP",
  "BPF_SK_LOOKUP",
  "BPF_XDP",
  "BPF_SK_SKB_VERDICT",
  "BPF_SK_REUSEPORT_SELECT",
  "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE",
  "BPF_PERF_EVENT",
  "BPF_TRACE_KPROBE_MULTI",
  "BPF_LSM_CGROUP",
]);

/** A kernel flag list up to `last` (strace 6.1 knows the older flags, not the newest). */
const firstFlags = (names: ReadonlyArray<readonly [number, string]>, last: string): Xlat => {
  const end = names.findIndex(([, n]) => n === last);
  if (end < 0) throw new Error(`no flag ${last}`);
  return names.slice(0, end + 1).map(([v, n]) => [BigInt(v), n] as const);
};

/** strace 6.1 names the map flags up to BPF_F_INNER_MAP. */
export const BPF_MAP_FLAGS = firstFlags(MAP_FLAG_NAMES, "BPF_F_INNER_MAP");

/** strace 6.1 names the program flags up to BPF_F_SLEEPABLE. */
export const BPF_PROG_FLAGS = firstFlags(PROG_FLAG_NAMES, "BPF_F_SLEEPABLE");

export const BPF_MAP_UPDATE_ELEM_FLAGS = vals([
  [0, "BPF_ANY"],
  [1, "BPF_NOEXIST"],
  [2, "BPF_EXIST"],
  [4, "BPF_F_LOCK"],
]);
export const BPF_MAP_LOOKUP_ELEM_FLAGS = vals([
  [0, "BPF_ANY"],
  [4, "BPF_F_LOCK"],
]);
export const BPF_FILE_MODE_FLAGS = bits([
  [3, "BPF_F_RDONLY"],
  [4, "BPF_F_WRONLY"],
]);
export const BPF_ATTACH_FLAGS = bits([
  [0, "BPF_F_ALLOW_OVERRIDE"],
  [1, "BPF_F_ALLOW_MULTI"],
  [2, "BPF_F_REPLACE"],
]);
export const BPF_TEST_RUN_FLAGS = bits([
  [0, "BPF_F_TEST_RUN_ON_CPU"],
  [1, "BPF_F_TEST_XDP_LIVE_FRAMES"],
]);
export const NUMA_NODE = vals([[0xffffffff, "NUMA_NO_NODE"]]);

// eBPF instruction codes (print_bpf_filter_code with extended = true).
export const EBPF_REGS = seq([
  "BPF_REG_0",
  "BPF_REG_1",
  "BPF_REG_2",
  "BPF_REG_3",
  "BPF_REG_4",
  "BPF_REG_5",
  "BPF_REG_6",
  "BPF_REG_7",
  "BPF_REG_8",
  "BPF_REG_9",
  "BPF_REG_10",
]);
export const EBPF_CLASS = seq(["BPF_LD", "BPF_LDX", "BPF_ST", "BPF_STX", "BPF_ALU", "BPF_JMP", "BPF_JMP32", "BPF_ALU64"]);
export const BPF_SIZE = vals([
  [0x00, "BPF_W"],
  [0x08, "BPF_H"],
  [0x10, "BPF_B"],
  [0x18, "BPF_DW"],
]);
export const EBPF_SIZE = vals([[0x18, "BPF_DW"]]);
export const EBPF_MODE = vals([
  [0x00, "BPF_IMM"],
  [0x20, "BPF_ABS"],
  [0x40, "BPF_IND"],
  [0x60, "BPF_MEM"],
  [0xc0, "BPF_XADD"],
]);
export const BPF_SRC = vals([
  [0x00, "BPF_K"],
  [0x08, "BPF_X"],
]);
export const BPF_OP_ALU = vals([
  [0x00, "BPF_ADD"],
  [0x10, "BPF_SUB"],
  [0x20, "BPF_MUL"],
  [0x30, "BPF_DIV"],
  [0x40, "BPF_OR"],
  [0x50, "BPF_AND"],
  [0x60, "BPF_LSH"],
  [0x70, "BPF_RSH"],
  [0x80, "BPF_NEG"],
  [0x90, "BPF_MOD"],
  [0xa0, "BPF_XOR"],
  [0xb0, "BPF_MOV"],
  [0xc0, "BPF_ARSH"],
  [0xd0, "BPF_END"],
]);
export const EBPF_OP_ALU = vals([
  [0xb0, "BPF_MOV"],
  [0xc0, "BPF_ARSH"],
  [0xd0, "BPF_END"],
]);
export const BPF_OP_JMP = vals([
  [0x00, "BPF_JA"],
  [0x10, "BPF_JEQ"],
  [0x20, "BPF_JGT"],
  [0x30, "BPF_JGE"],
  [0x40, "BPF_JSET"],
  [0x50, "BPF_JNE"],
  [0x60, "BPF_JSGT"],
  [0x70, "BPF_JSGE"],
  [0x80, "BPF_CALL"],
  [0x90, "BPF_EXIT"],
  [0xa0, "BPF_JLT"],
  [0xb0, "BPF_JLE"],
  [0xc0, "BPF_JSLT"],
  [0xd0, "BPF_JSLE"],
]);
export const EBPF_OP_JMP = vals([
  [0x50, "BPF_JNE"],
  [0x60, "BPF_JSGT"],
  [0x70, "BPF_JSGE"],
  [0x80, "BPF_CALL"],
  [0x90, "BPF_EXIT"],
  [0xa0, "BPF_JLT"],
  [0xb0, "BPF_JLE"],
  [0xc0, "BPF_JSLT"],
  [0xd0, "BPF_JSLE"],
]);

// perf_event_open(2)
export const PERF_TYPE_ID = seq([
  "PERF_TYPE_HARDWARE",
  "PERF_TYPE_SOFTWARE",
  "PERF_TYPE_TRACEPOINT",
  "PERF_TYPE_HW_CACHE",
  "PERF_TYPE_RAW",
  "PERF_TYPE_BREAKPOINT",
]);
export const PERF_ATTR_SIZE = vals([
  [64, "PERF_ATTR_SIZE_VER0"],
  [72, "PERF_ATTR_SIZE_VER1"],
  [80, "PERF_ATTR_SIZE_VER2"],
  [96, "PERF_ATTR_SIZE_VER3"],
  [104, "PERF_ATTR_SIZE_VER4"],
  [112, "PERF_ATTR_SIZE_VER5"],
  [120, "PERF_ATTR_SIZE_VER6"],
  [128, "PERF_ATTR_SIZE_VER7"],
]);
export const PERF_HW_ID = seq([
  "PERF_COUNT_HW_CPU_CYCLES",
  "PERF_COUNT_HW_INSTRUCTIONS",
  "PERF_COUNT_HW_CACHE_REFERENCES",
  "PERF_COUNT_HW_CACHE_MISSES",
  "PERF_COUNT_HW_BRANCH_INSTRUCTIONS",
  "PERF_COUNT_HW_BRANCH_MISSES",
  "PERF_COUNT_HW_BUS_CYCLES",
  "PERF_COUNT_HW_STALLED_CYCLES_FRONTEND",
  "PERF_COUNT_HW_STALLED_CYCLES_BACKEND",
  "PERF_COUNT_HW_REF_CPU_CYCLES",
]);
export const PERF_SW_IDS = seq([
  "PERF_COUNT_SW_CPU_CLOCK",
  "PERF_COUNT_SW_TASK_CLOCK",
  "PERF_COUNT_SW_PAGE_FAULTS",
  "PERF_COUNT_SW_CONTEXT_SWITCHES",
  "PERF_COUNT_SW_CPU_MIGRATIONS",
  "PERF_COUNT_SW_PAGE_FAULTS_MIN",
  "PERF_COUNT_SW_PAGE_FAULTS_MAJ",
  "PERF_COUNT_SW_ALIGNMENT_FAULTS",
  "PERF_COUNT_SW_EMULATION_FAULTS",
  "PERF_COUNT_SW_DUMMY",
  "PERF_COUNT_SW_BPF_OUTPUT",
  "PERF_COUNT_SW_CGROUP_SWITCHES",
]);
export const PERF_HW_CACHE_ID = seq([
  "PERF_COUNT_HW_CACHE_L1D",
  "PERF_COUNT_HW_CACHE_L1I",
  "PERF_COUNT_HW_CACHE_LL",
  "PERF_COUNT_HW_CACHE_DTLB",
  "PERF_COUNT_HW_CACHE_ITLB",
  "PERF_COUNT_HW_CACHE_BPU",
  "PERF_COUNT_HW_CACHE_NODE",
]);
export const PERF_HW_CACHE_OP_ID = seq(["PERF_COUNT_HW_CACHE_OP_READ", "PERF_COUNT_HW_CACHE_OP_WRITE", "PERF_COUNT_HW_CACHE_OP_PREFETCH"]);
export const PERF_HW_CACHE_OP_RESULT_ID = seq(["PERF_COUNT_HW_CACHE_RESULT_ACCESS", "PERF_COUNT_HW_CACHE_RESULT_MISS"]);
export const PERF_EVENT_SAMPLE_FORMAT = bits([
  [0, "PERF_SAMPLE_IP"],
  [1, "PERF_SAMPLE_TID"],
  [2, "PERF_SAMPLE_TIME"],
  [3, "PERF_SAMPLE_ADDR"],
  [4, "PERF_SAMPLE_READ"],
  [5, "PERF_SAMPLE_CALLCHAIN"],
  [6, "PERF_SAMPLE_ID"],
  [7, "PERF_SAMPLE_CPU"],
  [8, "PERF_SAMPLE_PERIOD"],
  [9, "PERF_SAMPLE_STREAM_ID"],
  [10, "PERF_SAMPLE_RAW"],
  [11, "PERF_SAMPLE_BRANCH_STACK"],
  [12, "PERF_SAMPLE_REGS_USER"],
  [13, "PERF_SAMPLE_STACK_USER"],
  [14, "PERF_SAMPLE_WEIGHT"],
  [15, "PERF_SAMPLE_DATA_SRC"],
  [16, "PERF_SAMPLE_IDENTIFIER"],
  [17, "PERF_SAMPLE_TRANSACTION"],
  [18, "PERF_SAMPLE_REGS_INTR"],
  [19, "PERF_SAMPLE_PHYS_ADDR"],
  [20, "PERF_SAMPLE_AUX"],
  [21, "PERF_SAMPLE_CGROUP"],
  [22, "PERF_SAMPLE_DATA_PAGE_SIZE"],
  [23, "PERF_SAMPLE_CODE_PAGE_SIZE"],
  [24, "PERF_SAMPLE_WEIGHT_STRUCT"],
]);
export const PERF_EVENT_READ_FORMAT = bits([
  [0, "PERF_FORMAT_TOTAL_TIME_ENABLED"],
  [1, "PERF_FORMAT_TOTAL_TIME_RUNNING"],
  [2, "PERF_FORMAT_ID"],
  [3, "PERF_FORMAT_GROUP"],
  [4, "PERF_FORMAT_LOST"],
]);
export const PERF_BRANCH_SAMPLE_TYPE = bits([
  [0, "PERF_SAMPLE_BRANCH_USER"],
  [1, "PERF_SAMPLE_BRANCH_KERNEL"],
  [2, "PERF_SAMPLE_BRANCH_HV"],
  [3, "PERF_SAMPLE_BRANCH_ANY"],
  [4, "PERF_SAMPLE_BRANCH_ANY_CALL"],
  [5, "PERF_SAMPLE_BRANCH_ANY_RETURN"],
  [6, "PERF_SAMPLE_BRANCH_IND_CALL"],
  [7, "PERF_SAMPLE_BRANCH_ABORT_TX"],
  [8, "PERF_SAMPLE_BRANCH_IN_TX"],
  [9, "PERF_SAMPLE_BRANCH_NO_TX"],
  [10, "PERF_SAMPLE_BRANCH_COND"],
  [11, "PERF_SAMPLE_BRANCH_CALL_STACK"],
  [12, "PERF_SAMPLE_BRANCH_IND_JUMP"],
  [13, "PERF_SAMPLE_BRANCH_CALL"],
  [14, "PERF_SAMPLE_BRANCH_NO_FLAGS"],
  [15, "PERF_SAMPLE_BRANCH_NO_CYCLES"],
  [16, "PERF_SAMPLE_BRANCH_TYPE_SAVE"],
  [17, "PERF_SAMPLE_BRANCH_HW_INDEX"],
  [18, "PERF_SAMPLE_BRANCH_PRIV_SAVE"],
]);
export const HW_BREAKPOINT_TYPE = vals([
  [0, "HW_BREAKPOINT_EMPTY"],
  [1, "HW_BREAKPOINT_R"],
  [2, "HW_BREAKPOINT_W"],
  [3, "HW_BREAKPOINT_RW"],
  [4, "HW_BREAKPOINT_X"],
  [7, "HW_BREAKPOINT_INVALID"],
]);
export const PERF_EVENT_OPEN_FLAGS = vals([
  [1, "PERF_FLAG_FD_NO_GROUP"],
  [2, "PERF_FLAG_FD_OUTPUT"],
  [4, "PERF_FLAG_PID_CGROUP"],
  [8, "PERF_FLAG_FD_CLOEXEC"],
]);
export const PERF_IOCTL_FLAGS = vals([[1, "PERF_IOC_FLAG_GROUP"]]);
export const CLOCK_NAMES = seq([
  "CLOCK_REALTIME",
  "CLOCK_MONOTONIC",
  "CLOCK_PROCESS_CPUTIME_ID",
  "CLOCK_THREAD_CPUTIME_ID",
  "CLOCK_MONOTONIC_RAW",
  "CLOCK_REALTIME_COARSE",
  "CLOCK_MONOTONIC_COARSE",
  "CLOCK_BOOTTIME",
  "CLOCK_REALTIME_ALARM",
  "CLOCK_BOOTTIME_ALARM",
  "CLOCK_SGI_CYCLE",
  "CLOCK_TAI",
]);

/** The perf ioctls strace 6.1 knows by name (ioctlent), with how it prints their argument. */
export const PERF_IOCTLS: ReadonlyMap<number, { name: string; arg: "flags" | "int" | "fd" | "u" | "ptr" }> = new Map([
  [0x2400, { name: "PERF_EVENT_IOC_ENABLE", arg: "flags" }],
  [0x2401, { name: "PERF_EVENT_IOC_DISABLE", arg: "flags" }],
  [0x2402, { name: "PERF_EVENT_IOC_REFRESH", arg: "int" }],
  [0x2403, { name: "PERF_EVENT_IOC_RESET", arg: "flags" }],
  [0x2405, { name: "PERF_EVENT_IOC_SET_OUTPUT", arg: "fd" }],
  [0x40042408, { name: "PERF_EVENT_IOC_SET_BPF", arg: "fd" }],
  [0x40042409, { name: "PERF_EVENT_IOC_PAUSE_OUTPUT", arg: "u" }],
  [0x40082404, { name: "PERF_EVENT_IOC_PERIOD", arg: "ptr" }],
  [0x40082406, { name: "PERF_EVENT_IOC_SET_FILTER", arg: "ptr" }],
  [0x80082407, { name: "PERF_EVENT_IOC_ID", arg: "ptr" }],
  [0xc008240a, { name: "PERF_EVENT_IOC_QUERY_BPF", arg: "ptr" }],
  [0x4008240b, { name: "PERF_EVENT_IOC_MODIFY_ATTRIBUTES", arg: "ptr" }],
]);
export const IOCTL_DIRS = vals([
  [0, "_IOC_NONE"],
  [2, "_IOC_READ"],
  [1, "_IOC_WRITE"],
]);

// epoll, mmap, mount, eventfd (x86-64 / arm64 values)
const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
export const EPOLL_FLAGS = vals([[O_CLOEXEC, "EPOLL_CLOEXEC"]]);
export const EPOLL_EVENTS = vals([
  [0x1, "EPOLLIN"],
  [0x2, "EPOLLPRI"],
  [0x4, "EPOLLOUT"],
  [0x8, "EPOLLERR"],
  [0x10, "EPOLLHUP"],
  [0x20, "EPOLLNVAL"],
  [0x40, "EPOLLRDNORM"],
  [0x80, "EPOLLRDBAND"],
  [0x100, "EPOLLWRNORM"],
  [0x200, "EPOLLWRBAND"],
  [0x400, "EPOLLMSG"],
  [0x2000, "EPOLLRDHUP"],
  [0x10000000, "EPOLLEXCLUSIVE"],
  [0x20000000, "EPOLLWAKEUP"],
  [0x40000000, "EPOLLONESHOT"],
  [0x80000000, "EPOLLET"],
]);
export const EPOLL_CTLS = vals([
  [1, "EPOLL_CTL_ADD"],
  [2, "EPOLL_CTL_DEL"],
  [3, "EPOLL_CTL_MOD"],
]);
export const EFD_FLAGS = vals([
  [1, "EFD_SEMAPHORE"],
  [O_CLOEXEC, "EFD_CLOEXEC"],
  [O_NONBLOCK, "EFD_NONBLOCK"],
]);
export const MMAP_PROT = vals([
  [0, "PROT_NONE"],
  [1, "PROT_READ"],
  [2, "PROT_WRITE"],
  [4, "PROT_EXEC"],
  [8, "PROT_SEM"],
  [0x01000000, "PROT_GROWSDOWN"],
  [0x02000000, "PROT_GROWSUP"],
]);
/** mmap_flags.in as compiled for x86-64 (entries the platform does not define are left out, as strace's generator does). */
export const MMAP_FLAGS = vals([
  [0x1, "MAP_SHARED"],
  [0x2, "MAP_PRIVATE"],
  [0x3, "MAP_SHARED_VALIDATE"],
  [0x10, "MAP_FIXED"],
  [0x20, "MAP_ANONYMOUS"],
  ...(process.arch === "x64" ? [[0x40, "MAP_32BIT"] as [number, string]] : []),
  [0x4000, "MAP_NORESERVE"],
  [0x8000, "MAP_POPULATE"],
  [0x10000, "MAP_NONBLOCK"],
  [0x100, "MAP_GROWSDOWN"],
  [0x800, "MAP_DENYWRITE"],
  [0x1000, "MAP_EXECUTABLE"],
  [0, "MAP_FILE"],
  [0x2000, "MAP_LOCKED"],
  [0x20000, "MAP_STACK"],
  [0x40000, "MAP_HUGETLB"],
  [0x80000, "MAP_SYNC"],
  [0x4000000, "MAP_UNINITIALIZED"],
  [0x100000, "MAP_FIXED_NOREPLACE"],
]);
export const MOUNT_FLAGS = bits([
  [0, "MS_RDONLY"],
  [1, "MS_NOSUID"],
  [2, "MS_NODEV"],
  [3, "MS_NOEXEC"],
  [4, "MS_SYNCHRONOUS"],
  [5, "MS_REMOUNT"],
  [6, "MS_MANDLOCK"],
  [7, "MS_DIRSYNC"],
  [8, "MS_NOSYMFOLLOW"],
  [10, "MS_NOATIME"],
  [11, "MS_NODIRATIME"],
  [12, "MS_BIND"],
  [13, "MS_MOVE"],
  [14, "MS_REC"],
  [15, "MS_SILENT"],
  [16, "MS_POSIXACL"],
  [17, "MS_UNBINDABLE"],
  [18, "MS_PRIVATE"],
  [19, "MS_SLAVE"],
  [20, "MS_SHARED"],
  [21, "MS_RELATIME"],
  [22, "MS_KERNMOUNT"],
  [23, "MS_I_VERSION"],
  [24, "MS_STRICTATIME"],
  [25, "MS_LAZYTIME"],
  [26, "MS_SUBMOUNT"],
  [27, "MS_NOREMOTELOCK"],
  [28, "MS_NOSEC"],
  [29, "MS_BORN"],
  [30, "MS_ACTIVE"],
  [31, "MS_NOUSER"],
]);

// setsockopt(2), the options tsbpf uses (SOL_SOCKET, x86-64 / arm64 numbers)
export const SOCKET_LAYERS = vals([
  [0, "SOL_IP"],
  [1, "SOL_SOCKET"],
  [6, "SOL_TCP"],
  [17, "SOL_UDP"],
  [270, "SOL_NETLINK"],
]);
export const SOL_NETLINK_OPTIONS = vals([
  [1, "NETLINK_ADD_MEMBERSHIP"],
  [2, "NETLINK_DROP_MEMBERSHIP"],
  [3, "NETLINK_PKTINFO"],
  [4, "NETLINK_BROADCAST_ERROR"],
  [5, "NETLINK_NO_ENOBUFS"],
  [6, "NETLINK_RX_RING"],
  [7, "NETLINK_TX_RING"],
  [8, "NETLINK_LISTEN_ALL_NSID"],
  [9, "NETLINK_LIST_MEMBERSHIPS"],
  [10, "NETLINK_CAP_ACK"],
  [11, "NETLINK_EXT_ACK"],
  [12, "NETLINK_GET_STRICT_CHK"],
]);
export const SOL_SOCKET_OPTIONS = vals([
  [26, "SO_ATTACH_FILTER"],
  [27, "SO_DETACH_FILTER"],
  [50, "SO_ATTACH_BPF"],
  [51, "SO_ATTACH_REUSEPORT_CBPF"],
  [52, "SO_ATTACH_REUSEPORT_EBPF"],
  [68, "SO_DETACH_REUSEPORT_BPF"],
]);

// open(2), access(2), struct stat (x86-64 values; arm64 moves four open flags)
const ARM64 = process.arch === "arm64";
export const OPEN_ACCESS_MODES = vals([
  [0, "O_RDONLY"],
  [1, "O_WRONLY"],
  [2, "O_RDWR"],
  [3, "O_ACCMODE"],
]);
/** open_mode_flags.in: O_SYNC before O_DSYNC, O_TMPFILE before O_DIRECTORY (each includes the other). */
export const OPEN_MODE_FLAGS = vals([
  [0o100, "O_CREAT"],
  [0o200, "O_EXCL"],
  [0o400, "O_NOCTTY"],
  [0o1000, "O_TRUNC"],
  [0o2000, "O_APPEND"],
  [O_NONBLOCK, "O_NONBLOCK"],
  [0o4010000, "O_SYNC"],
  [0o4000000, "__O_SYNC"],
  [0o10000, "O_DSYNC"],
  [ARM64 ? 0o200000 : 0o40000, "O_DIRECT"],
  [ARM64 ? 0o400000 : 0o100000, "O_LARGEFILE"],
  [ARM64 ? 0o100000 : 0o400000, "O_NOFOLLOW"],
  [0o1000000, "O_NOATIME"],
  [O_CLOEXEC, "O_CLOEXEC"],
  [0o10000000, "O_PATH"],
  [0o20000000 | (ARM64 ? 0o40000 : 0o200000), "O_TMPFILE"],
  [0o20000000, "__O_TMPFILE"],
  [ARM64 ? 0o40000 : 0o200000, "O_DIRECTORY"],
  [0o20000, "FASYNC"],
]);
export const O_CREAT = 0o100;
export const O_TMPFILE_BIT = 0o20000000;
export const AT_FDCWD = -100;
export const ACCESS_MODES = vals([
  [0, "F_OK"],
  [4, "R_OK"],
  [2, "W_OK"],
  [1, "X_OK"],
]);
export const S_IFMT = 0o170000;
export const FILE_TYPES = vals([
  [0o140000, "S_IFSOCK"],
  [0o120000, "S_IFLNK"],
  [0o100000, "S_IFREG"],
  [0o060000, "S_IFBLK"],
  [0o040000, "S_IFDIR"],
  [0o020000, "S_IFCHR"],
  [0o010000, "S_IFIFO"],
]);

/** `%#llx`: "0" for zero, "0x…" otherwise. */
export function hex(v: number | bigint): string {
  const b = BigInt(v);
  return b === 0n ? "0" : "0x" + b.toString(16);
}

export function xlookup(table: Xlat, val: number | bigint): string | undefined {
  const v = BigInt(val);
  for (const [x, name] of table) if (x === v) return name;
  return undefined;
}

/** printxval: the name, or the value in hex with `dflt` as a comment. */
export function printxval(table: Xlat, val: number | bigint, dflt: string): string {
  return printxvals(val, dflt, table);
}

/** printxvals: the first table that knows the value wins. */
export function printxvals(val: number | bigint, dflt: string, ...tables: Xlat[]): string {
  for (const t of tables) {
    const name = xlookup(t, val);
    if (name !== undefined) return name;
  }
  return `${hex(val)} /* ${dflt} */`;
}

/**
 * printflags (abbreviated style): the names of the set bits in table order,
 * joined by `|`, then any unknown bits in hex; no known bit at all prints
 * `0x… /* dflt *\/`; zero prints the table's zero entry or "0".
 */
export function printflags(table: Xlat, flags: number | bigint, dflt: string | null): string {
  let rest = BigInt.asUintN(64, BigInt(flags));
  const parts: string[] = [];
  for (const [v, name] of table) {
    if (!(rest !== 0n || parts.length === 0)) break;
    if (rest === v || (v !== 0n && (rest & v) === v)) {
      parts.push(name);
      rest &= ~v;
    }
    if (rest === 0n) break;
  }
  if (parts.length) {
    if (rest !== 0n) parts.push(hex(rest));
    return parts.join("|");
  }
  if (rest !== 0n) return dflt ? `${hex(rest)} /* ${dflt} */` : hex(rest);
  return dflt !== null ? "0" : "";
}
