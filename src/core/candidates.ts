/**
 * Candidate search: the target types a local type may correspond to are
 * those of a CO-RE-compatible kind (ENUM and ENUM64 count as one) whose name
 * equals the local name once both lose their `___flavor` suffix.
 *
 * libbpf scans every target type for each local type. Here the target's
 * string section does the work: types named exactly E come from
 * Btf.idsByName, and a flavored name whose essential name is E starts with
 * `E___`, so a native search for those bytes at the start of each string of
 * the target (Btf.idsWithNamePrefix) finds them; those whose essential name
 * is exactly E are kept. Nothing is done for names no relocation asks
 * about. Where a table of the target's essential names was adopted (the
 * kernel BTF with a kept index, essential-name-table.ts), a hash lookup
 * replaces both searches. The result is cached per target BTF under
 * (essential name, kind class), so every object relocated against the same
 * kernel BTF shares it.
 *
 * libbpf also narrows a local type's candidate list to the candidates that
 * matched, each time a relocation against that type succeeds, for the rest
 * of the object. CoreCache keeps that per-object state.
 */
import type { Btf } from "../btf/btf.js";
import type { BtfKind } from "../btf/types.js";
import { kindClass } from "./compat.js";
import { adoptedEssentialNameTable, typesWithEssentialName } from "./essential-name-table.js";
import { essentialName } from "./names.js";

/** What is cached about one target BTF; shared by every CoreCache. */
class TargetIndex {
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
    const table = adoptedEssentialNameTable(btf);
    const hashed = table && typesWithEssentialName(btf, table, essential);
    if (hashed) return Object.freeze(hashed.filter((id) => kindClass(btf.kind(id)) === cls));
    const found: number[] = [];
    // A name that itself carries a flavor suffix is not its own essential name.
    if (essentialName(essential) === essential) {
      for (const id of btf.idsByName(essential)) if (kindClass(btf.kind(id)) === cls) found.push(id);
    }
    // Flavored names reducing to `essential` all start with `essential___`.
    for (let b: Btf | undefined = btf; b; b = b.base) {
      for (const [id, name] of b.idsWithNamePrefix(`${essential}___`)) {
        if (essentialName(name) === essential && kindClass(btf.kind(id)) === cls) found.push(id);
      }
    }
    if (found.length > 1) {
      found.sort((a, b) => a - b);
      // A type may be reached through more than one name list only if names repeat; keep ids unique.
      for (let i = found.length - 1; i > 0; i--) if (found[i] === found[i - 1]) found.splice(i, 1);
    }
    return Object.freeze(found);
  }
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
