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
  /** name_off of each type record, in id order (a compact copy, for name lookups). */
  nameOffs: Uint32Array;
  /** Byte offset of the string section in `raw`. */
  strStart: number;
  strLen: number;
  /** Added to an offset in `raw`'s type section to give the offset in the input. */
  inputDelta: number;
}

/** Where each type record starts and its name_off, by id - first id: what a scan finds. */
export interface BtfTypeIndex {
  readonly offsets: Uint32Array;
  readonly nameOffs: Uint32Array;
}

/**
 * With `index` (a scan's result kept from an earlier run), a blob it fits is
 * not walked again: see typeIndexFits.
 *
 * With `inPlace`, input already in the normalised layout (24-byte header,
 * types right after it, strings right after the types) and 4-byte aligned
 * is used as it is, without a copy: kernel BTF is laid out that way.
 */
export function scanBtf(
  bytes: Uint8Array,
  where: string,
  base: ScanBase | undefined,
  inPlace = false,
  fromKernel = false,
  index?: BtfTypeIndex,
): ScannedBtf {
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
  const typeOff = dv.getUint32(8, true);
  const typeLen = dv.getUint32(12, true);
  const strOff = dv.getUint32(16, true);
  const strLen = dv.getUint32(20, true);
  const dataLen = bytes.byteLength - hdrLen;
  // A longer header describes more sections of a newer format (kernels 6.19+: layout_off and
  // layout_len, the size of each kind's records). tsbpf reads only types and strings, which
  // the first 24 bytes locate, so like libbpf it ignores the rest; the known layout section
  // must still lie inside the blob.
  if (hdrLen >= BTF_HEADER_SIZE + 8) {
    const layoutOff = dv.getUint32(24, true);
    const layoutLen = dv.getUint32(28, true);
    if (layoutLen !== 0 && (layoutOff % 4 !== 0 || layoutOff + layoutLen > dataLen)) {
      fail(
        24,
        `layout section (offset ${layoutOff}, length ${layoutLen}) is unaligned or runs past the end of the ${dataLen} bytes after the header`,
      );
    }
  }
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

  const strStart = BTF_HEADER_SIZE + typeLen;
  let raw: Uint8Array;
  if (inPlace && hdrLen === BTF_HEADER_SIZE && typeOff === 0 && strOff === typeLen && bytes.byteOffset % 4 === 0) {
    raw = bytes.subarray(0, strStart + strLen);
  } else {
    // Copy into a fresh, aligned buffer: Uint32Array access needs alignment, and in-place
    // patches (DATASEC fix-ups, sanitising) must not write into the caller's ELF bytes.
    raw = new Uint8Array((strStart + strLen + 3) & ~3);
    raw.set(bytes.subarray(0, 4));
    const rdv = new DataView(raw.buffer);
    rdv.setUint32(4, BTF_HEADER_SIZE, true);
    rdv.setUint32(8, 0, true);
    rdv.setUint32(12, typeLen, true);
    rdv.setUint32(16, typeLen, true);
    rdv.setUint32(20, strLen, true);
    raw.set(bytes.subarray(hdrLen + typeOff, hdrLen + typeOff + typeLen), BTF_HEADER_SIZE);
    raw.set(bytes.subarray(strIn, strIn + strLen), strStart);
  }

  const inputDelta = hdrLen + typeOff - BTF_HEADER_SIZE;
  const firstId = base ? base.typeCount : 1;
  const strTotal = (base ? base.stringsSize : 0) + strLen;
  const { offsets, nameOffs } =
    index && indexFits(raw, typeLen, strTotal, index) ? index : scanTypes(raw, typeLen, firstId, strTotal, inputDelta, fail, !fromKernel);
  return { raw, offsets, nameOffs, strStart, strLen, inputDelta };
}

/**
 * The trailer after each kind's 12-byte `struct btf_type`, as tables so the
 * scan's loop has no switch (vmlinux: ~127k records and ~170k trailer name
 * offsets, walked once per process, mostly before V8 has optimised the
 * loop, so every bytecode per record counts):
 *   TRAILER_FIXED  bytes regardless of vlen, -1 for an unknown kind
 *   TRAILER_PER    bytes per vlen entry
 *   TRAILER_NAMES  stride in words of entries that start with a name_off (0: none)
 */
const TRAILER_FIXED = new Int8Array(32).fill(-1);
const TRAILER_PER = new Uint8Array(32);
const TRAILER_NAMES = new Uint8Array(32);
for (const [kind, fixed, per, names] of [
  [BtfKind.Int, 4, 0, 0], // u32 encoding/offset/bits
  [BtfKind.Ptr, 0, 0, 0],
  [BtfKind.Array, 12, 0, 0], // type, index_type, nelems
  [BtfKind.Struct, 0, 12, 3], // name_off, type, offset
  [BtfKind.Union, 0, 12, 3],
  [BtfKind.Enum, 0, 8, 2], // name_off, val
  [BtfKind.Fwd, 0, 0, 0],
  [BtfKind.Typedef, 0, 0, 0],
  [BtfKind.Volatile, 0, 0, 0],
  [BtfKind.Const, 0, 0, 0],
  [BtfKind.Restrict, 0, 0, 0],
  [BtfKind.Func, 0, 0, 0], // linkage is in vlen
  [BtfKind.FuncProto, 0, 8, 2], // name_off, type
  [BtfKind.Var, 4, 0, 0], // u32 linkage
  [BtfKind.Datasec, 0, 12, 0], // type, offset, size
  [BtfKind.Float, 0, 0, 0],
  [BtfKind.DeclTag, 4, 0, 0], // s32 component_idx
  [BtfKind.TypeTag, 0, 0, 0],
  [BtfKind.Enum64, 0, 12, 3], // name_off, val_lo32, val_hi32
] as const) {
  TRAILER_FIXED[kind] = fixed;
  TRAILER_PER[kind] = per;
  TRAILER_NAMES[kind] = names;
}

const NO_TRAILER_NAMES = new Uint8Array(32);

/**
 * Records each type's offset and checks that its kind is known, its record
 * (with `vlen` trailers) fits, and every name offset in it is inside the
 * string section. Referenced type ids are checked later, on decode. Also
 * copies each type's name_off into one compact array, for name lookups.
 */
function scanTypes(
  raw: Uint8Array,
  typeLen: number,
  firstId: number,
  strTotal: number,
  inputDelta: number,
  fail: (offset: number, problem: string) => never,
  checkMemberNames: boolean,
): { offsets: Uint32Array; nameOffs: Uint32Array } {
  const words = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength >>> 2);
  const end = BTF_HEADER_SIZE + typeLen;
  const offsets = new Uint32Array(Math.floor(typeLen / BTF_TYPE_SIZE));
  const nameOffs = new Uint32Array(offsets.length);
  const fixedOf = TRAILER_FIXED;
  const perOf = TRAILER_PER;
  const namesOf = checkMemberNames ? TRAILER_NAMES : NO_TRAILER_NAMES;
  let n = 0;
  let p = BTF_HEADER_SIZE;
  while (p < end) {
    if (p + BTF_TYPE_SIZE > end) fail(p + inputDelta, `truncated type record: ${end - p} bytes left, a type needs ${BTF_TYPE_SIZE}`);
    const w = p >>> 2;
    const nameOff = words[w]!;
    const info = words[w + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const fixed = fixedOf[kind]!;
    if (fixed < 0) fail(p + inputDelta, `type [${firstId + n}] has unknown kind ${kind}`);
    const next = p + BTF_TYPE_SIZE + fixed + (info & 0xffff) * perOf[kind]!;
    if (next > end) {
      fail(
        p + inputDelta,
        `type [${firstId + n}] ${BTF_KIND_NAMES[kind as BtfKind]} with vlen ${info & 0xffff} needs ${next - p} bytes, only ${end - p} left in the type section`,
      );
    }
    if (nameOff >= strTotal) {
      fail(p + inputDelta, `type [${firstId + n}] name offset ${nameOff} is past the end of the ${strTotal}-byte string section`);
    }
    const stride = namesOf[kind]!;
    if (stride !== 0) {
      for (let q = w + 3, qEnd = next >>> 2; q < qEnd; q += stride) {
        if (words[q]! >= strTotal) {
          fail(
            q * 4 + inputDelta,
            `type [${firstId + n}] member name offset ${words[q]} is past the end of the ${strTotal}-byte string section`,
          );
        }
      }
    }
    nameOffs[n] = nameOff;
    offsets[n++] = p;
    p = next;
  }
  // Views, not copies: the untouched tail of an over-sized array is never faulted in.
  return { offsets: offsets.subarray(0, n), nameOffs: nameOffs.subarray(0, n) };
}

/** Where the record at byte `p` ends, from its kind and vlen; -1 for an unknown kind. */
function recordEnd(words: Uint32Array, p: number): number {
  const info = words[(p >>> 2) + 1]!;
  const kind = (info >>> 24) & 0x1f;
  const fixed = TRAILER_FIXED[kind]!;
  return fixed < 0 ? -1 : p + BTF_TYPE_SIZE + fixed + (info & 0xffff) * TRAILER_PER[kind]!;
}

/**
 * Every INDEX_SAMPLE-th entry of an index is checked against the records
 * (vmlinux: ~250 of 127k). Each check touches pages of the index and of the
 * records that a load may never read (~3 µs a page in a young process):
 * every 61st cost ~3.5 ms of a 6 ms parse.
 */
const INDEX_SAMPLE = 499;

/**
 * Whether `index` is what a scan of these types would give, as far as a
 * sample shows: its sizes, the first record, every INDEX_SAMPLE-th record and
 * the last one (each starts where the record before it ends, and its name_off
 * is the index's), and the end of the type section. An index kept for other
 * bytes (another kernel, a damaged file) fails at once; one made to fit the
 * sample but wrong elsewhere is not caught here — types decoded through it
 * are still bounds-checked, as for any BTF.
 */
function indexFits(raw: Uint8Array, typeLen: number, strTotal: number, index: BtfTypeIndex): boolean {
  const { offsets, nameOffs } = index;
  const n = offsets.length;
  if (n === 0 || nameOffs.length !== n || n > Math.floor(typeLen / BTF_TYPE_SIZE)) return false;
  const words = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength >>> 2);
  const end = BTF_HEADER_SIZE + typeLen;
  if (offsets[0] !== BTF_HEADER_SIZE) return false;
  for (let i = 0; ; i = Math.min(i + INDEX_SAMPLE, n - 1)) {
    const p = offsets[i]!;
    if (p % 4 !== 0 || p + BTF_TYPE_SIZE > end) return false;
    const next = recordEnd(words, p);
    if (next < 0 || next > end || (i + 1 < n ? offsets[i + 1] !== next : next !== end)) return false;
    if (nameOffs[i] !== words[p >>> 2] || nameOffs[i]! >= strTotal) return false;
    if (i === n - 1) return true;
  }
}

/** Whether `index` fits BTF `bytes` (complete BTF in the normalised layout, as kernel BTF is), by indexFits's sample. */
export function typeIndexFits(bytes: Uint8Array, index: BtfTypeIndex): boolean {
  if (bytes.byteLength < BTF_HEADER_SIZE || bytes.byteOffset % 4 !== 0) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [hdrLen, typeOff, typeLen, strOff, strLen] = [4, 8, 12, 16, 20].map((o) => dv.getUint32(o, true)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (hdrLen !== BTF_HEADER_SIZE || typeOff !== 0 || strOff !== typeLen || BTF_HEADER_SIZE + typeLen + strLen > bytes.byteLength)
    return false;
  return indexFits(bytes, typeLen, strLen, index);
}
