/**
 * The kernel rejects a DATASEC of size 0 or one holding FUNCs, which is how
 * clang describes extern sections; libbpf rewrites them before BTF_LOAD:
 *   .kconfig — each VAR becomes an allocated global at its offset in the
 *              .kconfig map; the DATASEC takes the map's value size;
 *   .ksyms   — each entry becomes a 4-byte int slot: VARs are retyped to
 *              int, FUNC entries point at one appended dummy VAR, extern
 *              FUNCs become global, and their unnamed parameters borrow
 *              the dummy's name.
 * Appending never moves a type, so every id stays valid.
 */
import { appendTypes } from "./append.js";
import { Btf } from "./btf.js";
import { BtfKind, BtfLinkage } from "./types.js";

export interface KconfigSlot {
  name: string;
  offset: number;
}

const DUMMY_KSYM = "dummy_ksym";

function datasecId(btf: Btf, name: string): number | undefined {
  return btf.idsByName(name).find((id) => btf.kind(id) === BtfKind.Datasec);
}

/** A new Btf with .kconfig and .ksyms made loadable (the input is left alone). */
export function fixupExternDatasecs(btf: Btf, kconfig: KconfigSlot[], kconfigSize: number): Btf {
  const ksymsId = datasecId(btf, ".ksyms");
  const kconfigId = datasecId(btf, ".kconfig");
  if (ksymsId === undefined && kconfigId === undefined) return btf;

  let intId = btf.idsByName("int").find((id) => btf.kind(id) === BtfKind.Int && btf.resolveSize(id) === 4);
  const extra = [];
  if (intId === undefined) extra.push({ name: "int", kind: BtfKind.Int, sizeOrType: 4, extra: [(1 << 24) | 32] }); // signed, 32 bits
  const firstNew = btf.typeCount;
  intId ??= firstNew;
  const dummyId = firstNew + extra.length;
  extra.push({ name: DUMMY_KSYM, kind: BtfKind.Var, sizeOrType: intId, extra: [BtfLinkage.Global] });
  const out = Btf.parse(appendTypes(btf, btf.rawBytes(), extra).bytes, { where: btf.where, ...(btf.base ? { base: btf.base } : {}) });

  const raw = out.rawBytes();
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dummyName = out.nameOffset(dummyId);
  const setVarGlobal = (varId: number, type?: number) => {
    const at = out.typeOffset(varId);
    if (type !== undefined) v.setUint32(at + 8, type, true);
    v.setUint32(at + 12, BtfLinkage.Global, true);
  };

  if (ksymsId !== undefined) {
    const at = out.typeOffset(ksymsId);
    const vlen = v.getUint32(at + 4, true) & 0xffff;
    for (let i = 0; i < vlen; i++) {
      const rec = at + 12 + i * 12;
      const id = v.getUint32(rec, true);
      if (out.kind(id) === BtfKind.Func) {
        v.setUint32(rec, dummyId, true);
        nameUnnamedParams(out, v, id, dummyName);
        // The kernel refuses extern linkage on a FUNC; its linkage lives in vlen.
        const fat = out.typeOffset(id) + 4;
        v.setUint32(fat, (v.getUint32(fat, true) & ~0xffff) | BtfLinkage.Global, true);
      } else {
        setVarGlobal(id, intId);
      }
      v.setUint32(rec + 4, i * 4, true);
      v.setUint32(rec + 8, 4, true);
    }
    v.setUint32(at + 8, vlen * 4, true);
  }
  if (kconfigId !== undefined) {
    const at = out.typeOffset(kconfigId);
    const vlen = v.getUint32(at + 4, true) & 0xffff;
    const recs: Array<[number, number, number]> = [];
    for (let i = 0; i < vlen; i++) {
      const rec = at + 12 + i * 12;
      const id = v.getUint32(rec, true);
      setVarGlobal(id);
      const slot = kconfig.find((k) => k.name === out.name(id));
      recs.push([id, slot?.offset ?? 0, v.getUint32(rec + 8, true)]);
    }
    recs.sort((a, b) => a[1] - b[1]);
    recs.forEach(([id, off, size], i) => {
      const rec = at + 12 + i * 12;
      v.setUint32(rec, id, true);
      v.setUint32(rec + 4, off, true);
      v.setUint32(rec + 8, size, true);
    });
    v.setUint32(at + 8, kconfigSize, true);
  }
  out.invalidate();
  return out;
}

/** The kernel requires named parameters in every FUNC's prototype. */
function nameUnnamedParams(btf: Btf, v: DataView, funcId: number, nameOff: number): void {
  const protoId = v.getUint32(btf.typeOffset(funcId) + 8, true);
  if (btf.kind(protoId) !== BtfKind.FuncProto || protoId < btf.startId) return;
  const at = btf.typeOffset(protoId);
  const vlen = v.getUint32(at + 4, true) & 0xffff;
  for (let i = 0; i < vlen; i++) {
    const p = at + 12 + i * 8;
    if (v.getUint32(p, true) === 0 && v.getUint32(p + 4, true) !== 0) v.setUint32(p, nameOff, true);
  }
}
