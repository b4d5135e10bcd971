/**
 * Writes BTF blobs from type objects: for feature probes (a tiny BTF with
 * one FUNC or DATASEC), for synthesised BTF, and for round-trip tests.
 * The output has a 24-byte header, types at offset 0, strings right after,
 * strings de-duplicated, as libbpf and the kernel lay BTF out.
 */
import { TsbpfError } from "../errors.js";
import { BTF_HEADER_SIZE, BTF_MAGIC, BTF_VERSION } from "./scan.js";
import { BTF_KIND_NAMES, BtfKind } from "./types.js";
import type { Btf } from "./btf.js";
import type { BtfType } from "./types.js";

/** A type as given to the builder: ids are assigned in the order types are added. */
export type BtfTypeSpec = BtfType extends infer T ? (T extends BtfType ? Omit<T, "id"> : never) : never;

const encoder = new TextEncoder();

export class BtfBuilder {
  private words = new Uint32Array(1024);
  private len = 0;
  private count = 0;
  private readonly strOffsets = new Map<string, number>([["", 0]]);
  private readonly strParts: Uint8Array[] = [];
  private strLen = 0;
  private readonly firstId: number;
  private readonly strBase: number;

  /**
   * With `base`, writes split BTF: ids continue after the base's and string
   * offsets after the base's strings (offset 0 still means "").
   */
  constructor(opts: { base?: Btf } = {}) {
    this.firstId = opts.base ? opts.base.typeCount : 1;
    this.strBase = opts.base ? opts.base.stringsSize : 0;
    if (!opts.base) {
      // Offset 0 of a non-split string section is the empty string.
      this.strParts.push(new Uint8Array(1));
      this.strLen = 1;
    }
  }

  /** The id the next add() will return. */
  get nextId(): number {
    return this.firstId + this.count;
  }

  /** Offset of `s` in the string section, adding it once. */
  addString(s: string): number {
    let off = this.strOffsets.get(s);
    if (off === undefined) {
      const bytes = encoder.encode(s + "\0");
      if (bytes.indexOf(0) !== bytes.length - 1) throw new TsbpfError(`BTF string ${JSON.stringify(s)} contains a NUL`);
      off = this.strBase + this.strLen;
      this.strParts.push(bytes);
      this.strLen += bytes.length;
      this.strOffsets.set(s, off);
    }
    return off;
  }

  /** Appends a type and returns its id. */
  add(t: BtfTypeSpec): number {
    const name = this.addString(t.name);
    const head = (vlen: number, kflag: boolean, sizeOrType: number): void => {
      if (vlen > 0xffff) throw new TsbpfError(`BTF ${BTF_KIND_NAMES[t.kind]} '${t.name}' has ${vlen} entries, more than vlen's 65535`);
      this.push(name, ((kflag ? 1 : 0) << 31) | (t.kind << 24) | vlen, sizeOrType);
    };
    switch (t.kind) {
      case BtfKind.Void:
        throw new TsbpfError("void (id 0) is implicit and cannot be encoded");
      case BtfKind.Int:
        head(0, false, t.size);
        this.push(((t.encoding & 0x0f) << 24) | ((t.bitOffset & 0xff) << 16) | (t.bits & 0xff));
        break;
      case BtfKind.Ptr:
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
        head(0, false, t.type);
        break;
      case BtfKind.Array:
        head(0, false, 0);
        this.push(t.elemType, t.indexType, t.nelems);
        break;
      case BtfKind.Struct:
      case BtfKind.Union:
        head(t.members.length, t.kindFlag, t.size);
        for (const m of t.members) {
          // Without kind_flag the offset field holds only the bit offset (no bitfield size).
          if (!t.kindFlag && m.bitfieldSize !== 0) {
            throw new TsbpfError(`member '${m.name}' of '${t.name}' is a bitfield but kindFlag is false`);
          }
          if (t.kindFlag && (m.bitOffset > 0xffffff || m.bitfieldSize > 0xff)) {
            throw new TsbpfError(`member '${m.name}' of '${t.name}' does not fit kind_flag's 24-bit offset / 8-bit size`);
          }
          this.push(this.addString(m.name), m.type, t.kindFlag ? (m.bitfieldSize << 24) | m.bitOffset : m.bitOffset);
        }
        break;
      case BtfKind.Enum:
        head(t.values.length, t.signed, t.size);
        for (const v of t.values) {
          if (v.value < -(1n << 31n) || v.value >= 1n << 32n) throw new TsbpfError(`enum value ${v.name}=${v.value} does not fit 32 bits`);
          this.push(this.addString(v.name), Number(BigInt.asUintN(32, v.value)));
        }
        break;
      case BtfKind.Enum64:
        head(t.values.length, t.signed, t.size);
        for (const v of t.values) {
          if (v.value < -(1n << 63n) || v.value >= 1n << 64n) throw new TsbpfError(`enum value ${v.name}=${v.value} does not fit 64 bits`);
          const u = BigInt.asUintN(64, v.value);
          this.push(this.addString(v.name), Number(u & 0xffffffffn), Number(u >> 32n));
        }
        break;
      case BtfKind.Fwd:
        head(0, t.union, 0);
        break;
      case BtfKind.Func:
        // FUNC keeps its linkage in vlen.
        head(t.linkage, false, t.type);
        break;
      case BtfKind.FuncProto:
        head(t.params.length, false, t.returnType);
        for (const p of t.params) this.push(this.addString(p.name), p.type);
        break;
      case BtfKind.Var:
        head(0, false, t.type);
        this.push(t.linkage);
        break;
      case BtfKind.Datasec:
        head(t.vars.length, false, t.size);
        for (const v of t.vars) this.push(v.type, v.offset, v.size);
        break;
      case BtfKind.Float:
        head(0, false, t.size);
        break;
      case BtfKind.DeclTag:
        head(0, false, t.type);
        this.push(t.componentIdx);
        break;
    }
    return this.firstId + this.count++;
  }

  /** The BTF blob: header, types, strings. */
  encode(): Uint8Array {
    const typeLen = this.len * 4;
    const out = new Uint8Array(BTF_HEADER_SIZE + typeLen + this.strLen);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, BTF_MAGIC, true);
    dv.setUint8(2, BTF_VERSION);
    dv.setUint8(3, 0);
    dv.setUint32(4, BTF_HEADER_SIZE, true);
    dv.setUint32(8, 0, true);
    dv.setUint32(12, typeLen, true);
    dv.setUint32(16, typeLen, true);
    dv.setUint32(20, this.strLen, true);
    out.set(new Uint8Array(this.words.buffer, 0, typeLen), BTF_HEADER_SIZE);
    let at = BTF_HEADER_SIZE + typeLen;
    for (const part of this.strParts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  private push(...values: number[]): void {
    if (this.len + values.length > this.words.length) {
      const next = new Uint32Array(this.words.length * 2 + values.length);
      next.set(this.words.subarray(0, this.len));
      this.words = next;
    }
    // Uint32Array stores modulo 2^32, so negative s32 fields (component_idx) encode as two's complement.
    for (const v of values) this.words[this.len++] = v;
  }
}

/** Encodes `types` in order as ids 1, 2, …; void entries (id 0 is implicit) are skipped. */
export function encodeBtf(types: Iterable<BtfType>): Uint8Array {
  const b = new BtfBuilder();
  for (const t of types) {
    if (t.kind === BtfKind.Void) continue;
    b.add(t);
  }
  return b.encode();
}
