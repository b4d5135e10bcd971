/**
 * BPF_OBJ_GET_INFO_BY_FD for programs and maps (struct bpf_prog_info /
 * struct bpf_map_info), and opening objects by id — what introspection
 * (`tsbpf prog list`) and the tests comparing against libbpf need.
 */
import { BPF_LINK_INFO, BPF_MAP_INFO, BPF_PROG_INFO } from "../abi/bpf-info.js";
import { type AbiStruct, decodeStruct, encodeStruct, endOf } from "../abi/layout.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { bpf } from "./bpf.js";
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
/** Room for bpf_link_info's header and its smaller union members; tsbpf reads only prog_id. */
const LINK_INFO_SIZE = 64;

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

function getInfo(fd: number, info: Uint8Array, what: string): Uint8Array {
  bpf(BpfCmd.OBJ_GET_INFO_BY_FD, { bpf_fd: fd, info_len: info.byteLength, info }, what);
  return info;
}

/** Program info; with `xlated`, a second call fetches the translated instructions. */
export function progInfo(fd: number, opts: { xlated?: boolean } = {}): ProgInfo {
  const first = decodeStruct(BPF_PROG_INFO, getInfo(fd, new Uint8Array(PROG_INFO_SIZE), "reading program info"));
  // Second call: the kernel fills the arrays we give room for, and zero-length ones are skipped.
  const xlated = new Uint8Array(opts.xlated ? first.xlated_prog_len : 0);
  const mapIds = new Uint8Array(first.nr_map_ids * 4);
  const second = encodeStruct(
    BPF_PROG_INFO,
    {
      ...(xlated.byteLength ? { xlated_prog_len: xlated.byteLength, xlated_prog_insns: xlated } : {}),
      ...(mapIds.byteLength ? { nr_map_ids: first.nr_map_ids, map_ids: mapIds } : {}),
    },
    addressOf,
    PROG_INFO_SIZE,
  );
  getInfo(fd, second, "reading program info");
  const ids = new DataView(mapIds.buffer);
  return {
    type: first.type,
    id: first.id,
    tag: Buffer.from(first.tag).toString("hex"),
    name: first.name,
    mapIds: Array.from({ length: first.nr_map_ids }, (_, i) => ids.getUint32(i * 4, true)),
    btfId: first.btf_id,
    verifiedInsns: first.verified_insns,
    ...(opts.xlated ? { xlated } : {}),
  };
}

export function mapInfo(fd: number): MapInfo {
  const info = decodeStruct(BPF_MAP_INFO, getInfo(fd, new Uint8Array(MAP_INFO_SIZE), "reading map info"));
  return {
    type: info.type,
    id: info.id,
    keySize: info.key_size,
    valueSize: info.value_size,
    maxEntries: info.max_entries,
    flags: info.map_flags,
    name: info.name,
    btfId: info.btf_id,
    btfKeyTypeId: info.btf_key_type_id,
    btfValueTypeId: info.btf_value_type_id,
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
  const field = ({ prog: "prog_id", map: "map_id", link: "link_id", btf: "btf_id" } as const)[kind];
  return bpf(cmd, { [field]: id }, `opening ${kind} id ${id}`);
}

/** The program a link holds (struct bpf_link_info's prog_id). */
export function linkProgId(fd: number): number {
  return decodeStruct(BPF_LINK_INFO, getInfo(fd, new Uint8Array(LINK_INFO_SIZE), "reading link info")).prog_id;
}
