/**
 * The BTF-driven decoder against clang as the oracle: one C struct with
 * every kind of member is compiled twice, for BPF (its BTF drives the
 * decoder) and for the host (a program that fills it with known values and
 * prints its bytes). The decoder must read those bytes back as the values
 * the C program stored.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Btf } from "../src/btf/btf.js";
import { BtfBuilder } from "../src/btf/encode.js";
import { BtfKind } from "../src/btf/types.js";
import { ElfFile } from "../src/elf/elf-file.js";
import { NotFoundError } from "../src/errors.js";
import { makeDecoder } from "../src/btf/value-decoder.js";

const STRUCT = `
typedef unsigned char u8;
typedef unsigned long long u64;
typedef const volatile int cvint;
enum color { RED = 1, GREEN = 2, NEG = -1 };
enum big { SMALL = 1, BIG = 0x100000000ULL };
struct inner { short s; unsigned short us; };
struct all {
  signed char sc; unsigned char uc; char c; _Bool b;
  int i; unsigned int u;
  long long ll; unsigned long long ull;
  void *p;
  float f; double d;
  enum color col; enum big bg;
  char name[8]; char full[8]; char empty[4]; char utf[16]; char longname[40];
  u8 raw[5];
  int nums[3];
  int many[20];
  char names[2][6];
  struct inner in; struct inner ins[2];
  union { int ui; float uf; };
  struct { int ax; int ay; };
  union { u64 whole; unsigned int halves[2]; } un;
  unsigned int bf1 : 3; int bf2 : 5; unsigned int bf3 : 24; _Bool bfb : 1; enum color bfe : 4;
  u64 bf64 : 40; long long bfs64 : 60;
  int __proto__;
  __int128 i128; unsigned __int128 u128;
  cvint cv;
  int flex[];
};
`;

const FILL = `
  memset(&v, 0, sizeof v);
  v.sc = -5; v.uc = 250; v.c = 'x'; v.b = 1;
  v.i = -123456; v.u = 4000000000u;
  v.ll = -9007199254740993LL; v.ull = 18446744073709551615ULL;
  v.p = (void *)0xffff888012345678ULL;
  v.f = 1.5f; v.d = -0.1;
  v.col = NEG; v.bg = BIG;
  strcpy(v.name, "comm"); memcpy(v.full, "12345678", 8); strcpy(v.utf, "h\\xc3\\xa9llo \\xe2\\x82\\xac");
  strcpy(v.longname, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  v.name[6] = 'Z'; /* after the NUL: must not show */
  for (int k = 0; k < 5; k++) v.raw[k] = 200 + k;
  v.nums[0] = 1; v.nums[1] = -2; v.nums[2] = 3;
  for (int k = 0; k < 20; k++) v.many[k] = k * k;
  strcpy(v.names[0], "ab"); strcpy(v.names[1], "cdefg");
  v.in.s = -300; v.in.us = 65000; v.ins[0].s = 1; v.ins[1].us = 2;
  v.ui = 0x3fc00000; v.ax = 7; v.ay = -8;
  v.un.whole = 0x1122334455667788ULL;
  v.bf1 = 5; v.bf2 = -9; v.bf3 = 0xabcdef; v.bfb = 1; v.bfe = GREEN;
  v.bf64 = 0xfedcba9876ULL; v.bfs64 = -576460752303423000LL;
  v.__proto__ = 42;
  v.i128 = -((__int128)1 << 100); v.u128 = ((unsigned __int128)0xffffffffffffffffULL << 64) | 1;
`;

let dir: string;
let btf: Btf;
let bytes: Uint8Array;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-decoder-"));
  writeFileSync(join(dir, "all.bpf.c"), `${STRUCT}\nstruct all g_all;\n`);
  execFileSync("clang-19", ["-g", "-O2", "-target", "bpf", "-c", join(dir, "all.bpf.c"), "-o", join(dir, "all.bpf.o")]);
  const elf = new ElfFile(new Uint8Array(readFileSync(join(dir, "all.bpf.o"))));
  btf = Btf.parse(elf.section(".BTF")!.data, { where: "all.bpf.o" });
  writeFileSync(
    join(dir, "fill.c"),
    `#include <stdio.h>\n#include <string.h>\n${STRUCT}\nint main(void) { static struct all v;\n${FILL}\n fwrite(&v, sizeof v, 1, stdout); return 0; }\n`,
  );
  execFileSync("clang-19", ["-O1", "-o", join(dir, "fill"), join(dir, "fill.c")]);
  bytes = new Uint8Array(execFileSync(join(dir, "fill")));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("makeDecoder (clang as the oracle)", () => {
  it("lays the struct out as the host compiler does", () => {
    expect(btf.resolveSize(btf.typeByName("all", BtfKind.Struct).id)).toBe(bytes.byteLength);
  });

  it("decodes every kind of member", () => {
    const decode = makeDecoder(btf, "struct all");
    const v = decode(bytes);
    expect(v).toEqual({
      sc: -5,
      uc: 250,
      c: 120,
      b: true,
      i: -123456,
      u: 4000000000,
      ll: -9007199254740993n,
      ull: 18446744073709551615n,
      p: 0xffff888012345678n,
      f: 1.5,
      d: -0.1,
      col: -1,
      bg: 0x100000000n,
      name: "comm",
      full: "12345678",
      empty: "",
      utf: "héllo €",
      longname: "/usr/lib/x86_64-linux-gnu/libc.so.6",
      raw: new Uint8Array([200, 201, 202, 203, 204]),
      nums: [1, -2, 3],
      many: Array.from({ length: 20 }, (_, k) => k * k),
      names: ["ab", "cdefg"],
      in: { s: -300, us: 65000 },
      ins: [
        { s: 1, us: 0 },
        { s: 0, us: 2 },
      ],
      ui: 0x3fc00000,
      uf: 1.5,
      ax: 7,
      ay: -8,
      un: { whole: 0x1122334455667788n, halves: [0x55667788, 0x11223344] },
      bf1: 5,
      bf2: -9,
      bf3: 0xabcdef,
      bfb: true,
      bfe: 2,
      bf64: 0xfedcba9876n,
      bfs64: -576460752303423000n,
      ["__proto__"]: 42,
      i128: -(1n << 100n),
      u128: (0xffffffffffffffffn << 64n) | 1n,
      cv: 0,
      flex: [],
    });
    // __proto__ is an own data property, not the prototype.
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, "__proto__")?.value).toBe(42);
  });

  it("decodes at any offset of a larger buffer (a record inside a ring)", () => {
    const decode = makeDecoder(btf, "all");
    const big = new Uint8Array(bytes.byteLength * 3 + 24);
    big.set(bytes, 24);
    big.set(bytes, 24 + bytes.byteLength);
    const a = decode(big.subarray(24, 24 + bytes.byteLength));
    const b = decode(big.subarray(24 + bytes.byteLength));
    expect(b).toEqual(a);
    expect(a.name).toBe("comm");
  });

  it("64-bit fields read the same at every alignment of the record (typed-array and DataView paths)", () => {
    const decode = makeDecoder(btf, "all");
    const expected = decode(bytes);
    for (let shift = 0; shift < 8; shift++) {
      const big = new Uint8Array(bytes.byteLength + 16);
      big.set(bytes, shift);
      expect(decode.at(big, shift), `record at byte ${shift}`).toEqual(expected);
      expect(decode(new Uint8Array(big.buffer, shift, bytes.byteLength)), `view at byte ${shift}`).toEqual(expected);
    }
    expect(Object.values(expected).filter((v) => typeof v === "bigint").length).toBeGreaterThan(2);
  });

  it("a resizable buffer that grew or shrank between records decodes what it holds now", () => {
    const decode = makeDecoder(btf, "all");
    const expected = decode(bytes);
    // ES2024's resizable ArrayBuffer (Node 20 has it; the project's lib types are ES2022).
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const buffer = new Resizable(bytes.byteLength, { maxByteLength: bytes.byteLength * 4 });
    new Uint8Array(buffer).set(bytes);
    expect(decode(new Uint8Array(buffer))).toEqual(expected);
    // Grown: the record now sits past the views made for the old length.
    buffer.resize(bytes.byteLength * 3);
    new Uint8Array(buffer).set(bytes, bytes.byteLength * 2);
    expect(decode.at(new Uint8Array(buffer), bytes.byteLength * 2)).toEqual(expected);
    // Shrunk, then one record written at its start again.
    buffer.resize(bytes.byteLength);
    new Uint8Array(buffer).fill(0);
    new Uint8Array(buffer).set(bytes);
    expect(decode(new Uint8Array(buffer))).toEqual(expected);
  });

  it("options: enum names, 64-bit numbers, char arrays as bytes", () => {
    const v = makeDecoder(btf, "all", { enumNames: true, int64: "number", chars: "bytes" })(bytes);
    expect(v.col).toBe("NEG");
    expect(v.bg).toBe("BIG");
    expect(v.bfe).toBe("GREEN");
    expect(v.ull).toBe(18446744073709552000);
    expect(v.p).toBe(Number(0xffff888012345678n));
    expect(v.name).toEqual(new Uint8Array([99, 111, 109, 109, 0, 0, 90, 0]));
  });

  it("int64: number equals Number() of the exact bigint, for random bytes", () => {
    const exact = makeDecoder(btf, "all");
    const approx = makeDecoder(btf, "all", { int64: "number" });
    const buf = new Uint8Array(bytes.byteLength);
    let checked = 0;
    for (let round = 0; round < 2000; round++) {
      for (let i = 0; i < buf.length; i++) buf[i] = (Math.random() * 256) | 0;
      const e = exact(buf) as Record<string, unknown>;
      const a = approx(buf) as Record<string, unknown>;
      for (const [k, v] of Object.entries(e)) {
        if (typeof v !== "bigint" || v > 2n ** 64n || v < -(2n ** 63n)) continue; // 64-bit fields (not int128)
        expect(a[k], k).toBe(Number(v));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });

  it("decodes non-struct types, and refuses what has no layout", () => {
    const inner = makeDecoder(btf, "struct inner");
    expect(inner.size).toBe(4);
    expect(inner(new Uint8Array([0xfe, 0xff, 0x01, 0x02]))).toEqual({ s: -2, us: 0x0201 });
    const color = makeDecoder<number>(btf, "enum color");
    expect(color(new Uint8Array([2, 0, 0, 0]))).toBe(2);
    expect(makeDecoder(btf, "enum color", { enumNames: true })(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBe("NEG");
    expect(() => makeDecoder(btf, "no_such_type")).toThrow(NotFoundError);
    expect(() => inner(new Uint8Array(3))).toThrow(RangeError);
  });

  it("quotes names from the BTF, which the file controls", () => {
    const b = new BtfBuilder();
    const int = b.add({ kind: BtfKind.Int, name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 });
    const evil = 'x"]: 0, y: (() => { throw new Error("pwned") })(), ["z';
    b.add({
      kind: BtfKind.Struct,
      name: "s",
      size: 8,
      kindFlag: false,
      members: [
        { name: evil, type: int, bitOffset: 0, bitfieldSize: 0 },
        { name: "\u2028ok", type: int, bitOffset: 32, bitfieldSize: 0 },
      ],
    });
    const decode = makeDecoder(Btf.parse(b.encode()), "s");
    const v = decode(new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]));
    expect(Object.keys(v)).toEqual([evil, "\u2028ok"]);
    expect(v[evil]).toBe(1);
  });
});

describe("struct event (bootstrap's), from bpf/ringbuf_test.bpf.o", () => {
  const elf = new ElfFile(new Uint8Array(readFileSync("bpf/ringbuf_test.bpf.o")));
  const eventBtf = Btf.parse(elf.section(".BTF")!.data, { where: "ringbuf_test.bpf.o" });
  interface Event {
    pid: number;
    ppid: number;
    exit_code: number;
    duration_ns: bigint;
    comm: string;
    filename: string;
    exit_event: boolean;
  }
  const decode = makeDecoder<Event>(eventBtf, "event");

  function eventBytes(i: number, comm: string, filename: string): Uint8Array {
    const b = new Uint8Array(decode.size);
    const v = new DataView(b.buffer);
    v.setInt32(0, 1000 + i, true);
    v.setInt32(4, 1, true);
    v.setUint32(8, i & 0xff, true);
    v.setBigUint64(16, 1234567890123n + BigInt(i), true);
    b.set(new TextEncoder().encode(comm), 24);
    b.set(new TextEncoder().encode(filename), 40);
    b[167] = i & 1;
    return b;
  }

  it("decodes to a plain object", () => {
    expect(decode.size).toBe(168);
    expect(decode(eventBytes(3, "bash", "/usr/bin/bash"))).toEqual({
      pid: 1003,
      ppid: 1,
      exit_code: 3,
      duration_ns: 1234567890126n,
      comm: "bash",
      filename: "/usr/bin/bash",
      exit_event: true,
    });
  });

  it("decodes at an offset of a larger array, with the same bounds", () => {
    const ring = new Uint8Array(8 + 176 * 2);
    ring.set(eventBytes(3, "bash", "/usr/bin/bash"), 8);
    ring.set(eventBytes(4, "node", "/usr/bin/node"), 8 + 176);
    const inner = ring.subarray(8); // byteOffset 8: offsets are relative to the view
    expect(decode.at(ring, 8)).toEqual(decode(ring.subarray(8, 8 + 168)));
    expect(decode.at(inner, 176)).toEqual(decode(ring.subarray(8 + 176, 8 + 176 + 168)));
    expect(decode.at(inner, 176).comm).toBe("node");
    expect(() => decode.at(inner, 176 + 9)).toThrow(RangeError);
    expect(() => decode.at(ring, -1)).toThrow(RangeError);
  });

  it("micro-benchmark: objects per second (printed, not asserted)", () => {
    // 4096 distinct records in one buffer, as they would sit in a ring.
    const N = 4096;
    const ring = new Uint8Array(N * 176);
    const comms = ["bash", "systemd-journal", "node", "kworker/u8:1", "sshd"];
    for (let i = 0; i < N; i++) ring.set(eventBytes(i, comms[i % comms.length]!, `/usr/bin/prog-${i}`), i * 176 + 8);
    const views = Array.from({ length: N }, (_, i) => ring.subarray(i * 176 + 8, i * 176 + 8 + 168));
    let sink = 0;
    const run = (rounds: number): number => {
      const t0 = process.hrtime.bigint();
      for (let r = 0; r < rounds; r++) for (let i = 0; i < N; i++) sink += decode(views[i]!).pid;
      return (rounds * N) / (Number(process.hrtime.bigint() - t0) / 1e9);
    };
    run(50); // warm-up
    const rate = Math.max(run(250), run(250));
    console.log(`value-decoder: struct event → object: ${(rate / 1e6).toFixed(2)} M objects/s (${(1e9 / rate).toFixed(0)} ns each)`);
    expect(sink).toBeGreaterThan(0);
  });
});
