/**
 * BPF_OBJ_GET_INFO_BY_FD for programs and maps (struct bpf_prog_info,
 * struct bpf_map_info, laid out by the generated ABI), opening objects by
 * id, and BPF_ENABLE_STATS. The kernel fills the arrays (map ids,
 * instructions, func/line info) only where it is given room, so a first call
 * learns their sizes and a second one, with buffers, fetches them.
 */
import { BPF_MAP_INFO, BPF_PROG_INFO } from "../abi/bpf-info.js";
import { type AbiStruct, decodeStruct, encodeStruct, endOf } from "../abi/layout.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { bpf, closeFd } from "./bpf.js";
import { addressOf } from "./libc.js";

/**
 * How much of each struct tsbpf asks for: the struct as Linux 6.1's UAPI
 * header has it (through attach_btf_id / map_extra, padded to 8 as sizeof
 * pads), which is what Debian 12's libbpf and bpftool send, so their traces
 * and tsbpf's show the same info_len.
 */
const through = <F extends string>(s: AbiStruct<F>, last: F) => (endOf(s.fields[last]) + 7) & ~7;
const PROG_INFO_SIZE = through(BPF_PROG_INFO, "attach_btf_id");
const MAP_INFO_SIZE = through(BPF_MAP_INFO, "map_extra");

/** One bpf_func_info record: where a function starts and its BTF FUNC type (in the program's BTF, btfId). */
export interface ProgFuncInfo {
  insnOff: number;
  typeId: number;
}

/** One bpf_line_info record; the names are offsets into the program BTF's string section. */
export interface ProgLineInfo {
  insnOff: number;
  fileNameOff: number;
  lineOff: number;
  line: number;
  column: number;
}

export interface ProgInfo {
  type: number;
  id: number;
  tag: string;
  name: string;
  /** Bytes of JITed code and of translated (kernel-rewritten) instructions. */
  jitedProgLen: number;
  xlatedProgLen: number;
  /** Boot time of the load, in ns (CLOCK_BOOTTIME). */
  loadTime: bigint;
  createdByUid: number;
  /** Ids of the maps the program uses. */
  mapIds: number[];
  gplCompatible: boolean;
  ifindex: number;
  netnsDev: bigint;
  netnsIno: bigint;
  /** The program's BTF object (0 without BTF). */
  btfId: number;
  /** Time spent in the program and runs, counted while statistics are enabled (enableStats). */
  runTimeNs: bigint;
  runCnt: bigint;
  recursionMisses: bigint;
  verifiedInsns: number;
  attachBtfObjId: number;
  attachBtfId: number;
  /** Number of func_info / line_info records the kernel holds. */
  nrFuncInfo: number;
  nrLineInfo: number;
  /** The kernel's rewritten instructions, when asked for. */
  xlated?: Uint8Array;
  /** The JITed machine code, when asked for. */
  jited?: Uint8Array;
  /** Kernel addresses of the JITed functions (the program, then its subprograms), when asked for. */
  jitedKsyms?: bigint[];
  funcInfo?: ProgFuncInfo[];
  lineInfo?: ProgLineInfo[];
}

export interface ProgInfoOptions {
  xlated?: boolean;
  jited?: boolean;
  funcInfo?: boolean;
  lineInfo?: boolean;
  /** The kernel addresses of the program's JITed functions (what BPF-to-BPF calls resolve to). */
  jitedKsyms?: boolean;
}

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  ifindex: number;
  btfVmlinuxValueTypeId: number;
  netnsDev: bigint;
  netnsIno: bigint;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** Type-specific: bloom filter hash count, arena address. */
  mapExtra: bigint;
}

export function cName(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
}

/** BPF_OBJ_GET_INFO_BY_FD into `info`; returns a view of it. */
export function getInfo(fd: number, info: Uint8Array, what: string): DataView {
  bpf(BpfCmd.OBJ_GET_INFO_BY_FD, { bpf_fd: fd, info_len: info.byteLength, info }, what);
  return new DataView(info.buffer, info.byteOffset, info.byteLength);
}

/** A zeroed buffer in its own ArrayBuffer (its address goes to the kernel). */
export function kernelBuffer(size: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(size));
}

/** Points an info struct's (count, pointer) pair at a buffer of `count` records. */
export function setArray(v: DataView, countAt: number, ptrAt: number, count: number, buf: Uint8Array): void {
  if (!count || !buf.byteLength) return;
  v.setUint32(countAt, count, true);
  v.setBigUint64(ptrAt, addressOf(buf), true);
}

/** Program info; options fetch the arrays (a second call, sized by the first). */
export function progInfo(fd: number, opts: ProgInfoOptions = {}): ProgInfo {
  const raw = kernelBuffer(PROG_INFO_SIZE);
  getInfo(fd, raw, "reading program info");
  const first = decodeStruct(BPF_PROG_INFO, raw);
  const nrMapIds = first.nr_map_ids;
  const nrFuncInfo = first.nr_func_info;
  const nrLineInfo = first.nr_line_info;
  const funcRec = first.func_info_rec_size;
  const lineRec = first.line_info_rec_size;

  const mapIds = kernelBuffer(nrMapIds * 4);
  const xlated = kernelBuffer(opts.xlated ? first.xlated_prog_len : 0);
  const jited = kernelBuffer(opts.jited ? first.jited_prog_len : 0);
  const funcInfo = kernelBuffer(opts.funcInfo ? nrFuncInfo * funcRec : 0);
  const lineInfo = kernelBuffer(opts.lineInfo ? nrLineInfo * lineRec : 0);
  const ksyms = kernelBuffer(opts.jitedKsyms ? first.nr_jited_ksyms * 8 : 0);
  if (mapIds.byteLength || xlated.byteLength || jited.byteLength || funcInfo.byteLength || lineInfo.byteLength || ksyms.byteLength) {
    // Only the arrays given room are filled; the record sizes must be passed back for func/line info.
    const second = encodeStruct(
      BPF_PROG_INFO,
      {
        ...(mapIds.byteLength ? { nr_map_ids: nrMapIds, map_ids: mapIds } : {}),
        ...(xlated.byteLength ? { xlated_prog_len: xlated.byteLength, xlated_prog_insns: xlated } : {}),
        ...(jited.byteLength ? { jited_prog_len: jited.byteLength, jited_prog_insns: jited } : {}),
        ...(funcInfo.byteLength ? { nr_func_info: nrFuncInfo, func_info: funcInfo, func_info_rec_size: funcRec } : {}),
        ...(lineInfo.byteLength ? { nr_line_info: nrLineInfo, line_info: lineInfo, line_info_rec_size: lineRec } : {}),
        ...(ksyms.byteLength ? { nr_jited_ksyms: first.nr_jited_ksyms, jited_ksyms: ksyms } : {}),
      },
      addressOf,
      PROG_INFO_SIZE,
    );
    getInfo(fd, second, "reading program info");
  }
  const ids = new DataView(mapIds.buffer);
  const fi = new DataView(funcInfo.buffer);
  const li = new DataView(lineInfo.buffer);
  return {
    type: first.type,
    id: first.id,
    tag: Buffer.from(first.tag).toString("hex"),
    name: first.name,
    jitedProgLen: first.jited_prog_len,
    xlatedProgLen: first.xlated_prog_len,
    loadTime: first.load_time,
    createdByUid: first.created_by_uid,
    mapIds: Array.from({ length: nrMapIds }, (_, i) => ids.getUint32(i * 4, true)),
    gplCompatible: first.gpl_compatible === 1,
    ifindex: first.ifindex,
    netnsDev: first.netns_dev,
    netnsIno: first.netns_ino,
    btfId: first.btf_id,
    runTimeNs: first.run_time_ns,
    runCnt: first.run_cnt,
    recursionMisses: first.recursion_misses,
    verifiedInsns: first.verified_insns,
    attachBtfObjId: first.attach_btf_obj_id,
    attachBtfId: first.attach_btf_id,
    nrFuncInfo,
    nrLineInfo,
    ...(opts.xlated ? { xlated } : {}),
    ...(opts.jited ? { jited } : {}),
    ...(opts.jitedKsyms
      ? { jitedKsyms: Array.from({ length: ksyms.byteLength / 8 }, (_, i) => new DataView(ksyms.buffer).getBigUint64(i * 8, true)) }
      : {}),
    ...(opts.funcInfo
      ? {
          funcInfo: Array.from({ length: funcInfo.byteLength ? nrFuncInfo : 0 }, (_, i) => ({
            insnOff: fi.getUint32(i * funcRec, true),
            typeId: fi.getUint32(i * funcRec + 4, true),
          })),
        }
      : {}),
    ...(opts.lineInfo
      ? {
          lineInfo: Array.from({ length: lineInfo.byteLength ? nrLineInfo : 0 }, (_, i) => {
            const lineCol = li.getUint32(i * lineRec + 12, true);
            return {
              insnOff: li.getUint32(i * lineRec, true),
              fileNameOff: li.getUint32(i * lineRec + 4, true),
              lineOff: li.getUint32(i * lineRec + 8, true),
              // BPF_LINE_INFO_LINE_NUM / _LINE_COL: line in the upper 22 bits, column in the lower 10.
              line: lineCol >>> 10,
              column: lineCol & 0x3ff,
            };
          }),
        }
      : {}),
  };
}

export function mapInfo(fd: number): MapInfo {
  const raw = kernelBuffer(MAP_INFO_SIZE);
  getInfo(fd, raw, "reading map info");
  const info = decodeStruct(BPF_MAP_INFO, raw);
  return {
    type: info.type,
    id: info.id,
    keySize: info.key_size,
    valueSize: info.value_size,
    maxEntries: info.max_entries,
    flags: info.map_flags,
    name: info.name,
    ifindex: info.ifindex,
    btfVmlinuxValueTypeId: info.btf_vmlinux_value_type_id,
    netnsDev: info.netns_dev,
    netnsIno: info.netns_ino,
    btfId: info.btf_id,
    btfKeyTypeId: info.btf_key_type_id,
    btfValueTypeId: info.btf_value_type_id,
    mapExtra: info.map_extra,
  };
}

/**
 * An fd for a program, map, link or BTF object by id (the caller closes it).
 * `openFlags` (BPF_F_RDONLY / BPF_F_WRONLY) restrict a map fd.
 */
export function fdById(kind: "prog" | "map" | "link" | "btf", id: number, openFlags = 0): number {
  const cmd = {
    prog: BpfCmd.PROG_GET_FD_BY_ID,
    map: BpfCmd.MAP_GET_FD_BY_ID,
    link: BpfCmd.LINK_GET_FD_BY_ID,
    btf: BpfCmd.BTF_GET_FD_BY_ID,
  }[kind];
  const field = { prog: "prog_id", map: "map_id", link: "link_id", btf: "btf_id" }[kind];
  return bpf(cmd, { [field]: id, open_flags: openFlags }, `opening ${kind} id ${id}`);
}

/** BPF_STATS_RUN_TIME: count run_time_ns and run_cnt of every program. */
export const BPF_STATS_RUN_TIME = 0;

/** Statistics stay enabled until close(). */
export interface StatsHandle {
  readonly fd: number;
  close(): void;
  [Symbol.dispose](): void;
}

/**
 * BPF_ENABLE_STATS: the kernel counts run time and runs of every program
 * (progInfo's runTimeNs / runCnt) for as long as the handle is open
 * (several holders may overlap). Needs CAP_SYS_ADMIN.
 */
export function enableStats(type = BPF_STATS_RUN_TIME): StatsHandle {
  const fd = bpf(BpfCmd.ENABLE_STATS, { type }, "enabling BPF run-time statistics");
  let open = true;
  const close = () => {
    if (open) closeFd(fd);
    open = false;
  };
  return { fd, close, [Symbol.dispose]: close };
}
