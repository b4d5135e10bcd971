/**
 * Test oracle: runs `llvm-readelf-19 -S -s -r --wide` on an object and parses
 * its GNU-style text into plain records, so tests can compare ElfFile with an
 * independent ELF reader. The parser is strict: a line it does not
 * understand inside a table is an error, not silently skipped.
 * Also builds the extra objects the tests need (a host .o, a BPF object with
 * externs and absolute symbols) in a scratch directory.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const READELF = "llvm-readelf-19";

export interface ReadelfSection {
  index: number;
  name: string;
  typeName: string;
  address: bigint;
  offset: number;
  size: number;
  entsize: number;
  /** The Flg column, e.g. "WA", "AX", "" */
  flags: string;
  link: number;
  info: number;
  align: number;
}

export interface ReadelfSymbol {
  index: number;
  value: bigint;
  size: number;
  typeName: string;
  bindName: string;
  visName: string;
  /** The Ndx column as printed: "UND", "ABS", "COM" or a decimal number. */
  ndx: string;
  name: string;
}

export interface ReadelfRelocation {
  offset: bigint;
  info: bigint;
  typeName: string;
  /** Symbol's Value and Name columns; absent when the symbol index is 0. */
  symbolValue?: bigint;
  symbolName?: string;
}

export interface ReadelfRelocationSection {
  name: string;
  fileOffset: number;
  count: number;
  entries: ReadelfRelocation[];
}

export interface ReadelfOutput {
  sectionCount: number;
  sectionHeaderOffset: number;
  sections: ReadelfSection[];
  symtabName?: string;
  symbolCount: number;
  symbols: ReadelfSymbol[];
  relocationSections: ReadelfRelocationSection[];
}

/** Runs llvm-readelf and parses the output. */
export function readelf(path: string): ReadelfOutput {
  const text = execFileSync(READELF, ["-S", "-s", "-r", "--wide", path], { encoding: "utf8" });
  return parseReadelf(text);
}

const hex = (s: string): bigint => BigInt(`0x${s}`);
const num = (s: string): number => {
  const v = BigInt(s); // decimal, or 0x-prefixed hex for large sizes
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`readelf value ${s} too large for a test`);
  return Number(v);
};

export function parseReadelf(text: string): ReadelfOutput {
  const lines = text.split("\n");
  const out: ReadelfOutput = {
    sectionCount: -1,
    sectionHeaderOffset: -1,
    sections: [],
    symbolCount: -1,
    symbols: [],
    relocationSections: [],
  };
  type Mode = "none" | "sections" | "relocs" | "symbols";
  let mode: Mode = "none";
  let currentRel: ReadelfRelocationSection | undefined;

  for (const line of lines) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^There are (\d+) section headers, starting at offset 0x([0-9a-f]+):$/))) {
      out.sectionCount = Number(m[1]);
      out.sectionHeaderOffset = Number(hex(m[2]!));
      mode = "none";
      continue;
    }
    if (/^Section Headers:$/.test(line)) {
      mode = "sections";
      continue;
    }
    if ((m = line.match(/^Relocation section '(.*)' at offset 0x([0-9a-f]+) contains (\d+) entr(?:y|ies):$/))) {
      currentRel = { name: m[1]!, fileOffset: Number(hex(m[2]!)), count: Number(m[3]), entries: [] };
      out.relocationSections.push(currentRel);
      mode = "relocs";
      continue;
    }
    if ((m = line.match(/^Symbol table '(.*)' contains (\d+) entr(?:y|ies):$/))) {
      out.symtabName = m[1]!;
      out.symbolCount = Number(m[2]);
      mode = "symbols";
      continue;
    }
    if (line.trim() === "") {
      if (mode !== "sections") mode = "none";
      continue;
    }

    if (mode === "sections") {
      if (/^\s*\[Nr\]/.test(line)) continue;
      if (/^Key to Flags:/.test(line)) {
        mode = "none";
        continue;
      }
      m = line.match(/^\s*\[\s*(\d+)\]\s(.*)$/);
      if (!m) throw new Error(`readelf: unexpected section line: ${JSON.stringify(line)}`);
      const tokens = m[2]!.trim().split(/\s+/);
      // Locate the 16-digit Address column; Type is just before it, Name before that.
      const addrAt = tokens.findIndex((t, i) => i > 0 && /^[0-9a-f]{16}$/.test(t));
      if (addrAt < 1) throw new Error(`readelf: no address column in ${JSON.stringify(line)}`);
      const rest = tokens.slice(addrAt + 1);
      // Off Size ES [Flg] Lk Inf Al
      let flags = "";
      if (rest.length === 7) flags = rest[3]!;
      else if (rest.length !== 6) throw new Error(`readelf: cannot split section line ${JSON.stringify(line)}`);
      const [off, size, es] = rest;
      const [lk, inf, al] = rest.slice(-3);
      out.sections.push({
        index: Number(m[1]),
        name: tokens.slice(0, addrAt - 1).join(" "),
        typeName: tokens[addrAt - 1]!,
        address: hex(tokens[addrAt]!),
        offset: Number(hex(off!)),
        size: Number(hex(size!)),
        entsize: Number(hex(es!)),
        flags,
        link: Number(lk),
        info: Number(inf),
        align: Number(al),
      });
      continue;
    }

    if (mode === "relocs") {
      if (/^\s+Offset\s+Info\s+Type/.test(line)) continue;
      m = line.match(/^([0-9a-f]{16})\s+([0-9a-f]{16})\s+(\S+)(?:\s+([0-9a-f]{16})\s(.*))?\s*$/);
      if (!m) throw new Error(`readelf: unexpected relocation line: ${JSON.stringify(line)}`);
      currentRel!.entries.push({
        offset: hex(m[1]!),
        info: hex(m[2]!),
        typeName: m[3]!,
        ...(m[4] !== undefined ? { symbolValue: hex(m[4]), symbolName: m[5]! } : {}),
      });
      continue;
    }

    if (mode === "symbols") {
      if (/^\s+Num:\s+Value/.test(line)) continue;
      m = line.match(/^\s*(\d+):\s+([0-9a-f]{16})\s+(0x[0-9a-f]+|\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?: (.*))?$/);
      if (!m) throw new Error(`readelf: unexpected symbol line: ${JSON.stringify(line)}`);
      out.symbols.push({
        index: Number(m[1]),
        value: hex(m[2]!),
        size: num(m[3]!),
        typeName: m[4]!,
        bindName: m[5]!,
        visName: m[6]!,
        ndx: m[7]!,
        name: m[8] ?? "",
      });
    }
  }
  return out;
}

// ---- name → number tables (ELF gABI, LLVM's spelling) ----------------------

export const SECTION_TYPES: Record<string, number> = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
  INIT_ARRAY: 14,
  FINI_ARRAY: 15,
  GROUP: 17,
  SYMTAB_SHNDX: 18,
  LLVM_ODRTAB: 0x6fff4c00,
  LLVM_LINKER_OPTIONS: 0x6fff4c01,
  LLVM_ADDRSIG: 0x6fff4c03,
  LLVM_DEPENDENT_LIBRARIES: 0x6fff4c04,
  LLVM_SYMPART: 0x6fff4c05,
  LLVM_CALL_GRAPH_PROFILE: 0x6fff4c09,
  LLVM_BB_ADDR_MAP: 0x6fff4c0a,
  GNU_HASH: 0x6ffffff6,
};

/** Section flag letters as llvm-readelf prints them (GNU style), by bit. */
export const SECTION_FLAG_LETTERS: [bigint, string][] = [
  [0x1n, "W"],
  [0x2n, "A"],
  [0x4n, "X"],
  [0x10n, "M"],
  [0x20n, "S"],
  [0x40n, "I"],
  [0x80n, "L"],
  [0x100n, "O"],
  [0x200n, "G"],
  [0x400n, "T"],
  [0x800n, "C"],
  [0x200000n, "R"], // SHF_GNU_RETAIN
  [0x80000000n, "E"], // SHF_EXCLUDE
];

export const SYMBOL_TYPES: Record<string, number> = {
  NOTYPE: 0,
  OBJECT: 1,
  FUNC: 2,
  SECTION: 3,
  FILE: 4,
  COMMON: 5,
  TLS: 6,
  GNU_IFUNC: 10,
};

export const SYMBOL_BINDS: Record<string, number> = { LOCAL: 0, GLOBAL: 1, WEAK: 2, UNIQUE: 10 };

export const SYMBOL_VISIBILITIES: Record<string, number> = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 };

export const SPECIAL_NDX: Record<string, number> = { UND: 0, ABS: 0xfff1, COM: 0xfff2 };

export const BPF_RELOCATION_TYPES: Record<string, number> = {
  R_BPF_NONE: 0,
  R_BPF_64_64: 1,
  R_BPF_64_ABS64: 2,
  R_BPF_64_ABS32: 3,
  R_BPF_64_NODYLD32: 4,
  R_BPF_64_32: 10,
};

/** A name in one of the tables above, or a test failure naming the table. */
export function lookup(table: Record<string, number>, name: string, what: string): number {
  const v = table[name];
  if (v === undefined) throw new Error(`readelf printed ${what} ${JSON.stringify(name)}, which the test's table does not know`);
  return v;
}

/** The Ndx column as a section index. */
export function ndxNumber(ndx: string): number {
  if (/^\d+$/.test(ndx)) return Number(ndx);
  return lookup(SPECIAL_NDX, ndx, "symbol Ndx");
}

/** The letters readelf prints for `flags`, sorted; throws on bits it has no letter for. */
export function flagLetters(flags: bigint): string {
  let rest = flags;
  const letters: string[] = [];
  for (const [bit, letter] of SECTION_FLAG_LETTERS) {
    if (flags & bit) {
      letters.push(letter);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) throw new Error(`section flags 0x${flags.toString(16)} have bits without a readelf letter`);
  return letters.sort().join("");
}

export const sortLetters = (s: string): string => [...s].sort().join("");

// ---- objects the tests build themselves ------------------------------------

export interface BuiltObject {
  path: string;
  bytes: Uint8Array;
}

/** A scratch directory for built objects; call `remove()` when done. */
export function scratchDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-elf-test-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A host (x86-64) relocatable object from `cc -c`. With `relocations`, the
 * code calls and references externs, so the object has SHT_RELA sections like
 * any ordinary host .o; without, it is built so that it has none.
 */
export function buildHostObject(dir: string, relocations: boolean): BuiltObject {
  const name = relocations ? "host-rela" : "host-norel";
  const src = join(dir, `${name}.c`);
  const obj = join(dir, `${name}.o`);
  writeFileSync(
    src,
    relocations
      ? 'extern int printf(const char *, ...);\nextern int ext;\nint g = 3;\nint f(void) { return printf("%d\\n", g + ext); }\n'
      : "int g = 3;\nint zero_init;\nint f(int x) { return x * 2 + 1; }\n",
  );
  const flags = relocations ? ["-O2"] : ["-O2", "-fno-pic", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables"];
  execFileSync("cc", [...flags, "-c", src, "-o", obj]);
  return { path: obj, bytes: new Uint8Array(readFileSync(obj)) };
}

/**
 * A BPF object that exercises what the committed objects do not: UND
 * (externs, a weak extern), ABS (STT_FILE and an absolute symbol), COM, a
 * WEAK function, a HIDDEN variable, and DWARF sections with M/S flags and
 * sh_entsize 1. Needs no headers.
 */
export function buildSyntheticBpfObject(dir: string): BuiltObject {
  const src = join(dir, "synthetic.bpf.c");
  const obj = join(dir, "synthetic.bpf.o");
  writeFileSync(
    src,
    `#define SEC(n) __attribute__((section(n), used))
extern int LINUX_KERNEL_VERSION SEC(".kconfig");
extern int maybe_missing SEC(".kconfig") __attribute__((weak));
extern const void bpf_prog_active SEC(".ksyms");
__attribute__((visibility("hidden"))) int hidden_var = 1;
int common_var;
asm(".globl abs_sym\\n.set abs_sym, 0x1234");
__attribute__((weak)) int weak_fn(int x) { return x; }
static __attribute__((noinline)) int helper(int x) { return x + 1; }
SEC("xdp") int prog(void *ctx) {
  return weak_fn(helper(LINUX_KERNEL_VERSION + hidden_var + common_var + (long)&bpf_prog_active + maybe_missing));
}
char LICENSE[] SEC("license") = "GPL";
`,
  );
  execFileSync("clang-19", ["-g", "-O2", "-fcommon", "-target", "bpf", "-c", src, "-o", obj]);
  return { path: obj, bytes: new Uint8Array(readFileSync(obj)) };
}

/**
 * `rejmap.bpf.o`: a program the verifier refuses (unchecked packet read, like
 * bpf/reject.bpf.c) that also uses a global, so load() creates the .bss map
 * before the program fails and must release it again.
 */
export function buildRejectWithMapObject(dir: string): BuiltObject {
  const src = join(dir, "rejmap.bpf.c");
  const obj = join(dir, "rejmap.bpf.o");
  writeFileSync(
    src,
    `#define SEC(n) __attribute__((section(n), used))
struct xdp_md { unsigned int data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
int hits;
SEC("xdp") int rejmap_read(struct xdp_md *ctx) { hits++; return *(int *)(long)ctx->data; }
char LICENSE[] SEC("license") = "GPL";
`,
  );
  execFileSync("clang-19", ["-g", "-O2", "-target", "bpf", "-c", src, "-o", obj]);
  execFileSync("llvm-strip-19", ["-g", obj]);
  return { path: obj, bytes: new Uint8Array(readFileSync(obj)) };
}
