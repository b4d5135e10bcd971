/**
 * Appending types to an existing BTF blob without moving any type: new
 * records go after the last type, new strings after the last string, and
 * the header's lengths follow. Existing ids and string offsets stay valid.
 */
import type { Btf } from "./btf.js";
import { BTF_HEADER_SIZE } from "./scan.js";
import type { BtfKind } from "./types.js";

export interface NewType {
  name: string;
  kind: BtfKind;
  vlen?: number;
  kflag?: boolean;
  /** The size-or-type word. */
  sizeOrType: number;
  /** Kind-specific words after the 12-byte header. */
  extra?: number[];
}

/** Returns the new blob and the id of the first appended type. */
export function appendTypes(btf: Btf, raw: Uint8Array, types: NewType[]): { bytes: Uint8Array; firstId: number } {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const typeLen = v.getUint32(12, true);
  const strLen = v.getUint32(20, true);
  const strBase = btf.base ? btf.base.stringsSize : 0;
  const enc = new TextEncoder();
  const names: Uint8Array[] = [];
  let addedStr = 0;
  const words: number[] = [];
  for (const t of types) {
    let nameOff = 0;
    if (t.name) {
      nameOff = strBase + strLen + addedStr;
      const b = enc.encode(t.name + "\0");
      names.push(b);
      addedStr += b.length;
    }
    words.push(nameOff, ((t.kflag ? 1 : 0) << 31) | (t.kind << 24) | (t.vlen ?? 0), t.sizeOrType, ...(t.extra ?? []));
  }
  const addedTypes = words.length * 4;
  const out = new Uint8Array(raw.length + addedTypes + addedStr);
  const o = new DataView(out.buffer);
  out.set(raw.subarray(0, BTF_HEADER_SIZE + typeLen));
  let at = BTF_HEADER_SIZE + typeLen;
  for (const w of words) {
    o.setUint32(at, w >>> 0, true);
    at += 4;
  }
  out.set(raw.subarray(BTF_HEADER_SIZE + typeLen, BTF_HEADER_SIZE + typeLen + strLen), at);
  at += strLen;
  for (const n of names) {
    out.set(n, at);
    at += n.length;
  }
  o.setUint32(12, typeLen + addedTypes, true); // type_len
  o.setUint32(16, typeLen + addedTypes, true); // str_off (strings follow the types)
  o.setUint32(20, strLen + addedStr, true); // str_len
  return { bytes: out, firstId: btf.typeCount };
}
