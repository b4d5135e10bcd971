/**
 * Name → type ids for one BTF blob, without decoding its strings: names are
 * hashed straight from the string-table bytes into a chained hash table of
 * typed arrays, and a lookup compares bytes. For vmlinux this is one pass
 * over ~127k name offsets instead of ~127k string allocations.
 */

/** FNV-1a over the NUL-terminated bytes at `at`. */
export function hashCString(bytes: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  for (let c = bytes[at]!; c !== 0; c = bytes[++at]!) h = Math.imul(h ^ c, 0x01000193);
  return h >>> 0;
}

/** FNV-1a over `bytes`, equal to hashCString of the same bytes NUL-terminated. */
export function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** How the index reads its blob's names: by string offset. */
export interface NameSource {
  /** Number of types indexed (local indexes 0..count-1). */
  count: number;
  /** The name_off of local type `i`; 0 means anonymous and is not indexed. */
  nameOffset(i: number): number;
  hashAt(nameOff: number): number;
  equalsAt(nameOff: number, q: Uint8Array): boolean;
}

const encoder = new TextEncoder();

export class NameIndex {
  private readonly mask: number;
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly hashes: Uint32Array;

  constructor(private readonly src: NameSource) {
    const n = src.count;
    let size = 1024;
    while (size < n * 2) size *= 2;
    this.mask = size - 1;
    this.head = new Int32Array(size).fill(-1);
    this.next = new Int32Array(n);
    this.hashes = new Uint32Array(n);
    // Walk backwards so each chain lists types in ascending order.
    for (let i = n - 1; i >= 0; i--) {
      const off = src.nameOffset(i);
      if (off === 0) continue;
      const h = src.hashAt(off);
      this.hashes[i] = h;
      this.next[i] = this.head[h & this.mask]!;
      this.head[h & this.mask] = i;
    }
  }

  /** Local indexes of the types named `name`, ascending. */
  lookup(name: string): number[] {
    const found: number[] = [];
    if (name === "") return found;
    const q = encoder.encode(name);
    const h = hashBytes(q);
    for (let i = this.head[h & this.mask]!; i >= 0; i = this.next[i]!) {
      if (this.hashes[i] === h && this.src.equalsAt(this.src.nameOffset(i), q)) found.push(i);
    }
    return found;
  }
}
