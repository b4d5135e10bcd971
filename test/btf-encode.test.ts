import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Btf, BtfBuilder, BtfKind, BtfLinkage, dumpRaw, encodeBtf } from "../src/btf/index.js";
import { loadKernelBtf, loadKernelModuleBtf } from "../src/object/kernel-btf.js";
import type { BtfType } from "../src/btf/index.js";
import { ElfFile } from "../src/elf/elf-file.js";
import { UnsupportedError } from "../src/errors.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const objects = readdirSync("bpf")
  .filter((f) => f.endsWith(".bpf.o"))
  .map((f) => `bpf/${f}`);
const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function allTypes(btf: Btf): BtfType[] {
  const out: BtfType[] = [];
  for (let id = btf.startId; id < btf.typeCount; id++) out.push(btf.type(id));
  return out;
}

function roundTrip(btf: Btf): void {
  const again = Btf.parse(encodeBtf(allTypes(btf)));
  expect(again.typeCount).toBe(btf.typeCount);
  expect(dumpRaw(again)).toBe(dumpRaw(btf));
  expect(allTypes(again)).toEqual(allTypes(btf));
}

function bpftoolRaw(path: string, ...extra: string[]): string {
  return execFileSync("bpftool", [...extra, "btf", "dump", "file", path, "format", "raw"], { encoding: "utf8" });
}

describe("parse(encode(parse(x)))", () => {
  for (const path of objects) {
    it(path, () => {
      roundTrip(Btf.parse(new ElfFile(new Uint8Array(readFileSync(path))).section(".BTF")!.data));
    });
  }
  it.runIf(existsSync(VMLINUX))("vmlinux", () => roundTrip(loadKernelBtf()), 60_000);
});

describe("BtfBuilder", () => {
  it("writes every kind, and bpftool reads it the same way", () => {
    const b = new BtfBuilder();
    const int = b.add({ kind: BtfKind.Int, name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 });
    const ptr = b.add({ kind: BtfKind.Ptr, name: "", type: int });
    const arr = b.add({ kind: BtfKind.Array, name: "", elemType: int, indexType: int, nelems: 3 });
    const st = b.add({
      kind: BtfKind.Struct,
      name: "s",
      size: 16,
      kindFlag: true,
      members: [
        { name: "a", type: int, bitOffset: 0, bitfieldSize: 3 },
        { name: "b", type: arr, bitOffset: 32, bitfieldSize: 0 },
      ],
    });
    b.add({ kind: BtfKind.Union, name: "u", size: 8, kindFlag: false, members: [{ name: "p", type: ptr, bitOffset: 0, bitfieldSize: 0 }] });
    b.add({
      kind: BtfKind.Enum,
      name: "e",
      size: 4,
      signed: true,
      values: [
        { name: "NEG", value: -5n },
        { name: "POS", value: 7n },
      ],
    });
    b.add({ kind: BtfKind.Enum64, name: "e64", size: 8, signed: false, values: [{ name: "BIG", value: 0xffffffffffffffe0n }] });
    b.add({ kind: BtfKind.Enum64, name: "s64", size: 8, signed: true, values: [{ name: "MIN", value: -(1n << 63n) }] });
    b.add({ kind: BtfKind.Fwd, name: "fu", union: true });
    const td = b.add({ kind: BtfKind.Typedef, name: "td", type: st });
    b.add({ kind: BtfKind.Volatile, name: "", type: td });
    b.add({ kind: BtfKind.Const, name: "", type: td });
    b.add({ kind: BtfKind.Restrict, name: "", type: ptr });
    const proto = b.add({ kind: BtfKind.FuncProto, name: "", returnType: int, params: [{ name: "x", type: ptr }] });
    const fn = b.add({ kind: BtfKind.Func, name: "f", type: proto, linkage: BtfLinkage.Global });
    const v = b.add({ kind: BtfKind.Var, name: "v", type: int, linkage: BtfLinkage.Static });
    b.add({
      kind: BtfKind.Datasec,
      name: ".data",
      size: 4,
      vars: [
        { type: v, offset: 0, size: 4 },
        { type: 999, offset: 4, size: 0 },
      ],
    });
    b.add({ kind: BtfKind.Float, name: "double", size: 8 });
    b.add({ kind: BtfKind.DeclTag, name: "tag", type: fn, componentIdx: -1 });
    b.add({ kind: BtfKind.DeclTag, name: "ptag", type: fn, componentIdx: 0 });
    b.add({ kind: BtfKind.TypeTag, name: "user", type: int });
    expect(b.nextId).toBe(22);

    const bytes = b.encode();
    const file = join(dir, "all-kinds.btf");
    writeFileSync(file, bytes);
    const btf = Btf.parse(bytes);
    const dump = dumpRaw(btf);
    expect(dump).toBe(bpftoolRaw(file));
    expect(dump).toContain("'NEG' val=-5");
    expect(dump).toContain("'MIN' val=-9223372036854775808LL");
    expect(dump).toContain("'a' type_id=1 bits_offset=0 bitfield_size=3");
    expect(dump).toContain("type_id=999 offset=4 size=0\n");
    expect(btf.type(20)).toMatchObject({ kind: BtfKind.DeclTag, componentIdx: 0 });
    expect(btf.typeByName("e")).toMatchObject({
      values: [
        { name: "NEG", value: -5n },
        { name: "POS", value: 7n },
      ],
    });
  });

  it("de-duplicates strings", () => {
    const b = new BtfBuilder();
    expect(b.addString("x")).toBe(b.addString("x"));
    expect(b.addString("")).toBe(0);
  });

  it("rejects what BTF cannot hold", () => {
    const b = new BtfBuilder();
    expect(() =>
      b.add({
        kind: BtfKind.Struct,
        name: "s",
        size: 4,
        kindFlag: false,
        members: [{ name: "a", type: 0, bitOffset: 0, bitfieldSize: 3 }],
      }),
    ).toThrow(/bitfield/);
    expect(() => b.add({ kind: BtfKind.Enum, name: "e", size: 4, signed: false, values: [{ name: "X", value: 1n << 32n }] })).toThrow(
      /32 bits/,
    );
    expect(() => b.add({ kind: BtfKind.Void, name: "" })).toThrow(/void/);
  });

  it("writes split BTF that bpftool reads against its base", () => {
    const base = new BtfBuilder();
    const int = base.add({ kind: BtfKind.Int, name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 });
    base.add({
      kind: BtfKind.Struct,
      name: "shared",
      size: 4,
      kindFlag: false,
      members: [{ name: "x", type: int, bitOffset: 0, bitfieldSize: 0 }],
    });
    const baseBytes = base.encode();
    const baseBtf = Btf.parse(baseBytes);

    const split = new BtfBuilder({ base: baseBtf });
    expect(split.nextId).toBe(3);
    const p = split.add({ kind: BtfKind.Ptr, name: "", type: 2 });
    expect(p).toBe(3);
    split.add({
      kind: BtfKind.Struct,
      name: "mod_s",
      size: 8,
      kindFlag: false,
      members: [{ name: "x", type: p, bitOffset: 0, bitfieldSize: 0 }],
    });
    split.add({ kind: BtfKind.Typedef, name: "int", type: int });
    split.add({ kind: BtfKind.Datasec, name: ".m", size: 8, vars: [{ type: 2, offset: 0, size: 4 }] });
    const splitBytes = split.encode();
    writeFileSync(join(dir, "base.btf"), baseBytes);
    writeFileSync(join(dir, "split.btf"), splitBytes);

    const btf = Btf.parse(splitBytes, { base: baseBtf });
    expect(btf.startId).toBe(3);
    expect(btf.typeCount).toBe(7);
    expect(dumpRaw(btf)).toBe(bpftoolRaw(join(dir, "split.btf"), "-B", join(dir, "base.btf")));
    expect(btf.type(4)).toMatchObject({ name: "mod_s", members: [{ name: "x", type: 3 }] });
    expect(btf.type(2)).toBe(baseBtf.type(2));
    expect(btf.idsByName("int")).toEqual([1, 5]);
    expect(btf.idsByName("shared")).toEqual([2]);
    expect(btf.resolveSize(5)).toBe(4);
    expect(btf.skipModifiers(5)).toBe(1);
    expect(btf.name(4)).toBe("mod_s");
    expect(btf.name(1)).toBe("int");

    // The same pair laid out as sysfs does: <dir>/vmlinux and <dir>/<module>.
    const sys = join(dir, "sys");
    mkdirSync(sys);
    writeFileSync(join(sys, "vmlinux"), baseBytes);
    writeFileSync(join(sys, "mod"), splitBytes);
    const mod = loadKernelModuleBtf("mod", sys);
    expect(mod.base).toBe(loadKernelBtf(join(sys, "vmlinux")));
    expect(loadKernelModuleBtf("mod", sys)).toBe(mod);
    expect(dumpRaw(mod)).toBe(dumpRaw(btf));
    expect(() => loadKernelBtf(join(dir, "nope"))).toThrow(UnsupportedError);
  });
});
