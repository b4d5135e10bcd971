/**
 * Parsed objects, reused when the same file is opened again in this process
 * (a tool or a test suite that loads one object many times: parsing is most
 * of the JS work of a small object's load).
 *
 * Always correct: a hit still reads the file and compares every byte, so an
 * edited object is parsed afresh. Only objects opened by path are cached:
 * bytes handed in by a caller may be changed by that caller later. Each
 * BpfObject gets its own copy of what a caller or a load may change
 * (global-data initial values, program, map and variable specs); the
 * instructions and the object's BTF are shared, as nothing writes to them
 * after parsing (relocation works on copies).
 */
import type { MapSpec } from "../spec/map-spec.js";
import { type ObjectSpec, type ParseOptions, parseObject } from "../spec/object-spec.js";

const MAX_ENTRIES = 16;
const cache = new Map<string, { bytes: Buffer; spec: ObjectSpec }>();

/** parseObject() of a file's bytes, from the cache when `bytes` equal the cached file's. */
export function parseFileCached(bytes: Buffer, opts: ParseOptions & { path: string }): ObjectSpec {
  const key = `${opts.path}\0${opts.name ?? ""}`;
  const hit = cache.get(key);
  if (hit?.bytes.equals(bytes)) return privateCopy(hit.spec);
  const spec = parseObject(bytes, opts);
  cache.delete(key);
  cache.set(key, { bytes, spec });
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return privateCopy(spec);
}

function copyMapSpec(m: MapSpec): MapSpec {
  return {
    ...m,
    ...(m.data ? { data: { ...m.data, initial: m.data.initial.slice() } } : {}),
    ...(m.innerMap ? { innerMap: copyMapSpec(m.innerMap) } : {}),
    ...(m.initSlots ? { initSlots: new Map(m.initSlots) } : {}),
  };
}

function privateCopy(spec: ObjectSpec): ObjectSpec {
  return {
    ...spec,
    externs: spec.externs.map((e) => ({ ...e })),
    programs: spec.programs.map((p) => ({ ...p, section: { ...p.section } })),
    maps: spec.maps.map(copyMapSpec),
    variables: spec.variables.map((v) => ({ ...v })),
  };
}
