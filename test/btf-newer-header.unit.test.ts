/**
 * BTF from newer kernels: a header longer than 24 bytes (6.19+ adds
 * layout_off/layout_len, 32 bytes, and a layout section between types and
 * strings). tsbpf reads only types and strings, so like libbpf it accepts
 * the larger header and reads the blob as it reads a 24-byte one: as a
 * parsed BTF, and as a CO-RE target. Pure: blobs are built here; bpftool
 * (libbpf 1.1, which reads only the first 24 bytes) is the text oracle.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Btf, BtfBuilder, BtfKind, BtfLinkage, dumpRaw } from "../src/btf/index.js";
import { ObjectFormatError } from "../src/errors.js";
import { parseObject } from "../src/spec/object-spec.js";
import { hasCoreRelocations, relocateProgram } from "../src/spec/relocate.js";
import { encodeInstructions } from "../src/insn/insn.js";
import { thrownBy } from "./helpers/thrown.js";

const BPFTOOL = ["/usr/sbin/bpftool", "/usr/bin/bpftool"].find((p) => existsSync(p));
const VMLINUX = "/sys/kernel/btf/vmlinux";

/** [1] int, [2] struct s { int a; int *p; }, [3] int *, [4] FUNC_PROTO, [5] FUNC f. */
function sample(): Uint8Array {
  const b = new BtfBuilder();
  const int = b.add({ kind: BtfKind.Int, name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 });
  b.add({
    kind: BtfKind.Struct,
    name: "s",
    size: 16,
    kindFlag: false,
    members: [
      { name: "a", type: int, bitOffset: 0, bitfieldSize: 0 },
      { name: "p", type: 3, bitOffset: 64, bitfieldSize: 0 },
    ],
  });
  b.add({ kind: BtfKind.Ptr, name: "", type: int });
  const proto = b.add({ kind: BtfKind.FuncProto, name: "", returnType: int, params: [{ name: "x", type: int }] });
  b.add({ kind: BtfKind.Func, name: "f", type: proto, linkage: BtfLinkage.Global });
  return b.encode();
}

interface NewerLayout {
  hdrLen: number;
  /** Bytes of a layout section placed between types and strings (as 6.19+ kernels write it). */
  layout?: Uint8Array;
  /** Bytes appended after the string section, described by a header field past layout_len. */
  trailer?: Uint8Array;
  /** Extra header words after layout_off/layout_len (non-zero: fields tsbpf does not know). */
  extraWords?: number[];
}

/** Re-encodes a 24-byte-header blob with a newer, longer header. */
function withNewerHeader(blob: Uint8Array, o: NewerLayout): Uint8Array {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const typeLen = v.getUint32(12, true);
  const strLen = v.getUint32(20, true);
  const types = blob.subarray(24 + v.getUint32(8, true), 24 + v.getUint32(8, true) + typeLen);
  const strs = blob.subarray(24 + v.getUint32(16, true), 24 + v.getUint32(16, true) + strLen);
  const layout = o.layout ?? new Uint8Array(0);
  const trailer = o.trailer ?? new Uint8Array(0);
  const out = new Uint8Array(o.hdrLen + typeLen + layout.length + strLen + trailer.length);
  const w = new DataView(out.buffer);
  out.set(blob.subarray(0, 4)); // magic, version, flags
  w.setUint32(4, o.hdrLen, true);
  w.setUint32(8, 0, true);
  w.setUint32(12, typeLen, true);
  w.setUint32(16, typeLen + layout.length, true);
  w.setUint32(20, strLen, true);
  w.setUint32(24, layout.length ? typeLen : 0, true);
  w.setUint32(28, layout.length, true);
  for (const [i, x] of (o.extraWords ?? []).entries()) w.setUint32(32 + i * 4, x, true);
  out.set(types, o.hdrLen);
  out.set(layout, o.hdrLen + typeLen);
  out.set(strs, o.hdrLen + typeLen + layout.length);
  out.set(trailer, o.hdrLen + typeLen + layout.length + strLen);
  return out;
}

/** A layout section as 6.19 writes it: per kind, { u8 info_sz, u8 elem_sz, u16 flags }. */
function layoutSection(kinds = 20): Uint8Array {
  const l = new Uint8Array(kinds * 4);
  for (let k = 0; k < kinds; k++) l[k * 4] = k === BtfKind.Int || k === BtfKind.Var || k === BtfKind.DeclTag ? 4 : 0;
  return l;
}

function bpftoolRaw(bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-hdr-"));
  try {
    const path = join(dir, "blob.btf");
    writeFileSync(path, bytes);
    return execFileSync(BPFTOOL!, ["btf", "dump", "file", path, "format", "raw"], { encoding: "utf8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("BTF with a header longer than 24 bytes", () => {
  const original = sample();
  const newer = withNewerHeader(original, { hdrLen: 32, layout: layoutSection() });

  it("the hand-built blob really has a 32-byte header and a layout section", () => {
    const v = new DataView(newer.buffer);
    expect(v.getUint32(4, true)).toBe(32);
    expect(v.getUint32(28, true)).toBe(80);
    expect(v.getUint32(16, true)).toBe(v.getUint32(12, true) + 80);
  });

  it("parses to the same types as the 24-byte blob", () => {
    const btf = Btf.parse(newer, { where: "newer.btf" });
    expect(btf.typeCount).toBe(6);
    expect(btf.type(2)).toMatchObject({ name: "s", size: 16, members: [{ name: "a" }, { name: "p", type: 3 }] });
    expect(btf.type(5)).toMatchObject({ kind: BtfKind.Func, name: "f" });
    expect(dumpRaw(btf)).toBe(dumpRaw(Btf.parse(original)));
  });

  it.runIf(BPFTOOL)("reads as bpftool (libbpf) reads it", () => {
    const theirs = bpftoolRaw(newer);
    expect(theirs).toContain("STRUCT 's' size=16 vlen=2");
    expect(dumpRaw(Btf.parse(newer))).toBe(theirs);
  });

  it("accepts header fields it does not know, and data they point at after the strings", () => {
    const trailer = new Uint8Array(16).fill(0xab);
    const v = new DataView(original.buffer, original.byteOffset);
    const afterStrings = v.getUint32(12, true) + 80 + v.getUint32(20, true);
    const blob = withNewerHeader(original, { hdrLen: 40, layout: layoutSection(), trailer, extraWords: [afterStrings, 16] });
    expect(dumpRaw(Btf.parse(blob))).toBe(dumpRaw(Btf.parse(original)));
  });

  it("still rejects a layout section outside the blob, naming it", () => {
    const bad = newer.slice();
    new DataView(bad.buffer).setUint32(28, 1 << 20, true);
    const err = thrownBy(() => Btf.parse(bad, { where: "newer.btf" }));
    expect(err).toBeInstanceOf(ObjectFormatError);
    expect((err as Error).message).toMatch(/newer\.btf.*layout section \(offset \d+, length 1048576\)/);
  });

  it.runIf(existsSync(VMLINUX))("serves as a CO-RE target: vmlinux with a 32-byte header relocates bootstrap as the original does", () => {
    const vmlinux = new Uint8Array(readFileSync(VMLINUX));
    const target = Btf.parse(withNewerHeader(vmlinux, { hdrLen: 32, layout: layoutSection() }), { where: "newer vmlinux" });
    const plain = Btf.parse(vmlinux, { where: VMLINUX });
    const spec = parseObject(readFileSync("bpf/bootstrap.bpf.o"), { path: "bootstrap.bpf.o" });
    const withCore = spec.programs.filter(hasCoreRelocations);
    expect(withCore.length).toBeGreaterThan(0);
    for (const p of withCore) {
      const a = relocateProgram(p, spec.btf!.btf, target);
      const b = relocateProgram(p, spec.btf!.btf, plain);
      expect(a.core.length).toBeGreaterThan(0);
      expect(a.core.some((r) => r.poisoned)).toBe(false);
      expect(encodeInstructions(a.insns)).toEqual(encodeInstructions(b.insns));
    }
  });
});
