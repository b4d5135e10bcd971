import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Btf, BtfBuilder, BtfKind, BtfLinkage, dumpRaw, parseBtfExt } from "../src/btf/index.js";
import { ElfFile } from "../src/elf/elf-file.js";
import { ObjectFormatError } from "../src/errors.js";

const WHERE = "section .BTF";
const EXT = "section .BTF.ext";

/** [1] INT int, [2] STRUCT s { int a; int b; }, [3] FUNC_PROTO, [4] FUNC f. */
function sample(): Uint8Array {
  const b = new BtfBuilder();
  const int = b.add({ kind: BtfKind.Int, name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 });
  b.add({
    kind: BtfKind.Struct,
    name: "s",
    size: 8,
    kindFlag: false,
    members: [
      { name: "a", type: int, bitOffset: 0, bitfieldSize: 0 },
      { name: "b", type: int, bitOffset: 32, bitfieldSize: 0 },
    ],
  });
  const proto = b.add({ kind: BtfKind.FuncProto, name: "", returnType: int, params: [] });
  b.add({ kind: BtfKind.Func, name: "f", type: proto, linkage: BtfLinkage.Global });
  return b.encode();
}
// Byte offsets in sample(): types start after the 24-byte header.
const INT_AT = 24;
const STRUCT_AT = INT_AT + 16;
const MEMBER_A_AT = STRUCT_AT + 12;

function patch(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}

/** Asserts `fn` throws an ObjectFormatError naming `where` and (optionally) `offset`, matching `problem`. */
function expectFormatError(fn: () => unknown, where: string, problem: RegExp, offset?: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ObjectFormatError);
  const err = caught as ObjectFormatError;
  expect(err.where).toBe(where);
  expect(err.message).toContain(where);
  expect(err.message).toMatch(problem);
  if (offset !== undefined) expect(err.offset).toBe(offset);
}

const parse = (bytes: Uint8Array): Btf => Btf.parse(bytes, { where: WHERE });

describe("malformed .BTF", () => {
  it("the sample is valid", () => {
    const btf = parse(sample());
    expect(btf.typeCount).toBe(5);
    expect(btf.type(2)).toMatchObject({ name: "s", members: [{ name: "a" }, { name: "b" }] });
  });

  it("truncated header", () => {
    expectFormatError(() => parse(sample().subarray(0, 10)), WHERE, /truncated header/, 0);
    expectFormatError(() => parse(new Uint8Array(0)), WHERE, /truncated header/, 0);
  });

  it("bad magic, version, header length", () => {
    const s = sample();
    const bad = s.slice();
    bad[0] = 0x12;
    expectFormatError(() => parse(bad), WHERE, /bad magic/, 0);
    const be = s.slice();
    be[0] = 0xeb;
    be[1] = 0x9f;
    expectFormatError(() => parse(be), WHERE, /big-endian/, 0);
    const v2 = s.slice();
    v2[2] = 2;
    expectFormatError(() => parse(v2), WHERE, /version 2/, 2);
    expectFormatError(() => parse(patch(s, 4, 8)), WHERE, /header length 8/, 4);
    expectFormatError(() => parse(patch(s, 4, 1 << 20)), WHERE, /header length/, 4);
  });

  it("type_len pointing past the end", () => {
    expectFormatError(() => parse(patch(sample(), 12, 1_000_000)), WHERE, /type section .* runs past the end/, 12);
  });

  it("string section past the end or not NUL-terminated", () => {
    const s = sample();
    const strLen = new DataView(s.buffer).getUint32(20, true);
    expectFormatError(() => parse(patch(s, 20, strLen + 1)), WHERE, /string section .* runs past the end/, 20);
    const noNul = s.slice();
    noNul[noNul.length - 1] = 0x41;
    expectFormatError(() => parse(noNul), WHERE, /does not end with a NUL/, s.length - 1);
    expectFormatError(() => parse(patch(s, 20, 0)), WHERE, /string section is empty/);
  });

  it("a string offset past the end", () => {
    expectFormatError(() => parse(patch(sample(), INT_AT, 5000)), WHERE, /type \[1\] name offset 5000 is past the end/, INT_AT);
    expectFormatError(() => parse(patch(sample(), MEMBER_A_AT, 5000)), WHERE, /type \[2\] member name offset 5000/, MEMBER_A_AT);
    expectFormatError(() => parse(sample()).string(5000), WHERE, /string offset 5000/);
  });

  it("a vlen too large for the section", () => {
    // info = kind STRUCT (4) << 24 | vlen
    expectFormatError(
      () => parse(patch(sample(), STRUCT_AT + 4, (4 << 24) | 1000)),
      WHERE,
      /type \[2\] STRUCT with vlen 1000 needs 12012 bytes/,
      STRUCT_AT,
    );
  });

  it("an unknown kind", () => {
    expectFormatError(() => parse(patch(sample(), INT_AT + 4, 25 << 24)), WHERE, /unknown kind 25/, INT_AT);
  });

  it("a type record cut short", () => {
    const s = sample();
    const typeLen = new DataView(s.buffer).getUint32(12, true);
    expectFormatError(() => parse(patch(s, 12, typeLen - 4)), WHERE, /needs \d+ bytes, only|truncated type record/);
  });

  it("a reference to a type that does not exist fails on decode", () => {
    // STRUCT member a: { name_off, type, offset } -> type 77
    const btf = parse(patch(sample(), MEMBER_A_AT + 4, 77));
    expectFormatError(() => btf.type(2), WHERE, /type \[2\]: refers to type id 77/, STRUCT_AT);
    expect(btf.type(1).name).toBe("int");
  });

  it("modifier loops and sizeless types", () => {
    const b = new BtfBuilder();
    b.add({ kind: BtfKind.Typedef, name: "a", type: 2 });
    b.add({ kind: BtfKind.Const, name: "", type: 1 });
    b.add({ kind: BtfKind.FuncProto, name: "", returnType: 0, params: [] });
    const btf = parse(b.encode());
    expectFormatError(() => btf.skipModifiers(1), WHERE, /longer than 32/);
    expectFormatError(() => btf.resolveSize(1), WHERE, /longer than 32/);
    expect(btf.skipQualifiers(1)).toBe(1);
    expectFormatError(() => btf.resolveSize(3), WHERE, /FUNC_PROTO has no size/);
  });

  it("every truncation of a real .BTF is an ObjectFormatError", () => {
    const data = new ElfFile(new Uint8Array(readFileSync("bpf/minimal.bpf.o"))).section(".BTF")!.data;
    for (let n = 0; n < data.length; n++) {
      expect(() => parse(data.subarray(0, n))).toThrow(ObjectFormatError);
    }
  });

  it("random corruption yields ObjectFormatError or a BTF that decodes", () => {
    const data = new ElfFile(new Uint8Array(readFileSync("bpf/bootstrap.bpf.o"))).section(".BTF")!.data;
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let rejected = 0;
    for (let iter = 0; iter < 300; iter++) {
      const bad = data.slice();
      for (let k = 0; k < 4; k++) bad[rand(Math.min(bad.length, 24 + 2000))] = rand(256);
      try {
        const btf = parse(bad);
        dumpRaw(btf);
        for (let id = 0; id < btf.typeCount; id++) btf.type(id);
      } catch (e) {
        if (!(e instanceof ObjectFormatError)) throw e;
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });
});

describe("malformed .BTF.ext", () => {
  const elf = new ElfFile(new Uint8Array(readFileSync("bpf/bootstrap.bpf.o")));
  const btf = Btf.parse(elf.section(".BTF")!.data);
  const ext = elf.section(".BTF.ext")!.data;
  const dv = new DataView(ext.buffer, ext.byteOffset, ext.byteLength);
  const hdrLen = dv.getUint32(4, true);
  const funcInfoAt = hdrLen + dv.getUint32(8, true);
  const parseExt = (bytes: Uint8Array) => parseBtfExt(bytes, btf);

  /** A .BTF.ext with one func_info block of `recSize`-byte records. */
  function handmade(recSize: number, records: number[][], num = records.length): Uint8Array {
    const secName = btf.nameOffset(btf.typeByName("handle_exec").id);
    const body = [recSize, secName, num, ...records.flat()];
    const out = new Uint8Array(32 + body.length * 4);
    const d = new DataView(out.buffer);
    d.setUint16(0, 0xeb9f, true);
    d.setUint8(2, 1);
    d.setUint32(4, 32, true);
    d.setUint32(8, 0, true);
    d.setUint32(12, body.length * 4, true);
    body.forEach((v, i) => {
      d.setUint32(32 + i * 4, v, true);
    });
    return out;
  }
  const execFunc = btf.typeByName("handle_exec").id;

  it("truncated header", () => {
    expectFormatError(() => parseExt(ext.subarray(0, 10)), EXT, /truncated header/, 0);
  });

  it("truncated section", () => {
    expectFormatError(() => parseExt(ext.subarray(0, ext.length >> 1)), EXT, /runs past the end/);
    for (let n = 0; n < ext.length; n += 7) expect(() => parseExt(ext.subarray(0, n))).toThrow(ObjectFormatError);
  });

  it("bad magic", () => {
    const bad = ext.slice();
    bad[1] = 0;
    expectFormatError(() => parseExt(bad), EXT, /bad magic/, 0);
  });

  it("record size smaller than known is rejected", () => {
    const bad = ext.slice();
    new DataView(bad.buffer).setUint32(funcInfoAt, 4, true);
    expectFormatError(() => parseExt(bad), EXT, /func_info record size 4 is invalid/, funcInfoAt);
  });

  it("record size larger than known is accepted, extra bytes skipped", () => {
    const parsed = parseExt(
      handmade(12, [
        [0, execFunc, 0xdeadbeef],
        [16, execFunc, 7],
      ]),
    );
    expect(parsed.funcInfo.get("handle_exec")).toEqual([
      { insnIndex: 0, typeId: execFunc, at: 44 },
      { insnIndex: 2, typeId: execFunc, at: 56 },
    ]);
    expect(parsed.funcInfoRecSize).toBe(12);
    expect(parsed.coreRelos.size).toBe(0);
  });

  it("bad record contents", () => {
    expectFormatError(() => parseExt(handmade(8, [[0, execFunc]], 1000)), EXT, /has 1000 records/, 40);
    expectFormatError(() => parseExt(handmade(8, [[0, execFunc]], 0)), EXT, /has no records/, 40);
    expectFormatError(() => parseExt(handmade(8, [[3, execFunc]])), EXT, /instruction offset 3/, 44);
    expectFormatError(() => parseExt(handmade(8, [[0, 1_000_000]])), EXT, /type id 1000000/, 48);
    const badName = handmade(8, [[0, execFunc]]);
    new DataView(badName.buffer).setUint32(36, 1 << 30, true);
    expectFormatError(() => parseExt(badName), EXT, /string offset 1073741824/, 36);
  });

  it("random corruption yields ObjectFormatError or a parse", () => {
    let seed = 99;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let rejected = 0;
    for (let iter = 0; iter < 500; iter++) {
      const bad = ext.slice();
      for (let k = 0; k < 3; k++) bad[rand(bad.length)] = rand(256);
      try {
        parseExt(bad);
      } catch (e) {
        if (!(e instanceof ObjectFormatError)) throw e;
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });
});
