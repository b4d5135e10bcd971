/**
 * Parsed objects, reused when the same file is opened again in this process
 * (a tool or a test suite that loads one object many times: parsing is most
 * of the JS work of a small object's load).
 *
 * Always correct: a hit still reads the file and compares every byte, so an
 * edited object is parsed afresh. Only objects opened by path are cached:
 * bytes handed in by a caller may be changed by that caller later. The
 * cached spec itself is never handed out: each open gets a copy(), which
 * shares the parse's frozen program, map and variable specs, instructions
 * and BTF, and copies global-data bytes only when it writes them (see
 * ObjectSpec), so one object's edits never reach another's.
 */
import { type ObjectSpec, type ParseOptions, parseObject } from "../spec/object-spec.js";

const MAX_ENTRIES = 16;
const cache = new Map<string, { bytes: Buffer; spec: ObjectSpec }>();

/** parseObject() of a file's bytes, from the cache when `bytes` equal the cached file's. */
export function parseFileCached(bytes: Buffer, opts: ParseOptions & { path: string }): ObjectSpec {
  const key = `${opts.path}\0${opts.name ?? ""}\0${opts.maxZeroFillSize ?? ""}`;
  const hit = cache.get(key);
  if (hit?.bytes.equals(bytes)) return hit.spec.copy();
  const spec = parseObject(bytes, opts);
  cache.delete(key);
  cache.set(key, { bytes, spec });
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return spec.copy();
}
