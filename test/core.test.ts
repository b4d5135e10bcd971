/**
 * CO-RE against real BTF, offline (nothing is loaded into the kernel):
 * bpf/core.bpf.o and bpf/bootstrap.bpf.o are relocated against
 * /sys/kernel/btf/vmlinux read as a plain file, and against copies of it
 * with fields moved and types changed. Expected values never come from the
 * code under test: they are read from `bpftool btf dump ... format raw`
 * output (parsed here), or follow from the edits made to the copies.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { Btf } from "../src/btf/btf.js";
import { CoreReloKind, parseBtfExt } from "../src/btf/ext.js";
import { BtfKind, isComposite, isEnum } from "../src/btf/types.js";
import { CORE_POISON_IMM, CoreCache, type CoreRelocationReport, applyCoreRelocations, explainPoison } from "../src/core/index.js";
import { ElfFile, STT_FUNC } from "../src/elf/elf-file.js";
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_DW,
  BPF_LDX,
  BPF_ST,
  BPF_STX,
  BPF_W,
  CALL,
  LD_IMM64,
  type Instruction,
  decodeInstructions,
} from "../src/insn/insn.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const BPFTOOL = ["/usr/sbin/bpftool", "/usr/bin/bpftool", "/sbin/bpftool"].find((p) => existsSync(p));
const haveKernelBtf = existsSync(VMLINUX);

// ---------------------------------------------------------------------------
// Reading objects: each function's instructions, with its CO-RE records
// attached the way the loader does (record index - function start).

interface LoadedObject {
  btf: Btf;
  /** Function name → its instructions (fresh copies). */
  programs: Map<string, Instruction[]>;
}

function loadObject(path: string): LoadedObject {
  const elf = new ElfFile(readFileSync(path));
  const btf = Btf.parse(elf.section(".BTF")!.data, { where: `${path} .BTF` });
  const ext = parseBtfExt(elf.section(".BTF.ext")!.data, btf);
  const programs = new Map<string, Instruction[]>();
  for (const section of elf.sections) {
    const relos = ext.coreRelos.get(section.name);
    if (!relos) continue;
    const insns = decodeInstructions(section.data, section.name);
    for (const r of relos) insns[r.insnIndex]!.coreRelo = r;
    const funcs = elf.symbols.filter((s) => s.sectionIndex === section.index && s.type === STT_FUNC).sort((a, b) => a.value - b.value);
    for (const f of funcs)
      programs.set(
        f.name,
        insns.slice(f.value / 8, (f.value + f.size) / 8).map((i) => ({ ...i })),
      );
  }
  return { btf, programs };
}

/** Relocates every function of `obj` in ELF order with one cache, numbering relocations per section like libbpf. */
function relocateAll(obj: LoadedObject, target: Btf, targetName?: string): Map<string, CoreRelocationReport[]> {
  const cache = new CoreCache();
  const out = new Map<string, CoreRelocationReport[]>();
  let n = 0;
  for (const [name, insns] of obj.programs) {
    const reports = applyCoreRelocations(insns, obj.btf, target, { cache, programName: name, firstRelocationNumber: n, targetName });
    n += reports.length;
    out.set(name, reports);
  }
  return out;
}

/** The value an instruction now carries where CO-RE patches it. */
function patchedValue(insns: Instruction[], i: number): bigint {
  const insn = insns[i]!;
  const cls = insn.opcode & 7;
  if (insn.opcode === LD_IMM64) return (BigInt(insns[i + 1]!.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
  if (cls === BPF_ALU || cls === BPF_ALU64) return BigInt.asUintN(64, BigInt(insn.imm));
  if (cls === BPF_LDX || cls === BPF_ST || cls === BPF_STX) return BigInt(insn.off);
  throw new Error(`instruction #${i} (0x${insn.opcode.toString(16)}) is not relocatable`);
}

// ---------------------------------------------------------------------------
// An independent reading of BTF: bpftool's raw dump, parsed.

interface DumpMember {
  name: string;
  type: number;
  bits: number;
  bitfieldSize: number;
}
interface DumpType {
  id: number;
  kind: string;
  name: string;
  size?: number | undefined;
  type?: number | undefined;
  nelems?: number | undefined;
  encoding?: string | undefined;
  members: DumpMember[];
  values: { name: string; val: bigint }[];
}

class Dump {
  readonly types = new Map<number, DumpType>();
  private readonly byName = new Map<string, DumpType[]>();

  constructor(path: string) {
    const text = execFileSync(BPFTOOL!, ["btf", "dump", "file", path, "format", "raw"], { maxBuffer: 1 << 28, encoding: "utf8" });
    let cur: DumpType | undefined;
    for (const line of text.split("\n")) {
      const head = /^\[(\d+)\] (\w+) '([^']*)'(.*)$/.exec(line);
      if (head) {
        const rest = head[4]!;
        const num = (k: string): number | undefined => {
          const m = new RegExp(`\\b${k}=(\\d+)`).exec(rest);
          return m ? Number(m[1]) : undefined;
        };
        cur = {
          id: Number(head[1]),
          kind: head[2]!,
          name: head[3] === "(anon)" ? "" : head[3]!,
          size: num("size"),
          type: num("type_id"),
          nelems: num("nr_elems"),
          encoding: /encoding=(\S+)/.exec(rest)?.[1],
          members: [],
          values: [],
        };
        this.types.set(cur.id, cur);
        const list = this.byName.get(cur.name) ?? [];
        list.push(cur);
        this.byName.set(cur.name, list);
        continue;
      }
      const member = /^\t'([^']*)' type_id=(\d+) bits_offset=(\d+)(?: bitfield_size=(\d+))?/.exec(line);
      if (member && cur) {
        cur.members.push({
          name: member[1] === "(anon)" ? "" : member[1]!,
          type: Number(member[2]),
          bits: Number(member[3]),
          bitfieldSize: Number(member[4] ?? 0),
        });
        continue;
      }
      const value = /^\t'([^']*)' val=(-?\d+)/.exec(line);
      if (value && cur) cur.values.push({ name: value[1]!, val: BigInt(value[2]!) });
    }
  }

  named(name: string, kind: string): DumpType {
    const t = this.byName.get(name)?.find((x) => x.kind === kind);
    if (!t) throw new Error(`dump has no ${kind} '${name}'`);
    return t;
  }

  resolve(id: number): DumpType {
    let t = this.types.get(id)!;
    while (["TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"].includes(t.kind)) t = this.types.get(t.type!)!;
    return t;
  }

  sizeOf(id: number): number {
    const t = this.resolve(id);
    if (t.kind === "PTR") return 8;
    if (t.kind === "ARRAY") return t.nelems! * this.sizeOf(t.type!);
    return t.size!;
  }

  /** A named member of a struct/union, looking inside anonymous members; bits from the start of `t`. */
  private member(t: DumpType, name: string): { bits: number; m: DumpMember } | undefined {
    for (const m of t.members) {
      if (m.name === name) return { bits: m.bits, m };
      if (m.name === "") {
        const inner = this.resolve(m.type);
        const found = inner.kind === "STRUCT" || inner.kind === "UNION" ? this.member(inner, name) : undefined;
        if (found) return { bits: m.bits + found.bits, m: found.m };
      }
    }
    return undefined;
  }

  /** Whether struct `root` has a member `name` (a kernel's BTF has the fields of its own version only). */
  hasField(root: string, name: string): boolean {
    return this.member(this.named(root, "STRUCT"), name) !== undefined;
  }

  /** Bit offset of root.path (field names and array indexes), and the last member. */
  field(root: string, ...path: (string | number)[]): { bits: number; m?: DumpMember | undefined; typeId: number } {
    let t = this.named(root, "STRUCT");
    let bits = 0;
    let last: DumpMember | undefined;
    let typeId = t.id;
    for (const step of path) {
      if (typeof step === "number") {
        if (t.kind !== "ARRAY") throw new Error(`indexing a ${t.kind}`);
        typeId = t.type!;
        bits += step * this.sizeOf(typeId) * 8;
      } else {
        const found = this.member(t, step);
        if (!found) throw new Error(`${t.name} has no ${step}`);
        bits += found.bits;
        last = found.m;
        typeId = found.m.type;
      }
      t = this.resolve(typeId);
    }
    return { bits, m: last, typeId };
  }

  byteOffset(root: string, ...path: (string | number)[]): bigint {
    return BigInt(this.field(root, ...path).bits / 8);
  }

  enumValue(name: string, value: string): bigint {
    const t = this.byName.get(name)?.find((x) => x.kind === "ENUM" || x.kind === "ENUM64");
    const v = t?.values.find((x) => x.name === value);
    if (!v) throw new Error(`dump has no ${name}::${value}`);
    return BigInt.asUintN(64, v.val);
  }
}

/** libbpf's bitfield load for a field at `bit` of `width` bits declared with a `declared`-byte type. */
function bitfieldLoad(bit: number, width: number, declared: number): { byteOff: number; byteSize: number; lshift: number; rshift: number } {
  for (let size = declared; size <= 8; size *= 2) {
    const start = Math.floor(bit / (size * 8)) * size * 8;
    if (bit + width <= start + size * 8) {
      return { byteOff: start / 8, byteSize: size, lshift: 64 - (bit + width - start), rshift: 64 - width };
    }
  }
  throw new Error("bitfield cannot be loaded");
}

function bitfield(dump: Dump, root: string, name: string) {
  const f = dump.field(root, name);
  return bitfieldLoad(f.bits, f.m!.bitfieldSize, dump.sizeOf(f.m!.type));
}

/**
 * Expected target value of each core_all relocation, keyed "<kind> <path>";
 * undefined where the kernel lacks the field, so the relocation is poisoned
 * (core.bpf.c guards those accesses with bpf_core_field_exists).
 */
function coreAllExpectations(kernel: Dump, local: Dump): Record<string, bigint | undefined> {
  const ts = "task_struct";
  const dumpable = bitfield(kernel, ts, "user_dumpable");
  const execve = bitfield(kernel, ts, "in_execve");
  const forkClass = kernel.hasField(ts, "init_private_fork_class") ? bitfield(kernel, ts, "init_private_fork_class") : undefined;
  const isSigned = (root: string, name: string): bigint => {
    const t = kernel.resolve(kernel.field(root, name).typeId);
    return t.kind === "INT" && t.encoding === "SIGNED" ? 1n : 0n;
  };
  return {
    "byte_off task_struct::pid": kernel.byteOffset(ts, "pid"),
    "byte_off task_struct::tgid": kernel.byteOffset(ts, "tgid"),
    "byte_off task_struct::real_parent": kernel.byteOffset(ts, "real_parent"),
    "byte_off task_struct::flags": kernel.byteOffset(ts, "flags"),
    "byte_off task_struct::comm": kernel.byteOffset(ts, "comm"),
    "byte_off task_struct::comm[2]": kernel.byteOffset(ts, "comm", 2),
    "byte_off task_struct::cpus_mask.bits[0]": kernel.byteOffset(ts, "cpus_mask", "bits", 0),
    "byte_off task_struct::signal": kernel.byteOffset(ts, "signal"),
    "byte_off signal_struct::rlim[7].rlim_cur": kernel.byteOffset("signal_struct", "rlim", 7, "rlim_cur"),
    "byte_off task_struct::mm": kernel.byteOffset(ts, "mm"),
    "byte_off mm_struct::map_count": kernel.byteOffset("mm_struct", "map_count"),
    "byte_off mm_struct::mm_count": kernel.byteOffset("mm_struct", "mm_count"),
    "byte_off mm_struct::mmap_base": kernel.byteOffset("mm_struct", "mmap_base"),
    "byte_sz task_struct::comm": BigInt(kernel.sizeOf(kernel.field(ts, "comm").typeId)),
    "byte_sz task_struct::pid": BigInt(kernel.sizeOf(kernel.field(ts, "pid").typeId)),
    "field_exists task_struct::real_parent": 1n,
    "field_exists task_struct___old::no_such_field": 0n,
    "signed task_struct::pid": isSigned(ts, "pid"),
    "signed task_struct::flags": isSigned(ts, "flags"),
    "byte_off task_struct::user_dumpable": BigInt(dumpable.byteOff),
    "byte_sz task_struct::user_dumpable": BigInt(dumpable.byteSize),
    "lshift_u64 task_struct::user_dumpable": BigInt(dumpable.lshift),
    "rshift_u64 task_struct::user_dumpable": BigInt(dumpable.rshift),
    "signed task_struct::user_dumpable": isSigned(ts, "user_dumpable"),
    "byte_off task_struct::in_execve": BigInt(execve.byteOff),
    "byte_sz task_struct::in_execve": BigInt(execve.byteSize),
    "lshift_u64 task_struct::in_execve": BigInt(execve.lshift),
    "rshift_u64 task_struct::in_execve": BigInt(execve.rshift),
    "signed task_struct::in_execve": isSigned(ts, "in_execve"),
    "field_exists task_struct::init_private_fork_class": forkClass ? 1n : 0n,
    "lshift_u64 task_struct::init_private_fork_class": forkClass && BigInt(forkClass.lshift),
    "rshift_u64 task_struct::init_private_fork_class": forkClass && BigInt(forkClass.rshift),
    "local_type_id task_struct": BigInt(local.named(ts, "STRUCT").id),
    "target_type_id task_struct": BigInt(kernel.named(ts, "STRUCT").id),
    "target_type_id tsbpf_no_such_type": 0n,
    "type_exists task_struct": 1n,
    "type_exists task_struct___old": 1n,
    "type_exists tsbpf_no_such_type": 0n,
    "type_size task_struct": BigInt(kernel.named(ts, "STRUCT").size!),
    "type_size pid_t": BigInt(kernel.sizeOf(kernel.named("pid_t", "TYPEDEF").id)),
    "type_matches list_head___tsbpf": 1n,
    "type_matches task_struct___old": 0n,
    "type_matches pid_t": 1n,
    "enumval_exists bpf_map_type::BPF_MAP_TYPE_RINGBUF": 1n,
    "enumval_value bpf_map_type::BPF_MAP_TYPE_RINGBUF": kernel.enumValue("bpf_map_type", "BPF_MAP_TYPE_RINGBUF"),
    "enumval_value bpf_map_type___tsbpf::BPF_MAP_TYPE_RINGBUF___tsbpf": kernel.enumValue("bpf_map_type", "BPF_MAP_TYPE_RINGBUF"),
    "enumval_exists bpf_map_type___tsbpf::BPF_MAP_TYPE_TSBPF_NONE___tsbpf": 0n,
    "enumval_value perf_callchain_context::PERF_CONTEXT_KERNEL": kernel.enumValue("perf_callchain_context", "PERF_CONTEXT_KERNEL"),
  };
}

/** "<kind> <path>" of a report: its local spec without the raw steps or type id. */
function key(r: CoreRelocationReport): string {
  return `${r.kindName} ${r.localSpec.replace(/ \(.*\)$| \[\d+\]$/, "")}`;
}

// ---------------------------------------------------------------------------
// Copies of vmlinux's BTF with edits, for targets that differ from the
// kernel the objects were compiled against.

class BtfEditor {
  private readonly raw: Uint8Array;
  private readonly dv: DataView;
  private readonly extra: string[] = [];

  constructor(private readonly btf: Btf) {
    this.raw = btf.rawBytes().slice();
    this.dv = new DataView(this.raw.buffer);
  }

  id(name: string, kind: BtfKind): number {
    return this.btf.typeByName(name, kind).id;
  }

  private memberSlot(typeId: number, name: string) {
    const t = this.btf.type(typeId);
    if (!isComposite(t)) throw new Error(`[${typeId}] is not a struct/union`);
    const i = t.members.findIndex((m) => m.name === name);
    if (i < 0) throw new Error(`${t.name} has no ${name}`);
    return { at: this.btf.typeOffset(typeId) + 12 + 12 * i, kflag: t.kindFlag, member: t.members[i]! };
  }

  member(typeId: number, name: string) {
    return this.memberSlot(typeId, name).member;
  }

  setMember(typeId: number, name: string, edit: { bitOffset?: number; bitfieldSize?: number; type?: number; rename?: string }): void {
    const { at, kflag, member } = this.memberSlot(typeId, name);
    if (edit.rename !== undefined) this.dv.setUint32(at, this.addString(edit.rename), true);
    if (edit.type !== undefined) this.dv.setUint32(at + 4, edit.type, true);
    const bits = edit.bitOffset ?? member.bitOffset;
    const size = edit.bitfieldSize ?? member.bitfieldSize;
    if (!kflag && size !== 0) throw new Error("bitfield in a struct without kind_flag");
    this.dv.setUint32(at + 8, kflag ? ((size << 24) | bits) >>> 0 : bits, true);
  }

  setSize(typeId: number, size: number): void {
    this.dv.setUint32(this.btf.typeOffset(typeId) + 8, size, true);
  }

  setEnumValue(typeId: number, name: string, value: bigint): void {
    const t = this.btf.type(typeId);
    if (!isEnum(t)) throw new Error(`[${typeId}] is not an enum`);
    const i = t.values.findIndex((v) => v.name === name);
    const at = this.btf.typeOffset(typeId) + 12;
    const u = BigInt.asUintN(64, value);
    if (t.kind === BtfKind.Enum) {
      this.dv.setUint32(at + 8 * i + 4, Number(u & 0xffffffffn), true);
    } else {
      this.dv.setUint32(at + 12 * i + 4, Number(u & 0xffffffffn), true);
      this.dv.setUint32(at + 12 * i + 8, Number(u >> 32n), true);
    }
  }

  private addString(s: string): number {
    const off = this.btf.stringsSize + this.extra.reduce((n, x) => n + Buffer.byteLength(x) + 1, 0);
    this.extra.push(s);
    return off;
  }

  build(): Btf {
    const hdrLen = this.dv.getUint32(4, true);
    const strOff = this.dv.getUint32(16, true);
    const strLen = this.dv.getUint32(20, true);
    const end = hdrLen + strOff + strLen;
    const added = new TextEncoder().encode(this.extra.map((s) => `${s}\0`).join(""));
    const out = new Uint8Array(end + added.length);
    out.set(this.raw.subarray(0, end));
    out.set(added, end);
    new DataView(out.buffer).setUint32(20, strLen + added.length, true);
    return Btf.parse(out, { where: "edited vmlinux" });
  }
}

// ---------------------------------------------------------------------------

describe.skipIf(!haveKernelBtf)("CO-RE against the running kernel's BTF", () => {
  let vmlinux: Btf;
  beforeAll(() => {
    vmlinux = Btf.parse(readFileSync(VMLINUX), { where: VMLINUX });
  });

  describe.skipIf(!BPFTOOL)("bpf/core.bpf.o, checked against bpftool's dump", () => {
    let kernel: Dump;
    let local: Dump;
    let original: LoadedObject;
    let obj: LoadedObject;
    let reports: Map<string, CoreRelocationReport[]>;
    beforeAll(() => {
      kernel = new Dump(VMLINUX);
      local = new Dump("bpf/core.bpf.o");
      original = loadObject("bpf/core.bpf.o");
      obj = loadObject("bpf/core.bpf.o");
      reports = relocateAll(obj, vmlinux);
    }, 60_000);

    it("covers every relocation kind", () => {
      const kinds = new Set([...reports.values()].flat().map((r) => r.kind));
      for (let k = CoreReloKind.FIELD_BYTE_OFFSET; k <= CoreReloKind.TYPE_MATCHES; k++) expect(kinds, CoreReloKind[k]).toContain(k);
    });

    it("resolves every core_all relocation to the value bpftool's dump gives", () => {
      const expected = coreAllExpectations(kernel, local);
      const all = reports.get("core_all")!;
      expect(all.length).toBeGreaterThan(50);
      const seen = new Set<string>();
      for (const r of all) {
        const k = key(r);
        seen.add(k);
        expect(k in expected, `no expectation for ${k}`).toBe(true);
        expect(r.poisoned, `${k}: ${r.explanation}`).toBe(expected[k] === undefined);
        expect(r.targetValue, `${k} (${r.explanation})`).toBe(expected[k]);
      }
      expect([...seen].sort()).toEqual(Object.keys(expected).sort());
    });

    it("patches each instruction with the target value and leaves the rest alone", () => {
      const before = original.programs.get("core_all")!;
      const after = obj.programs.get("core_all")!;
      const relocated = new Map(reports.get("core_all")!.map((r) => [r.insnIndex, r]));
      for (let i = 0; i < after.length; i++) {
        const r = relocated.get(i);
        if (r?.poisoned) {
          expect(after[i], r.explanation).toMatchObject({ opcode: CALL, imm: CORE_POISON_IMM });
        } else if (r) {
          expect(patchedValue(after, i), r.explanation).toBe(r.targetValue);
          expect(after[i]!.opcode).toBe(before[i]!.opcode);
        } else if (!relocated.has(i - 1) || before[i - 1]!.opcode !== LD_IMM64) {
          expect(after[i]).toEqual(before[i]);
        }
      }
    });

    it("reports specs and values in readable form", () => {
      const all = reports.get("core_all")!;
      const parent = all.find((r) => key(r) === "byte_off task_struct::real_parent")!;
      const off = kernel.byteOffset("task_struct", "real_parent");
      // The local offset is the build's (bpf/vmlinux.h); another kernel's differs, and the note says so.
      const compiled = local.byteOffset("task_struct", "real_parent");
      expect(parent.explanation).toBe(
        `task_struct::real_parent at offset ${off} in kernel BTF${off === compiled ? "" : ` (compiled as ${compiled})`}`,
      );
      expect(parent.localSpec).toMatch(/^task_struct::real_parent \(0:\d+\)$/);
      // The raw spec's member index is the kernel's own (another kernel orders task_struct differently).
      const index = kernel.named("task_struct", "STRUCT").members.findIndex((m) => m.name === "real_parent");
      expect(parent.targetSpec).toBe(`task_struct::real_parent (0:${index})`);
      expect(parent.targetTypeId).toBe(kernel.named("task_struct", "STRUCT").id);
      // The anonymous struct step shows in the raw spec, not in the name path.
      expect(all.find((r) => key(r) === "byte_off mm_struct::map_count")!.targetSpec).toMatch(/^mm_struct::map_count \(0:0:\d+\)$/);
      const flavored = all.find((r) => key(r) === "enumval_value bpf_map_type___tsbpf::BPF_MAP_TYPE_RINGBUF___tsbpf")!;
      expect(flavored.localValue).toBe(9999n);
      expect(flavored.targetSpec).toMatch(/^bpf_map_type::BPF_MAP_TYPE_RINGBUF \(\d+\)$/);
      const missing = all.find((r) => key(r) === "field_exists task_struct___old::no_such_field")!;
      expect(missing.explanation).toBe("task_struct___old::no_such_field does not exist in kernel BTF (answer 0)");
    });

    it("poisons core_poison's unsatisfiable relocations and explains them", () => {
      const insns = obj.programs.get("core_poison")!;
      const [field, enumval, ...rest] = reports.get("core_poison")!;
      expect(rest).toEqual([]);
      expect(field!.poisoned).toBe(true);
      expect(field!.targetValue).toBeUndefined();
      expect(insns[field!.insnIndex]).toMatchObject({ opcode: CALL, dst: 0, src: 0, off: 0, imm: CORE_POISON_IMM });
      expect(field!.explanation).toBe(
        `CO-RE relocation #${field!.number} in core_poison failed: task_struct___old::no_such_field not found in kernel BTF ` +
          `(struct task_struct [${kernel.named("task_struct", "STRUCT").id}] has no field no_such_field); instruction #${field!.insnIndex} poisoned`,
      );
      const text = explainPoison(field!)!;
      expect(text).toContain("invalid func unknown#195896080");
      expect(text).toContain("bpf_core_field_exists");
      // The enum value relocation is an ld_imm64: both slots are poisoned.
      expect(enumval!.poisoned).toBe(true);
      expect(enumval!.kind).toBe(CoreReloKind.ENUMVAL_VALUE);
      expect(insns[enumval!.insnIndex]).toMatchObject({ opcode: CALL, imm: CORE_POISON_IMM });
      expect(insns[enumval!.insnIndex + 1]).toMatchObject({ opcode: CALL, imm: CORE_POISON_IMM });
      expect(enumval!.explanation).toContain("bpf_map_type___tsbpf::BPF_MAP_TYPE_TSBPF_NONE___tsbpf not found in kernel BTF");
      expect(explainPoison(reports.get("core_all")![0]!)).toBeUndefined();
    });
  });

  describe.skipIf(!BPFTOOL)("bpf/bootstrap.bpf.o", () => {
    it("resolves task_struct::real_parent, tgid and exit_code to the kernel's offsets; again without decoding anything", () => {
      const kernel = new Dump(VMLINUX);
      const expected: Record<string, bigint> = {
        "byte_off task_struct::real_parent": kernel.byteOffset("task_struct", "real_parent"),
        "byte_off task_struct::tgid": kernel.byteOffset("task_struct", "tgid"),
        "byte_off task_struct::exit_code": kernel.byteOffset("task_struct", "exit_code"),
        "byte_off trace_event_raw_sched_process_exec::__data_loc_filename": kernel.byteOffset(
          "trace_event_raw_sched_process_exec",
          "__data_loc_filename",
        ),
      };
      // A freshly parsed target: the timing includes building its name index and the candidate search.
      const target = Btf.parse(readFileSync(VMLINUX), { where: VMLINUX });
      const obj = loadObject("bpf/bootstrap.bpf.o");
      const t0 = performance.now();
      const reports = relocateAll(obj, target);
      const cold = performance.now() - t0;
      const again = loadObject("bpf/bootstrap.bpf.o");
      // The second relocation against the same target finds every type it needs already decoded.
      const decode = vi.spyOn(target as unknown as { decode(id: number): unknown }, "decode");
      const t1 = performance.now();
      relocateAll(again, target);
      const warm = performance.now() - t1;
      const decodedAgain = decode.mock.calls.length;
      decode.mockRestore();
      console.log(`CO-RE bootstrap.bpf.o vs vmlinux: ${cold.toFixed(2)} ms on a fresh Btf, ${warm.toFixed(2)} ms once its indexes exist`);

      expect([...reports.keys()]).toEqual(["handle_exec", "handle_exit"]);
      const all = [...reports.values()].flat();
      expect(all).toHaveLength(6);
      for (const r of all) {
        expect(r.poisoned).toBe(false);
        expect(r.targetValue, key(r)).toBe(expected[key(r)]);
      }
      expect(reports.get("handle_exit")!.map((r) => key(r))).toEqual([
        "byte_off task_struct::real_parent",
        "byte_off task_struct::tgid",
        "byte_off task_struct::exit_code",
      ]);
      expect(decodedAgain).toBe(0);
    });
  });

  describe("a target where fields moved", () => {
    let edited: Btf;
    let ts: number;
    const moved = { comm: 3000, mapCount: 200, size: 4000, ringbuf: 99n, kernelCtx: 0x1_0000_0005n };
    let original: { pid: number; tgid: number; realParent: number; parent: number };
    beforeAll(() => {
      const e = new BtfEditor(vmlinux);
      ts = e.id("task_struct", BtfKind.Struct);
      original = {
        pid: e.member(ts, "pid").bitOffset,
        tgid: e.member(ts, "tgid").bitOffset,
        realParent: e.member(ts, "real_parent").bitOffset,
        parent: e.member(ts, "parent").bitOffset,
      };
      e.setMember(ts, "pid", { bitOffset: original.tgid });
      e.setMember(ts, "tgid", { bitOffset: original.pid });
      e.setMember(ts, "real_parent", { bitOffset: original.parent });
      e.setMember(ts, "parent", { bitOffset: original.realParent });
      e.setMember(ts, "comm", { bitOffset: moved.comm * 8 });
      // 3 bits at 9566..9568 straddle a 32-bit boundary: only a 64-bit load at 1192 covers them.
      e.setMember(ts, "user_dumpable", { bitOffset: 9566, bitfieldSize: 3 });
      e.setSize(ts, moved.size);
      const mm = vmlinux.type(e.id("mm_struct", BtfKind.Struct));
      if (!isComposite(mm)) throw new Error("mm_struct");
      e.setMember(mm.members[0]!.type, "map_count", { bitOffset: moved.mapCount * 8 });
      e.setEnumValue(e.id("bpf_map_type", BtfKind.Enum), "BPF_MAP_TYPE_RINGBUF", moved.ringbuf);
      e.setEnumValue(e.id("perf_callchain_context", BtfKind.Enum64), "PERF_CONTEXT_KERNEL", moved.kernelCtx);
      edited = e.build();
    });

    it("moves core.bpf.o's offsets, bitfield loads, sizes and enum values with the target", () => {
      const obj = loadObject("bpf/core.bpf.o");
      const reports = relocateAll(obj, edited);
      const all = reports.get("core_all")!;
      const value = (k: string): bigint[] => [...new Set(all.filter((r) => key(r) === k).map((r) => r.targetValue!))];
      expect(value("byte_off task_struct::pid")).toEqual([BigInt(original.tgid / 8)]);
      expect(value("byte_off task_struct::tgid")).toEqual([BigInt(original.pid / 8)]);
      expect(value("byte_off task_struct::real_parent")).toEqual([BigInt(original.parent / 8)]);
      expect(value("byte_off task_struct::comm")).toEqual([BigInt(moved.comm)]);
      expect(value("byte_off task_struct::comm[2]")).toEqual([BigInt(moved.comm + 2)]);
      expect(value("byte_off mm_struct::map_count")).toEqual([BigInt(moved.mapCount)]);
      expect(value("byte_off task_struct::user_dumpable")).toEqual([1192n]);
      expect(value("byte_sz task_struct::user_dumpable")).toEqual([8n]);
      expect(value("lshift_u64 task_struct::user_dumpable")).toEqual([BigInt(64 - (9566 + 3 - 1192 * 8))]);
      expect(value("rshift_u64 task_struct::user_dumpable")).toEqual([61n]);
      expect(value("type_size task_struct")).toEqual([BigInt(moved.size)]);
      expect(value("enumval_value bpf_map_type::BPF_MAP_TYPE_RINGBUF")).toEqual([moved.ringbuf]);
      expect(value("enumval_value bpf_map_type___tsbpf::BPF_MAP_TYPE_RINGBUF___tsbpf")).toEqual([moved.ringbuf]);
      expect(value("enumval_value perf_callchain_context::PERF_CONTEXT_KERNEL")).toEqual([moved.kernelCtx]);
      // Only a field this kernel lacks (guarded in core.bpf.c by bpf_core_field_exists) is poisoned.
      const lacking = value("field_exists task_struct::init_private_fork_class")[0] === 0n;
      expect(all.filter((r) => r.poisoned).map((r) => key(r))).toEqual(
        lacking ? ["lshift_u64 task_struct::init_private_fork_class", "rshift_u64 task_struct::init_private_fork_class"] : [],
      );

      // The instructions carry the new values: direct loads (LDX off), ALU immediates, ld_imm64.
      const insns = obj.programs.get("core_all")!;
      const pidLoad = all.find((r) => key(r) === "byte_off task_struct::pid")!;
      expect(insns[pidLoad.insnIndex]!.opcode & 7).toBe(BPF_LDX);
      expect(insns[pidLoad.insnIndex]!.off).toBe(original.tgid / 8);
      const ctx = all.find((r) => key(r) === "enumval_value perf_callchain_context::PERF_CONTEXT_KERNEL")!;
      expect(insns[ctx.insnIndex]!.opcode).toBe(LD_IMM64);
      expect(insns[ctx.insnIndex]!.imm).toBe(5);
      expect(insns[ctx.insnIndex + 1]!.imm).toBe(1);
    });

    it("moves bootstrap.bpf.o's reads of real_parent and tgid", () => {
      const reports = [...relocateAll(loadObject("bpf/bootstrap.bpf.o"), edited).values()].flat();
      const offsets = (k: string) => [...new Set(reports.filter((r) => key(r) === k).map((r) => r.targetValue))];
      expect(offsets("byte_off task_struct::real_parent")).toEqual([BigInt(original.parent / 8)]);
      expect(offsets("byte_off task_struct::tgid")).toEqual([BigInt(original.pid / 8)]);
    });
  });

  describe("a target where field types changed", () => {
    let edited: Btf;
    let exitSignal: number;
    beforeAll(() => {
      const e = new BtfEditor(vmlinux);
      const ts = e.id("task_struct", BtfKind.Struct);
      const ulong = vmlinux.typeByName("long unsigned int", BtfKind.Int).id;
      const long = vmlinux.typeByName("long int", BtfKind.Int).id;
      e.setMember(ts, "flags", { type: ulong }); // unsigned 4 → 8 bytes: loads can grow
      e.setMember(ts, "pid", { type: long }); // signed 4 → 8 bytes: loads cannot be resized
      exitSignal = e.member(ts, "exit_signal").bitOffset / 8;
      e.setMember(ts, "exit_signal", { rename: "no_such_field" });
      edited = e.build();
    });

    it("resizes an unsigned load, poisons a signed one, and finds a field that appeared", () => {
      const obj = loadObject("bpf/core.bpf.o");
      const reports = relocateAll(obj, edited);
      const all = reports.get("core_all")!;
      const insns = obj.programs.get("core_all")!;

      const flags = all.find((r) => key(r) === "byte_off task_struct::flags")!;
      expect(flags.resized).toEqual({ from: 4, to: 8 });
      expect(insns[flags.insnIndex]!.opcode & 0x18).toBe(BPF_DW);
      const before = loadObject("bpf/core.bpf.o").programs.get("core_all")![flags.insnIndex]!;
      expect(before.opcode & 0x18).toBe(BPF_W);

      const pid = all.filter((r) => key(r) === "byte_off task_struct::pid");
      expect(pid).toHaveLength(1);
      expect(pid[0]!.poisoned).toBe(true);
      expect(pid[0]!.failure).toContain("4 bytes locally but 8 bytes in the target");
      expect(insns[pid[0]!.insnIndex]).toMatchObject({ opcode: CALL, imm: CORE_POISON_IMM });
      expect(all.find((r) => key(r) === "byte_sz task_struct::pid")!.targetValue).toBe(8n);

      expect(all.find((r) => key(r) === "field_exists task_struct___old::no_such_field")!.targetValue).toBe(1n);
      expect(all.find((r) => key(r) === "type_matches task_struct___old")!.targetValue).toBe(1n);
      const [field] = reports.get("core_poison")!;
      expect(field!.poisoned).toBe(false);
      expect(field!.targetValue).toBe(BigInt(exitSignal));
      expect(field!.targetSpec).toMatch(/^task_struct::no_such_field \(0:\d+\)$/);
    });
  });
});
