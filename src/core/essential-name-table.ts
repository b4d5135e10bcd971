/**
 * CO-RE candidates by hash: the own types of a BTF grouped by the hash of
 * their essential name (names.ts), so that a local type's candidates are
 * found by hashing its name instead of searching the target's string
 * section twice (vmlinux's is 2.3 MB: 1-3 ms a name in a young process,
 * most of a small CO-RE object's relocation). Built from the raw name bytes
 * in one pass and kept beside the kernel BTF index
 * (object/kernel-btf-index-cache.ts), which is where it pays: a table is
 * only worth building once per boot, not once per process.
 *
 * Layout (CSR): bucket b holds entries[bucketStarts[b] .. bucketStarts[b+1]],
 * each the index (id - startId) of a type whose essential name hashes to b,
 * ascending. Every entry is checked by name on lookup, so a collision costs
 * a comparison, never a wrong candidate.
 */
import type { Btf } from "../btf/btf.js";
import { hashBytes } from "../btf/name-index.js";
import { essentialNameEnd } from "./names.js";

export interface EssentialNameTable {
  /** One more than the bucket count, which is a power of two. */
  readonly bucketStarts: Uint32Array;
  readonly entries: Uint32Array;
}

/** Types a kept table is checked on before use. */
const SAMPLES = 32;

/** Where the string section starts in rawBytes() (normalised: header, types, strings). */
function stringsStart(raw: Uint8Array): number {
  return 24 + new DataView(raw.buffer, raw.byteOffset, 24).getUint32(16, true);
}

/** Where the essential part of the name starting at `start` in `raw` ends. */
function essentialEndAt(raw: Uint8Array, start: number): number {
  // parse() checked that the section ends with a NUL and that every name_off lies inside it.
  return essentialNameEnd(raw, start, raw.indexOf(0, start));
}

/** The hash of the essential name of a type named at `nameOff`, or undefined when it has no name. */
function typeHash(raw: Uint8Array, strStart: number, nameOff: number): number | undefined {
  if (nameOff === 0) return undefined;
  const start = strStart + nameOff;
  return hashBytes(raw, start, essentialEndAt(raw, start));
}

/** The table of `btf`'s own types; undefined for split BTF (module BTF: a scan is cheap there). */
export function buildEssentialNameTable(btf: Btf): EssentialNameTable | undefined {
  if (btf.base) return undefined;
  const raw = btf.rawBytes();
  const strStart = stringsStart(raw);
  const { nameOffs } = btf.typeIndex();
  const n = nameOffs.length;
  const hashes = new Uint32Array(n);
  const named = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const h = typeHash(raw, strStart, nameOffs[i]!);
    if (h === undefined) continue;
    hashes[i] = h;
    named[i] = 1;
    count++;
  }
  let buckets = 1;
  while (buckets < count) buckets *= 2;
  const mask = buckets - 1;
  const bucketStarts = new Uint32Array(buckets + 1);
  for (let i = 0; i < n; i++) if (named[i]) bucketStarts[(hashes[i]! & mask) + 1]!++;
  for (let b = 0; b < buckets; b++) bucketStarts[b + 1] = bucketStarts[b + 1]! + bucketStarts[b]!;
  const fill = bucketStarts.slice(0, buckets);
  const entries = new Uint32Array(count);
  for (let i = 0; i < n; i++) if (named[i]) entries[fill[hashes[i]! & mask]!++] = i;
  return { bucketStarts, entries };
}

/** The bucket of `hash`, or undefined when the table's shape does not hold (a damaged kept table). */
function bucket(table: EssentialNameTable, hash: number): [number, number] | undefined {
  const buckets = table.bucketStarts.length - 1;
  const b = hash & (buckets - 1);
  const from = table.bucketStarts[b]!;
  const to = table.bucketStarts[b + 1]!;
  return from <= to && to <= table.entries.length ? [from, to] : undefined;
}

/**
 * Ids of `btf`'s own types whose essential name is `essential`, ascending;
 * undefined when the table is found damaged (the caller searches instead).
 * Names are compared as bytes, as the string searches compare them: two
 * invalid UTF-8 names decode to the same text but are different names.
 */
export function typesWithEssentialName(btf: Btf, table: EssentialNameTable, essential: string): number[] | undefined {
  const wanted = Buffer.from(essential, "utf8");
  const range = bucket(table, hashBytes(wanted));
  if (!range) return undefined;
  const raw = btf.rawBytes();
  const strStart = stringsStart(raw);
  const { nameOffs } = btf.typeIndex();
  const ids: number[] = [];
  let previous = -1;
  for (let k = range[0]; k < range[1]; k++) {
    const index = table.entries[k]!;
    // Built in ascending order of types that exist: anything else is a damaged table.
    if (index <= previous || index >= nameOffs.length) return undefined;
    previous = index;
    const nameOff = nameOffs[index]!;
    if (nameOff === 0) continue;
    const start = strStart + nameOff;
    if (wanted.equals(raw.subarray(start, essentialEndAt(raw, start)))) ids.push(btf.startId + index);
  }
  return ids;
}

/**
 * Whether a kept table has the shape of one built for `btf` and holds a
 * sample of its types (32, spread evenly, and the last) in their buckets: a
 * table from other BTF, or damaged, is not used. Each sample touches a few
 * pages no lookup might (~3 µs a page in a young process): a sample, not a
 * proof; the file it comes from is keyed on this boot's BTF already.
 */
export function essentialNameTableFits(btf: Btf, table: EssentialNameTable): boolean {
  if (btf.base) return false;
  const buckets = table.bucketStarts.length - 1;
  if (buckets < 1 || (buckets & (buckets - 1)) !== 0) return false;
  if (table.bucketStarts[0] !== 0 || table.bucketStarts[buckets] !== table.entries.length) return false;
  const raw = btf.rawBytes();
  const strStart = stringsStart(raw);
  const { nameOffs } = btf.typeIndex();
  const n = nameOffs.length;
  const step = Math.max(1, Math.floor(n / SAMPLES));
  for (let i = 0; i < n; i = i + step < n || i === n - 1 ? i + step : n - 1) {
    const h = typeHash(raw, strStart, nameOffs[i]!);
    if (h === undefined) continue;
    const range = bucket(table, h);
    if (!range || !table.entries.subarray(range[0], range[1]).includes(i)) return false;
  }
  return true;
}

const adopted = new WeakMap<Btf, EssentialNameTable>();

/** Makes candidate searches against `btf` use `table` (built for it, or kept and found to fit). */
export function adoptEssentialNameTable(btf: Btf, table: EssentialNameTable): void {
  adopted.set(btf, table);
}

/** The table adopted for `btf`, if any. */
export function adoptedEssentialNameTable(btf: Btf): EssentialNameTable | undefined {
  return adopted.get(btf);
}
