import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { Btf, BtfBuilder, BtfKind, dumpRaw } from "../src/btf/index.js";
import { loadKernelBtf } from "../src/object/kernel-btf.js";
import { hashBytes } from "../src/btf/name-index.js";
import type { CompositeType, RefType } from "../src/btf/index.js";
import { ElfFile } from "../src/elf/elf-file.js";
import { NotFoundError, ObjectFormatError } from "../src/errors.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const objects = readdirSync("bpf")
  .filter((f) => f.endsWith(".bpf.o"))
  .map((f) => `bpf/${f}`);

function objectBtf(path: string): Btf {
  const sec = new ElfFile(new Uint8Array(readFileSync(path))).section(".BTF");
  if (!sec) throw new Error(`${path} has no .BTF`);
  return Btf.parse(sec.data, { where: "section .BTF" });
}

function bpftoolRaw(path: string, ...extra: string[]): string {
  return execFileSync("bpftool", [...extra, "btf", "dump", "file", path, "format", "raw"], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
}

describe("dumpRaw matches bpftool 7.1 byte for byte", () => {
  it("finds the committed objects", () => {
    expect(objects).toEqual(expect.arrayContaining(["bpf/bootstrap.bpf.o", "bpf/globals.bpf.o", "bpf/minimal.bpf.o"]));
  });

  for (const path of objects) {
    it(path, () => {
      const btf = objectBtf(path);
      const expected = bpftoolRaw(path);
      expect(dumpRaw(btf)).toBe(expected);
      expect(btf.typeCount).toBe(expected.split("\n").filter((l) => l.startsWith("[")).length + 1);
    });
  }

  it.runIf(existsSync(VMLINUX))(
    "vmlinux",
    () => {
      const btf = loadKernelBtf();
      const mine = dumpRaw(btf);
      const theirs = bpftoolRaw(VMLINUX);
      // toBe on 12 MB strings prints a useless diff; find the first differing line instead.
      if (mine !== theirs) {
        const a = mine.split("\n");
        const b = theirs.split("\n");
        const i = a.findIndex((line, k) => line !== b[k]);
        expect(a[i]).toBe(b[i]);
      }
      expect(mine.length).toBe(theirs.length);
    },
    60_000,
  );
});

describe.runIf(existsSync(VMLINUX))("kernel BTF", () => {
  const btf = loadKernelBtf();

  it("is cached per path", () => {
    expect(loadKernelBtf(VMLINUX)).toBe(btf);
  });

  it("parses without decoding a single type up front (they are decoded on demand)", () => {
    // How fast that is, is measured by bench/pure-timings.mjs, not asserted here.
    const decode = vi.spyOn(Btf.prototype as unknown as { decode(id: number): unknown }, "decode");
    try {
      const fresh = Btf.parse(readFileSync(VMLINUX));
      expect(fresh.typeCount).toBeGreaterThan(10_000);
      expect(decode).not.toHaveBeenCalled();
      fresh.type(1);
      expect(decode).toHaveBeenCalledTimes(1);
    } finally {
      decode.mockRestore();
    }
  });

  it("finds types by name", () => {
    const ids = btf.idsByName("task_struct");
    expect(ids.length).toBeGreaterThan(0);
    const ts = btf.typeByName("task_struct", BtfKind.Struct) as CompositeType;
    expect(ts.name).toBe("task_struct");
    expect(ids).toContain(ts.id);
    expect(ts.members.map((m) => m.name)).toEqual(expect.arrayContaining(["real_parent", "tgid", "pid", "comm"]));
    for (const id of btf.idsByName("int")) expect(btf.name(id)).toBe("int");
    expect(btf.idsByName("no_such_type_xyz")).toEqual([]);
    expect(btf.idsByName("")).toEqual([]);
    // A name that is a prefix of real names must not match them.
    expect(btf.idsByName("task_s")).toEqual([]);
    expect(() => btf.typeByName("no_such_type_xyz")).toThrow(NotFoundError);
    expect(() => btf.typeByName("task_struct", BtfKind.Enum)).toThrow(/no BTF ENUM named 'task_struct'/);
  });

  it("idsByName agrees with a full scan of names", () => {
    const byName = new Map<string, number[]>();
    for (let id = 1; id < btf.typeCount; id++) {
      const n = btf.name(id);
      if (n === "") continue;
      const list = byName.get(n);
      if (list) list.push(id);
      else byName.set(n, [id]);
    }
    let checked = 0;
    for (const [name, ids] of byName) {
      if (checked++ % 97 !== 0) continue;
      expect(btf.idsByName(name)).toEqual(ids);
    }
    expect(checked).toBe(byName.size);
  });

  it("resolves sizes and skips modifiers", () => {
    expect(btf.resolveSize(btf.typeByName("int").id)).toBe(4);
    const ts = btf.typeByName("task_struct", BtfKind.Struct) as CompositeType;
    expect(btf.resolveSize(ts.id)).toBe((btf.type(ts.id) as CompositeType).size);
    const rp = ts.members.find((m) => m.name === "real_parent")!;
    expect(btf.kind(rp.type)).toBe(BtfKind.Ptr);
    expect(btf.resolveSize(rp.type)).toBe(8);
    const comm = ts.members.find((m) => m.name === "comm")!;
    expect(btf.resolveSize(comm.type)).toBe(16);

    const u32 = btf.typeByName("u32", BtfKind.Typedef) as RefType;
    const under = btf.skipModifiers(u32.id);
    expect(btf.kind(under)).toBe(BtfKind.Int);
    expect(btf.name(under)).toBe("unsigned int");
    expect(btf.skipQualifiers(u32.id)).toBe(u32.id);
    expect(btf.resolveSize(u32.id)).toBe(4);

    // A CONST somewhere: skipQualifiers passes it, skipModifiers passes it too.
    let constId = 0;
    for (let id = 1; id < btf.typeCount && !constId; id++) if (btf.kind(id) === BtfKind.Const) constId = id;
    const target = (btf.type(constId) as RefType).type;
    expect(btf.skipQualifiers(constId)).toBe(btf.skipQualifiers(target));
    expect(btf.skipModifiers(constId)).toBe(btf.skipModifiers(target));

    const func = btf.idsByName("schedule").find((id) => btf.kind(id) === BtfKind.Func)!;
    expect(() => btf.resolveSize(func)).toThrow(ObjectFormatError);
    expect(() => btf.resolveSize(0)).toThrow(/has no size/);
    expect(() => btf.type(btf.typeCount)).toThrow(NotFoundError);
    expect(() => btf.kind(-1)).toThrow(NotFoundError);
  });
});

describe("object BTF", () => {
  it("decodes bootstrap's types", () => {
    const btf = objectBtf("bpf/bootstrap.bpf.o");
    const func = btf.typeByName("handle_exec", BtfKind.Func);
    expect(func.kind).toBe(BtfKind.Func);
    const rodata = btf.typeByName(".rodata", BtfKind.Datasec);
    expect(rodata.kind === BtfKind.Datasec && rodata.vars.map((v) => btf.name(v.type))).toEqual(["min_duration_ns"]);
    expect(btf.type(0)).toEqual({ id: 0, kind: BtfKind.Void, name: "" });
    expect(btf.type(func.id)).toBe(func);
  });

  it("patches in place through rawBytes/typeOffset", () => {
    const btf = objectBtf("bpf/globals.bpf.o");
    const sec = btf.typeByName(".data", BtfKind.Datasec);
    expect(sec.kind === BtfKind.Datasec && sec.size).toBe(0);
    const raw = btf.rawBytes();
    // struct btf_type: name_off, info, size; then btf_var_secinfo { type, offset, size }.
    new DataView(raw.buffer, raw.byteOffset).setUint32(btf.typeOffset(sec.id) + 8, 4, true);
    btf.invalidate();
    const after = btf.type(sec.id);
    expect(after.kind === BtfKind.Datasec && after.size).toBe(4);
    // The normalised blob parses to the same types.
    expect(dumpRaw(Btf.parse(raw))).toBe(dumpRaw(btf));
    expect(() => btf.typeOffset(0)).toThrow(NotFoundError);
  });

  it("tells apart names whose hashes collide", () => {
    // FNV-1a("t7pfs") === FNV-1a("tovja"): the index must compare bytes, not just hashes.
    const enc = new TextEncoder();
    expect(hashBytes(enc.encode("t7pfs"))).toBe(hashBytes(enc.encode("tovja")));
    const b = new BtfBuilder();
    b.add({ kind: BtfKind.Int, name: "t7pfs", size: 4, encoding: 0, bitOffset: 0, bits: 32 });
    b.add({ kind: BtfKind.Int, name: "tovja", size: 4, encoding: 0, bitOffset: 0, bits: 32 });
    b.add({ kind: BtfKind.Typedef, name: "t7pfs", type: 2 });
    const btf = Btf.parse(b.encode());
    expect(btf.idsByName("t7pfs")).toEqual([1, 3]);
    expect(btf.idsByName("tovja")).toEqual([2]);
    expect(btf.typeByName("t7pfs", BtfKind.Typedef).id).toBe(3);
  });

  it("does not alias the input bytes", () => {
    const sec = new ElfFile(new Uint8Array(readFileSync("bpf/minimal.bpf.o"))).section(".BTF")!;
    const copy = sec.data.slice();
    const btf = Btf.parse(sec.data);
    btf.rawBytes().fill(0xff, 24, 36);
    expect(sec.data).toEqual(copy);
  });
});
