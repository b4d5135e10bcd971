/**
 * Name → type ids for one BTF blob, without decoding or hashing its strings.
 *
 * A lookup (Btf.idsByName) has two halves:
 *   1. where the name occurs in the string section: a native
 *      `Buffer.indexOf` of the name's bytes plus its NUL, which finds every
 *      string offset whose string is exactly the name (suffix-shared strings
 *      included);
 *   2. which types have such a string offset as their name_off: a native
 *      search of the 4-byte offset in the compact array of every type's
 *      name_off (made by the scan), or, when a name occurs at many offsets,
 *      this chained hash table keyed by name_off, built once on demand.
 *
 * For vmlinux (~127k types, 2.5 MB of strings) nothing is built up front
 * and no name is hashed or decoded: a lookup is two native scans. Names are
 * looked up a few times per object (CO-RE roots, ksyms, attach targets) and
 * Btf caches the answers.
 */

/** FNV-1a over the NUL-terminated bytes at `at`. */
export function hashCString(bytes: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  for (let c = bytes[at]!; c !== 0; c = bytes[++at]!) h = Math.imul(h ^ c, 0x01000193);
  return h >>> 0;
}

/** FNV-1a over bytes[start, end), equal to hashCString of the same bytes NUL-terminated. */
export function hashBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** name_off → local type indexes (0..count-1), ascending. Offset 0 (anonymous) is not indexed. */
export class NameOffsetIndex {
  private readonly shift: number;
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly keys: Uint32Array;

  /** @param nameOffs each type's name_off, by local index */
  constructor(nameOffs: Uint32Array) {
    const count = nameOffs.length;
    let bits = 10;
    while (1 << bits < count * 2) bits++;
    this.shift = 32 - bits;
    const head = new Int32Array(1 << bits).fill(-1);
    const next = new Int32Array(count);
    const shift = this.shift;
    // Walk backwards so each chain lists types in ascending order.
    for (let i = count - 1; i >= 0; i--) {
      const off = nameOffs[i]!;
      if (off === 0) continue;
      const slot = Math.imul(off, 0x9e3779b1) >>> shift;
      next[i] = head[slot]!;
      head[slot] = i;
    }
    this.head = head;
    this.next = next;
    this.keys = nameOffs;
  }

  /** Appends the local indexes of the types whose name_off is `nameOff` to `out`, ascending. */
  collect(nameOff: number, out: number[]): void {
    if (nameOff === 0) return;
    for (let i = this.head[Math.imul(nameOff, 0x9e3779b1) >>> this.shift]!; i >= 0; i = this.next[i]!) {
      if (this.keys[i] === nameOff) out.push(i);
    }
  }
}
