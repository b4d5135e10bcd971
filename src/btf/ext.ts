/**
 * `.BTF.ext`: per-ELF-section func_info, line_info and CO-RE relocation
 * records (struct btf_ext_header and friends in libbpf's libbpf_internal.h).
 * Each sub-section is a u32 record size followed by blocks of
 * { sec_name_off, num_info, records[num_info] }; names are offsets into the
 * .BTF string table. Instruction offsets are in bytes; we store indexes.
 */
import { ObjectFormatError } from "../errors.js";
import type { Btf } from "./btf.js";
import { BTF_MAGIC, BTF_VERSION } from "./scan.js";

/** bpf_core_relo_kind, numbered as libbpf and the kernel number it. */
export enum CoreReloKind {
  FIELD_BYTE_OFFSET = 0,
  FIELD_BYTE_SIZE = 1,
  FIELD_EXISTS = 2,
  FIELD_SIGNED = 3,
  FIELD_LSHIFT_U64 = 4,
  FIELD_RSHIFT_U64 = 5,
  TYPE_ID_LOCAL = 6,
  TYPE_ID_TARGET = 7,
  TYPE_EXISTS = 8,
  TYPE_SIZE = 9,
  ENUMVAL_EXISTS = 10,
  ENUMVAL_VALUE = 11,
  TYPE_MATCHES = 12,
}

export interface FuncInfo {
  /** Instruction index (bpf_func_info.insn_off / 8) in the ELF section. */
  insnIndex: number;
  /** BTF id of the FUNC. */
  typeId: number;
  /** Byte offset of the record in .BTF.ext, for errors. */
  at?: number;
}

export interface LineInfo {
  insnIndex: number;
  fileName: string;
  line: number;
  column: number;
  /** The source line's text. */
  lineText: string;
  /** Raw bpf_line_info fields, as PROG_LOAD wants them. */
  fileNameOff: number;
  lineOff: number;
  /** line << 10 | column. */
  lineCol: number;
  /** Byte offset of the record in .BTF.ext, for errors. */
  at?: number;
}

export interface CoreRelo {
  insnIndex: number;
  /** Local BTF id of the root type. */
  typeId: number;
  /** Access spec, e.g. "0:1:2" (or an enumerator index for ENUMVAL_*). */
  accessStr: string;
  accessStrOff: number;
  /** A CoreReloKind; kinds newer than TYPE_MATCHES are passed through for the CO-RE code to reject. */
  kind: CoreReloKind;
  /** Byte offset of the record in .BTF.ext, for errors. */
  at?: number;
}

export interface BtfExt {
  /** Keyed by ELF section name, in file order. */
  funcInfo: Map<string, FuncInfo[]>;
  lineInfo: Map<string, LineInfo[]>;
  coreRelos: Map<string, CoreRelo[]>;
  /** Record sizes as found in the file (at least 8, 16, 16). */
  funcInfoRecSize: number;
  lineInfoRecSize: number;
  coreReloRecSize: number;
}

/** magic, version, flags, hdr_len, func_info_off/len, line_info_off/len. */
const EXT_HEADER_MIN = 24;
/** ...plus core_relo_off/len, present when hdr_len reaches 32. */
const EXT_HEADER_CORE = 32;
const FUNC_INFO_SIZE = 8;
const LINE_INFO_SIZE = 16;
const CORE_RELO_SIZE = 16;
/** A BPF instruction is 8 bytes; insn_off fields are byte offsets. */
const INSN_SIZE = 8;

export function parseBtfExt(bytes: Uint8Array, btf: Btf, where = "section .BTF.ext"): BtfExt {
  const fail = (offset: number, problem: string): never => {
    throw new ObjectFormatError(where, offset, problem);
  };
  if (bytes.byteLength < EXT_HEADER_MIN)
    fail(0, `truncated header: ${bytes.byteLength} bytes, the .BTF.ext header needs ${EXT_HEADER_MIN}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint16(0, true);
  if (magic !== BTF_MAGIC) fail(0, `bad magic 0x${magic.toString(16)}, expected 0xeb9f`);
  if (bytes[2] !== BTF_VERSION) fail(2, `unsupported .BTF.ext version ${bytes[2]}, expected 1`);
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < EXT_HEADER_MIN) fail(4, `header length ${hdrLen} is shorter than ${EXT_HEADER_MIN}`);
  if (hdrLen > bytes.byteLength) fail(4, `header length ${hdrLen} is past the end of the ${bytes.byteLength}-byte section`);

  const str = (off: number, at: number): string => {
    if (off >= btf.stringsSize) fail(at, `string offset ${off} is past the end of the ${btf.stringsSize}-byte .BTF string section`);
    return btf.string(off);
  };
  const insnIndex = (off: number, at: number): number => {
    if (off % INSN_SIZE !== 0) fail(at, `instruction offset ${off} is not a multiple of ${INSN_SIZE}`);
    return off / INSN_SIZE;
  };
  const typeId = (id: number, at: number): number => {
    if (id >= btf.typeCount) fail(at, `type id ${id} is past the last .BTF type id ${btf.typeCount - 1}`);
    return id;
  };

  /**
   * Walks one sub-section (offset relative to the end of the header) and calls `read`
   * for each record with the record's absolute offset. Returns the record size.
   */
  const walk = (name: string, headerAt: number, minSize: number, read: (section: string, at: number) => void): number => {
    const off = dv.getUint32(headerAt, true);
    const len = dv.getUint32(headerAt + 4, true);
    if (len === 0) return minSize;
    if (off % 4 !== 0) fail(headerAt, `${name} offset ${off} is not 4-byte aligned`);
    const start = hdrLen + off;
    const end = start + len;
    if (end > bytes.byteLength)
      fail(headerAt, `${name} (offset ${off}, length ${len}) runs past the end of the ${bytes.byteLength}-byte section`);
    if (len < 4) fail(start, `${name} is too short for its record size`);
    const recSize = dv.getUint32(start, true);
    // Newer producers may append fields (accepted, skipped); a shorter record cannot hold ours.
    if (recSize < minSize || recSize % 4 !== 0)
      fail(start, `${name} record size ${recSize} is invalid (need a multiple of 4, at least ${minSize})`);
    let p = start + 4;
    while (p < end) {
      if (p + 8 > end) fail(p, `${name} block header is truncated`);
      const section = str(dv.getUint32(p, true), p);
      const num = dv.getUint32(p + 4, true);
      if (num === 0) fail(p + 4, `${name} block for '${section}' has no records`);
      p += 8;
      if (num * recSize > end - p)
        fail(p - 4, `${name} block for '${section}' has ${num} records of ${recSize} bytes, more than the ${end - p} bytes left`);
      for (let i = 0; i < num; i++, p += recSize) read(section, p);
    }
    return recSize;
  };

  const push = <T>(map: Map<string, T[]>, key: string, value: T): void => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };

  const funcInfo = new Map<string, FuncInfo[]>();
  const lineInfo = new Map<string, LineInfo[]>();
  const coreRelos = new Map<string, CoreRelo[]>();
  const u32 = (at: number): number => dv.getUint32(at, true);

  const funcInfoRecSize = walk("func_info", 8, FUNC_INFO_SIZE, (sec, at) => {
    push(funcInfo, sec, { insnIndex: insnIndex(u32(at), at), typeId: typeId(u32(at + 4), at + 4), at });
  });
  const lineInfoRecSize = walk("line_info", 16, LINE_INFO_SIZE, (sec, at) => {
    const fileNameOff = u32(at + 4);
    const lineOff = u32(at + 8);
    const lineCol = u32(at + 12);
    push(lineInfo, sec, {
      insnIndex: insnIndex(u32(at), at),
      fileName: str(fileNameOff, at + 4),
      line: lineCol >>> 10,
      column: lineCol & 0x3ff,
      lineText: str(lineOff, at + 8),
      fileNameOff,
      lineOff,
      lineCol,
      at,
    });
  });
  let coreReloRecSize = CORE_RELO_SIZE;
  if (hdrLen >= EXT_HEADER_CORE) {
    coreReloRecSize = walk("core_relo", 24, CORE_RELO_SIZE, (sec, at) => {
      const accessStrOff = u32(at + 8);
      push(coreRelos, sec, {
        insnIndex: insnIndex(u32(at), at),
        typeId: typeId(u32(at + 4), at + 4),
        accessStr: str(accessStrOff, at + 8),
        accessStrOff,
        kind: u32(at + 12) as CoreReloKind,
        at,
      });
    });
  }
  return { funcInfo, lineInfo, coreRelos, funcInfoRecSize, lineInfoRecSize, coreReloRecSize };
}
