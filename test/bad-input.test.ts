/**
 * Bad input never escapes as a RangeError/TypeError: truncated objects,
 * host objects, random bytes and targeted header corruptions all end in an
 * ObjectFormatError naming the part and offset at fault. And a program the
 * verifier refuses ends in a VerifierError carrying the log, with nothing
 * left behind in the kernel or in the fd table.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ElfFile, SHT_REL } from "../src/elf/elf-file.js";
import { ObjectFormatError } from "../src/errors.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { parseObject } from "../src/spec/object-spec.js";
import { VerifierError } from "../src/programs/prog-load.js";
import { closeFd } from "../src/syscall/bpf.js";
import { fdById, mapInfo, progInfo } from "../src/syscall/obj-info.js";
import { type CreatedMark, kernelObjects, newKernelObjects } from "./helpers/kernel.js";
import { type BuiltObject, buildHostObject, buildRejectWithMapObject, scratchDir } from "./helpers/readelf.js";

const BPF_DIR = join(import.meta.dirname, "..", "bpf");
const MINIMAL_PATH = join(BPF_DIR, "minimal.bpf.o");
const REJECT_PATH = join(BPF_DIR, "reject.bpf.o");
const MINIMAL = new Uint8Array(readFileSync(MINIMAL_PATH));

/** Runs fn, which must throw an ObjectFormatError; returns it. Any other outcome fails. */
function formatError(fn: () => unknown): ObjectFormatError {
  let thrown: unknown;
  let returned = false;
  try {
    fn();
    returned = true;
  } catch (e) {
    thrown = e;
  }
  expect(returned, "expected an ObjectFormatError, but the call returned").toBe(false);
  if (!(thrown instanceof ObjectFormatError)) {
    // Show what escaped instead (RangeError, TypeError, ...).
    expect.fail(`expected ObjectFormatError, got ${String((thrown as Error)?.stack ?? thrown)}`);
  }
  const e = thrown as ObjectFormatError;
  expect(typeof e.where).toBe("string");
  expect(e.where.length).toBeGreaterThan(0);
  expect(typeof e.offset).toBe("number");
  expect(Number.isInteger(e.offset)).toBe(true);
  expect(e.offset).toBeGreaterThanOrEqual(0);
  expect(e.message).toContain(e.where);
  return e;
}

const parse = (bytes: Uint8Array) => () => parseObject(bytes, { path: "bad.bpf.o" });

// ---- layout of minimal.bpf.o, read independently of ElfFile ------------------

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const SHOFF = Number(dv(MINIMAL).getBigUint64(40, true));
const SHNUM = dv(MINIMAL).getUint16(60, true);
const SHSTRNDX = dv(MINIMAL).getUint16(62, true);

/** Section index by name, from the raw headers (not through ElfFile). */
function sectionIndex(name: string): number {
  const d = dv(MINIMAL);
  const strOff = Number(d.getBigUint64(SHOFF + SHSTRNDX * 64 + 24, true));
  for (let i = 0; i < SHNUM; i++) {
    const nameOff = d.getUint32(SHOFF + i * 64, true);
    const end = MINIMAL.indexOf(0, strOff + nameOff);
    if (new TextDecoder().decode(MINIMAL.subarray(strOff + nameOff, end)) === name) return i;
  }
  throw new Error(`minimal.bpf.o has no section ${name}`);
}
const shdr = (index: number) => SHOFF + index * 64;
const sectionOffset = (index: number) => Number(dv(MINIMAL).getBigUint64(shdr(index) + 24, true));

function patched(edit: (d: DataView, bytes: Uint8Array) => void): Uint8Array {
  const copy = MINIMAL.slice();
  edit(dv(copy), copy);
  return copy;
}

/** A seeded PRNG (mulberry32), so every run tests the same bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randomBytes(rnd: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

describe("the minimal.bpf.o fixture", () => {
  it("parses whole, with its section header table at the very end", () => {
    expect(() => parseObject(MINIMAL, { path: MINIMAL_PATH })).not.toThrow();
    expect(SHOFF + SHNUM * 64).toBe(MINIMAL.byteLength);
  });
});

describe("truncated objects", () => {
  const edges = [0, 1, 4, 5, 6, 16, 18, 20, 40, 48, 58, 60, 62, 63, 64, 65, 128, SHOFF - 1, SHOFF, SHOFF + 1, SHOFF + 63, SHOFF + 64];
  for (let k = 1; k <= SHNUM; k++) edges.push(SHOFF + k * 64 - 1);
  const lengths = new Set<number>(edges);
  for (let n = 0; n < MINIMAL.byteLength; n += 7) lengths.add(n);
  lengths.add(MINIMAL.byteLength - 1);
  const sorted = [...lengths].filter((n) => n >= 0 && n < MINIMAL.byteLength).sort((a, b) => a - b);

  it("covers hundreds of lengths, including a cut just short of every section-header boundary", () => {
    expect(sorted.length).toBeGreaterThan(300);
    expect(sorted).toContain(0);
    expect(sorted).toContain(63);
    expect(sorted).toContain(64);
    expect(sorted).toContain(MINIMAL.byteLength - 1);
  });

  it("every truncation throws ObjectFormatError from parseObject and from ElfFile", () => {
    for (const n of sorted) {
      const cut = MINIMAL.slice(0, n);
      const e = formatError(parse(cut));
      formatError(() => new ElfFile(cut));
      if (n < 64) {
        expect(e.where, `length ${n}`).toBe("ELF header");
        expect(e.message, `length ${n}`).toMatch(/shorter than the 64-byte ELF64 header/);
      } else {
        // The header is whole; the section header table (at the end) is not.
        expect(e.where, `length ${n}`).toBe("section header table");
        expect(e.offset, `length ${n}`).toBe(40);
        expect(e.message, `length ${n}`).toMatch(new RegExp(`outside the ${n}-byte file`));
      }
    }
  });

  it("a truncated view into a larger buffer is judged by its own length", () => {
    // The bytes beyond the view's end are present in memory but not part of the file.
    const big = new Uint8Array(MINIMAL.byteLength + 100);
    big.set(MINIMAL, 10);
    const view = big.subarray(10, 10 + MINIMAL.byteLength - 1);
    expect(formatError(parse(view)).where).toBe("section header table");
    expect(() => parseObject(big.subarray(10, 10 + MINIMAL.byteLength))).not.toThrow();
  });
});

describe("host objects", () => {
  let scratch: ReturnType<typeof scratchDir>;
  let hostRela: BuiltObject;
  let hostNoRel: BuiltObject;
  beforeAll(() => {
    scratch = scratchDir();
    hostRela = buildHostObject(scratch.dir, true);
    hostNoRel = buildHostObject(scratch.dir, false);
  });
  afterAll(() => scratch?.remove());

  it("an x86-64 .o from cc -c (with .rela sections) → ObjectFormatError naming EM_BPF", () => {
    const e = formatError(parse(hostRela.bytes));
    expect(e.message).toMatch(/EM_BPF/);
    expect(e.where).toBe("ELF header");
    expect(e.offset).toBe(18);
  });

  it("an x86-64 .o without relocations → ObjectFormatError naming EM_BPF", () => {
    const e = formatError(parse(hostNoRel.bytes));
    expect(e.message).toMatch(/e_machine is 62, not EM_BPF/);
    expect(e.where).toBe("ELF header");
    expect(e.offset).toBe(18);
  });

  it("BpfObject.open on a host object path throws the same", () => {
    const e = formatError(() => BpfObject.open(hostNoRel.path));
    expect(e.message).toMatch(/EM_BPF/);
  });
});

describe("random bytes", () => {
  const SIZES = [0, 1, 3, 4, 16, 63, 64, 65, 100, 128, 255, 512, 1000, 2368, 4096, 65536];

  it("pure random bytes (no ELF magic) → ObjectFormatError", () => {
    const rnd = prng(0x7e57);
    for (const n of SIZES) {
      for (let k = 0; k < 4; k++) {
        const e = formatError(parse(randomBytes(rnd, n)));
        expect(e.where, `size ${n}`).toBe("ELF header");
      }
    }
  });

  it("random bytes behind a valid ELF64 LE EM_BPF identification → ObjectFormatError", () => {
    const rnd = prng(0xe1f);
    let pastHeader = 0;
    for (const n of SIZES.filter((s) => s >= 64)) {
      for (let k = 0; k < 8; k++) {
        const b = randomBytes(rnd, n);
        b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
        const d = dv(b);
        d.setUint16(16, 1, true); // ET_REL
        d.setUint16(18, 247, true); // EM_BPF
        if (k % 2 === 1) d.setUint16(58, 64, true); // e_shentsize right, so the table itself is read
        if (k % 4 === 3) d.setBigUint64(40, BigInt(Math.floor(rnd() * n)), true); // e_shoff inside the file
        const e = formatError(parse(b));
        if (e.where !== "ELF header") pastHeader++;
      }
    }
    // The corpus is not all rejected at the first check: some reach the section headers.
    expect(pastHeader).toBeGreaterThan(5);
  });

  it("minimal.bpf.o's ELF header followed by random bytes → ObjectFormatError", () => {
    const rnd = prng(42);
    for (const n of [64, 100, 1000, MINIMAL.byteLength, MINIMAL.byteLength + 512, 8192]) {
      for (let k = 0; k < 8; k++) {
        const b = randomBytes(rnd, n);
        b.set(MINIMAL.subarray(0, 64));
        formatError(parse(b));
      }
    }
  });

  it("minimal.bpf.o with its section header table replaced by random bytes → ObjectFormatError", () => {
    const rnd = prng(4242);
    for (let k = 0; k < 200; k++) {
      const b = MINIMAL.slice();
      b.set(randomBytes(rnd, SHNUM * 64), SHOFF);
      formatError(parse(b));
    }
  });
});

describe("targeted corruptions of minimal.bpf.o", () => {
  const SYMTAB = sectionIndex(".symtab");
  const STRTAB = dv(MINIMAL).getUint32(shdr(SYMTAB) + 40, true); // sh_link
  const RODATA = sectionIndex(".rodata");
  const REL = sectionIndex(".reltp/syscalls/sys_enter_write");
  const BSS = sectionIndex(".bss");
  const SYM_COUNT = Number(dv(MINIMAL).getBigUint64(shdr(SYMTAB) + 32, true)) / 24;

  it("the fixture layout is what the corruptions assume", () => {
    expect(dv(MINIMAL).getUint32(shdr(SYMTAB) + 4, true)).toBe(2); // SHT_SYMTAB
    expect(dv(MINIMAL).getUint32(shdr(REL) + 4, true)).toBe(SHT_REL);
    expect(dv(MINIMAL).getUint32(shdr(BSS) + 4, true)).toBe(8); // SHT_NOBITS
    expect(SYM_COUNT).toBe(7);
  });

  it("e_shoff past the end → section header table", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(40, BigInt(MINIMAL.byteLength + 8), true))));
    expect(e.where).toBe("section header table");
    expect(e.offset).toBe(40);
  });

  it("e_shoff near 2^64 → ObjectFormatError, not a BigInt/RangeError", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(40, 0xffff_ffff_ffff_fff0n, true))));
    expect(e.where).toMatch(/e_shoff/);
    expect(e.offset).toBe(40);
  });

  it("e_shnum huge → section header table", () => {
    const e = formatError(parse(patched((d) => d.setUint16(60, 0xffff, true))));
    expect(e.where).toBe("section header table");
    expect(e.message).toMatch(/outside the \d+-byte file/);
  });

  it("e_shnum 0 with a huge count in section 0 (extended numbering) → section header table", () => {
    const e = formatError(
      parse(
        patched((d) => {
          d.setUint16(60, 0, true);
          d.setBigUint64(SHOFF + 32, 0xffff_ffffn, true);
        }),
      ),
    );
    expect(e.where).toBe("section header table");
  });

  it("e_shentsize wrong → ELF header", () => {
    const e = formatError(parse(patched((d) => d.setUint16(58, 40, true))));
    expect(e.where).toBe("ELF header");
    expect(e.offset).toBe(58);
    expect(e.message).toMatch(/e_shentsize/);
  });

  it("e_shstrndx out of range → ELF header, e_shstrndx", () => {
    const e = formatError(parse(patched((d) => d.setUint16(62, SHNUM + 5, true))));
    expect(e.where).toBe("ELF header");
    expect(e.offset).toBe(62);
    expect(e.message).toMatch(/e_shstrndx/);
  });

  it("a section offset past the end → that section, at its header's sh_offset", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(shdr(RODATA) + 24, BigInt(MINIMAL.byteLength + 100), true))));
    expect(e.where).toBe("section .rodata");
    expect(e.message).toMatch(/section/);
    expect(e.offset).toBe(shdr(RODATA) + 24);
  });

  it("a section size past the end → that section", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(shdr(RODATA) + 32, BigInt(MINIMAL.byteLength), true))));
    expect(e.where).toBe("section .rodata");
  });

  it("the section-name string table out of the file → section header", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(shdr(SHSTRNDX) + 24, BigInt(MINIMAL.byteLength - 4), true))));
    expect(e.where).toMatch(/section header #\d+/);
  });

  it("a section name offset past the section-name table → section header #i name", () => {
    const e = formatError(parse(patched((d) => d.setUint32(shdr(RODATA), 0xfff0, true))));
    expect(e.where).toBe(`section header #${RODATA} name`);
    expect(e.offset).toBe(shdr(RODATA));
  });

  it("a symbol name offset past .strtab → symbol #i name", () => {
    const sym = 5; // my_pid
    const at = sectionOffset(SYMTAB) + sym * 24;
    const e = formatError(parse(patched((d) => d.setUint32(at, 0x10000, true))));
    expect(e.where).toMatch(/symbol/);
    expect(e.where).toBe(`section .symtab symbol #${sym} name`);
    expect(e.message).toMatch(/string offset 65536 is outside/);
  });

  it("a symbol name without a NUL before the end of .strtab → symbol", () => {
    const e = formatError(
      parse(
        patched((d, b) => {
          // Point symbol 5 at the last byte of .strtab and make that byte non-NUL.
          const strOff = Number(d.getBigUint64(shdr(STRTAB) + 24, true));
          const strSize = Number(d.getBigUint64(shdr(STRTAB) + 32, true));
          b[strOff + strSize - 1] = 0x41;
          d.setUint32(sectionOffset(SYMTAB) + 5 * 24, strSize - 1, true);
        }),
      ),
    );
    expect(e.where).toMatch(/symbol #5 name/);
    expect(e.message).toMatch(/not NUL-terminated/);
  });

  it("a relocation symbol index out of range → relocation section, naming the symbol index", () => {
    const at = sectionOffset(REL); // entry 0: r_offset, then r_info (sym << 32 | type)
    const e = formatError(parse(patched((d) => d.setUint32(at + 12, 99, true))));
    expect(e.where).toBe("section .reltp/syscalls/sys_enter_write");
    expect(e.message).toMatch(/symbol index 99 is outside the symbol table \(7 symbols\)/);
    expect(e.offset).toBe(8);
  });

  it("a relocation symbol index equal to the symbol count → relocation (off-by-one edge)", () => {
    const at = sectionOffset(REL) + 16; // entry 1
    const e = formatError(parse(patched((d) => d.setUint32(at + 12, SYM_COUNT, true))));
    expect(e.message).toMatch(new RegExp(`symbol index ${SYM_COUNT} is outside`));
    expect(e.offset).toBe(16 + 8);
  });

  it("a relocation symbol index is read at full width (0x10005 is not symbol 5)", () => {
    const at = sectionOffset(REL);
    const e = formatError(parse(patched((d) => d.setUint32(at + 12, 0x10005, true))));
    expect(e.message).toMatch(/symbol index 65541 is outside/);
  });

  it("a relocation type is read at full width", () => {
    const at = sectionOffset(REL);
    const elf = new ElfFile(patched((d) => d.setUint32(at + 8, 0xabcd0001, true)));
    const rel = elf.relocations.find((r) => r.section.index === REL)!;
    expect(rel.entries[0]!.type).toBe(0xabcd0001);
    expect(rel.entries[0]!.symbolIndex).toBe(dv(MINIMAL).getUint32(at + 12, true));
  });

  it("a relocation section whose size is not a multiple of 16 → relocation section", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(shdr(REL) + 32, 0x18n, true))));
    expect(e.where).toBe("section .reltp/syscalls/sys_enter_write");
    expect(e.message).toMatch(/multiple of 16/);
  });

  it("a relocation section whose sh_info is not a section → relocation section", () => {
    const e = formatError(parse(patched((d) => d.setUint32(shdr(REL) + 44, 500, true))));
    expect(e.where).toBe("section .reltp/syscalls/sys_enter_write");
    expect(e.message).toMatch(/sh_info 500/);
  });

  it("sh_entsize wrong for .symtab → section .symtab", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(shdr(SYMTAB) + 56, 16n, true))));
    expect(e.where).toBe("section .symtab");
    expect(e.message).toMatch(/sh_entsize is 16, expected 24/);
  });

  it(".symtab size not a multiple of 24 → section .symtab", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(shdr(SYMTAB) + 32, BigInt(SYM_COUNT * 24 - 8), true))));
    expect(e.where).toBe("section .symtab");
    expect(e.message).toMatch(/multiple of 24/);
  });

  it(".symtab sh_link not a string table → section .symtab", () => {
    const e = formatError(parse(patched((d) => d.setUint32(shdr(SYMTAB) + 40, RODATA, true))));
    expect(e.where).toBe("section .symtab");
    expect(e.message).toMatch(/not a string table/);
  });

  it("a symbol value ≥ 2^53 → section .symtab", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(sectionOffset(SYMTAB) + 5 * 24 + 8, 1n << 60n, true))));
    expect(e.where).toBe("section .symtab");
    expect(e.message).toMatch(/symbol #5/);
  });

  it("an absurd SHT_NOBITS size → section .bss, without allocating it", () => {
    const e = formatError(parse(patched((d) => d.setBigUint64(shdr(BSS) + 32, 1n << 40n, true))));
    expect(e.where).toBe("section .bss");
  });

  it("a section of type SHT_RELA → ObjectFormatError", () => {
    const e = formatError(parse(patched((d) => d.setUint32(shdr(REL) + 4, 4, true))));
    expect(e.message).toMatch(/SHT_RELA/);
  });

  it("not 64-bit / not little-endian → ELF header", () => {
    expect(formatError(parse(patched((_d, b) => void (b[4] = 1)))).offset).toBe(4);
    expect(formatError(parse(patched((_d, b) => void (b[5] = 2)))).offset).toBe(5);
  });

  it("e_shoff 0 (no section header table) → ObjectFormatError, not an empty object", () => {
    // A BPF object with no sections has no programs, no license, nothing to
    // load; libbpf refuses it. parseObject must not return an empty spec.
    formatError(parse(patched((d) => d.setBigUint64(40, 0n, true))));
  });
});

// ---- corrupt BTF type references -------------------------------------------------

interface BtfRecord {
  id: number;
  kind: number;
  name: string;
  vlen: number;
  /** File offset of the record's first byte. */
  at: number;
}
/** The type records of an object's .BTF, walked independently of src/btf. */
function btfRecords(bytes: Uint8Array): { records: BtfRecord[]; typeCount: number } {
  const btf = new ElfFile(bytes).section(".BTF")!;
  const d = dv(bytes);
  const base = btf.offset;
  const hdrLen = d.getUint32(base + 4, true);
  const typeOff = base + hdrLen + d.getUint32(base + 8, true);
  const typeEnd = typeOff + d.getUint32(base + 12, true);
  const strOff = base + hdrLen + d.getUint32(base + 16, true);
  const str = (o: number) => new TextDecoder().decode(bytes.subarray(strOff + o, bytes.indexOf(0, strOff + o)));
  // Bytes after the 12-byte common header, by kind (vlen = n).
  const trailer = (kind: number, n: number): number =>
    ({ 1: 4, 3: 12, 4: 12 * n, 5: 12 * n, 6: 8 * n, 13: 8 * n, 14: 4, 15: 12 * n, 17: 4, 19: 16 * n })[kind] ?? 0;
  const records: BtfRecord[] = [];
  for (let at = typeOff, id = 1; at < typeEnd; id++) {
    const info = d.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    records.push({ id, kind, name: str(d.getUint32(at, true)), vlen, at });
    at += 12 + trailer(kind, vlen);
  }
  return { records, typeCount: records.length + 1 };
}

describe("BTF type ids that point past the last type", () => {
  it("a .bss DATASEC entry's type id → ObjectFormatError in section .BTF (not NotFoundError)", () => {
    const { records, typeCount } = btfRecords(MINIMAL);
    const bss = records.find((r) => r.kind === 15 && r.name === ".bss")!;
    expect(bss.vlen).toBeGreaterThan(0);
    const e = formatError(parse(patched((d) => d.setUint32(bss.at + 12, typeCount + 100, true))));
    expect(e.where).toBe("section .BTF");
  });

  it("a map key's typedef target (bootstrap.bpf.o's pid_t) → ObjectFormatError in section .BTF (not NotFoundError)", () => {
    const bytes = new Uint8Array(readFileSync(join(BPF_DIR, "bootstrap.bpf.o")));
    const { records, typeCount } = btfRecords(bytes);
    const pidT = records.find((r) => r.kind === 8 && r.name === "pid_t")!;
    expect(pidT).toBeDefined();
    const copy = bytes.slice();
    dv(copy).setUint32(pidT.at + 8, typeCount + 100, true);
    const e = formatError(parse(copy));
    expect(e.where).toBe("section .BTF");
  });
});

describe("seeded byte flips in every committed object", () => {
  const OBJECTS = readdirSync(BPF_DIR).filter((f) => f.endsWith(".bpf.o"));
  // Malformed objects may also be refused as unrelocatable or unsupported, but
  // never with a JS runtime error or a "not found" meant for caller mistakes.
  const ALLOWED = new Set(["ObjectFormatError", "RelocationError", "UnsupportedError"]);

  it.each(OBJECTS)("%s: 1500 mutants, every failure is a format/relocation/unsupported error", (file) => {
    const orig = new Uint8Array(readFileSync(join(BPF_DIR, file)));
    const rnd = prng([...file].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261));
    const escaped: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const b = orig.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] = rnd() < 0.3 ? 0xff : Math.floor(rnd() * 256);
      try {
        parseObject(b, { path: file });
      } catch (e) {
        const name = (e as Error)?.name;
        if (!ALLOWED.has(name)) escaped.push(`mutant ${i}: ${name}: ${(e as Error)?.message?.split("\n")[0]}`);
      }
    }
    expect(escaped.slice(0, 5), `${escaped.length} mutants escaped`).toEqual([]);
  });
});

// ---- a verifier rejection ----------------------------------------------------------

interface KernelObject {
  id: number;
  name: string | undefined;
}
interface Snapshot {
  mark: CreatedMark;
  fds: number;
}
const fdCount = () => readdirSync("/proc/self/fd").length;
function snapshot(): Snapshot {
  return { mark: kernelObjects(), fds: fdCount() };
}
function nameOf(kind: "prog" | "map", id: number): string | undefined {
  let fd = -1;
  try {
    fd = fdById(kind, id);
    return kind === "prog" ? progInfo(fd).name : mapInfo(fd).name;
  } catch {
    return undefined; // gone meanwhile
  } finally {
    closeFd(fd);
  }
}
/**
 * Programs/maps this process created since `before` that still exist, whose
 * name passes `mine` (other processes' objects are never counted).
 */
function added(kind: "prog" | "map", before: Snapshot, mine: (name: string) => boolean): KernelObject[] {
  return newKernelObjects(before.mark)
    [kind].map((id) => ({ id, name: nameOf(kind, id) }))
    .filter((o) => mine(o.name ?? ""));
}

/**
 * The kernel frees a closed program's maps after an RCU grace period, so a
 * map can stay listed for a moment after its last fd is gone: poll briefly.
 */
async function eventuallyNone(kind: "prog" | "map", before: Snapshot, mine: (name: string) => boolean): Promise<KernelObject[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const left = added(kind, before, mine);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Calls load(), which must throw; returns what it threw. */
function loadError(obj: BpfObject): unknown {
  let threw = false;
  let err: unknown;
  try {
    obj.load();
  } catch (e) {
    threw = true;
    err = e;
  }
  expect(threw, "load() should have thrown").toBe(true);
  return err;
}

describe("a program the verifier rejects", () => {
  let scratch: ReturnType<typeof scratchDir>;
  let rejmap: BuiltObject;
  beforeAll(() => {
    scratch = scratchDir();
    rejmap = buildRejectWithMapObject(scratch.dir);
  });
  afterAll(() => scratch?.remove());

  it("oracle check: bpftool and the fd count do see a loaded object, and see it go", async () => {
    const before = snapshot();
    const obj = BpfObject.open(MINIMAL_PATH);
    try {
      obj.load();
      expect(fdCount()).toBeGreaterThan(before.fds);
      expect(added("prog", before, (n) => n === "handle_tp")).toHaveLength(1);
      expect(added("map", before, (n) => n.startsWith("minimal.")).length).toBeGreaterThan(0);
    } finally {
      obj.destroy();
    }
    expect(fdCount()).toBe(before.fds);
    expect(await eventuallyNone("prog", before, (n) => n === "handle_tp")).toEqual([]);
    expect(await eventuallyNone("map", before, (n) => n.startsWith("minimal."))).toEqual([]);
  });

  it("reject.bpf.o: load() throws VerifierError with the log, and leaves no program or fd behind", () => {
    const before = snapshot();
    const obj = BpfObject.open(REJECT_PATH);
    expect(obj.spec.programs.map((p) => p.name)).toEqual(["unchecked_read"]);

    const err = loadError(obj);
    const fdsAfter = fdCount();
    expect(err).toBeInstanceOf(VerifierError);
    const ve = err as VerifierError;
    expect(ve.program).toBe("unchecked_read");
    expect(ve.cause.code).toBe("EACCES");
    // What the kernel says about `return *(int *)(long)ctx->data;`:
    //   invalid access to packet, off=0 size=4, R1(id=0,off=0,r=0)
    //   R1 offset is outside of the packet
    expect(ve.log).toMatch(/invalid access to packet, off=0 size=4/);
    expect(ve.log).toMatch(/R1 offset is outside of the packet/);
    expect(ve.log).toMatch(/^processed \d+ insns/m);
    expect(ve.message).toMatch(/program unchecked_read was rejected by the verifier \(EACCES\)/);
    expect(ve.message).toMatch(/invalid access to packet/);
    expect(ve.message).toMatch(/R1 offset is outside of the packet/);

    expect(obj.state).toBe("destroyed");
    expect(fdsAfter).toBe(before.fds);
    expect(added("prog", before, (n) => n === "unchecked_read")).toEqual([]);
    obj.destroy(); // safe after a failed load
    expect(fdCount()).toBe(before.fds);
  });

  it("a rejected program whose object has a map: the map is released too", async () => {
    const before = snapshot();
    const steps: string[] = [];
    const obj = BpfObject.open(rejmap.path, { onStep: (step) => steps.push(step.kind) });
    expect(obj.spec.maps.map((m) => m.name)).toContain("rejmap.bss");

    const err = loadError(obj);
    expect(steps).toContain("map-create"); // the map really was created before the program failed
    expect(err).toBeInstanceOf(VerifierError);
    expect((err as VerifierError).log).toMatch(/invalid access to packet/);
    expect(fdCount()).toBe(before.fds);
    expect(await eventuallyNone("map", before, (n) => n.startsWith("rejmap"))).toEqual([]);
    expect(added("prog", before, (n) => n === "rejmap_read")).toEqual([]);
    obj.destroy();
  });
});
