/**
 * The disassembler against llvm-objdump-19, the oracle for its syntax:
 * every committed bpf/*.bpf.o, a cpu v4 object built here (atomics,
 * sign extension, bswap, jmp32, gotol, may_goto, ...), an object holding
 * every opcode with a spread of operands (valid and invalid encodings), and
 * one with the listing's corner cases (zero runs, data symbols, aliases, a
 * section that starts without a symbol). Listings must match line for line
 * (the file-name header aside), in the default subtarget and with
 * --mattr=+alu32. Then the annotated listings and the `disasm` verb.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DISASM_HELP, disasmCommand } from "../src/cli/disasm-command.js";
import { redirectOutput } from "../src/cli/output.js";
import { UsageError } from "../src/cli/args.js";
import { ElfFile } from "../src/elf/elf-file.js";
import { parseObject } from "../src/spec/object-spec.js";
import {
  HELPER_NAMES,
  annotateObjectSections,
  annotateProgram,
  decodeInstruction,
  disassemble,
  disassembleObject,
  objdumpHeader,
} from "../src/disasm/disasm.js";
import type { Instruction } from "../src/insn/insn.js";

const OBJDUMP = "llvm-objdump-19";
const CLANG = "clang-19";
const LLVM_MC = "llvm-mc-19";
const BPF_DIR = join(import.meta.dirname, "..", "bpf");
const OBJECTS = readdirSync(BPF_DIR)
  .filter((f) => f.endsWith(".bpf.o"))
  .sort();

function objdump(path: string, ...args: string[]): string {
  return execFileSync(OBJDUMP, ["-d", ...args, path], { encoding: "utf8", maxBuffer: 1 << 28 });
}

const HEADER = /:\tfile format elf64-bpf$/;
const INSN_LINE = /^ *(\d+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\t(.*)$/;

/** Line-by-line equality, the file-name header line aside; reports the first differences. */
function expectSameListing(got: string, want: string, what: string): void {
  const g = got.split("\n").filter((l) => !HEADER.test(l));
  const w = want.split("\n").filter((l) => !HEADER.test(l));
  const diffs: string[] = [];
  for (let i = 0; i < Math.max(g.length, w.length); i++) {
    if (g[i] !== w[i]) diffs.push(`line ${i + 1}\n  llvm-objdump: ${JSON.stringify(w[i])}\n  tsbpf:        ${JSON.stringify(g[i])}`);
  }
  expect(diffs.slice(0, 8), `${what}: ${diffs.length} of ${w.length} lines differ`).toEqual([]);
  // Not vacuous: the oracle printed instructions.
  expect(w.filter((l) => INSN_LINE.test(l)).length, `${what}: llvm-objdump printed no instructions`).toBeGreaterThan(0);
}

function insnFrom(bytes: number[], at: number): Instruction {
  const b = Uint8Array.from(bytes.slice(at, at + 8));
  const v = new DataView(b.buffer);
  return { opcode: b[0]!, dst: b[1]! & 0xf, src: b[1]! >> 4, off: v.getInt16(2, true), imm: v.getInt32(4, true) };
}

/** Every instruction line of an llvm-objdump listing through disassemble(), text compared exactly. */
function expectSameInstructions(listing: string, what: string, alu32 = false): number {
  let n = 0;
  const diffs: string[] = [];
  for (const line of listing.split("\n")) {
    const m = INSN_LINE.exec(line);
    if (!m) continue;
    const bytes = m[2]!.split(" ").map((h) => parseInt(h, 16));
    if (bytes.length !== 8 && bytes.length !== 16) continue;
    // The branch target (" <sym+0x..>") is the listing's, not the instruction's.
    const text = m[3] === "<unknown>" ? m[3] : m[3]!.replace(/ <[^<>]+>$/, "");
    const got = disassemble(insnFrom(bytes, 0), bytes.length === 16 ? insnFrom(bytes, 8) : undefined, { alu32 });
    if (got !== text) diffs.push(`${m[2]}\n  llvm-objdump: ${JSON.stringify(text)}\n  disassemble:  ${JSON.stringify(got)}`);
    n++;
  }
  expect(diffs.slice(0, 8), `${what}: ${diffs.length} of ${n} instructions differ`).toEqual([]);
  expect(n).toBeGreaterThan(0);
  return n;
}

function insn(opcode: number, dst = 0, src = 0, off = 0, imm = 0): Instruction {
  return { opcode, dst, src, off, imm };
}

describe("disassemble(): one instruction in llvm-objdump-19's syntax", () => {
  const cases: [string, Instruction, Instruction | undefined, string][] = [
    ["ld_imm64", insn(0x18, 1), insn(0), "r1 = 0x0 ll"],
    ["ld_imm64, negative", insn(0x18, 2, 0, 0, 1), insn(0, 0, 0, 0, -2), "r2 = -0x1ffffffff ll"],
    ["ld_imm64 with a pseudo src", insn(0x18, 1, 1, 0, 5), insn(0), "ld_pseudo\tr1, 0x1, 0x5"],
    ["mov", insn(0xbf, 6, 1), undefined, "r6 = r1"],
    ["mov32", insn(0xbc, 1, 2), undefined, "w1 = w2"],
    ["mov imm", insn(0xb7, 1, 0, 0, -1), undefined, "r1 = -0x1"],
    ["add imm", insn(0x07, 1, 0, 0, -8), undefined, "r1 += -0x8"],
    ["arsh", insn(0xc7, 1, 0, 0, 32), undefined, "r1 s>>= 0x20"],
    ["neg", insn(0x87, 3), undefined, "r3 = -r3"],
    ["sdiv (cpu v4)", insn(0x3f, 1, 2, 1), undefined, "r1 s/= r2"],
    ["smod32 imm (cpu v4)", insn(0x94, 1, 0, 1, 7), undefined, "w1 s%= 0x7"],
    ["store", insn(0x63, 10, 1, -4), undefined, "*(u32 *)(r10 - 0x4) = r1"],
    ["store imm", insn(0x7a, 10, 0, -16, -7), undefined, "*(u64 *)(r10 - 0x10) = -0x7"],
    ["load", insn(0x79, 1, 1, 8), undefined, "r1 = *(u64 *)(r1 + 0x8)"],
    ["sign-extending load (cpu v4)", insn(0x91, 1, 2, 1), undefined, "r1 = *(s8 *)(r2 + 0x1)"],
    ["movsx (cpu v4)", insn(0xbf, 1, 2, 16), undefined, "r1 = (s16)r2"],
    ["movsx32 (cpu v4)", insn(0xbc, 1, 2, 8), undefined, "w1 = (s8)w2"],
    ["jne reg", insn(0x5d, 1, 2, 3), undefined, "if r1 != r2 goto +0x3"],
    ["jeq imm, backwards", insn(0x15, 0, 0, -1), undefined, "if r0 == 0x0 goto -0x1"],
    ["jmp32", insn(0xc6, 1, 0, 1, -5), undefined, "if w1 s< -0x5 goto +0x1"],
    ["jset", insn(0x45, 1, 0, -1, 16), undefined, "if r1 & 0x10 goto -0x1"],
    ["goto", insn(0x05, 0, 0, 43), undefined, "goto +0x2b"],
    ["gotol (cpu v4)", insn(0x06, 0, 0, 0, 0x10000), undefined, "gotol +0x10000"],
    ["may_goto", insn(0xe5, 0, 0, 2), undefined, "may_goto +0x2"],
    ["helper call", insn(0x85, 0, 0, 0, 14), undefined, "call 0xe"],
    ["bpf-to-bpf call", insn(0x85, 0, 1, 0, -1), undefined, "call -0x1"],
    ["callx", insn(0x8d, 3), undefined, "callx r3"],
    ["exit", insn(0x95), undefined, "exit"],
    ["be16", insn(0xdc, 1, 0, 0, 16), undefined, "r1 = be16 r1"],
    ["le64", insn(0xd4, 1, 0, 0, 64), undefined, "r1 = le64 r1"],
    ["bswap32 (cpu v4)", insn(0xd7, 1, 0, 0, 32), undefined, "r1 = bswap32 r1"],
    ["atomic add", insn(0xdb, 1, 2, 0, 0x00), undefined, "lock *(u64 *)(r1 + 0x0) += r2"],
    ["atomic fetch_or", insn(0xdb, 4, 3, 8, 0x41), undefined, "r3 = atomic_fetch_or((u64 *)(r4 + 0x8), r3)"],
    ["xchg", insn(0xdb, 1, 3, 0, 0xe1), undefined, "r3 = xchg_64(r1 + 0x0, r3)"],
    ["cmpxchg", insn(0xdb, 1, 2, 0, 0xf1), undefined, "r0 = cmpxchg_64(r1 + 0x0, r0, r2)"],
    ["32-bit atomic add", insn(0xc3, 6, 1, 0, 0x00), undefined, "lock *(u32 *)(r6 + 0x0) += r1"],
    ["32-bit xchg: not in the default subtarget", insn(0xc3, 6, 2, 0, 0xe1), undefined, "<unknown>"],
    ["ld_abs", insn(0x30, 0, 0, 0, 10), undefined, "r0 = *(u8 *)skb[0xa]"],
    ["ld_ind", insn(0x40, 0, 3), undefined, "r0 = *(u32 *)skb[r3]"],
    ["addr_space_cast", insn(0xbf, 1, 2, 1, 0x10000), undefined, "r1 = addr_space_cast(r2, 0x1, 0x0)"],
    ["opcode 0", insn(0x00), undefined, "<unknown>"],
    ["exit with imm", insn(0x95, 0, 0, 0, 1), undefined, "<unknown>"],
    ["register 12", insn(0xbf, 12, 1), undefined, "<unknown>"],
    ["ld_imm64 without its second slot", insn(0x18, 1), undefined, "<unknown>"],
  ];
  it.each(cases)("%s", (_name, i, next, text) => {
    expect(disassemble(i, next)).toBe(text);
  });

  it("alu32 gives llvm-objdump --mattr=+alu32's 32-bit memory syntax", () => {
    expect(disassemble(insn(0x61, 1, 2, 3), undefined, { alu32: true })).toBe("w1 = *(u32 *)(r2 + 0x3)");
    expect(disassemble(insn(0x63, 10, 1, -4), undefined, { alu32: true })).toBe("*(u32 *)(r10 - 0x4) = w1");
    expect(disassemble(insn(0xc3, 6, 2, 0, 0xe1), undefined, { alu32: true })).toBe("w2 = xchg32_32(r6 + 0x0, w2)");
    expect(disassemble(insn(0xc3, 6, 7, 0, 0xf1), undefined, { alu32: true })).toBe("w0 = cmpxchg32_32(r6 + 0x0, w0, w7)");
  });

  it("reports slots and branch offsets", () => {
    expect(decodeInstruction(insn(0x18, 1), insn(0)).slots).toBe(2);
    expect(decodeInstruction(insn(0x5d, 1, 2, 3)).jump).toBe(3);
    expect(decodeInstruction(insn(0x06, 0, 0, 0, -70000)).jump).toBe(-70000);
    expect(decodeInstruction(insn(0x85, 0, 1, 0, 4)).jump).toBeUndefined();
    expect(decodeInstruction(insn(0x00)).known).toBe(false);
  });
});

describe("llvm-objdump -d on every bpf/*.bpf.o", () => {
  it("finds the committed objects", () => {
    expect(OBJECTS).toEqual(expect.arrayContaining(["bootstrap.bpf.o", "globals.bpf.o", "minimal.bpf.o"]));
  });

  it.each(OBJECTS)("%s: the listing is llvm-objdump's, line for line", (name) => {
    const path = join(BPF_DIR, name);
    const want = objdump(path);
    expectSameListing(disassembleObject(readFileSync(path), { path }), want, name);
    expectSameInstructions(want, name);
  });

  it.each(OBJECTS)("%s: with --mattr=+alu32", (name) => {
    const path = join(BPF_DIR, name);
    const want = objdump(path, "--mattr=+alu32");
    expectSameListing(disassembleObject(readFileSync(path), { path, alu32: true }), want, `${name} alu32`);
    expectSameInstructions(want, `${name} alu32`, true);
  });

  it.each(OBJECTS)("%s: each function alone, as --disassemble-symbols", (name) => {
    const path = join(BPF_DIR, name);
    const elf = new ElfFile(readFileSync(path));
    const functions = [...new Set(elf.symbols.filter((s) => s.type === 2).map((s) => s.name))];
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expectSameListing(disassembleObject(elf, { path, symbols: [fn] }), objdump(path, `--disassemble-symbols=${fn}`), `${name} ${fn}`);
    }
  });

  it("the comparison can fail: a changed instruction shows up as a difference", () => {
    const path = join(BPF_DIR, "minimal.bpf.o");
    const bytes = new Uint8Array(readFileSync(path));
    const elf = new ElfFile(bytes);
    const text = elf.sections.find((s) => s.name === "tp/syscalls/sys_enter_write")!;
    const copy = bytes.slice();
    copy[text.offset + 8] = 0x87; // slot 1: "r0 >>= 0x20" becomes "r0 = -r0"
    const got = disassembleObject(copy, { path });
    expect(got).toContain("r0 = -r0");
    expect(() => expectSameListing(got, objdump(path), "mutated")).toThrow(/1 of \d+ lines differ/);
  });
});

/** A cpu v4 program: everything clang emits that the committed objects do not, plus inline asm for the rest. */
const V4_SOURCE = String.raw`
typedef unsigned long long u64; typedef unsigned int u32; typedef unsigned short u16;
typedef signed char s8; typedef short s16; typedef int s32; typedef long long s64;
#define SEC(n) __attribute__((section(n), used))
u64 g64; u32 g32; s8 gs8; s16 gs16; s32 gs32;
static long (*bpf_ktime_get_ns)(void) = (void *)5;

static __attribute__((noinline)) int helper(int x) { return x * 3; }

SEC("xdp") int v4_ops(void *ctx)
{
  s64 a = gs8, b = gs16, c = gs32;
  u64 r = a + b + c;
  r += __sync_fetch_and_add(&g64, 1);
  r += __sync_fetch_and_or(&g64, 2);
  r += __sync_fetch_and_and(&g64, 3);
  r += __sync_fetch_and_xor(&g64, 4);
  r += __sync_lock_test_and_set(&g64, 5);
  r += __sync_val_compare_and_swap(&g64, 6, 7);
  __sync_fetch_and_add(&g32, 1);
  r += __sync_fetch_and_add(&g32, 8);
  r += __sync_lock_test_and_set(&g32, 9);
  r += __sync_val_compare_and_swap(&g32, 10, 11);
  r += __builtin_bswap16((u16)r) + __builtin_bswap32((u32)r) + __builtin_bswap64(r);
  r += (s64)(s8)r + (s64)(s16)r + (s64)(s32)r;
  r += (s64)r / (s64)(c | 1) + (s64)r % (s64)(b | 1);
  if ((u32)r > 17) r += helper((int)r);
  r += bpf_ktime_get_ns();
  asm volatile(
    "r1 = -r1\n"
    "w2 = -w2\n"
    "*(u32 *)(r10 - 8) = 42\n"
    "*(u64 *)(r10 - 16) = -7\n"
    "r0 = *(u8 *)skb[10]\n"
    "r0 = *(u32 *)skb[r3]\n"
    "r1 = be16 r1\n"
    "r1 = le64 r1\n"
    "w1 = (s8)w2\n"
    "gotol +1\n"
    "r0 = 0\n"
    "may_goto +1\n"
    "r0 = 1\n"
    "if w1 s< -5 goto +1\n"
    "if r1 & 0x10 goto -1\n"
    "callx r3\n"
    ::: "r0", "r1", "r2", "r3", "r4", "r5");
  return (int)r;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** Listing corner cases: zero runs, data-only symbols, aliases, a section that starts without a symbol, truncated tails. */
const EDGES_ASM = `
.section first,"ax",@progbits
r0 = 1
r0 = 2
.globl late
.type late,@function
late:
goto -3
if r1 > r2 goto +5
exit
endlbl:
.section second,"ax",@progbits
.globl zz
.globl aa
.type aa,@object
zz:
aa:
r1 = 0x123456789 ll
call 1
r0 = 1
.byte 0,0,0,0,0,0,0,0,0,0,0,0
r0 = 2
.byte 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
.byte 0x95,0,0,0,0,0,0,0
.globl blob
.type blob,@object
blob:
.ascii "hello, world\\x01\\x7f~ ABCDEFG"
.globl data_alias
.type data_alias,@object
.globl code_alias
.type code_alias,@function
data_alias:
code_alias:
exit
.globl tail
.type tail,@object
tail:
.byte 1,2,3
.section third,"ax",@progbits
.globl short_tail
.type short_tail,@function
short_tail:
r0 = 1
.byte 1,2,0x18
.section fourth,"ax",@progbits
.globl half_ld
.type half_ld,@function
half_ld:
exit
.byte 0x18,1,0,0,0,0,0,0,0,0
`;

/** Every opcode with a spread of registers (valid and not), offsets and immediates. */
function sweepAsm(): string {
  const regs: [number, number][] = [
    [1, 2],
    [0, 0],
    [10, 11],
    [11, 12],
    [12, 1],
    [15, 15],
  ];
  const offs = [0, 1, -1, 8, 16, 32, 0x7fff, -0x8000];
  const imms = [0, 1, -1, 16, 32, 64, 0x41, 0xe1, 0xf1, 0x10002, -0x80000000];
  const lines = ['.section sweep,"ax",@progbits', ".globl sweep_all", ".type sweep_all,@function", "sweep_all:"];
  const b = new DataView(new ArrayBuffer(8));
  for (let op = 0; op < 256; op++) {
    for (const [dst, src] of regs) {
      for (const off of offs) {
        for (const imm of imms) {
          b.setUint8(0, op);
          b.setUint8(1, (src << 4) | dst);
          b.setInt16(2, off, true);
          b.setInt32(4, imm, true);
          lines.push(`.quad 0x${b.getBigUint64(0, true).toString(16)}`);
        }
      }
    }
  }
  // Random instructions with random fields, from a fixed seed.
  let seed = 0x2545f491;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  for (let i = 0; i < 20000; i++) lines.push(`.quad 0x${((BigInt(rand()) << 32n) | BigInt(rand())).toString(16)}`);
  return lines.join("\n") + "\n";
}

describe("objects built here", () => {
  let dir: string;
  const built: Record<string, string> = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tsbpf-disasm-"));
    writeFileSync(join(dir, "v4.bpf.c"), V4_SOURCE);
    built.v4 = join(dir, "v4.bpf.o");
    execFileSync(CLANG, ["-g", "-O2", "-target", "bpf", "-mcpu=v4", "-c", join(dir, "v4.bpf.c"), "-o", built.v4]);
    for (const [name, asm] of [
      ["edges", EDGES_ASM],
      ["sweep", sweepAsm()],
    ] as const) {
      writeFileSync(join(dir, `${name}.s`), asm);
      built[name] = join(dir, `${name}.o`);
      execFileSync(LLVM_MC, ["-triple", "bpfel", "-filetype=obj", join(dir, `${name}.s`), "-o", built[name]!]);
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(["v4", "edges", "sweep"])("%s: the listing is llvm-objdump's, default and alu32", (name) => {
    const path = built[name]!;
    const bytes = readFileSync(path);
    for (const alu32 of [false, true]) {
      const want = objdump(path, ...(alu32 ? ["--mattr=+alu32"] : []));
      expectSameListing(disassembleObject(bytes, { path, alu32 }), want, `${name}${alu32 ? " alu32" : ""}`);
      if (name !== "edges") expectSameInstructions(want, name, alu32);
    }
  });

  it("v4 covers what the committed objects lack", () => {
    const text = disassembleObject(readFileSync(built.v4!), { path: built.v4! });
    for (const s of [
      "= atomic_fetch_add((u64 *)",
      "= xchg_64(",
      "r0 = cmpxchg_64(",
      "r1 = *(s8 *)",
      "r1 = *(s16 *)",
      "r1 = *(s32 *)",
      "= (s16)r1",
      "= bswap64 ",
      "s/= ",
      "s%= ",
      "if w6 < 0x12 goto",
      "gotol +0x1 <v4_ops+",
      "may_goto +0x1 <v4_ops+",
      "r1 = be16 r1",
      "r0 = *(u8 *)skb[0xa]",
      "callx r3",
      "<unknown>",
    ]) {
      expect(text).toContain(s);
    }
  });

  it("the sweep decodes a good share of its encodings (and rejects the rest as llvm does)", () => {
    const text = disassembleObject(readFileSync(built.sweep!), { path: built.sweep! });
    const lines = text.split("\n").filter((l) => INSN_LINE.test(l));
    const unknown = lines.filter((l) => l.endsWith("<unknown>")).length;
    expect(lines.length).toBeGreaterThan(100000);
    expect(unknown).toBeGreaterThan(1000);
    expect(lines.length - unknown).toBeGreaterThan(10000);
  });

  it("annotates alu32-only encodings", () => {
    const { text } = annotateObjectSections(readFileSync(built.v4!), { bytes: false });
    expect(text).toMatch(/<unknown>\t; alu32: w\d = xchg32_32\(r\d \+ 0x0, w\d\)/);
    expect(text).toMatch(/<unknown>\t; alu32: w0 = cmpxchg32_32\(/);
    expect(text).toMatch(/lock \*\(u32 \*\)\(r\d \+ 0x0\) \+= r\d\t; alu32: w\d = atomic_fetch_add\(\(u32 \*\)/);
    expect(text).toMatch(/call -0x1\t; subprog: helper/);
    expect(text).toMatch(/call 0x5\t; bpf_ktime_get_ns/);
  });
});

/** The annotated listing without its comments: trailing "\t; ..." and "; source" lines. */
function stripAnnotations(text: string): string {
  return text
    .split("\n")
    .filter((l) => !l.startsWith("; "))
    .map((l) => l.replace(/\t; .*$/, ""))
    .join("\n");
}

describe("annotated listings", () => {
  const bootstrap = join(BPF_DIR, "bootstrap.bpf.o");
  const globals = join(BPF_DIR, "globals.bpf.o");

  it("bootstrap handle_exec: maps, globals, helpers, CO-RE and source lines", () => {
    const spec = parseObject(readFileSync(bootstrap), { path: bootstrap });
    const prog = spec.programs.find((p) => p.name === "handle_exec")!;
    const text = annotateProgram(spec, prog);
    expect(text).toContain("Disassembly of program handle_exec (section tp/sched/sched_process_exec,");
    expect(text).toMatch(/\tr1 = 0x0 ll\t; map: exec_start\n/);
    expect(text).toMatch(/\tr1 = 0x0 ll\t; map: rb\n/);
    expect(text).toMatch(/\tr1 = 0x0 ll\t; \.rodata\+0 min_duration_ns\n/);
    expect(text).toMatch(/\tcall 0xe\t; bpf_get_current_pid_tgid\n/);
    expect(text).toMatch(/\tcall 0x83\t; bpf_ringbuf_reserve\n/);
    expect(text).toMatch(/; CO-RE field_byte_offset task_struct::real_parent\n/);
    expect(text).toMatch(/; CO-RE field_byte_offset task_struct::tgid\n/);
    expect(text).toContain("\n; pid = bpf_get_current_pid_tgid() >> 32;\n");
    // The source line comes before the instructions it covers.
    expect(text.indexOf("; pid = bpf_get_current_pid_tgid() >> 32;")).toBeLessThan(text.indexOf("call 0xe"));
    // Without its comments, a program at offset 0 of its section with no subprograms is llvm-objdump's listing.
    const raw = objdump(bootstrap, "--disassemble-symbols=handle_exec")
      .split("\n")
      .filter((l) => INSN_LINE.test(l));
    const ours = stripAnnotations(text)
      .split("\n")
      .filter((l) => INSN_LINE.test(l));
    expect(ours).toEqual(raw);
  });

  it("globals: subprograms are linked in, named, and branch targets use their labels", () => {
    const spec = parseObject(readFileSync(globals), { path: globals });
    const text = annotateProgram(spec, spec.programs.find((p) => p.name === "count_calls")!, { bytes: false });
    expect(text).toMatch(/\n0000000000000000 <count_calls>:\n/);
    expect(text).toMatch(/\n0000000000000020 <bump>:\n/);
    expect(text).toMatch(/\tcall 0x3\t; subprog: bump\n/);
    expect(text).toMatch(/\tcall 0xd\t; subprog: twice\n/);
    expect(text).toMatch(/; \.bss\+0 counter\n/);
    expect(text).toMatch(/; \.bss\+8 big_bss\n/);
    // --no-bytes: index, tab, text
    expect(text).toMatch(/\n {7}3:\texit\n/);
    const sum = annotateProgram(spec, spec.programs.find((p) => p.name === "sum_globals")!);
    expect(sum).toMatch(/; \.rodata\+0 knob\n/);
    expect(sum).toMatch(/; \.data\+0 seeded\n/);
  });

  it.each(OBJECTS)("%s: per section, the annotated listing is llvm-objdump's plus comments", (name) => {
    const path = join(BPF_DIR, name);
    const { text, warning } = annotateObjectSections(readFileSync(path));
    // A legacy "maps" section (refused at load) leaves its references unannotated, and says so.
    if (name === "legacy_maps.bpf.o") expect(warning).toMatch(/refers to packets in section maps/);
    else expect(warning).toBeUndefined();
    expectSameListing(stripAnnotations(objdumpHeader(path) + text), objdump(path), name);
    expect(text).toMatch(/^; |\t; /m);
  });

  it("--no-source and --no-bytes", () => {
    const { text } = annotateObjectSections(readFileSync(bootstrap), { source: false, bytes: false });
    expect(text.split("\n").some((l) => l.startsWith("; "))).toBe(false);
    expect(text).toMatch(/\n {7}1:\tcall 0xe\t; bpf_get_current_pid_tgid\n/);
  });
});

describe("helper names", () => {
  it("match enum bpf_func_id in bpf/vmlinux.h", () => {
    const header = readFileSync(join(BPF_DIR, "vmlinux.h"), "utf8");
    const body = /enum bpf_func_id \{([^}]*)\}/.exec(header)![1]!;
    const entries = [...body.matchAll(/^\s*BPF_FUNC_(\w+) = (\d+),?$/gm)].filter((m) => m[1] !== "unspec");
    expect(entries.length).toBeGreaterThan(200);
    for (const [, name, id] of entries) expect(HELPER_NAMES[Number(id)], `helper ${id}`).toBe(`bpf_${name}`);
    expect(Object.keys(HELPER_NAMES).length).toBe(entries.length);
    expect(HELPER_NAMES[14]).toBe("bpf_get_current_pid_tgid");
  });
});

describe("tsbpf disasm", () => {
  let out = "";
  let err = "";
  beforeAll(() => {
    redirectOutput({
      out: (chunk) => {
        out += Buffer.from(chunk).toString();
      },
      err: (chunk) => {
        err += Buffer.from(chunk).toString();
      },
    });
  });
  afterEach(() => {
    out = "";
    err = "";
  });
  afterAll(() => {
    redirectOutput(undefined);
  });
  const bootstrap = join(BPF_DIR, "bootstrap.bpf.o");

  it("--raw prints exactly llvm-objdump -d", async () => {
    for (const name of OBJECTS) {
      const path = join(BPF_DIR, name);
      expect(await disasmCommand([path, "--raw"])).toBe(0);
      expect(out, name).toBe(objdump(path));
      out = "";
    }
  });

  it("--raw --program is llvm-objdump --disassemble-symbols", async () => {
    expect(await disasmCommand(["--raw", "--program", "handle_exit", bootstrap])).toBe(0);
    expect(out).toBe(objdump(bootstrap, "--disassemble-symbols=handle_exit"));
  });

  it("annotates every program by default", async () => {
    expect(await disasmCommand([bootstrap])).toBe(0);
    expect(out).toContain("Disassembly of program handle_exec (");
    expect(out).toContain("Disassembly of program handle_exit (");
    expect(out).toContain("; map: exec_start");
    expect(out).toContain("; CO-RE field_byte_offset task_struct::real_parent");
  });

  it("--program picks one; --sections annotates sections", async () => {
    expect(await disasmCommand([bootstrap, "--program", "handle_exit", "--no-bytes"])).toBe(0);
    expect(out).not.toContain("handle_exec");
    expect(out).toContain("Disassembly of program handle_exit (");
    out = "";
    expect(await disasmCommand([bootstrap, "--sections"])).toBe(0);
    expect(out).toContain("Disassembly of section tp/sched/sched_process_exec:");
    expect(out).toContain("; map: exec_start");
  });

  it("a missing program is an error naming the programs there are", async () => {
    expect(await disasmCommand([bootstrap, "--program", "nope"])).toBe(1);
    expect(err).toContain('no program "nope"');
    expect(err).toContain("handle_exec");
    expect(await disasmCommand([bootstrap, "--raw", "--program", "nope"])).toBe(1);
  });

  it("--help, and usage errors", async () => {
    expect(await disasmCommand(["--help"])).toBe(0);
    expect(out).toBe(DISASM_HELP);
    await expect(disasmCommand([])).rejects.toThrow(UsageError);
    await expect(disasmCommand([bootstrap, "--bogus"])).rejects.toThrow(UsageError);
    await expect(disasmCommand([bootstrap, "--raw", "--sections"])).rejects.toThrow(UsageError);
    await expect(disasmCommand([bootstrap, bootstrap])).rejects.toThrow(UsageError);
  });
});
