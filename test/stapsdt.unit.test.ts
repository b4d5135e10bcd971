/**
 * USDT, the pure parts (no root, no kernel; gcc builds the probed programs): SDT notes read from gcc-built binaries agree with
 * `readelf -n`; the .stapsdt.base (prelink) adjustment; argument
 * specifications of every form; their encoding into usdt.bpf.h's spec
 * through the object's BTF; /proc/PID/maps lines.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ElfFile } from "../src/elf/elf-file.js";
import { type UsdtArg, parseUsdtArgs, probeAddress, readStapsdtNotes } from "../src/elf/stapsdt.js";
import { UnsupportedError } from "../src/errors.js";
import { UsdtSpecEncoder } from "../src/programs/attach/usdt-spec.js";
import { deviceName, parseExecutableMappings } from "../src/programs/attach/usdt-targets.js";
import { parseUsdtTarget } from "../src/programs/attach/usdt.js";
import { parseObject } from "../src/spec/object-spec.js";
import { thrownBy } from "./helpers/thrown.js";
import { EXPECTED_ARGS, type UsdtDemo, buildUsdtDemo } from "./helpers/usdt-demo.js";

let demo: UsdtDemo;
beforeAll(() => {
  demo = buildUsdtDemo();
});
afterAll(() => demo.remove());

/** `readelf -n`'s view of the stapsdt notes. */
function readelfNotes(path: string): Array<Record<string, string | number>> {
  const text = execFileSync("readelf", ["-n", path], { encoding: "utf8" });
  const out: Array<Record<string, string | number>> = [];
  const re =
    /Provider: (\S+)\n\s+Name: (\S+)\n\s+Location: 0x([0-9a-f]+), Base: 0x([0-9a-f]+), Semaphore: 0x([0-9a-f]+)\n\s+Arguments: ?(.*)\n/g;
  for (const m of text.matchAll(re)) {
    out.push({
      provider: m[1]!,
      name: m[2]!,
      location: Number.parseInt(m[3]!, 16),
      base: Number.parseInt(m[4]!, 16),
      semaphore: Number.parseInt(m[5]!, 16),
      args: m[6]!.trim(),
    });
  }
  return out;
}

describe("SDT notes", () => {
  for (const which of ["exe", "exeO0", "lib"] as const) {
    it(`${which}: every note as readelf -n prints it`, () => {
      const path = demo[which];
      const notes = readStapsdtNotes(new ElfFile(new Uint8Array(readFileSync(path))));
      const theirs = readelfNotes(path);
      expect(theirs.length).toBe(which === "lib" ? 2 : 7);
      expect(notes).toEqual(theirs);
      const sema = notes.filter((n) => n.semaphore !== 0).map((n) => n.name);
      expect(sema).toEqual(which === "lib" ? ["lsem"] : ["psem"]);
    });
  }

  it("the -O2 build passes registers and constants, the -O0 build stack slots", () => {
    const args = (path: string) =>
      readStapsdtNotes(new ElfFile(new Uint8Array(readFileSync(path)))).flatMap((n) => parseUsdtArgs(n.args).map((a) => a.location.kind));
    expect(new Set(args(demo.exe))).toEqual(new Set(["reg", "const"]));
    expect(new Set(args(demo.exeO0))).toEqual(new Set(["deref", "const"]));
  });

  it("a prelinked binary: probe addresses move with .stapsdt.base", () => {
    const bytes = new Uint8Array(readFileSync(demo.exe));
    const elf = new ElfFile(bytes);
    const note = readStapsdtNotes(elf).find((n) => n.name === "p3")!;
    expect(probeAddress(elf, note)).toBe(note.location);
    // Move .stapsdt.base by 0x10000 in its section header (sh_addr, offset 16), as prelink would.
    const base = elf.section(".stapsdt.base")!;
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const shoff = Number(view.getBigUint64(40, true));
    const at = shoff + base.index * 64 + 16;
    view.setBigUint64(at, view.getBigUint64(at, true) + 0x10000n, true);
    expect(probeAddress(new ElfFile(bytes), note)).toBe(note.location + 0x10000);
  });
});

const loc = (a: UsdtArg) => ({ size: a.size, signed: a.signed, ...a.location });

describe("USDT argument specifications (x86-64)", () => {
  it.each([
    ["-4@%eax", { size: 4, signed: true, kind: "reg", reg: "eax" }],
    ["8@%rdx", { size: 8, signed: false, kind: "reg", reg: "rdx" }],
    ["-1@%sil", { size: 1, signed: true, kind: "reg", reg: "sil" }],
    ["8@-8(%rbp)", { size: 8, signed: false, kind: "deref", reg: "rbp", offset: -8n }],
    ["-4@-1204(%rbp)", { size: 4, signed: true, kind: "deref", reg: "rbp", offset: -1204n }],
    ["8@(%rsp)", { size: 8, signed: false, kind: "deref", reg: "rsp", offset: 0n }],
    ["-4@$5", { size: 4, signed: true, kind: "const", value: 5n }],
    ["-4@$-9", { size: 4, signed: true, kind: "const", value: -9n }],
    ["1@-96(%rbp,%rax,8)", { size: 1, signed: false, kind: "sib", reg: "rbp", indexReg: "rax", scale: 8, offset: -96n }],
    ["1@(%rbp,%rax,8)", { size: 1, signed: false, kind: "sib", reg: "rbp", indexReg: "rax", scale: 8, offset: 0n }],
    ["2@-96(%rbp,%rax)", { size: 2, signed: false, kind: "sib", reg: "rbp", indexReg: "rax", scale: 1, offset: -96n }],
  ])("%s", (text, expected) => {
    const [arg, ...rest] = parseUsdtArgs(text);
    expect(rest).toEqual([]);
    expect(loc(arg!)).toEqual(expected);
    expect(arg!.text).toBe(text);
  });

  it("a list of 12, as libbpf's own example prints it", () => {
    const args = parseUsdtArgs("-4@-1204(%rbp) -4@%edi -8@-1216(%rbp) -8@%r8 -4@$5 -8@%r9 8@%rdx 8@%r10 -4@$-9 -2@%cx -2@%ax -1@%sil");
    expect(args.map((a) => a.text)).toEqual([
      "-4@-1204(%rbp)",
      "-4@%edi",
      "-8@-1216(%rbp)",
      "-8@%r8",
      "-4@$5",
      "-8@%r9",
      "8@%rdx",
      "8@%r10",
      "-4@$-9",
      "-2@%cx",
      "-2@%ax",
      "-1@%sil",
    ]);
    expect(parseUsdtArgs("")).toEqual([]);
    expect(parseUsdtArgs("   ")).toEqual([]);
  });

  it.each([
    ["4@counter(%rip)", /argument #0 "4@counter\(%rip\)" is not a form/],
    ["3@%eax", /size 3/],
    ["8@%rax junk", /argument #1 "junk"/],
    ["1@(%rbp,%rax,3)", /scale 3/],
  ])("%s is refused", (text, message) => {
    const e = thrownBy(() => parseUsdtArgs(text));
    expect(e).toBeInstanceOf(UnsupportedError);
    expect((e as Error).message).toMatch(message);
  });

  it("other architectures' notes are refused, not misread", () => {
    expect((thrownBy(() => parseUsdtArgs("8@x0", 183)) as Error).message).toMatch(/ELF machine 183/);
  });
});

describe("usdt.bpf.h specs, encoded through the object's BTF", () => {
  const spec = parseObject(readFileSync("bpf/usdt.bpf.o"), { path: "bpf/usdt.bpf.o" });
  const specsMap = spec.maps.find((m) => m.name === "__bpf_usdt_specs")!;
  const encoder = new UsdtSpecEncoder(spec.btf!.btf, specsMap.btfValueTypeId);

  it("lays out struct __bpf_usdt_spec as the installed usdt.bpf.h (libbpf 1.1) declares it", () => {
    expect(encoder.maxArgs).toBe(12);
    const bytes = encoder.spec(parseUsdtArgs("-4@%eax 8@-8(%rbp) -2@$-9"), 0x1122334455667788n, "t:p");
    expect(bytes.byteLength).toBe(specsMap.valueSize);
    const v = new DataView(bytes.buffer);
    // struct __bpf_usdt_arg_spec { u64 val_off; enum arg_type (4 B); short reg_off; bool arg_signed; char arg_bitshift; }
    const arg = (i: number) => ({
      valOff: v.getBigInt64(i * 16, true),
      type: v.getUint32(i * 16 + 8, true),
      regOff: v.getInt16(i * 16 + 12, true),
      signed: v.getUint8(i * 16 + 14),
      bitshift: v.getUint8(i * 16 + 15),
    });
    expect(arg(0)).toEqual({ valOff: 0n, type: 1, regOff: 80, signed: 1, bitshift: 32 }); // pt_regs->ax
    expect(arg(1)).toEqual({ valOff: -8n, type: 2, regOff: 32, signed: 0, bitshift: 0 }); // pt_regs->bp
    expect(arg(2)).toEqual({ valOff: -9n, type: 0, regOff: 0, signed: 1, bitshift: 48 });
    expect(v.getBigUint64(12 * 16, true)).toBe(0x1122334455667788n); // usdt_cookie
    expect(v.getInt16(12 * 16 + 8, true)).toBe(3); // arg_cnt
  });

  it("an indexed argument needs a newer header than the object's", () => {
    const e = thrownBy(() => encoder.spec(parseUsdtArgs("1@-96(%rbp,%rax,8)"), 0n, "t:p"));
    expect(e).toBeInstanceOf(UnsupportedError);
    expect((e as Error).message).toMatch(/libbpf 1\.7 or later/);
    expect((thrownBy(() => encoder.spec(parseUsdtArgs("8@%ah"), 0n, "t:p")) as Error).message).toMatch(/%ah cannot be read/);
    const many = parseUsdtArgs(Array(13).fill("8@%rax").join(" "));
    expect((thrownBy(() => encoder.spec(many, 0n, "t:p")) as Error).message).toMatch(/13 arguments; usdt.bpf.h reads at most 12/);
  });

  it("every probe of the demo encodes", () => {
    const notes = readStapsdtNotes(new ElfFile(new Uint8Array(readFileSync(demo.exeO0))));
    for (const n of notes) {
      const args = parseUsdtArgs(n.args);
      expect(args.length, n.name).toBe(EXPECTED_ARGS[n.name]!.length);
      expect(encoder.spec(args, 0n, n.name).byteLength).toBe(specsMap.valueSize);
    }
  });
});

describe("usdt/ section targets", () => {
  it("PATH:PROVIDER:NAME, as libbpf splits it (no ':' inside a part)", () => {
    expect(parseUsdtTarget("libc.so.6:libc:setjmp")).toEqual({ binary: "libc.so.6", provider: "libc", name: "setjmp" });
    expect(parseUsdtTarget("/usr/bin/python3:python:function__entry")).toEqual({
      binary: "/usr/bin/python3",
      provider: "python",
      name: "function__entry",
    });
    for (const bad of ["libc.so.6:libc", "a:b:c:d", ":libc:setjmp", "libc.so.6::setjmp"]) {
      expect(
        thrownBy(() => parseUsdtTarget(bad)),
        bad,
      ).toBeInstanceOf(UnsupportedError);
    }
  });
});

describe("/proc/PID/maps", () => {
  it("executable mappings of one file, paths with spaces, and lines without a path", () => {
    const text = [
      "55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1234     /tmp/my lib.so",
      "55d0c0a01000-55d0c0a02000 r-xp 00001000 fd:01 1234     /tmp/my lib.so",
      "7f5c6f5d3000-7f5c6f5d8000 rw-p 00000000 00:00 0",
      "7f5c6f5d8000-7f5c6f5d9000 r-xp 00000000 103:01 362990598    /usr/lib/other.so",
    ].join("\n");
    const mapped = [{ start: 0x55d0c0a01000, end: 0x55d0c0a02000, offset: 0x1000 }];
    expect(parseExecutableMappings(text, { path: "/tmp/my lib.so" })).toEqual(mapped);
    expect(parseExecutableMappings(text, { path: "/nowhere" })).toEqual([]);
    // The same file under another name (a symlink): found by device and inode.
    expect(parseExecutableMappings(text, { path: "/link/to/lib.so", device: "fd:01", inode: 1234n })).toEqual(mapped);
    expect(parseExecutableMappings(text, { path: "/link/to/lib.so", device: "fd:02", inode: 1234n })).toEqual([]);
  });

  it("st_dev printed as /proc/PID/maps prints it", () => {
    // makedev(0xfd, 0x01) and makedev(0x103, 0x12345) in glibc's encoding.
    expect(deviceName(0xfd01n)).toBe("fd:01");
    expect(deviceName(0x12310345n)).toBe("103:12345");
  });
});
