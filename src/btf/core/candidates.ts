/**
 * Candidate search: the target types a local type may correspond to are
 * those of a CO-RE-compatible kind (ENUM and ENUM64 count as one) whose name
 * equals the local name once both lose their `___flavor` suffix.
 *
 * libbpf scans every target type for each local type. Here the target's
 * name index does the work: ids named exactly the essential name come from
 * Btf.idsByName, and the few flavored names in the target (kernel BTF has a
 * handful) are found once by scanning its string section for `___`. The
 * result is cached per target BTF under (essential name, kind class), so
 * every object relocated against the same kernel BTF shares it.
 *
 * libbpf also narrows a local type's candidate list to the candidates that
 * matched, each time a relocation against that type succeeds, for the rest
 * of the object. CoreCache keeps that per-object state.
 */
import type { Btf } from "../btf.js";
import { BtfKind } from "../types.js";
import { kindClass } from "./compat.js";
import { essentialName } from "./names.js";

const decoder = new TextDecoder();

/** What is cached about one target BTF; shared by every CoreCache. */
class TargetIndex {
  /** Essential name → the flavored names (containing a `___` separator) that reduce to it. */
  private flavored: Map<string, string[]> | undefined;
  private readonly lists = new Map<string, readonly number[]>();

  constructor(private readonly btf: Btf) {}

  candidates(essential: string, kind: BtfKind): readonly number[] {
    const cls = kindClass(kind);
    const key = `${cls}:${essential}`;
    let ids = this.lists.get(key);
    if (ids === undefined) {
      ids = this.search(essential, cls);
      this.lists.set(key, ids);
    }
    return ids;
  }

  private search(essential: string, cls: BtfKind): readonly number[] {
    const btf = this.btf;
    const found: number[] = [];
    const add = (name: string): void => {
      for (const id of btf.idsByName(name)) if (kindClass(btf.kind(id)) === cls) found.push(id);
    };
    // A name that itself carries a flavor suffix is not its own essential name.
    if (essentialName(essential) === essential) add(essential);
    for (const name of this.flavoredNames().get(essential) ?? []) add(name);
    if (found.length > 1) {
      found.sort((a, b) => a - b);
      // A type may be reached through more than one name list only if names repeat; keep ids unique.
      for (let i = found.length - 1; i > 0; i--) if (found[i] === found[i - 1]) found.splice(i, 1);
    }
    return Object.freeze(found);
  }

  private flavoredNames(): Map<string, string[]> {
    if (this.flavored) return this.flavored;
    const map = new Map<string, string[]>();
    for (let btf: Btf | undefined = this.btf; btf; btf = btf.base) {
      for (const name of stringsWithSeparator(btf)) {
        const essential = essentialName(name);
        if (essential === name) continue;
        const list = map.get(essential);
        if (!list) map.set(essential, [name]);
        else if (!list.includes(name)) list.push(name);
      }
    }
    this.flavored = map;
    return map;
  }
}

/** Every string of `btf`'s own string section that contains "___". */
function stringsWithSeparator(btf: Btf): string[] {
  const raw = btf.rawBytes();
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const hdrLen = dv.getUint32(4, true);
  const strOff = dv.getUint32(16, true);
  const strLen = dv.getUint32(20, true);
  const start = hdrLen + strOff;
  const strings = Buffer.from(raw.buffer, raw.byteOffset + start, Math.min(strLen, raw.byteLength - start));
  const out: string[] = [];
  let at = strings.indexOf("___");
  while (at >= 0) {
    const begin = strings.lastIndexOf(0, at) + 1;
    let end = strings.indexOf(0, at);
    if (end < 0) end = strings.length;
    out.push(decoder.decode(strings.subarray(begin, end)));
    at = strings.indexOf("___", end);
  }
  return out;
}

const targetIndexes = new WeakMap<Btf, TargetIndex>();

function targetIndex(target: Btf): TargetIndex {
  let index = targetIndexes.get(target);
  if (!index) {
    index = new TargetIndex(target);
    targetIndexes.set(target, index);
  }
  return index;
}

/**
 * Candidate ids in `target` for a local type named `localName` of kind
 * `localKind`, ascending. Cached per target BTF; the list is shared, do not
 * mutate it.
 */
export function findCandidates(target: Btf, localName: string, localKind: BtfKind): readonly number[] {
  if (localName === "") return [];
  return targetIndex(target).candidates(essentialName(localName), localKind);
}

/**
 * Per-object CO-RE state: the candidate list of each local type, narrowed
 * to the candidates that matched as relocations against it succeed (libbpf
 * does this per bpf_object). Pass one CoreCache to applyCoreRelocations for
 * all the programs of one object to get libbpf's exact behaviour; the
 * per-target candidate lists behind it are cached globally either way.
 */
export class CoreCache {
  private readonly lists = new WeakMap<Btf, WeakMap<Btf, Map<number, readonly number[]>>>();

  private perPair(local: Btf, target: Btf): Map<number, readonly number[]> {
    let byTarget = this.lists.get(local);
    if (!byTarget) {
      byTarget = new WeakMap();
      this.lists.set(local, byTarget);
    }
    let map = byTarget.get(target);
    if (!map) {
      map = new Map();
      byTarget.set(target, map);
    }
    return map;
  }

  /** The current candidate list for local type `localId`. */
  candidates(local: Btf, localId: number, target: Btf): readonly number[] {
    const map = this.perPair(local, target);
    let ids = map.get(localId);
    if (ids === undefined) {
      ids = findCandidates(target, local.name(localId), local.kind(localId));
      map.set(localId, ids);
    }
    return ids;
  }

  /** Narrows local type `localId`'s candidates to `ids` (those that matched a relocation). */
  narrow(local: Btf, localId: number, target: Btf, ids: readonly number[]): void {
    this.perPair(local, target).set(localId, ids);
  }
}
