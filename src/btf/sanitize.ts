/**
 * Sanitisation: rewrite BTF kinds an older kernel does not know into kinds
 * it does, keeping every record's size so no type id moves (libbpf's
 * bpf_object__sanitize_btf). Which kinds are missing comes from feature
 * probes (object/kernel-features.ts); this file is pure.
 *
 *   no DATASEC/VAR  VAR → 1-byte INT; DATASEC → STRUCT with one member per
 *                   variable (dots in its name become '_', C needs identifiers)
 *   no FUNC         FUNC_PROTO → ENUM (params become enumerators); FUNC → TYPEDEF
 *   no global FUNC  global linkage → static
 *   no FLOAT        FLOAT → anonymous empty STRUCT of the same size
 *   no DECL_TAG     DECL_TAG → 1-byte INT
 *   no TYPE_TAG     TYPE_TAG → anonymous CONST
 *   no ENUM64       ENUM64 → UNION of 8-byte INT members (one appended INT
 *                   type), and the signedness flag on ENUM is cleared
 */
import type { Btf } from "./btf.js";
import { appendTypes } from "./append.js";
import { BTF_HEADER_SIZE } from "./scan.js";
import { BtfKind } from "./types.js";

export interface BtfFeatures {
  /** BTF itself can be loaded. */
  btf: boolean;
  func: boolean;
  globalFunc: boolean;
  datasec: boolean;
  float: boolean;
  declTag: boolean;
  typeTag: boolean;
  enum64: boolean;
}

export const ALL_BTF_FEATURES: BtfFeatures = {
  btf: true,
  func: true,
  globalFunc: true,
  datasec: true,
  float: true,
  declTag: true,
  typeTag: true,
  enum64: true,
};

const info = (kind: BtfKind, vlen: number, kflag = false): number => ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
/** BTF_INT_ENC(encoding 0, offset 0, bits 8): a plain byte. */
const INT_BYTE = 8;
const HDR = 12;

/** Whether sanitising for `features` changes anything in this BTF. */
export function needsSanitizing(btf: Btf, f: BtfFeatures): boolean {
  for (let id = btf.startId; id < btf.typeCount; id++) {
    const k = btf.kind(id);
    if (
      (!f.datasec && (k === BtfKind.Var || k === BtfKind.Datasec)) ||
      (!f.func && (k === BtfKind.Func || k === BtfKind.FuncProto)) ||
      (!f.globalFunc && k === BtfKind.Func) ||
      (!f.float && k === BtfKind.Float) ||
      (!f.declTag && k === BtfKind.DeclTag) ||
      (!f.typeTag && k === BtfKind.TypeTag) ||
      (!f.enum64 && (k === BtfKind.Enum64 || k === BtfKind.Enum))
    ) {
      return true;
    }
  }
  return false;
}

/** A sanitised copy of the BTF's bytes (the input is not modified). */
export function sanitizeBtf(btf: Btf, f: BtfFeatures): Uint8Array {
  let raw: Uint8Array = btf.rawBytes().slice();
  let view = new DataView(raw.buffer);
  let enum64Placeholder = 0;

  if (!f.enum64 && hasKind(btf, BtfKind.Enum64)) {
    ({ raw, id: enum64Placeholder } = appendPlaceholderInt(btf, raw));
    view = new DataView(raw.buffer);
  }

  // Record offsets do not move: the placeholder is appended after every type.
  for (let id = btf.startId; id < btf.typeCount; id++) {
    const at = btf.typeOffset(id);
    const word1 = view.getUint32(at + 4, true);
    const kind = ((word1 >>> 24) & 0x1f) as BtfKind;
    const vlen = word1 & 0xffff;
    const setInfo = (k: BtfKind, n: number, kflag = false) => view.setUint32(at + 4, info(k, n, kflag), true);
    const makeByteInt = () => {
      setInfo(BtfKind.Int, 0);
      view.setUint32(at + 8, 1, true);
      view.setUint32(at + HDR, INT_BYTE, true);
    };
    if (!f.datasec && kind === BtfKind.Var) {
      makeByteInt();
    } else if (!f.datasec && kind === BtfKind.Datasec) {
      underscoreDots(raw, btf, view.getUint32(at, true));
      setInfo(BtfKind.Struct, vlen);
      for (let i = 0; i < vlen; i++) {
        const rec = at + HDR + i * 12;
        // secinfo {type, offset, size} → member {name_off, type, bit offset}
        const varId = view.getUint32(rec, true);
        const offset = view.getUint32(rec + 4, true);
        view.setUint32(rec, btf.nameOffset(varId), true);
        view.setUint32(rec + 4, varId, true);
        view.setUint32(rec + 8, offset * 8, true);
      }
    } else if (!f.func && kind === BtfKind.FuncProto) {
      setInfo(BtfKind.Enum, vlen);
      view.setUint32(at + 8, 4, true); // the kernel insists enums are 4 bytes here
    } else if (!f.func && kind === BtfKind.Func) {
      setInfo(BtfKind.Typedef, 0);
    } else if (!f.globalFunc && kind === BtfKind.Func) {
      setInfo(BtfKind.Func, 0); // linkage lives in vlen: 0 = static
    } else if (!f.float && kind === BtfKind.Float) {
      view.setUint32(at, 0, true);
      setInfo(BtfKind.Struct, 0);
    } else if (!f.declTag && kind === BtfKind.DeclTag) {
      view.setUint32(at, 0, true);
      makeByteInt();
    } else if (!f.typeTag && kind === BtfKind.TypeTag) {
      view.setUint32(at, 0, true);
      setInfo(BtfKind.Const, 0);
    } else if (!f.enum64 && kind === BtfKind.Enum) {
      setInfo(BtfKind.Enum, vlen, false);
    } else if (!f.enum64 && kind === BtfKind.Enum64) {
      setInfo(BtfKind.Union, vlen);
      for (let i = 0; i < vlen; i++) {
        const rec = at + HDR + i * 12;
        // enum64 value {name_off, lo32, hi32} → member {name_off, type, 0}
        view.setUint32(rec + 4, enum64Placeholder, true);
        view.setUint32(rec + 8, 0, true);
      }
    }
  }
  return raw;
}

function hasKind(btf: Btf, kind: BtfKind): boolean {
  for (let id = btf.startId; id < btf.typeCount; id++) if (btf.kind(id) === kind) return true;
  return false;
}

function underscoreDots(raw: Uint8Array, btf: Btf, nameOff: number): void {
  // Own strings start right after the types in the normalised layout.
  const strStart = BTF_HEADER_SIZE + new DataView(raw.buffer).getUint32(12, true);
  const base = btf.base ? btf.base.stringsSize : 0;
  for (let i = strStart + nameOff - base; i < raw.length && raw[i] !== 0; i++) {
    if (raw[i] === 0x2e) raw[i] = 0x5f;
  }
}

/** Appends `int enum64_placeholder` (8 bytes) after the last type; returns the new bytes and its id. */
function appendPlaceholderInt(btf: Btf, raw: Uint8Array): { raw: Uint8Array; id: number } {
  const { bytes, firstId } = appendTypes(btf, raw, [
    { name: "enum64_placeholder", kind: BtfKind.Int, sizeOrType: 8, extra: [64] }, // BTF_INT_ENC(0, 0, 64)
  ]);
  return { raw: bytes, id: firstId };
}
