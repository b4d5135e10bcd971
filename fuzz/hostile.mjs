#!/usr/bin/env node
/**
 * Hand-written hostile objects: the shapes an attacker would craft rather
 * than the ones random mutation stumbles on. Each is a committed
 * bpf/*.bpf.o with a few exact edits (or a large sparse file), made here
 * from the corpus every time, so nothing large is committed:
 *
 *   ELF header and section table offsets that overflow, counts past the end,
 *   unterminated string tables, st_shndx out of range, relocations past
 *   their section or on instructions that are not ld_imm64, BTF records
 *   with vlen 65535, type cycles reached through CO-RE, zero and huge
 *   .BTF.ext record sizes, records past the end of their program, absurd
 *   map and section sizes, terminal escapes and invalid UTF-8 in names,
 *   and 200 MB files.
 *
 * test/fuzz-regressions.test.ts runs every case through the fuzzer's
 * pipeline (pipeline.mjs): each must end in a typed error naming the place,
 * or succeed at a cost bounded by its input (a child process's peak RSS).
 *
 *   node fuzz/hostile.mjs --list               the cases, one per line
 *   node fuzz/hostile.mjs --out DIR            write them as files (large ones sparse)
 *   node fuzz/hostile.mjs --check [--big]      run them on dist/ and print one JSON
 *                                              line per case, then the peak RSS
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { layoutOf } from "./mutate.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");

const MB = 1024 * 1024;
/** Size of the large-file cases. */
export const BIG_FILE_SIZE = 200 * MB;

// ---- editing helpers -------------------------------------------------------

function put(bytes, at, width, value) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 1) dv.setUint8(at, Number(value));
  else if (width === 2) dv.setUint16(at, Number(value), true);
  else if (width === 4) dv.setUint32(at, Number(value) >>> 0, true);
  else dv.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
}
function get(bytes, at, width) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 1) return dv.getUint8(at);
  if (width === 2) return dv.getUint16(at, true);
  if (width === 4) return dv.getUint32(at, true);
  return dv.getBigUint64(at, true);
}

const SH = { name: 0, type: 4, flags: 8, offset: 24, size: 32, link: 40, info: 44, entsize: 56 };
const SYM = { name: 0, info: 4, shndx: 6, value: 8, size: 16 };
const BTF_KIND = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  ENUM: 6,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
};

/** An object of the corpus with helpers to find and edit its parts. */
class Target {
  constructor(name, bytes) {
    this.name = name;
    this.orig = bytes;
    this.L = layoutOf(name, bytes);
  }
  section(name) {
    const s = this.L.sections.find((x) => x.name === name);
    if (!s) throw new Error(`${this.name} has no section ${name}`);
    return s;
  }
  cstr(at) {
    let end = at;
    while (this.orig[end] !== 0) end++;
    return new TextDecoder().decode(this.orig.subarray(at, end));
  }
  /** File offset of symbol `name`'s entry. */
  symbol(name) {
    const { symtab, strtab } = this.L;
    for (let at = symtab.offset; at < symtab.offset + symtab.size; at += 24) {
      if (this.cstr(strtab.offset + get(this.orig, at, 4)) === name) return at;
    }
    throw new Error(`${this.name} has no symbol ${name}`);
  }
  /** File offsets of the entries of SHT_REL section `name` (".relxdp"). */
  relocations(name) {
    const s = this.section(name);
    return Array.from({ length: s.size / 16 }, (_, i) => s.offset + i * 16);
  }
  /** The BTF type records: [{ id, at, kind, len }]. */
  get types() {
    return this.L.btf.types.map((t, i) => ({ ...t, id: i + 1 }));
  }
  typeName(t) {
    return this.cstr(this.L.btf.strAt + get(this.orig, t.at, 4));
  }
  type(kind, name) {
    const t = this.types.find((x) => x.kind === kind && (name === undefined || this.typeName(x) === name));
    if (!t) throw new Error(`${this.name} has no BTF kind ${kind} ${name ?? ""}`);
    return t;
  }
  /** The first record of .BTF.ext sub-section `sub` ("func_info", "line_info", "core_relo"). */
  ext(sub) {
    const s = this.L.ext.subs.find((x) => x.name === sub);
    if (!s) throw new Error(`${this.name} has no ${sub}`);
    return s;
  }
  /** A copy with the edits applied: [at, width, value] or (bytes) => void. */
  edit(...edits) {
    const b = this.orig.slice();
    for (const e of edits) {
      if (typeof e === "function") e(b);
      else put(b, e[0], e[1], e[2]);
    }
    return b;
  }
}

/** Overwrites the NUL-terminated string at `at` in place with `text` (padded with its own bytes, never longer). */
function overwriteString(b, at, bytes) {
  let len = 0;
  while (b[at + len] !== 0) len++;
  if (bytes.length > len) throw new Error(`replacement of ${bytes.length} bytes for a ${len}-byte string`);
  b.set(bytes, at);
}

// ---- the cases -------------------------------------------------------------

/**
 * The cases for a corpus (name → bytes). Each: { name, object, what, bytes }
 * or, for the large ones, { name, object, what, size, write(path) } (a
 * sparse file). `expect` is "ok" when the object must be accepted, or
 * { step, message } when it must fail there; omitted when either outcome
 * is right as long as it is typed.
 */
export function hostileCases(corpus) {
  const t = (name) => new Target(name, corpus.get(name));
  const minimal = t("minimal.bpf.o");
  const boot = t("bootstrap.bpf.o");
  const globals = t("globals.bpf.o");
  const cases = [];
  const add = (name, target, what, bytes, expect) => cases.push({ name, object: target.name, what, bytes, ...(expect ? { expect } : {}) });
  const parseFails = (message) => ({ step: "parseObject", message });

  // ELF header.
  const eh = minimal;
  add(
    "elf-shoff-u64-max",
    eh,
    "e_shoff = 2^64-1",
    eh.edit([40, 8, 2n ** 64n - 1n]),
    parseFails(/ELF header e_shoff at offset 40: value \d+ is too large/),
  );
  add(
    "elf-shoff-unsafe",
    eh,
    "e_shoff = 2^53+1 (past exact doubles)",
    eh.edit([40, 8, 2n ** 53n + 1n]),
    parseFails(/e_shoff at offset 40: value \d+ is too large/),
  );
  add(
    "elf-shoff-past-end",
    eh,
    "e_shoff = file size - 32",
    eh.edit([40, 8, eh.orig.length - 32]),
    parseFails(/section header table at offset 40: range/),
  );
  add(
    "elf-shnum-max",
    eh,
    "e_shnum = 65535 (table runs past the file)",
    eh.edit([60, 2, 0xffff]),
    parseFails(/section header table at offset 40/),
  );
  add("elf-shstrndx-range", eh, "e_shstrndx = 65534", eh.edit([62, 2, 0xfffe]), parseFails(/e_shstrndx 65534 is not a section/));
  add("elf-shentsize-0", eh, "e_shentsize = 0", eh.edit([58, 2, 0]), parseFails(/e_shentsize is 0/));
  add("elf-no-sections", eh, "e_shoff = 0", eh.edit([40, 8, 0]), parseFails(/no section header table/));
  add("elf-truncated-header", eh, "63 bytes", eh.orig.slice(0, 63), parseFails(/shorter than the 64-byte ELF64 header/));
  add(
    "elf-truncated-half",
    eh,
    "first half of the file",
    eh.orig.slice(0, eh.orig.length >> 1),
    parseFails(/section header table at offset 40/),
  );
  add(
    "elf-extended-shnum",
    eh,
    "e_shnum = 0, section 0 sh_size = 2^40 (extended numbering)",
    eh.edit([60, 2, 0], [eh.L.shoff + SH.size, 8, 2n ** 40n]),
    parseFails(/section header table at offset 40/),
  );

  // Section headers.
  const text = minimal.section("tp/syscalls/sys_enter_write");
  add(
    "sec-offset-overflow",
    minimal,
    "program section sh_offset = 2^64-8",
    minimal.edit([text.hdr + SH.offset, 8, 2n ** 64n - 8n]),
    parseFails(/too large/),
  );
  add(
    "sec-size-huge",
    minimal,
    "program section sh_size = 2^62",
    minimal.edit([text.hdr + SH.size, 8, 2n ** 62n]),
    parseFails(/too large/),
  );
  add(
    "sec-size-past-end",
    minimal,
    "program section sh_size = file size",
    minimal.edit([text.hdr + SH.size, 8, minimal.orig.length]),
    parseFails(/lies outside the \d+-byte file/),
  );
  const strtab = minimal.L.strtab;
  add(
    "strtab-unterminated",
    minimal,
    ".strtab without its final NUL",
    minimal.edit([strtab.hdr + SH.size, 8, strtab.size - 1]),
    parseFails(/not NUL-terminated|outside the \d+-byte string table/),
  );
  const shstr = minimal.L.shstrtab;
  add(
    "shstrtab-unterminated",
    minimal,
    ".shstrtab cut before its last name's NUL",
    minimal.edit([shstr.hdr + SH.size, 8, shstr.size - 1]),
    parseFails(/name/),
  );
  add(
    "sec-name-past-table",
    minimal,
    "sh_name = 0xffffff",
    minimal.edit([text.hdr + SH.name, 4, 0xffffff]),
    parseFails(/string offset 16777215 is outside/),
  );
  const symtab = minimal.L.symtab;
  add(
    "symtab-entsize-0",
    minimal,
    ".symtab sh_entsize = 0",
    minimal.edit([symtab.hdr + SH.entsize, 8, 0]),
    parseFails(/sh_entsize is 0, expected 24/),
  );
  add(
    "symtab-link-range",
    minimal,
    ".symtab sh_link = 65535",
    minimal.edit([symtab.hdr + SH.link, 4, 0xffff]),
    parseFails(/sh_link 65535 is not a string table/),
  );
  add(
    "symtab-size-odd",
    minimal,
    ".symtab sh_size not a multiple of 24",
    minimal.edit([symtab.hdr + SH.size, 8, symtab.size - 5]),
    parseFails(/not a multiple of 24/),
  );
  const relxdp = globals.section(".relxdp");
  add(
    "rel-info-range",
    globals,
    "SHT_REL sh_info = 65535",
    globals.edit([relxdp.hdr + SH.info, 4, 0xffff]),
    parseFails(/sh_info 65535 is not a section/),
  );
  add(
    "rel-size-odd",
    globals,
    "SHT_REL sh_size not a multiple of 16",
    globals.edit([relxdp.hdr + SH.size, 8, relxdp.size - 3]),
    parseFails(/not a multiple of 16/),
  );
  add(
    "rel-as-rela",
    globals,
    "a relocation section typed SHT_RELA",
    globals.edit([relxdp.hdr + SH.type, 4, 4]),
    parseFails(/SHT_RELA relocations are not used by BPF objects/),
  );

  // Symbols.
  const knob = globals.symbol("knob");
  add("sym-shndx-range", globals, "st_shndx 0xff00 (no such section) on a relocated symbol", globals.edit([knob + SYM.shndx, 2, 0xff00]));
  add("sym-shndx-common", globals, "st_shndx SHN_COMMON on a relocated symbol", globals.edit([knob + SYM.shndx, 2, 0xfff2]));
  add("sym-shndx-abs", globals, "st_shndx SHN_ABS on a relocated symbol", globals.edit([knob + SYM.shndx, 2, 0xfff1]));
  add(
    "sym-value-huge",
    globals,
    "st_value = 2^63",
    globals.edit([knob + SYM.value, 8, 2n ** 63n]),
    parseFails(/out-of-range value or size/),
  );
  add("sym-value-past-section", globals, "a global's st_value past its section", globals.edit([knob + SYM.value, 8, 0x10000]));
  add(
    "sym-name-past-strtab",
    globals,
    "st_name = 0x7fffffff",
    globals.edit([knob + SYM.name, 4, 0x7fffffff]),
    parseFails(/string offset 2147483647 is outside/),
  );
  const execStart = boot.symbol("exec_start");
  add(
    "map-sym-past-maps",
    boot,
    "a map symbol's st_value past .maps",
    boot.edit([execStart + SYM.value, 8, boot.section(".maps").size + 64]),
    parseFails(/section \.maps at offset \d+: map symbol exec_start \(symbol #\d+\) lies past the end/),
  );

  // Relocations.
  const [firstRel] = globals.relocations(".relxdp");
  const xdp = globals.section("xdp");
  add("rel-past-section", globals, "r_offset past the end of its section", globals.edit([firstRel, 8, xdp.size + 64]));
  add("rel-unaligned", globals, "r_offset not a multiple of 8", globals.edit([firstRel, 8, 4]));
  add(
    "rel-not-ld-imm64",
    globals,
    "relocation on an ALU instruction (insn 2 of .text)",
    (() => {
      const [textRel] = globals.relocations(".rel.text");
      return globals.edit([textRel, 8, 16]);
    })(),
    parseFails(/not ld_imm64/),
  );
  add(
    "rel-sym-range",
    globals,
    "r_info symbol index 0x0fffffff",
    globals.edit([firstRel + 12, 4, 0x0fffffff]),
    parseFails(/symbol index 268435455 is outside the symbol table/),
  );
  add("rel-type-unknown", globals, "r_info type 0xff on ld_imm64", globals.edit([firstRel + 8, 4, 0xff]));
  add(
    "rel-call-outside-code",
    globals,
    "a call relocated against a data symbol",
    (() => {
      const calls = globals.relocations(".relxdp").filter((at) => get(globals.orig, at + 8, 4) === 10);
      return globals.edit([calls[0] + 12, 4, get(globals.orig, firstRel + 12, 4)]);
    })(),
  );

  // BTF.
  const btf = boot.L.btf;
  const struct = boot.type(BTF_KIND.STRUCT, "event");
  const proto = boot.type(BTF_KIND.FUNC_PROTO);
  const enm = boot.types.find((x) => x.kind === BTF_KIND.ENUM);
  const datasec = boot.type(BTF_KIND.DATASEC, ".maps");
  const vlen = (x) => [x.at + 4, 2, 0xffff];
  add("btf-struct-vlen-max", boot, "STRUCT event with vlen 65535", boot.edit(vlen(struct)));
  add("btf-proto-vlen-max", boot, "FUNC_PROTO with vlen 65535", boot.edit(vlen(proto)));
  add("btf-enum-vlen-max", boot, "ENUM with vlen 65535", boot.edit(vlen(enm)));
  add("btf-datasec-vlen-max", boot, "DATASEC .maps with vlen 65535", boot.edit(vlen(datasec)));
  add("btf-type-len-max", boot, "BTF type_len = 0xffffffff", boot.edit([btf.at + 12, 4, 0xffffffff]));
  add("btf-str-len-max", boot, "BTF str_len = 0xffffffff", boot.edit([btf.at + 20, 4, 0xffffffff]));
  add("btf-str-off-overflow", boot, "BTF str_off = 0xfffffff0", boot.edit([btf.at + 16, 4, 0xfffffff0]));
  add("btf-strings-unterminated", boot, "last byte of the BTF strings not NUL", boot.edit([btf.strAt + btf.strLen - 1, 1, 0x41]));
  add("btf-hdr-len-max", boot, "BTF hdr_len = 0xffffffff", boot.edit([btf.at + 4, 4, 0xffffffff]));
  const ptr = boot.type(BTF_KIND.PTR);
  add("btf-type-id-range", boot, "PTR to type 0x7fffffff", boot.edit([ptr.at + 8, 4, 0x7fffffff]));
  add("btf-kind-unknown", boot, "a type of kind 31", boot.edit([ptr.at + 7, 1, (get(boot.orig, ptr.at + 7, 1) & 0x80) | 31]));
  add("btf-name-past-strings", boot, "name_off = 0x7fffffff", boot.edit([struct.at, 4, 0x7fffffff]));
  const typedef = boot.type(BTF_KIND.TYPEDEF);
  add("btf-typedef-cycle", boot, `TYPEDEF ${boot.typeName(typedef)} → itself`, boot.edit([typedef.at + 8, 4, typedef.id]));
  const mods = boot.types.filter((x) => x.kind === BTF_KIND.CONST || x.kind === BTF_KIND.VOLATILE).slice(0, 2);
  add(
    "btf-modifier-cycle",
    boot,
    "two modifiers pointing at each other",
    boot.edit([mods[0].at + 8, 4, mods[1].id], [mods[1].at + 8, 4, mods[0].id]),
  );
  // CO-RE: bootstrap's first relocation reads task_struct::real_parent.
  const coreSub = boot.ext("core_relo");
  const coreRec = coreSub.blocks[0].records[0];
  const coreRoot = get(boot.orig, coreRec + 4, 4);
  const rootType = boot.types[coreRoot - 1];
  add(
    "core-root-self-member",
    boot,
    "CO-RE root struct whose first member is itself (infinite size)",
    boot.edit([rootType.at + 12 + 4, 4, coreRoot]),
  );
  add(
    "core-root-typedef-cycle",
    boot,
    "CO-RE relocation rooted at a TYPEDEF cycle",
    boot.edit([typedef.at + 8, 4, typedef.id], [coreRec + 4, 4, typedef.id]),
  );
  add(
    "core-access-past-members",
    boot,
    'CO-RE access string "0:99999"',
    (() => {
      // Reuse the bytes of the record's own access string: "0:95" → "0:9999" does not fit, so point at a longer string.
      const b = boot.orig.slice();
      const strAt = btf.strAt + get(b, coreRec + 8, 4);
      overwriteString(b, strAt, new TextEncoder().encode("0:9999".slice(0, boot.cstr(strAt).length)));
      return b;
    })(),
  );
  add("core-access-garbage", boot, "CO-RE access string that is a type name", boot.edit([coreRec + 8, 4, get(boot.orig, struct.at, 4)]));
  add("core-kind-unknown", boot, "CO-RE relocation kind 99", boot.edit([coreRec + 12, 4, 99]));
  add("btf-int-size-2g", boot, "DATASEC .maps var sized 2^31", boot.edit([datasec.at + 12 + 8, 4, 0x80000000]));
  const arrays = boot.types.filter((x) => x.kind === BTF_KIND.ARRAY);
  add("btf-array-nelems-max", boot, "ARRAY with 0xffffffff elements", boot.edit([arrays[0].at + 12 + 8, 4, 0xffffffff]));

  // .BTF.ext.
  const fi = boot.ext("func_info");
  const li = boot.ext("line_info");
  add("ext-func-recsize-0", boot, "func_info rec_size 0", boot.edit([fi.start, 4, 0]), parseFails(/\.BTF\.ext/));
  add("ext-func-recsize-max", boot, "func_info rec_size 0xffffffff", boot.edit([fi.start, 4, 0xffffffff]), parseFails(/\.BTF\.ext/));
  add("ext-line-recsize-0", boot, "line_info rec_size 0", boot.edit([li.start, 4, 0]), parseFails(/\.BTF\.ext/));
  add("ext-line-recsize-huge", boot, "line_info rec_size 2^31", boot.edit([li.start, 4, 0x80000000]), parseFails(/\.BTF\.ext/));
  add("ext-core-recsize-0", boot, "core_relo rec_size 0", boot.edit([coreSub.start, 4, 0]), parseFails(/\.BTF\.ext/));
  add("ext-core-recsize-max", boot, "core_relo rec_size 0xffffffff", boot.edit([coreSub.start, 4, 0xffffffff]), parseFails(/\.BTF\.ext/));
  add(
    "ext-func-count-max",
    boot,
    "func_info num_info 0xffffffff",
    boot.edit([fi.blocks[0].at + 4, 4, 0xffffffff]),
    parseFails(/\.BTF\.ext/),
  );
  add(
    "ext-func-past-program",
    boot,
    "func_info record past the end of its program",
    boot.edit([fi.blocks[0].records.at(-1), 4, 0x10000 * 8]),
    parseFails(/section \.BTF\.ext at offset \d+: func_info record for \S+ instruction 65536 is past the end/),
  );
  add(
    "ext-line-past-program",
    boot,
    "line_info record past the end of its program",
    boot.edit([li.blocks[0].records.at(-1), 4, 0x10000 * 8]),
    parseFails(/section \.BTF\.ext at offset \d+: line_info record for \S+ instruction 65536 is past the end/),
  );
  add(
    "ext-core-past-program",
    boot,
    "CO-RE record past the end of its program",
    boot.edit([coreRec, 4, 0x10000 * 8]),
    parseFails(/CO-RE relocation record for \S+ instruction 65536 is past the end/),
  );
  add(
    "ext-sec-name-unknown",
    boot,
    "ext block naming a section that does not exist",
    boot.edit([fi.blocks[0].at, 4, get(boot.orig, struct.at, 4)]),
  );
  add("ext-hdr-len-max", boot, ".BTF.ext hdr_len 0xffffffff", boot.edit([boot.L.ext.at + 4, 4, 0xffffffff]), parseFails(/\.BTF\.ext/));

  // Absurd sizes.
  const bss = minimal.section(".bss");
  add(
    "bss-1tib",
    minimal,
    ".bss sh_size = 2^40",
    minimal.edit([bss.hdr + SH.size, 8, 2n ** 40n]),
    parseFails(/section \.bss at offset \d+: SHT_NOBITS size 1099511627776 is larger than the 1073741824-byte limit/),
  );
  add("bss-1gib", minimal, ".bss sh_size = 2^30 (the default limit)", minimal.edit([bss.hdr + SH.size, 8, 2n ** 30n]), "ok");
  add(
    "bss-2gib",
    minimal,
    ".bss sh_size = 2^31",
    minimal.edit([bss.hdr + SH.size, 8, 2n ** 31n]),
    parseFails(/SHT_NOBITS size 2147483648 is larger than the/),
  );
  add(
    "map-max-entries-max",
    boot,
    "max_entries of exec_start = 0xffffffff",
    (() => {
      // __uint(max_entries, N) is `int (*max_entries)[N]`: the nelems of the ARRAY behind the PTR.
      const b = boot.orig.slice();
      const v = boot.types.find((x) => x.kind === BTF_KIND.VAR && boot.typeName(x) === "exec_start");
      const def = boot.types[get(b, v.at + 8, 4) - 1];
      for (let m = 0; m < get(b, def.at + 4, 2); m++) {
        const at = def.at + 12 + m * 12;
        if (boot.cstr(btf.strAt + get(b, at, 4)) !== "max_entries") continue;
        const ptrType = boot.types[get(b, at + 4, 4) - 1];
        const arr = boot.types[get(b, ptrType.at + 8, 4) - 1];
        put(b, arr.at + 12 + 8, 4, 0xffffffff);
      }
      return b;
    })(),
    "ok",
  );

  // Names with terminal escapes and invalid UTF-8 (printed by other code; here they must parse or fail typed).
  const enc = (s) => new TextEncoder().encode(s);
  const esc = (b, at, bytes) => overwriteString(b, at, bytes);
  add(
    "name-prog-escapes",
    boot,
    "program symbol handle_exec renamed with ESC ] 0 ; ... BEL",
    boot.edit((b) => esc(b, boot.L.strtab.offset + get(b, boot.symbol("handle_exec"), 4), enc("\x1b]0;X\x07\x1b[31"))),
    "ok",
  );
  add(
    "name-map-escapes",
    boot,
    "BTF map name rb → ESC [",
    boot.edit((b) =>
      esc(b, btf.strAt + get(b, boot.types.find((x) => x.kind === BTF_KIND.VAR && boot.typeName(x) === "rb").at, 4), enc("\x1b[")),
    ),
  );
  add(
    "name-type-escapes",
    boot,
    "BTF struct event renamed ESC [ 2 J",
    boot.edit((b) => esc(b, btf.strAt + get(b, struct.at, 4), enc("\x1b[2J\x07"))),
    "ok",
  );
  add(
    "name-section-escapes",
    minimal,
    "program section renamed with escapes",
    minimal.edit((b) => esc(b, shstr.offset + get(b, text.hdr, 4), enc("tp/\x1b]0;X\x07/\x1b[2J"))),
  );
  add(
    "name-invalid-utf8",
    boot,
    "program symbol handle_exit with bytes ff fe",
    boot.edit((b) => esc(b, boot.L.strtab.offset + get(b, boot.symbol("handle_exit"), 4), Uint8Array.from([0x68, 0xff, 0xfe, 0x80]))),
    "ok",
  );
  add(
    "name-global-escapes",
    globals,
    "global variable seeded renamed ESC ] 8",
    globals.edit((b) => esc(b, globals.L.strtab.offset + get(b, globals.symbol("seeded"), 4), enc("\x1b]8;\x07"))),
    "ok",
  );

  // Large files: written sparse, so 200 MB costs no disk; the pipeline reads them whole.
  const big = (name, target, what, build, expect) =>
    cases.push({ name, object: target.name, what, size: BIG_FILE_SIZE, build, ...(expect ? { expect } : {}) });
  big(
    "big-trailing-zeros",
    minimal,
    "minimal.bpf.o followed by 200 MB of zeros",
    (fd) => {
      writeSync(fd, minimal.orig, 0, minimal.orig.length, 0);
    },
    "ok",
  );
  big(
    "big-shdrs-at-end",
    minimal,
    "minimal.bpf.o with its section header table at the end of 200 MB",
    (fd) => {
      const b = minimal.orig.slice();
      const table = b.subarray(minimal.L.shoff, minimal.L.shoff + minimal.L.shnum * 64);
      const at = BIG_FILE_SIZE - table.length;
      put(b, 40, 8, at);
      writeSync(fd, b, 0, b.length, 0);
      writeSync(fd, table, 0, table.length, at);
    },
    "ok",
  );
  big(
    "big-data-section",
    globals,
    "globals.bpf.o whose .data is a 200 MB section of the file",
    (fd) => {
      const b = globals.orig.slice();
      const data = globals.section(".data");
      put(b, data.hdr + SH.offset, 8, b.length);
      put(b, data.hdr + SH.size, 8, BIG_FILE_SIZE - b.length);
      writeSync(fd, b, 0, b.length, 0);
    },
    "ok",
  );
  return cases;
}

/** A large case as a sparse file at `path`. */
export function writeBigCase(c, path) {
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, c.size);
    c.build(fd);
  } finally {
    closeSync(fd);
  }
}

export function readCorpus() {
  const dir = join(ROOT, "bpf");
  return new Map(
    readdirSync(dir)
      .filter((n) => n.endsWith(".bpf.o"))
      .sort()
      .map((n) => [n, new Uint8Array(readFileSync(join(dir, n)))]),
  );
}

function peakRss() {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** --check: every case through the pipeline on dist/, one JSON line each, then the peak RSS. */
async function check(opts) {
  const { loadDistModules, makePipeline, FuzzFailure } = await import("./pipeline.mjs");
  const { mods, loadKernelBtf } = await loadDistModules(join(ROOT, "dist", "src"));
  const corpus = readCorpus();
  const layouts = new Map([...corpus].map(([n, b]) => [n, layoutOf(n, b)]));
  const pipeline = makePipeline(mods, loadKernelBtf(), corpus);
  const dir = join(tmpdir(), `tsbpf-hostile-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  for (const c of hostileCases(corpus)) {
    if (opts.only && !opts.only.includes(c.name)) continue;
    if (c.build && !opts.big) continue;
    let bytes = c.bytes;
    if (c.build) {
      const path = join(dir, `${c.name}.bpf.o`);
      writeBigCase(c, path);
      const buf = readFileSync(path); // read whole, as BpfObject.open does; then a view, not a copy
      rmSync(path);
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    let out;
    try {
      out = { name: c.name, errors: pipeline.run(bytes, c.object, layouts.get(c.object)).errors };
    } catch (e) {
      if (!(e instanceof FuzzFailure)) throw e;
      out = { name: c.name, failure: e.message, stack: String(e.error?.stack ?? e.error) };
    }
    bytes = undefined;
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ peakRss: peakRss() })}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const corpus = readCorpus();
  if (args[0] === "--list") {
    for (const c of hostileCases(corpus)) console.log(`${c.name.padEnd(26)} ${c.object.padEnd(16)} ${c.what}`);
  } else if (args[0] === "--out") {
    const dir = args[1] ?? join(HERE, "hostile");
    mkdirSync(dir, { recursive: true });
    for (const c of hostileCases(corpus)) {
      const path = join(dir, `${c.name}.bpf.o`);
      if (c.build) writeBigCase(c, path);
      else writeFileSync(path, c.bytes);
    }
    console.log(`wrote the cases to ${dir}`);
  } else if (args[0] === "--check") {
    const only = args.filter((a) => !a.startsWith("--"));
    await check({ big: args.includes("--big"), only: only.length ? only : undefined });
  } else {
    console.error("usage: node fuzz/hostile.mjs --list | --out DIR | --check [--big] [NAME...]");
    process.exit(2);
  }
}
