/**
 * Fix-ups clang leaves to the loader, applied to the object's BTF before
 * BPF_BTF_LOAD (libbpf does the same in btf_finalize_data):
 *  - a DATASEC's size is 0 in the object: it becomes the ELF section's size;
 *  - each VAR's offset in its DATASEC may be 0: it becomes the symbol's value;
 *  - the kernel requires a DATASEC's variables in increasing offset order,
 *    so they are sorted after the offsets are known.
 * The BTF is patched in place (Btf.rawBytes() is the parser's own copy).
 */
import { ObjectFormatError } from "../errors.js";
import type { Btf } from "./btf.js";
import { BtfKind } from "./types.js";

/** What the fix-up needs to know of the ELF: section sizes, and symbol values by section. */
export interface DataLayout {
  sectionSize(name: string): number | undefined;
  symbolOffset(section: string, symbol: string): number | undefined;
}

const SECINFO_SIZE = 12;
const TYPE_HEADER_SIZE = 12;

export function fixupDatasecs(btf: Btf, layout: DataLayout): void {
  const raw = btf.rawBytes();
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let changed = false;
  for (let id = btf.startId; id < btf.typeCount; id++) {
    if (btf.kind(id) !== BtfKind.Datasec) continue;
    const name = btf.name(id);
    const size = layout.sectionSize(name);
    // .kconfig / .ksyms describe externs, which have no section; later stages size them.
    if (size === undefined) continue;
    const at = btf.typeOffset(id);
    view.setUint32(at + 8, size, true);
    const vlen = view.getUint32(at + 4, true) & 0xffff;
    const vars: Array<[number, number, number]> = [];
    for (let i = 0; i < vlen; i++) {
      const v = at + TYPE_HEADER_SIZE + i * SECINFO_SIZE;
      const varId = view.getUint32(v, true);
      if (varId >= btf.typeCount) {
        throw new ObjectFormatError(
          btf.where,
          v,
          `DATASEC ${name} entry ${i} refers to type id ${varId}, past the last id ${btf.typeCount - 1}`,
        );
      }
      let offset = view.getUint32(v + 4, true);
      if (btf.kind(varId) === BtfKind.Var) {
        offset = layout.symbolOffset(name, btf.name(varId)) ?? offset;
      }
      vars.push([varId, offset, view.getUint32(v + 8, true)]);
    }
    vars.sort((a, b) => a[1] - b[1]);
    vars.forEach(([varId, offset, sz], i) => {
      const v = at + TYPE_HEADER_SIZE + i * SECINFO_SIZE;
      view.setUint32(v, varId, true);
      view.setUint32(v + 4, offset, true);
      view.setUint32(v + 8, sz, true);
    });
    changed = true;
  }
  if (changed) btf.invalidate();
}

/**
 * Gives the FUNCs named in `names` static linkage, in place. libbpf does
 * this for hidden global subprograms (`__hidden`, e.g. usdt.bpf.h's
 * bpf_usdt_arg): the verifier checks a global function on its own, with
 * no knowledge of its callers' arguments, which such helpers are not
 * written for; as static functions they are verified in each caller's
 * context.
 */
export function markFunctionsStatic(btf: Btf, names: ReadonlySet<string>): void {
  if (names.size === 0) return;
  const raw = btf.rawBytes();
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let changed = false;
  for (let id = btf.startId; id < btf.typeCount; id++) {
    if (btf.kind(id) !== BtfKind.Func || !names.has(btf.name(id))) continue;
    const at = btf.typeOffset(id);
    const info = view.getUint32(at + 4, true);
    // A FUNC's linkage is its vlen (low 16 bits of info): 0 = static.
    if ((info & 0xffff) === 0) continue;
    view.setUint32(at + 4, info & ~0xffff, true);
    changed = true;
  }
  if (changed) btf.invalidate();
}
