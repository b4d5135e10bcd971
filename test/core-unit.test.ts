/**
 * CO-RE on small hand-built BTFs: one behaviour of libbpf's relo_core.c per
 * test (anonymous members, flavors, arrays, ambiguity, candidate narrowing,
 * type compatibility/matching, enum values, instruction validation and
 * patching), with expected values worked out by hand.
 */
import { describe, expect, it } from "vitest";
import { Btf } from "../src/btf/btf.js";
import { BtfBuilder } from "../src/btf/encode.js";
import { CoreReloKind, type CoreRelo } from "../src/btf/ext.js";
import { BTF_INT_SIGNED, BtfKind, type Member } from "../src/btf/types.js";
import {
  CORE_POISON_IMM,
  CoreCache,
  applyCoreRelocations,
  essentialName,
  explainPoison,
  findCandidates,
  parseCoreSpec,
  typesAreCompatible,
  typesMatch,
} from "../src/core/index.js";
import {
  adoptEssentialNameTable,
  buildEssentialNameTable,
  essentialNameTableFits,
  typesWithEssentialName,
} from "../src/core/essential-name-table.js";
import { hashBytes } from "../src/btf/name-index.js";
import { RelocationError } from "../src/errors.js";
import { CALL, LD_IMM64, type Instruction } from "../src/insn/insn.js";

// ---------------------------------------------------------------------------
// Building blocks

type Builder = BtfBuilder & { int: number; long: number; uint: number; char: number };

function btf(fill: (b: Builder) => void): Btf {
  const b = new BtfBuilder() as Builder;
  b.int = b.add({ kind: BtfKind.Int, name: "int", size: 4, encoding: BTF_INT_SIGNED, bitOffset: 0, bits: 32 });
  b.long = b.add({ kind: BtfKind.Int, name: "long", size: 8, encoding: BTF_INT_SIGNED, bitOffset: 0, bits: 64 });
  b.uint = b.add({ kind: BtfKind.Int, name: "unsigned int", size: 4, encoding: 0, bitOffset: 0, bits: 32 });
  b.char = b.add({ kind: BtfKind.Int, name: "char", size: 1, encoding: BTF_INT_SIGNED, bitOffset: 0, bits: 8 });
  fill(b);
  return Btf.parse(b.encode(), { where: "test BTF" });
}

const m = (name: string, type: number, bitOffset: number, bitfieldSize = 0): Member => ({ name, type, bitOffset, bitfieldSize });

function struct(
  b: BtfBuilder,
  name: string,
  size: number,
  members: Member[],
  kind: BtfKind.Struct | BtfKind.Union = BtfKind.Struct,
): number {
  return b.add({ kind, name, size, members, kindFlag: members.some((x) => x.bitfieldSize > 0) });
}

/** rX = imm (mov64), the form clang uses for field_exists, type_size, ... */
const movImm = (imm: number): Instruction => ({ opcode: 0xb7, dst: 1, src: 0, off: 0, imm });
/** rX = *(u32 *)(r6 + off) */
const ldxW = (off: number): Instruction => ({ opcode: 0x61, dst: 1, src: 6, off, imm: 0 });
const ldImm64 = (v: bigint): Instruction[] => [
  { opcode: LD_IMM64, dst: 1, src: 0, off: 0, imm: Number(BigInt.asIntN(32, v)) },
  { opcode: 0, dst: 0, src: 0, off: 0, imm: Number(BigInt.asIntN(32, v >> 32n)) },
];
const exit: Instruction = { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

function relo(kind: CoreReloKind, typeId: number, accessStr: string): CoreRelo {
  return { insnIndex: 0, typeId, accessStr, accessStrOff: 0, kind };
}

/** One relocated instruction (plus exit); returns the report and the instructions. */
function run(local: Btf, target: Btf, insn: Instruction | Instruction[], r: CoreRelo, cache?: CoreCache) {
  const insns = [...(Array.isArray(insn) ? insn : [insn]), exit].map((i) => ({ ...i }));
  insns[0]!.coreRelo = r;
  const [report] = applyCoreRelocations(insns, local, target, { programName: "prog", cache });
  return { report: report!, insns };
}

// ---------------------------------------------------------------------------

describe("essential names", () => {
  it("drops the last ___flavor suffix only when it is a real separator", () => {
    expect(essentialName("task_struct___old")).toBe("task_struct");
    expect(essentialName("a___b___c")).toBe("a___b");
    expect(essentialName("task_struct")).toBe("task_struct");
    expect(essentialName("foo___")).toBe("foo___");
    expect(essentialName("___foo")).toBe("___foo");
    expect(essentialName("foo____bar")).toBe("foo____bar");
    expect(essentialName("BPF_MAP_TYPE_RINGBUF___tsbpf")).toBe("BPF_MAP_TYPE_RINGBUF");
  });
});

describe("access specs", () => {
  const local = btf((b) => {
    const arr = b.add({ kind: BtfKind.Array, name: "", elemType: b.int, indexType: b.int, nelems: 4 });
    const inner = struct(b, "", 8, [m("x", b.int, 0), m("arr4", arr, 32)]);
    struct(b, "outer", 24, [m("a", b.int, 0), m("", inner, 64)]);
  });
  const outer = local.typeByName("outer").id;

  it("keeps named fields and array indexes, skipping anonymous members", () => {
    const spec = parseCoreSpec(local, relo(CoreReloKind.FIELD_BYTE_OFFSET, outer, "0:1:1:2"));
    expect(spec.raw).toEqual([0, 1, 1, 2]);
    expect(spec.accessors.map((a) => a.name ?? a.idx)).toEqual([0, "arr4", 2]);
    expect(spec.bitOffset).toBe(64 + 32 + 2 * 32);
  });

  it("rejects malformed strings and out-of-range steps", () => {
    for (const s of ["", ":0", "0::1", "0:a", "0:-1", "0:9", "0:1:1:4"]) {
      expect(() => parseCoreSpec(local, relo(CoreReloKind.FIELD_BYTE_OFFSET, outer, s)), s).toThrow(RelocationError);
    }
    expect(() => parseCoreSpec(local, relo(CoreReloKind.TYPE_SIZE, outer, "0:1"))).toThrow(/type-based/);
    expect(() => parseCoreSpec(local, relo(13 as CoreReloKind, outer, "0"))).toThrow(/unrecognized/);
  });
});

describe("field relocations", () => {
  // Local view (as a BPF program declares it) and a target that nests `b` in anonymous members.
  const local = btf((b) => {
    struct(b, "sample___v2", 8, [m("a", b.int, 0), m("b", b.int, 32)]);
  });
  const target = btf((b) => {
    const inner = struct(b, "", 8, [m("y", b.int, 0), m("b", b.int, 32)]);
    const u = struct(b, "", 8, [m("", inner, 0), m("z", b.long, 0)], BtfKind.Union);
    struct(b, "sample", 24, [m("x", b.int, 0), m("", u, 64), m("a", b.int, 128)]);
  });
  const sample = local.typeByName("sample___v2").id;

  it("finds a field inside anonymous structs/unions of a differently named flavor", () => {
    const { report, insns } = run(local, target, ldxW(4), relo(CoreReloKind.FIELD_BYTE_OFFSET, sample, "0:1"));
    expect(report.targetValue).toBe(12n);
    expect(insns[0]!.off).toBe(12);
    expect(report.targetSpec).toBe("sample::b (0:1:0:1)");
    expect(report.localSpec).toBe("sample___v2::b (0:1)");
    expect(report.explanation).toBe("sample::b at offset 12 in kernel BTF (compiled as 4)");
    expect(run(local, target, movImm(0), relo(CoreReloKind.FIELD_BYTE_OFFSET, sample, "0:0")).report.targetValue).toBe(16n);
  });

  it("applies the root index: &s[2].b", () => {
    expect(run(local, target, movImm(20), relo(CoreReloKind.FIELD_BYTE_OFFSET, sample, "2:1")).report.targetValue).toBe(2n * 24n + 12n);
  });

  it("refuses a field whose type is incompatible, poisoning the access and answering 0 to field_exists", () => {
    const tgt = btf((b) => {
      const s = struct(b, "inner", 4, [m("q", b.int, 0)]);
      struct(b, "sample", 8, [m("a", b.int, 0), m("b", s, 32)]);
    });
    const { report, insns } = run(local, tgt, ldxW(4), relo(CoreReloKind.FIELD_BYTE_OFFSET, sample, "0:1"));
    expect(report.poisoned).toBe(true);
    expect(report.failure).toContain("field b of struct sample [6] has a type incompatible with the local field");
    expect(insns[0]).toMatchObject({ opcode: CALL, dst: 0, src: 0, off: 0, imm: CORE_POISON_IMM });
    expect(explainPoison(report)).toContain('instruction #0 is now "call 0xbad2310"');
    expect(run(local, tgt, movImm(1), relo(CoreReloKind.FIELD_EXISTS, sample, "0:1")).report.targetValue).toBe(0n);
  });

  it("explains a missing type", () => {
    const { report } = run(
      local,
      btf(() => {}),
      ldxW(4),
      relo(CoreReloKind.FIELD_BYTE_OFFSET, sample, "0:1"),
    );
    expect(report.explanation).toBe(
      "CO-RE relocation #0 in prog failed: sample___v2::b not found in kernel BTF: it has no struct named sample " +
        "(the essential name of sample___v2); instruction #0 poisoned",
    );
  });

  it("handles arrays: bounds, flexible arrays, element sizes", () => {
    const loc = btf((b) => {
      const a = b.add({ kind: BtfKind.Array, name: "", elemType: b.int, indexType: b.int, nelems: 8 });
      const flex = b.add({ kind: BtfKind.Array, name: "", elemType: b.int, indexType: b.int, nelems: 0 });
      struct(b, "arrs", 36, [m("n", b.int, 0), m("a", a, 32)]);
      struct(b, "flexy", 4, [m("n", b.int, 0), m("data", flex, 32)]);
    });
    const tgt = btf((b) => {
      const a = b.add({ kind: BtfKind.Array, name: "", elemType: b.long, indexType: b.int, nelems: 4 });
      const flex = b.add({ kind: BtfKind.Array, name: "", elemType: b.int, indexType: b.int, nelems: 0 });
      struct(b, "arrs", 40, [m("n", b.long, 0), m("a", a, 64)]);
      struct(b, "flexy", 8, [m("n", b.long, 0), m("data", flex, 64)]);
    });
    const arrs = loc.typeByName("arrs").id;
    // a[3]: 8 + 3 * 8 in the target, whose elements are longs.
    expect(run(loc, tgt, movImm(16), relo(CoreReloKind.FIELD_BYTE_OFFSET, arrs, "0:1:3")).report.targetValue).toBe(32n);
    expect(run(loc, tgt, movImm(4), relo(CoreReloKind.FIELD_BYTE_SIZE, arrs, "0:1:3")).report.targetValue).toBe(8n);
    expect(run(loc, tgt, movImm(32), relo(CoreReloKind.FIELD_BYTE_SIZE, arrs, "0:1")).report.targetValue).toBe(32n);
    // a[6] is past the target's 4 elements.
    expect(run(loc, tgt, movImm(28), relo(CoreReloKind.FIELD_BYTE_OFFSET, arrs, "0:1:6")).report.poisoned).toBe(true);
    // A flexible array (last member, 0 elements) may be indexed anywhere.
    const flexy = loc.typeByName("flexy").id;
    expect(run(loc, tgt, movImm(24), relo(CoreReloKind.FIELD_BYTE_OFFSET, flexy, "0:1:5")).report.targetValue).toBe(28n);
    // Signedness or shifts of an array element are not defined.
    expect(() => run(loc, tgt, movImm(1), relo(CoreReloKind.FIELD_SIGNED, arrs, "0:1:3"))).toThrow(/array element/);
  });

  it("computes bitfield loads: natural unit, widened when the field straddles it", () => {
    const loc = btf((b) => {
      struct(b, "bits", 8, [m("lo", b.uint, 0, 3), m("mid", b.uint, 3, 5), m("s", b.int, 8, 4)]);
    });
    const tgt = btf((b) => {
      // mid straddles the first 32-bit word (bits 30..34): a 64-bit load is needed.
      struct(b, "bits", 8, [m("lo", b.uint, 0, 3), m("mid", b.uint, 30, 5), m("s", b.int, 40, 4)]);
    });
    const bits = loc.typeByName("bits").id;
    const val = (kind: CoreReloKind, access: string, local: number) =>
      run(loc, tgt, movImm(local), relo(kind, bits, access)).report.targetValue;
    expect(val(CoreReloKind.FIELD_BYTE_OFFSET, "0:1", 0)).toBe(0n);
    expect(val(CoreReloKind.FIELD_BYTE_SIZE, "0:1", 4)).toBe(8n);
    expect(val(CoreReloKind.FIELD_LSHIFT_U64, "0:1", 56)).toBe(BigInt(64 - (30 + 5)));
    expect(val(CoreReloKind.FIELD_RSHIFT_U64, "0:1", 59)).toBe(59n);
    expect(val(CoreReloKind.FIELD_SIGNED, "0:1", 0)).toBe(0n);
    // s at bit 40, 4 bits: the 32-bit word at byte 4.
    expect(val(CoreReloKind.FIELD_BYTE_OFFSET, "0:2", 0)).toBe(4n);
    expect(val(CoreReloKind.FIELD_LSHIFT_U64, "0:2", 52)).toBe(BigInt(64 - (40 + 4 - 32)));
    expect(val(CoreReloKind.FIELD_SIGNED, "0:2", 1)).toBe(1n);
    // Signedness and the right shift are checked against the instruction; offsets of bitfields are not.
    expect(() => run(loc, tgt, movImm(0), relo(CoreReloKind.FIELD_SIGNED, bits, "0:2"))).toThrow(/unexpected value/);
    expect(run(loc, tgt, movImm(12345), relo(CoreReloKind.FIELD_LSHIFT_U64, bits, "0:1")).report.poisoned).toBe(false);
  });
});

describe("several candidates", () => {
  const local = btf((b) => {
    struct(b, "foo", 8, [m("a", b.int, 0), m("b", b.int, 32)]);
  });
  const foo = local.typeByName("foo").id;

  it("fails on candidates that disagree, naming the relocation", () => {
    const target = btf((b) => {
      struct(b, "foo", 8, [m("a", b.int, 0), m("b", b.int, 32)]);
      struct(b, "foo___2", 16, [m("a", b.int, 0), m("b", b.int, 64)]);
    });
    expect(() => run(local, target, ldxW(4), relo(CoreReloKind.FIELD_BYTE_OFFSET, foo, "0:1"))).toThrow(
      /^CO-RE relocation #0 in prog \(<byte_off> \[\d+\] struct foo "0:1", instruction #0\): field offset ambiguity/,
    );
    // Type sizes disagree too.
    expect(() => run(local, target, movImm(8), relo(CoreReloKind.TYPE_SIZE, foo, "0"))).toThrow(/relocation decision ambiguity/);
  });

  it("accepts candidates that agree", () => {
    const target = btf((b) => {
      struct(b, "foo", 8, [m("a", b.int, 0), m("b", b.int, 32)]);
      struct(b, "foo___2", 8, [m("b", b.int, 32), m("a", b.int, 0)]);
    });
    const { report } = run(local, target, ldxW(4), relo(CoreReloKind.FIELD_BYTE_OFFSET, foo, "0:1"));
    expect(report.targetValue).toBe(4n);
    expect(report.candidates).toHaveLength(2);
  });

  it("narrows a type's candidates to those that matched, for later relocations (libbpf's per-object cache)", () => {
    // foo has b; foo___2 lacks b and puts a elsewhere.
    const target = btf((b) => {
      struct(b, "foo", 8, [m("a", b.int, 0), m("b", b.int, 32)]);
      struct(b, "foo___2", 16, [m("a", b.int, 64)]);
    });
    const cache = new CoreCache();
    expect(run(local, target, ldxW(4), relo(CoreReloKind.FIELD_BYTE_OFFSET, foo, "0:1"), cache).report.targetValue).toBe(4n);
    const after = run(local, target, ldxW(0), relo(CoreReloKind.FIELD_BYTE_OFFSET, foo, "0:0"), cache).report;
    expect(after.targetValue).toBe(0n);
    expect(after.candidates).toHaveLength(1);
    // In the other order, both candidates are still in play and disagree about a.
    expect(() => run(local, target, ldxW(0), relo(CoreReloKind.FIELD_BYTE_OFFSET, foo, "0:0"), new CoreCache())).toThrow(/ambiguity/);
  });

  it("finds flavored names in the target, and caches candidate lists per target", () => {
    const target = btf((b) => {
      struct(b, "foo___x", 8, [m("a", b.int, 0), m("b", b.int, 32)]);
      struct(b, "foo___y___z", 8, [m("a", b.int, 0)]);
      b.add({ kind: BtfKind.Union, name: "foo", size: 4, members: [m("a", b.int, 0)], kindFlag: false });
    });
    const ids = findCandidates(target, "foo___local", BtfKind.Struct);
    expect(ids.map((id) => target.name(id))).toEqual(["foo___x"]);
    expect(findCandidates(target, "foo", BtfKind.Struct)).toBe(ids);
    expect(findCandidates(target, "foo___y___local", BtfKind.Struct).map((id) => target.name(id))).toEqual(["foo___y___z"]);
    expect(findCandidates(target, "foo", BtfKind.Union).map((id) => target.name(id))).toEqual(["foo"]);
  });
});

describe("Btf.idsWithNamePrefix", () => {
  // CO-RE's flavor searches ("foo___"): every own type whose whole name starts with the prefix
  // (not a name that merely contains it), the first own string of split BTF included.
  const names = ["foo", "foo___a", "foo___b___c", "xfoo___a", "foo____x", "___lead", "a___", "foo__", "café___1", "café"];
  const fill = (b: BtfBuilder) => {
    for (const name of names) struct(b, name, 4, [m("a", 0, 0)]);
  };
  const base = btf((b) => fill(b));
  const sb = new BtfBuilder({ base });
  sb.add({ kind: BtfKind.Struct, name: "foo___split", size: 4, members: [], kindFlag: false });
  sb.add({ kind: BtfKind.Typedef, name: "xfoo___split", type: 1 });
  const split = Btf.parse(sb.encode(), { base });
  const prefixes = ["foo___", "foo____", "foo___b___", "___", "___l", "a___", "café___", "foo", "foo_", "xfoo___", "nope___"];

  it.each(prefixes)("%s: every own type whose name starts with it, in id order", (prefix) => {
    for (const target of [base, split]) {
      const own = [];
      for (let id = target === split ? base.typeCount : 1; id < target.typeCount; id++) {
        if (target.name(id).startsWith(prefix)) own.push([id, target.name(id)]);
      }
      expect(target.idsWithNamePrefix(prefix)).toEqual(own);
    }
  });

  it("finds a split BTF's own flavored names, not its base's", () => {
    expect(split.idsWithNamePrefix("foo___").map(([, n]) => n)).toEqual(["foo___split"]);
  });
});

describe("the essential-name table (CO-RE candidates by hash)", () => {
  // Exact and flavored names, a name twice, a union beside a struct, a multi-byte name, enums (one class with enum64).
  const fill = (b: Builder) => {
    struct(b, "foo___x", 8, [m("a", b.int, 0)]);
    struct(b, "foo___y___z", 8, [m("a", b.int, 0)]);
    struct(b, "foo", 4, [m("a", b.int, 0)], BtfKind.Union);
    struct(b, "foo", 4, [m("a", b.int, 0)]);
    struct(b, "bar____x", 4, [m("a", b.int, 0)]);
    struct(b, "café___1", 4, [m("a", b.int, 0)]);
    b.add({ kind: BtfKind.Enum, name: "e___v1", size: 4, signed: false, values: [{ name: "A", value: 0n }] });
    b.add({ kind: BtfKind.Enum64, name: "e", size: 8, signed: false, values: [{ name: "A", value: 0n }] });
    for (let i = 0; i < 300; i++) b.add({ kind: BtfKind.Typedef, name: `t${i % 97}`, type: b.int });
  };
  const queries: Array<[string, BtfKind]> = [
    ["foo", BtfKind.Struct],
    ["foo", BtfKind.Union],
    ["foo___y", BtfKind.Struct],
    ["bar____x", BtfKind.Struct],
    ["bar_", BtfKind.Struct],
    ["café", BtfKind.Struct],
    ["e", BtfKind.Enum],
    ["t5", BtfKind.Typedef],
    ["t96", BtfKind.Typedef],
    ["absent", BtfKind.Struct],
    ["int", BtfKind.Int],
  ];

  it("finds exactly what the string searches find", () => {
    const searched = btf(fill);
    const hashed = btf(fill);
    const table = buildEssentialNameTable(hashed)!;
    expect(essentialNameTableFits(hashed, table)).toBe(true);
    adoptEssentialNameTable(hashed, table);
    for (const [name, kind] of queries) {
      const want = findCandidates(searched, name, kind);
      expect(findCandidates(hashed, name, kind), `${name} (${BtfKind[kind]})`).toEqual(want);
    }
    expect(findCandidates(hashed, "foo", BtfKind.Struct).map((id) => hashed.name(id))).toEqual(["foo___x", "foo"]);
    expect(findCandidates(hashed, "t5", BtfKind.Typedef)).toHaveLength(4);
  });

  it("names that are not UTF-8 are compared as bytes, as the searches compare them", () => {
    // Three two-byte names, made invalid UTF-8 after encoding, in the bucket of "\ufffd\ufffd"'s bytes
    // (4 named types: 4 buckets): each decodes to that text, none is it.
    const wanted = hashBytes(Buffer.from("\ufffd\ufffd")) & 3;
    const seconds: number[] = [];
    for (let x = 0x80; seconds.length < 3; x++) if ((hashBytes(Uint8Array.of(0xff, x)) & 3) === wanted) seconds.push(x);
    const b = new BtfBuilder() as Builder;
    b.int = b.add({ kind: BtfKind.Int, name: "int", size: 4, encoding: BTF_INT_SIGNED, bitOffset: 0, bits: 32 });
    const names = ["Z!", "Z#", "Z%"];
    for (const name of names) struct(b, name, 4, [m("a", b.int, 0)]);
    const bytes = b.encode();
    for (const [k, name] of names.entries()) bytes.set([0xff, seconds[k]!], Buffer.from(bytes).indexOf(`\0${name}\0`) + 1);
    const searched = Btf.parse(bytes.slice());
    const hashed = Btf.parse(bytes.slice());
    adoptEssentialNameTable(hashed, buildEssentialNameTable(hashed)!);
    expect(searched.name(2)).toBe("\ufffd\ufffd");
    for (const query of ["\ufffd\ufffd", "\ufffd", "Z!"])
      expect(findCandidates(hashed, query, BtfKind.Struct), query).toEqual(findCandidates(searched, query, BtfKind.Struct));
    expect(findCandidates(hashed, "\ufffd\ufffd", BtfKind.Struct)).toEqual([]);
  });

  it("a damaged table does not fit, and one out of range is never read past", () => {
    const target = btf(fill);
    const table = buildEssentialNameTable(target)!;
    const buckets = table.bucketStarts.length - 1;
    // Emptied entries: the sample's types are missing from their buckets.
    expect(essentialNameTableFits(target, { ...table, entries: new Uint32Array(table.entries.length) })).toBe(false);
    // Not a power of two, or counts that disagree.
    expect(essentialNameTableFits(target, { ...table, bucketStarts: table.bucketStarts.subarray(0, buckets) })).toBe(false);
    expect(essentialNameTableFits(target, { ...table, entries: table.entries.subarray(1) })).toBe(false);
    // A bucket out of order (entries are written ascending): given up too.
    const shared = [...table.bucketStarts.keys()].find((b) => b < buckets && table.bucketStarts[b + 1]! - table.bucketStarts[b]! >= 2)!;
    const [from] = [table.bucketStarts[shared]!];
    const swapped = table.entries.slice();
    [swapped[from], swapped[from + 1]] = [swapped[from + 1]!, swapped[from]!];
    const inShared = target.name(target.startId + table.entries[from]!);
    expect(typesWithEssentialName(target, table, essentialName(inShared))).toBeDefined();
    expect(typesWithEssentialName(target, { ...table, entries: swapped }, essentialName(inShared))).toBeUndefined();
    // Entries past the types: the lookup gives up (the caller searches) instead of answering.
    const wild = { bucketStarts: table.bucketStarts, entries: table.entries.map(() => 1 << 30) };
    expect(typesWithEssentialName(target, wild, "foo")).toBeUndefined();
  });

  it("split BTF gets no table (its own strings are small)", () => {
    const base = btf(fill);
    const split = Btf.parse(new BtfBuilder({ base }).encode(), { base });
    expect(buildEssentialNameTable(split)).toBeUndefined();
  });
});

describe("type relocations", () => {
  const local = btf((b) => {
    const s = struct(b, "thing", 8, [m("a", b.int, 0), m("p", 0, 0)]);
    const ptr = b.add({ kind: BtfKind.Ptr, name: "", type: s });
    b.add({ kind: BtfKind.Typedef, name: "thing_t", type: s });
    b.add({ kind: BtfKind.Typedef, name: "thing_ptr", type: ptr });
    b.add({ kind: BtfKind.Enum, name: "color", size: 4, signed: false, values: [{ name: "RED", value: 0n }] });
  });
  const target = btf((b) => {
    const s = struct(b, "thing", 16, [m("a", b.long, 0)]);
    const ptr = b.add({ kind: BtfKind.Ptr, name: "", type: s });
    b.add({ kind: BtfKind.Typedef, name: "thing_t", type: s });
    b.add({ kind: BtfKind.Typedef, name: "thing_ptr", type: ptr });
    b.add({ kind: BtfKind.Enum64, name: "color", size: 8, signed: false, values: [{ name: "RED", value: 0n }] });
  });
  const id = (name: string) => local.typeByName(name).id;

  it("answers type id, existence and size", () => {
    const thing = id("thing");
    const tgtThing = target.typeByName("thing").id;
    expect(run(local, target, movImm(thing), relo(CoreReloKind.TYPE_ID_LOCAL, thing, "0")).report).toMatchObject({
      targetValue: BigInt(thing),
      candidates: [],
    });
    // The local id in the instruction is not checked (linking may renumber types).
    expect(run(local, target, ldImm64(999n), relo(CoreReloKind.TYPE_ID_TARGET, thing, "0")).report.targetValue).toBe(BigInt(tgtThing));
    expect(run(local, target, movImm(1), relo(CoreReloKind.TYPE_EXISTS, id("thing_ptr"), "0")).report.targetValue).toBe(1n);
    expect(run(local, target, movImm(8), relo(CoreReloKind.TYPE_SIZE, id("thing_t"), "0")).report.targetValue).toBe(16n);
    expect(run(local, target, movImm(4), relo(CoreReloKind.TYPE_SIZE, id("color"), "0")).report.targetValue).toBe(8n);
    // Missing types answer 0 for size and target id too, without poisoning.
    const none = btf(() => {});
    expect(run(local, none, movImm(8), relo(CoreReloKind.TYPE_SIZE, thing, "0")).report).toMatchObject({
      targetValue: 0n,
      poisoned: false,
    });
    expect(run(local, none, movImm(thing), relo(CoreReloKind.TYPE_ID_TARGET, thing, "0")).report.targetValue).toBe(0n);
  });

  it("matches types with libbpf's rules", () => {
    // thing: local member p (void) has no counterpart in the target.
    expect(typesMatch(local, id("thing"), target, target.typeByName("thing").id)).toBe(false);
    expect(typesAreCompatible(local, id("thing"), target, target.typeByName("thing").id)).toBe(true);
    // ENUM and ENUM64 are compatible kinds, but must have the same size to match.
    expect(typesAreCompatible(local, id("color"), target, target.typeByName("color").id)).toBe(true);
    expect(typesMatch(local, id("color"), target, target.typeByName("color").id)).toBe(false);
    // A typedef is only a candidate for a typedef.
    expect(typesAreCompatible(local, id("thing_t"), target, target.typeByName("thing").id)).toBe(false);

    const a = btf((b) => {
      const fwd = b.add({ kind: BtfKind.Fwd, name: "task", union: false });
      const p = b.add({ kind: BtfKind.Ptr, name: "", type: fwd });
      struct(b, "holder", 16, [m("t", p, 0), m("n", b.uint, 64)]);
      b.add({ kind: BtfKind.Enum, name: "mode", size: 4, signed: false, values: [{ name: "M_A___x", value: 1n }] });
    });
    const t = btf((b) => {
      const task = struct(b, "task", 4, [m("pid", b.int, 0)]);
      const p = b.add({ kind: BtfKind.Ptr, name: "", type: task });
      struct(b, "holder", 24, [m("extra", b.long, 0), m("n", b.uint, 64), m("t", p, 128)]);
      b.add({
        kind: BtfKind.Enum,
        name: "mode",
        size: 4,
        signed: false,
        values: [
          { name: "M_B", value: 0n },
          { name: "M_A", value: 7n },
        ],
      });
    });
    // Behind a pointer a forward declaration matches the struct; member order does not matter.
    expect(typesMatch(a, a.typeByName("holder").id, t, t.typeByName("holder").id)).toBe(true);
    expect(typesMatch(a, a.typeByName("mode").id, t, t.typeByName("mode").id)).toBe(true);
    const signedN = btf((b) => {
      const fwd = b.add({ kind: BtfKind.Fwd, name: "task", union: false });
      const p = b.add({ kind: BtfKind.Ptr, name: "", type: fwd });
      struct(b, "holder", 16, [m("t", p, 0), m("n", b.int, 64)]);
    });
    // ...but integers must agree in signedness (and size, and name).
    expect(typesMatch(signedN, signedN.typeByName("holder").id, t, t.typeByName("holder").id)).toBe(false);
  });
});

describe("enum value relocations", () => {
  const local = btf((b) => {
    b.add({
      kind: BtfKind.Enum,
      name: "e___mine",
      size: 4,
      signed: true,
      values: [
        { name: "NEG", value: -2n },
        { name: "GONE", value: 5n },
      ],
    });
    b.add({ kind: BtfKind.Enum64, name: "big", size: 8, signed: false, values: [{ name: "HUGE", value: 1n << 40n }] });
  });
  const target = btf((b) => {
    b.add({ kind: BtfKind.Enum, name: "e", size: 4, signed: true, values: [{ name: "NEG___v2", value: -3n }] });
    b.add({ kind: BtfKind.Enum64, name: "big", size: 8, signed: false, values: [{ name: "HUGE", value: (1n << 41n) + 3n }] });
  });
  const e = local.typeByName("e___mine").id;

  it("relocates enumerators by essential name, sign-extending 32-bit values", () => {
    const { report, insns } = run(local, target, movImm(-2), relo(CoreReloKind.ENUMVAL_VALUE, e, "0"));
    expect(report.localValue).toBe(BigInt.asUintN(64, -2n));
    expect(report.targetValue).toBe(BigInt.asUintN(64, -3n));
    expect(insns[0]!.imm).toBe(-3);
    expect(report.explanation).toBe("e::NEG___v2 = -3 in kernel BTF");
    const big = run(local, target, ldImm64(1n << 40n), relo(CoreReloKind.ENUMVAL_VALUE, local.typeByName("big").id, "0"));
    expect(big.insns[0]!.imm).toBe(3);
    expect(big.insns[1]!.imm).toBe(2 << 8);
  });

  it("answers 0 for a missing enumerator's existence and poisons its value (both ld_imm64 slots)", () => {
    expect(run(local, target, movImm(1), relo(CoreReloKind.ENUMVAL_EXISTS, e, "1")).report.targetValue).toBe(0n);
    const { report, insns } = run(local, target, ldImm64(5n), relo(CoreReloKind.ENUMVAL_VALUE, e, "1"));
    expect(report.poisoned).toBe(true);
    expect(insns[0]).toMatchObject({ opcode: CALL, imm: CORE_POISON_IMM });
    expect(insns[1]).toMatchObject({ opcode: CALL, imm: CORE_POISON_IMM });
    expect(explainPoison(report)).toContain("bpf_core_enum_value_exists");
  });
});

describe("instruction checks", () => {
  const local = btf((b) => {
    struct(b, "foo", 8, [m("a", b.int, 0), m("b", b.int, 32)]);
  });
  const target = btf((b) => {
    struct(b, "foo", 16, [m("a", b.int, 0), m("b", b.int, 96)]);
  });
  const foo = local.typeByName("foo").id;
  const r = relo(CoreReloKind.FIELD_BYTE_OFFSET, foo, "0:1");

  it("patches ALU immediates, LDX/ST/STX offsets and ld_imm64", () => {
    expect(run(local, target, movImm(4), r).insns[0]!.imm).toBe(12);
    expect(run(local, target, { opcode: 0x07, dst: 3, src: 0, off: 0, imm: 4 }, r).insns[0]!.imm).toBe(12); // r3 += 4
    expect(run(local, target, { opcode: 0x62, dst: 1, src: 0, off: 4, imm: 7 }, r).insns[0]!.off).toBe(12); // *(u32 *)(r1 + 4) = 7
    expect(run(local, target, { opcode: 0x63, dst: 1, src: 2, off: 4, imm: 0 }, r).insns[0]!.off).toBe(12); // *(u32 *)(r1 + 4) = r2
    const ld = run(local, target, ldImm64(4n), r).insns;
    expect([ld[0]!.imm, ld[1]!.imm]).toEqual([12, 0]);
  });

  it("refuses instructions that do not hold the local value or cannot carry one", () => {
    expect(() => run(local, target, movImm(5), r)).toThrow(
      /^CO-RE relocation #0 in prog \(foo::b \(0:1\)\): unexpected value in instruction #0 \(ALU\/ALU64 imm\): got 5, expected 4/,
    );
    expect(() => run(local, target, ldxW(8), r)).toThrow(/LDX\/ST\/STX off/);
    expect(() => run(local, target, { opcode: 0xbf, dst: 1, src: 2, off: 0, imm: 4 }, r)).toThrow(/on a register/);
    expect(() => run(local, target, { opcode: 0x05, dst: 0, src: 0, off: 4, imm: 0 }, r)).toThrow(/not an instruction CO-RE can relocate/);
    expect(() =>
      run(
        local,
        target,
        [
          { opcode: LD_IMM64, dst: 1, src: 1, off: 0, imm: 4 },
          { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 },
        ],
        r,
      ),
    ).toThrow(/unexpected form/);
    const far = btf((b) => {
      struct(b, "foo", 65536, [m("a", b.int, 0), m("b", b.int, 40000 * 8)]);
    });
    expect(() => run(local, far, ldxW(4), r)).toThrow(/16-bit offset/);
  });

  it("refuses relocations against anonymous types", () => {
    const anon = btf((b) => {
      struct(b, "", 4, [m("a", b.int, 0)]);
    });
    const id = anon.typeCount - 1;
    expect(() => run(anon, target, movImm(0), relo(CoreReloKind.FIELD_BYTE_OFFSET, id, "0:0"))).toThrow(/anonymous/);
    // TYPE_ID_LOCAL needs no lookup, so it works.
    expect(run(anon, target, movImm(id), relo(CoreReloKind.TYPE_ID_LOCAL, id, "0")).report.targetValue).toBe(BigInt(id));
  });
});
