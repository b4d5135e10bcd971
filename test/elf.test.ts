/**
 * ElfFile against an independent reader: for every committed bpf/*.bpf.o
 * (and two objects built here), every section header, symbol and relocation
 * ElfFile reports must match what llvm-readelf-19 prints.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EM_BPF,
  ElfFile,
  PT_LOAD,
  SHN_ABS,
  SHN_COMMON,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_REL,
  STB_WEAK,
  STT_SECTION,
  STV_HIDDEN,
} from "../src/elf/elf-file.js";
import { ObjectFormatError } from "../src/errors.js";
import {
  BPF_RELOCATION_TYPES,
  type BuiltObject,
  SECTION_TYPES,
  SYMBOL_BINDS,
  SYMBOL_TYPES,
  SYMBOL_VISIBILITIES,
  buildHostObject,
  buildSyntheticBpfObject,
  flagLetters,
  lookup,
  ndxNumber,
  readelf,
  scratchDir,
  sortLetters,
} from "./helpers/readelf.js";
import { thrownBy } from "./helpers/thrown.js";

const BPF_DIR = join(import.meta.dirname, "..", "bpf");
/** NOBITS sections up to this size are read in full here. */
const SMALL = 1 << 20;
const OBJECTS = readdirSync(BPF_DIR)
  .filter((f) => f.endsWith(".bpf.o"))
  .sort();

function load(path: string): { bytes: Uint8Array; elf: ElfFile } {
  const bytes = new Uint8Array(readFileSync(path));
  return { bytes, elf: new ElfFile(bytes) };
}

/** The name readelf shows for a symbol: STT_SECTION symbols have none of their own. */
function displayedSymbolName(elf: ElfFile, index: number): string {
  const sym = elf.symbols[index]!;
  if (sym.type === STT_SECTION && sym.name === "") return elf.sections[sym.sectionIndex]!.name;
  return sym.name;
}

function compareSections(path: string, bytes: Uint8Array, elf: ElfFile): void {
  const ref = readelf(path);
  expect(ref.sections.length).toBe(ref.sectionCount);
  expect(elf.sections.length).toBe(ref.sectionCount);
  expect(Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true))).toBe(ref.sectionHeaderOffset);
  for (const r of ref.sections) {
    const s = elf.sections[r.index]!;
    const ctx = `${path} section [${r.index}] ${r.name}`;
    expect(s.index, ctx).toBe(r.index);
    expect(s.name, ctx).toBe(r.name);
    expect(s.type, ctx).toBe(lookup(SECTION_TYPES, r.typeName, "section type"));
    expect(s.offset, ctx).toBe(r.offset);
    expect(s.size, ctx).toBe(r.size);
    expect(s.entsize, ctx).toBe(r.entsize);
    expect(flagLetters(s.flags), ctx).toBe(sortLetters(r.flags));
    expect(s.link, ctx).toBe(r.link);
    expect(s.info, ctx).toBe(r.info);
    expect(s.addralign, ctx).toBe(r.align);
    // The bytes: the file's bytes at [offset, offset+size), or zeros for NOBITS
    // (not read here: a large .bss is allocated only when read, see below).
    if (s.type !== SHT_NOBITS) expect(s.data.byteLength, ctx).toBe(s.type === 0 ? 0 : r.size);
    if (s.type !== SHT_NOBITS && s.type !== 0) {
      expect(Buffer.from(s.data).equals(Buffer.from(bytes.subarray(r.offset, r.offset + r.size))), ctx).toBe(true);
    }
  }
}

function compareSymbols(path: string, elf: ElfFile): void {
  const ref = readelf(path);
  expect(ref.symtabName).toBe(".symtab");
  expect(ref.symbols.length).toBe(ref.symbolCount);
  expect(elf.symbols.length).toBe(ref.symbolCount);
  for (const r of ref.symbols) {
    const s = elf.symbols[r.index]!;
    const ctx = `${path} symbol #${r.index} ${r.name}`;
    expect(s.index, ctx).toBe(r.index);
    expect(BigInt(s.value), ctx).toBe(r.value);
    expect(s.size, ctx).toBe(r.size);
    expect(s.type, ctx).toBe(lookup(SYMBOL_TYPES, r.typeName, "symbol type"));
    expect(s.bind, ctx).toBe(lookup(SYMBOL_BINDS, r.bindName, "symbol bind"));
    expect(s.visibility, ctx).toBe(lookup(SYMBOL_VISIBILITIES, r.visName, "symbol visibility"));
    expect(s.sectionIndex, ctx).toBe(ndxNumber(r.ndx));
    expect(displayedSymbolName(elf, r.index), ctx).toBe(r.name);
  }
}

function compareRelocations(path: string, elf: ElfFile): void {
  const ref = readelf(path);
  // readelf lists every relocation section; a BPF object has only SHT_REL ones.
  expect(elf.relocations.map((r) => r.section.name)).toEqual(ref.relocationSections.map((r) => r.name));
  expect(elf.relocations.length).toBe(elf.sections.filter((s) => s.type === SHT_REL).length);
  for (const [i, r] of ref.relocationSections.entries()) {
    const rel = elf.relocations[i]!;
    const ctx = `${path} ${r.name}`;
    expect(rel.section.offset, ctx).toBe(r.fileOffset);
    expect(rel.entries.length, ctx).toBe(r.count);
    expect(r.entries.length, ctx).toBe(r.count);
    expect(rel.targetIndex, ctx).toBe(rel.section.info);
    for (const [j, e] of r.entries.entries()) {
      const got = rel.entries[j]!;
      const ectx = `${ctx} entry ${j}`;
      expect(BigInt(got.offset), ectx).toBe(e.offset);
      expect(BigInt(got.symbolIndex), ectx).toBe(e.info >> 32n);
      expect(BigInt(got.type), ectx).toBe(e.info & 0xffffffffn);
      expect(got.type, ectx).toBe(lookup(BPF_RELOCATION_TYPES, e.typeName, "relocation type"));
      if (got.symbolIndex === 0) {
        expect(e.symbolName, ectx).toBeUndefined();
      } else {
        expect(displayedSymbolName(elf, got.symbolIndex), ectx).toBe(e.symbolName);
        expect(BigInt(elf.symbols[got.symbolIndex]!.value), ectx).toBe(e.symbolValue);
      }
    }
  }
}

describe("ElfFile agrees with llvm-readelf on the committed objects", () => {
  it("finds the committed objects", () => {
    expect(OBJECTS).toEqual(expect.arrayContaining(["minimal.bpf.o", "bootstrap.bpf.o", "globals.bpf.o", "reject.bpf.o", "core.bpf.o"]));
  });

  describe.each(OBJECTS)("%s", (file) => {
    const path = join(BPF_DIR, file);

    it("section headers: index, name, type, offset, size, entsize, flags, link, info, alignment, bytes", () => {
      const { bytes, elf } = load(path);
      compareSections(path, bytes, elf);
    });

    it("symbols: value, size, type, bind, visibility, section index, name", () => {
      compareSymbols(path, load(path).elf);
    });

    it("relocations: offset, type, symbol index and name", () => {
      const { elf } = load(path);
      compareRelocations(path, elf);
      // Every committed object has at least .rel.BTF(.ext): the comparison is not vacuous.
      expect(elf.relocations.reduce((n, r) => n + r.entries.length, 0)).toBeGreaterThan(0);
    });

    it("SHT_NOBITS sections are zero-filled and their own memory, allocated only when read", () => {
      const { bytes, elf } = load(path);
      for (const s of elf.sections.filter((x) => x.type === SHT_NOBITS)) {
        // Parsing, spreading or printing a section does not allocate its zeros.
        expect(Object.keys(s), s.name).not.toContain("data");
        if (s.size > SMALL) continue; // big_bss.bpf.o's 256 MiB: see memory.test.ts
        expect(s.data.byteLength, s.name).toBe(s.size);
        expect(
          s.data.every((b) => b === 0),
          s.name,
        ).toBe(true);
        expect(s.data.buffer, s.name).not.toBe(bytes.buffer);
      }
    });

    it("is EM_BPF: assertBpf passes", () => {
      const { elf } = load(path);
      expect(elf.machine).toBe(EM_BPF);
      expect(() => elf.assertBpf()).not.toThrow();
    });
  });
});

describe(".bss is zeros, not the next section's bytes (elfy regression)", () => {
  // (big_bss.bpf.o's 256 MiB of zeros are tested in memory.test.ts, without reading them.)
  const withBss = OBJECTS.filter((f) => (load(join(BPF_DIR, f)).elf.section(".bss")?.size ?? Infinity) <= SMALL);

  it("some committed objects have a .bss", () => {
    expect(withBss).toEqual(expect.arrayContaining(["minimal.bpf.o", "globals.bpf.o", "core.bpf.o"]));
  });

  it.each(withBss)("%s: .bss is zeros of its size, in memory of its own", (file) => {
    const { bytes, elf } = load(join(BPF_DIR, file));
    const bss = elf.section(".bss")!;
    expect(bss.type).toBe(SHT_NOBITS);
    expect(bss.size).toBeGreaterThan(0);
    expect(bss.data.byteLength).toBe(bss.size);
    expect([...bss.data].every((b) => b === 0)).toBe(true);
    expect(bss.data.buffer).not.toBe(bytes.buffer);
    // Whatever the file holds at .bss's sh_offset is another section's bytes.
    const fileBytes = bytes.subarray(bss.offset, Math.min(bss.offset + bss.size, bytes.byteLength));
    if (fileBytes.some((b) => b !== 0)) expect(Buffer.from(bss.data).equals(Buffer.from(fileBytes))).toBe(false);
  });

  it.each(withBss)("%s: filling the file bytes at .bss's offset with 0xA5 leaves .bss all zeros", (file) => {
    const { bytes, elf } = load(join(BPF_DIR, file));
    const bss = elf.section(".bss")!;
    // Leave alone what ElfFile itself needs: the ELF header, the section
    // header table and the symbol/string/relocation tables.
    const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true));
    const keep: [number, number][] = [
      [0, 64],
      [shoff, shoff + elf.sections.length * 64],
      ...elf.sections
        .filter((s) => s.type === 2 || s.type === 3 || s.type === SHT_REL)
        .map((s): [number, number] => [s.offset, s.offset + s.size]),
    ];
    const copy = bytes.slice();
    let filled = 0;
    for (let i = bss.offset; i < Math.min(bss.offset + bss.size, copy.byteLength); i++) {
      if (keep.some(([a, b]) => i >= a && i < b)) continue;
      copy[i] = 0xa5;
      filled++;
    }
    expect(filled).toBeGreaterThan(0);
    const again = new ElfFile(copy).section(".bss")!;
    expect(again.data.byteLength).toBe(bss.size);
    expect([...again.data].every((b) => b === 0)).toBe(true);
  });

  it("minimal.bpf.o: .bss is 4 zero bytes although .rodata's format string sits at its offset", () => {
    const { bytes, elf } = load(join(BPF_DIR, "minimal.bpf.o"));
    const bss = elf.section(".bss")!;
    const rodata = elf.section(".rodata")!;
    expect(rodata.offset).toBe(bss.offset);
    expect(bytes[bss.offset]).not.toBe(0);
    expect([...bss.data]).toEqual([0, 0, 0, 0]);
  });

  it("a NOBITS section larger than the rest of the file is still all zeros, no error", () => {
    const { bytes, elf } = load(join(BPF_DIR, "minimal.bpf.o"));
    const bss = elf.section(".bss")!;
    const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true));
    const patched = bytes.slice();
    const bigSize = bytes.byteLength * 4;
    new DataView(patched.buffer).setBigUint64(shoff + bss.index * 64 + 32, BigInt(bigSize), true);
    const big = new ElfFile(patched).section(".bss")!;
    expect(big.size).toBe(bigSize);
    expect(big.data.byteLength).toBe(bigSize);
    expect(big.data.every((b) => b === 0)).toBe(true);
  });
});

describe("objects built by the test", () => {
  let scratch: ReturnType<typeof scratchDir>;
  let synthetic: BuiltObject;
  let hostRela: BuiltObject;
  let hostNoRel: BuiltObject;

  beforeAll(() => {
    scratch = scratchDir();
    synthetic = buildSyntheticBpfObject(scratch.dir);
    hostRela = buildHostObject(scratch.dir, true);
    hostNoRel = buildHostObject(scratch.dir, false);
  });
  afterAll(() => scratch?.remove());

  describe("a BPF object with externs, absolute, common, weak and hidden symbols", () => {
    it("has the symbol kinds the committed objects lack", () => {
      const elf = new ElfFile(synthetic.bytes);
      const ndx = new Set(elf.symbols.map((s) => s.sectionIndex));
      expect(ndx).toContain(SHN_ABS);
      expect(ndx).toContain(SHN_COMMON);
      expect(elf.symbols.filter((s) => s.sectionIndex === SHN_UNDEF && s.name !== "").length).toBeGreaterThan(1);
      expect(elf.symbols.some((s) => s.bind === STB_WEAK && s.sectionIndex === SHN_UNDEF)).toBe(true);
      expect(elf.symbols.some((s) => s.visibility === STV_HIDDEN)).toBe(true);
      expect(elf.symbols.find((s) => s.name === "abs_sym")).toMatchObject({ sectionIndex: SHN_ABS, value: 0x1234 });
    });

    it("agrees with llvm-readelf on sections, symbols and relocations", () => {
      const elf = new ElfFile(synthetic.bytes);
      compareSections(synthetic.path, synthetic.bytes, elf);
      compareSymbols(synthetic.path, elf);
      compareRelocations(synthetic.path, elf);
      elf.assertBpf();
    });
  });

  describe("host (x86-64) objects fail the EM_BPF check", () => {
    it("a host .o without relocations parses, agrees with llvm-readelf, and assertBpf throws naming e_machine/EM_BPF", () => {
      expect(readelf(hostNoRel.path).relocationSections).toEqual([]);
      const elf = new ElfFile(hostNoRel.bytes);
      expect(elf.machine).toBe(62); // EM_X86_64
      compareSections(hostNoRel.path, hostNoRel.bytes, elf);
      compareSymbols(hostNoRel.path, elf);
      const err = thrownBy(() => elf.assertBpf());
      expect(err).toBeInstanceOf(ObjectFormatError);
      const fe = err as ObjectFormatError;
      expect(fe.message).toMatch(/e_machine/);
      expect(fe.message).toMatch(/EM_BPF/);
      expect(fe.where).toBe("ELF header");
      expect(fe.offset).toBe(18);
    });

    it("an ordinary host .o (with SHT_RELA sections from cc -c) throws naming e_machine/EM_BPF", () => {
      expect(readelf(hostRela.path).relocationSections.length).toBeGreaterThan(0);
      const err = thrownBy(() => new ElfFile(hostRela.bytes).assertBpf());
      expect(err).toBeInstanceOf(ObjectFormatError);
      expect((err as Error).message).toMatch(/EM_BPF/);
      expect((err as Error).message).toMatch(/e_machine/);
    });
  });
});

describe("ElfFile on a host library: what a uprobe needs, against llvm-readelf", () => {
  // The libc this process runs on.
  const libc = readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .map((l) => l.split(/\s+/)[5])
    .find((p) => p?.endsWith("/libc.so.6"));

  it.runIf(libc !== undefined)("PT_LOAD program headers, section addresses, .dynsym and DT_NEEDED", () => {
    const elf = new ElfFile(new Uint8Array(readFileSync(libc!)));
    const text = execFileSync("llvm-readelf-19", ["-W", "-l", "-S", "-d", "--dyn-syms", libc!], { encoding: "utf8" });
    const loads = [...text.matchAll(/^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/gm)].map((m) =>
      [m[1], m[2], m[3], m[4]].map((h) => Number.parseInt(h!, 16)),
    );
    expect(loads.length).toBeGreaterThan(1);
    expect(elf.programHeaders.filter((p) => p.type === PT_LOAD).map((p) => [p.offset, p.vaddr, p.filesz, p.memsz])).toEqual(loads);
    const addresses = [...text.matchAll(/^\s*\[\s*(\d+)\]\s+\S*\s+\S+\s+([0-9a-f]{16})\s/gm)].map((m) => [
      Number(m[1]),
      Number.parseInt(m[2]!, 16),
    ]);
    expect(addresses.length).toBe(elf.sections.length);
    expect(elf.sections.map((s) => [s.index, s.addr])).toEqual(addresses);
    expect(elf.dynamicSymbols.length).toBe(Number(text.match(/Symbol table '\.dynsym' contains (\d+) entries/)![1]));
    expect(elf.neededLibraries).toEqual([...text.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]));
    // Virtual address → file offset through the PT_LOAD segment holding it.
    const [offset, vaddr] = loads[1]!;
    expect(elf.fileOffset(vaddr! + 0x10)).toBe(offset! + 0x10);
  });
});
