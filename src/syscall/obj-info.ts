/**
 * BPF_OBJ_GET_INFO_BY_FD for programs and maps (struct bpf_prog_info /
 * struct bpf_map_info), and opening objects by id — what introspection
 * (`tsbpf prog list`) and the tests comparing against libbpf need.
 */
import { bpf } from "./bpf.js";
import { addressOf } from "./libc.js";
import { BpfCmd } from "../abi/uapi-enums.js";

const PROG_INFO_SIZE = 232;
const MAP_INFO_SIZE = 88;

export interface ProgInfo {
  type: number;
  id: number;
  tag: string;
  name: string;
  /** Number of map ids the program uses. */
  mapIds: number[];
  btfId: number;
  /** The kernel's rewritten instructions, when asked for. */
  xlated?: Uint8Array;
  verifiedInsns: number;
}

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

function cName(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
}

function getInfo(fd: number, info: Uint8Array, what: string): DataView {
  bpf(BpfCmd.OBJ_GET_INFO_BY_FD, { bpf_fd: fd, info_len: info.byteLength, info }, what);
  return new DataView(info.buffer, info.byteOffset, info.byteLength);
}

/** Program info; with `xlated`, a second call fetches the translated instructions. */
export function progInfo(fd: number, opts: { xlated?: boolean } = {}): ProgInfo {
  const first = new Uint8Array(PROG_INFO_SIZE);
  const v = getInfo(fd, first, "reading program info");
  const xlatedLen = v.getUint32(20, true);
  const nrMapIds = v.getUint32(52, true);
  // Second call: the kernel fills the arrays we give room for, and zero-length ones are skipped.
  const second = new Uint8Array(PROG_INFO_SIZE);
  const s = new DataView(second.buffer);
  const xlated = new Uint8Array(opts.xlated ? xlatedLen : 0);
  const mapIds = new Uint8Array(nrMapIds * 4);
  if (xlated.byteLength) {
    s.setUint32(20, xlated.byteLength, true);
    s.setBigUint64(32, addressOf(xlated), true);
  }
  if (mapIds.byteLength) {
    s.setUint32(52, nrMapIds, true);
    s.setBigUint64(56, addressOf(mapIds), true);
  }
  getInfo(fd, second, "reading program info");
  const ids = new DataView(mapIds.buffer);
  return {
    type: v.getUint32(0, true),
    id: v.getUint32(4, true),
    tag: Buffer.from(first.subarray(8, 16)).toString("hex"),
    name: cName(first.subarray(64, 80)),
    mapIds: Array.from({ length: nrMapIds }, (_, i) => ids.getUint32(i * 4, true)),
    btfId: v.getUint32(128, true),
    verifiedInsns: v.getUint32(216, true),
    ...(opts.xlated ? { xlated } : {}),
  };
}

export function mapInfo(fd: number): MapInfo {
  const info = new Uint8Array(MAP_INFO_SIZE);
  const v = getInfo(fd, info, "reading map info");
  return {
    type: v.getUint32(0, true),
    id: v.getUint32(4, true),
    keySize: v.getUint32(8, true),
    valueSize: v.getUint32(12, true),
    maxEntries: v.getUint32(16, true),
    flags: v.getUint32(20, true),
    name: cName(info.subarray(24, 40)),
    btfId: v.getUint32(64, true),
    btfKeyTypeId: v.getUint32(68, true),
    btfValueTypeId: v.getUint32(72, true),
  };
}

/** An fd for a program or map by id (the caller closes it). */
export function fdById(kind: "prog" | "map" | "link" | "btf", id: number): number {
  const cmd = {
    prog: BpfCmd.PROG_GET_FD_BY_ID,
    map: BpfCmd.MAP_GET_FD_BY_ID,
    link: BpfCmd.LINK_GET_FD_BY_ID,
    btf: BpfCmd.BTF_GET_FD_BY_ID,
  }[kind];
  const field = { prog: "prog_id", map: "map_id", link: "link_id", btf: "btf_id" }[kind];
  return bpf(cmd, { [field]: id }, `opening ${kind} id ${id}`);
}

/** The program a link holds (struct bpf_link_info's prog_id). */
export function linkProgId(fd: number): number {
  const info = new Uint8Array(64);
  return getInfo(fd, info, "reading link info").getUint32(8, true);
}
