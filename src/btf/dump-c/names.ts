/**
 * Names in the C header. Names that clash (two `struct foo`s from different
 * kernel units) get `___2`, `___3`, … suffixes in the order they are first
 * written, counted per C namespace (tags; typedefs and enumerators) by
 * NameCounter without ever decoding a name. Also the writers of tag
 * references (`struct foo___2`), which everything that names a type uses.
 */
import { hashCString } from "../name-index.js";
import { Kind } from "./kinds.js";
import type { DumpState } from "./state.js";

/**
 * How often each name has been used, keyed by the name's bytes in the
 * string table (C's strcmp equality) so that names are never decoded: an
 * open-addressing hash table of typed arrays.
 */
export class NameCounter {
  private at: Int32Array;
  private hashes: Uint32Array;
  private counts: Uint32Array;
  private mask: number;
  private used = 0;

  /** `expected`: about how many names will be counted (sizing up front avoids rehashing). */
  constructor(
    private readonly strs: Uint8Array,
    expected: number,
  ) {
    let size = 1024;
    while (size < expected * 2) size *= 2;
    this.at = new Int32Array(size).fill(-1);
    this.hashes = new Uint32Array(size);
    this.counts = new Uint32Array(size);
    this.mask = size - 1;
  }

  /** Counts one more use of the string at `pos` and returns the uses so far. */
  bump(pos: number): number {
    const strs = this.strs;
    const h = hashCString(strs, pos);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const q = this.at[i]!;
      if (q === -1) {
        this.at[i] = pos;
        this.hashes[i] = h;
        this.counts[i] = 1;
        if (++this.used * 2 > this.at.length) this.grow();
        return 1;
      }
      if (this.hashes[i] === h && (q === pos || sameCString(strs, q, pos))) return ++this.counts[i]!;
    }
  }

  private grow(): void {
    const { at, hashes, counts } = this;
    const size = at.length * 2;
    this.at = new Int32Array(size).fill(-1);
    this.hashes = new Uint32Array(size);
    this.counts = new Uint32Array(size);
    this.mask = size - 1;
    for (let j = 0; j < at.length; j++) {
      if (at[j] === -1) continue;
      let i = hashes[j]! & this.mask;
      while (this.at[i] !== -1) i = (i + 1) & this.mask;
      this.at[i] = at[j]!;
      this.hashes[i] = hashes[j]!;
      this.counts[i] = counts[j]!;
    }
  }
}

function sameCString(s: Uint8Array, a: number, b: number): boolean {
  for (;;) {
    const c = s[a++]!;
    if (c !== s[b++]) return false;
    if (c === 0) return true;
  }
}

/** Assigns `id` its `___N` suffix the first time its name is written (libbpf's btf_dump_resolve_name). */
export function resolveName(d: DumpState, id: number, names: NameCounter): void {
  if (d.nameResolved[id]) return;
  const off = d.nameOff(id);
  if (off === 0) return;
  d.nameResolved[id] = 1;
  const kind = d.kind(id);
  // Forward declarations and empty enums may repeat without clashing.
  if (kind === Kind.FWD || (kind === Kind.ENUM && d.vlen(id) === 0)) return;
  const dup = names.bump(d.strStart + off);
  if (dup > 1) d.nameDup[id] = dup;
}

export function writeResolvedName(d: DumpState, id: number): void {
  d.writeString(d.nameOff(id));
  const dup = d.nameDup[id]!;
  if (dup) {
    d.out.text("___");
    d.out.num(dup);
  }
}

/** A struct / union / enum / fwd tag, made unique. */
export function writeTypeName(d: DumpState, id: number): void {
  resolveName(d, id, d.typeNames);
  writeResolvedName(d, id);
}

/** `struct foo` / `union foo` (just the keyword when anonymous), for a forward declaration or a reference. */
export function emitStructFwd(d: DumpState, id: number): void {
  d.out.text(d.kind(id) === Kind.STRUCT ? "struct" : "union");
  if (d.nameOff(id) !== 0) {
    d.out.byte(32);
    writeTypeName(d, id);
  }
}

/** A BTF_KIND_FWD: `struct foo` or, with kind_flag, `union foo`. */
export function emitFwdDef(d: DumpState, id: number): void {
  d.out.text(d.w[d.at[id]! + 1]! >>> 31 ? "union " : "struct ");
  writeTypeName(d, id);
}
