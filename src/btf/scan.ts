/**
 * The validating pass behind Btf.parse(): header checks, a normalised copy
 * of the blob, and one walk over the type records that notes where each
 * starts. No type objects are built here (vmlinux has ~127k types).
 */
import { ObjectFormatError } from "../errors.js";
import { BTF_KIND_NAMES, BtfKind } from "./types.js";

export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
/** sizeof(struct btf_header): magic u16, version u8, flags u8, hdr_len, type_off, type_len, str_off, str_len. */
export const BTF_HEADER_SIZE = 24;
/** sizeof(struct btf_type): name_off, info, size/type. */
export const BTF_TYPE_SIZE = 12;

/** What a split BTF needs from its base. */
export interface ScanBase {
  readonly typeCount: number;
  readonly stringsSize: number;
}

export interface ScannedBtf {
  /** 24-byte header (type_off 0, str_off = type_len), types at 24, strings after; 4-byte aligned. */
  raw: Uint8Array;
  /** Byte offset in `raw` of each type record, in id order. */
  offsets: Uint32Array;
  /** Byte offset of the string section in `raw`. */
  strStart: number;
  strLen: number;
  /** Added to an offset in `raw`'s type section to give the offset in the input. */
  inputDelta: number;
}

export function scanBtf(bytes: Uint8Array, where: string, base: ScanBase | undefined): ScannedBtf {
  const fail = (offset: number, problem: string): never => {
    throw new ObjectFormatError(where, offset, problem);
  };
  if (bytes.byteLength < BTF_HEADER_SIZE) {
    fail(0, `truncated header: ${bytes.byteLength} bytes, the BTF header needs ${BTF_HEADER_SIZE}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint16(0, true);
  if (magic !== BTF_MAGIC) {
    fail(0, magic === 0x9feb ? "big-endian BTF is not supported" : `bad magic 0x${magic.toString(16)}, expected 0xeb9f`);
  }
  const version = bytes[2]!;
  if (version !== BTF_VERSION) fail(2, `unsupported BTF version ${version}, expected 1`);
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < BTF_HEADER_SIZE) fail(4, `header length ${hdrLen} is shorter than ${BTF_HEADER_SIZE}`);
  if (hdrLen > bytes.byteLength) fail(4, `header length ${hdrLen} is past the end of the ${bytes.byteLength}-byte input`);
  // A longer header carries fields of a newer format; like the kernel, accept them only when zero.
  for (let i = BTF_HEADER_SIZE; i < hdrLen; i++) {
    if (bytes[i] !== 0) fail(i, `unknown non-zero header field (header length ${hdrLen})`);
  }
  const typeOff = dv.getUint32(8, true);
  const typeLen = dv.getUint32(12, true);
  const strOff = dv.getUint32(16, true);
  const strLen = dv.getUint32(20, true);
  const dataLen = bytes.byteLength - hdrLen;
  if (typeOff % 4 !== 0) fail(8, `type section offset ${typeOff} is not 4-byte aligned`);
  if (typeOff + typeLen > dataLen) {
    fail(12, `type section (offset ${typeOff}, length ${typeLen}) runs past the end of the ${dataLen} bytes after the header`);
  }
  if (strOff + strLen > dataLen) {
    fail(20, `string section (offset ${strOff}, length ${strLen}) runs past the end of the ${dataLen} bytes after the header`);
  }
  if (typeOff + typeLen > strOff) fail(16, `type section overlaps the string section at offset ${strOff}`);
  const strIn = hdrLen + strOff;
  // Offset 0 must be "" (anonymous) and the last byte a NUL, so every in-range offset is a
  // terminated string. Split BTF may have no strings of its own (libbpf's rule too).
  if (strLen === 0 && !base) fail(20, "string section is empty");
  if (strLen > 0 && bytes[strIn + strLen - 1] !== 0) fail(strIn + strLen - 1, "string section does not end with a NUL");
  if (strLen > 0 && !base && bytes[strIn] !== 0) fail(strIn, "string section does not start with an empty string");

  // Copy into a fresh, aligned buffer: Uint32Array access needs alignment, and in-place
  // patches (DATASEC fix-ups, sanitising) must not write into the caller's ELF bytes.
  const strStart = BTF_HEADER_SIZE + typeLen;
  const raw = new Uint8Array((strStart + strLen + 3) & ~3);
  raw.set(bytes.subarray(0, 4));
  const rdv = new DataView(raw.buffer);
  rdv.setUint32(4, BTF_HEADER_SIZE, true);
  rdv.setUint32(8, 0, true);
  rdv.setUint32(12, typeLen, true);
  rdv.setUint32(16, typeLen, true);
  rdv.setUint32(20, strLen, true);
  raw.set(bytes.subarray(hdrLen + typeOff, hdrLen + typeOff + typeLen), BTF_HEADER_SIZE);
  raw.set(bytes.subarray(strIn, strIn + strLen), strStart);

  const inputDelta = hdrLen + typeOff - BTF_HEADER_SIZE;
  const firstId = base ? base.typeCount : 1;
  const strTotal = (base ? base.stringsSize : 0) + strLen;
  const offsets = scanTypes(raw, typeLen, firstId, strTotal, inputDelta, fail);
  return { raw, offsets, strStart, strLen, inputDelta };
}

/**
 * Records each type's offset and checks that its kind is known, its record
 * (with `vlen` trailers) fits, and every name offset in it is inside the
 * string section. Referenced type ids are checked later, on decode.
 */
function scanTypes(
  raw: Uint8Array,
  typeLen: number,
  firstId: number,
  strTotal: number,
  inputDelta: number,
  fail: (offset: number, problem: string) => never,
): Uint32Array {
  const words = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength >>> 2);
  const end = BTF_HEADER_SIZE + typeLen;
  const offsets = new Uint32Array(Math.floor(typeLen / BTF_TYPE_SIZE));
  let n = 0;
  let p = BTF_HEADER_SIZE;
  while (p < end) {
    if (p + BTF_TYPE_SIZE > end) fail(p + inputDelta, `truncated type record: ${end - p} bytes left, a type needs ${BTF_TYPE_SIZE}`);
    const w = p >>> 2;
    const info = words[w + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    // Trailer size per kind; `stride` (in words) for trailers whose entries start with a name_off.
    let extra: number;
    let stride = 0;
    switch (kind) {
      case BtfKind.Int: // u32 encoding/offset/bits
      case BtfKind.Var: // u32 linkage
      case BtfKind.DeclTag: // s32 component_idx
        extra = 4;
        break;
      case BtfKind.Ptr:
      case BtfKind.Fwd:
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
      case BtfKind.Func: // linkage is in vlen
      case BtfKind.Float:
      case BtfKind.TypeTag:
        extra = 0;
        break;
      case BtfKind.Array: // type, index_type, nelems
        extra = 12;
        break;
      case BtfKind.Struct: // name_off, type, offset
      case BtfKind.Union:
      case BtfKind.Enum64: // name_off, val_lo32, val_hi32
        extra = vlen * 12;
        stride = 3;
        break;
      case BtfKind.Enum: // name_off, val
      case BtfKind.FuncProto: // name_off, type
        extra = vlen * 8;
        stride = 2;
        break;
      case BtfKind.Datasec: // type, offset, size
        extra = vlen * 12;
        break;
      default:
        return fail(p + inputDelta, `type [${firstId + n}] has unknown kind ${kind}`);
    }
    const next = p + BTF_TYPE_SIZE + extra;
    if (next > end) {
      fail(
        p + inputDelta,
        `type [${firstId + n}] ${BTF_KIND_NAMES[kind as BtfKind]} with vlen ${vlen} needs ${next - p} bytes, only ${end - p} left in the type section`,
      );
    }
    if (words[w]! >= strTotal) {
      fail(p + inputDelta, `type [${firstId + n}] name offset ${words[w]} is past the end of the ${strTotal}-byte string section`);
    }
    if (stride !== 0) {
      for (let q = w + 3, qEnd = next >>> 2; q < qEnd; q += stride) {
        if (words[q]! >= strTotal) {
          fail(q * 4 + inputDelta, `type [${firstId + n}] member name offset ${words[q]} is past the end of the ${strTotal}-byte string section`);
        }
      }
    }
    offsets[n++] = p;
    p = next;
  }
  return offsets.slice(0, n);
}
