/**
 * The generated ABI (src/abi, from tsbpf's own BTF parser) against an
 * independent reading of the same BTF: the text of `bpftool btf dump file
 * /sys/kernel/btf/vmlinux`. Every field of every generated struct must sit
 * where bpftool says, with bpftool's size (on the kernel the files were
 * generated from: elsewhere `npm run gen:check` reports the drift). A few
 * offsets are also spelled out, and the sizes tsbpf passes to bpf(2), which
 * traces show.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { describe, expect, it } from "vitest";
import { BPF_ATTR_LAYOUTS } from "../src/abi/bpf-attr.js";
import { BPF_BTF_INFO, BPF_LINK_INFO, BPF_MAP_INFO, BPF_PROG_INFO } from "../src/abi/bpf-info.js";
import type { AbiField, AbiStruct } from "../src/abi/layout.js";
import { PERF_EVENT_ATTR } from "../src/abi/perf-event-attr.js";
import { BpfCmd, BpfCmdNames } from "../src/abi/uapi-enums.js";
import { attrLayout } from "../src/syscall/bpf-attr.js";
import { PERF_ATTR_SIZE } from "../src/syscall/perf.js";

interface OracleType {
  kind: string;
  name: string;
  size?: number;
  typeId?: number;
  nrElems?: number;
  members: Array<{ name: string; typeId: number; bitOffset: number; bitfieldSize: number }>;
}

/** bpftool's raw dump, parsed: `[id] KIND 'name' key=value ...` lines, members indented below. */
function parseBpftool(text: string): Map<number, OracleType> {
  const types = new Map<number, OracleType>();
  let cur: OracleType | undefined;
  for (const line of text.split("\n")) {
    const t = line.match(/^\[(\d+)\] (\w+) '([^']*)'(.*)$/);
    if (t) {
      const attrs = Object.fromEntries([...t[4]!.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
      cur = { kind: t[2]!, name: t[3]!, members: [] };
      if (attrs.size !== undefined) cur.size = Number(attrs.size);
      if (attrs.type_id !== undefined) cur.typeId = Number(attrs.type_id);
      if (attrs.nr_elems !== undefined) cur.nrElems = Number(attrs.nr_elems);
      types.set(Number(t[1]), cur);
      continue;
    }
    const m = line.match(/^\t'([^']*)' type_id=(\d+) bits_offset=(\d+)(?: bitfield_size=(\d+))?/);
    if (m && cur && (cur.kind === "STRUCT" || cur.kind === "UNION")) {
      cur.members.push({ name: m[1]!, typeId: Number(m[2]), bitOffset: Number(m[3]), bitfieldSize: Number(m[4] ?? 0) });
    }
  }
  return types;
}

/** The kernel release the generated files name in their header; bpftool is the oracle on that kernel only. */
const generatedFor = readFileSync(new URL("../src/abi/bpf-attr.ts", import.meta.url), "utf8").match(/kernel BTF \(([^)]+)\)/)?.[1];
const sameKernel = generatedFor === release();

const types = sameKernel
  ? parseBpftool(execFileSync("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux"], { encoding: "utf8", maxBuffer: 256 << 20 }))
  : new Map<number, OracleType>();

function resolved(id: number): OracleType {
  let t = types.get(id)!;
  while (["TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"].includes(t.kind)) t = types.get(t.typeId!)!;
  return t;
}

function sizeOf(id: number): number {
  const t = resolved(id);
  return t.kind === "ARRAY" ? t.nrElems! * sizeOf(t.typeId!) : t.size!;
}

/** Fields by path as bpftool shows them: anonymous members inlined, named composites dotted. */
function oracleFields(id: number, baseBits = 0, prefix = "", out = new Map<string, { bitOffset: number; size: number; bits: number }>()) {
  for (const m of resolved(id).members) {
    const bits = baseBits + m.bitOffset;
    const inner = resolved(m.typeId);
    const composite = inner.kind === "STRUCT" || inner.kind === "UNION";
    if (composite) oracleFields(m.typeId, bits, m.name === "(anon)" ? prefix : `${prefix}${m.name}.`, out);
    else out.set(prefix + m.name, { bitOffset: bits, size: sizeOf(m.typeId), bits: m.bitfieldSize });
  }
  return out;
}

function byName(kind: string, name: string): number {
  for (const [id, t] of types) if (t.kind === kind && t.name === name) return id;
  throw new Error(`bpftool shows no ${kind} ${name}`);
}

/** The generated fields in bpftool's terms: bit offset of the field, its size, its bitfield width. */
function generatedFields(s: AbiStruct) {
  return new Map(
    Object.entries(s.fields as Record<string, AbiField>).map(([path, f]) => [
      path,
      { bitOffset: f.offset * 8 + (f.bit ?? 0), size: f.size, bits: f.bits ?? 0 },
    ]),
  );
}

describe.skipIf(!sameKernel)(`generated struct layouts vs bpftool's dump of the kernel's BTF (${generatedFor})`, () => {
  const structs: Array<[string, AbiStruct]> = [
    ["bpf_prog_info", BPF_PROG_INFO],
    ["bpf_map_info", BPF_MAP_INFO],
    ["bpf_btf_info", BPF_BTF_INFO],
    ["bpf_link_info", BPF_LINK_INFO],
    ["perf_event_attr", PERF_EVENT_ATTR],
  ];
  for (const [name, s] of structs) {
    it(`struct ${name}: size and every field`, () => {
      const id = byName("STRUCT", name);
      expect(s.size).toBe(types.get(id)!.size);
      expect(generatedFields(s)).toEqual(oracleFields(id));
    });
  }

  it("union bpf_attr: each command's layout is exactly one member of the union", () => {
    const attr = byName("UNION", "bpf_attr");
    const key = (fields: Map<string, unknown>) => JSON.stringify([...fields].sort(([a], [b]) => a.localeCompare(b)));
    const members = types.get(attr)!.members.map((m) => ({ size: sizeOf(m.typeId), fields: key(oracleFields(m.typeId, m.bitOffset)) }));
    for (const [cmd, s] of Object.entries(BPF_ATTR_LAYOUTS) as Array<[string, AbiStruct]>) {
      const matching = members.filter((m) => m.size === s.size && m.fields === key(generatedFields(s)));
      expect(matching.length, `${BpfCmdNames[Number(cmd)]}: members of union bpf_attr with its layout`).toBe(1);
    }
  });
});

describe("the generated layouts", () => {
  it("known offsets and sizes", () => {
    expect(BPF_PROG_INFO.fields.xlated_prog_len).toEqual({ offset: 20, size: 4, kind: "u32" });
    expect(BPF_PROG_INFO.fields.name).toEqual({ offset: 64, size: 16, kind: "chars" });
    expect(BPF_PROG_INFO.fields.gpl_compatible).toEqual({ offset: 84, size: 4, kind: "bits", bit: 0, bits: 1 });
    expect(BPF_MAP_INFO.fields.map_extra.offset).toBe(80);
    expect(BPF_LINK_INFO.fields.prog_id.offset).toBe(8);
    expect(PERF_EVENT_ATTR.size).toBe(136);
    expect(PERF_EVENT_ATTR.fields.freq).toEqual({ offset: 40, size: 8, kind: "bits", bit: 10, bits: 1 });
    expect(PERF_EVENT_ATTR.fields.config2.offset).toBe(64);
    expect(BPF_ATTR_LAYOUTS[BpfCmd.MAP_CREATE].fields.map_extra.offset).toBe(64);
    expect(BPF_ATTR_LAYOUTS[BpfCmd.LINK_CREATE].fields["perf_event.bpf_cookie"]).toEqual({ offset: 16, size: 8, kind: "u64" });
    expect(BPF_ATTR_LAYOUTS[BpfCmd.PROG_LOAD].fields.insns.kind).toBe("pointer");
    expect(BPF_ATTR_LAYOUTS[BpfCmd.LINK_CREATE].fields.target_fd.kind).toBe("fd");
  });
});

describe("the bytes tsbpf passes to bpf(2) and perf_event_open(2)", () => {
  it("are libbpf's sizes, unchanged", () => {
    const sizes: Array<[BpfCmd, number]> = [
      [BpfCmd.MAP_CREATE, 72],
      [BpfCmd.MAP_LOOKUP_ELEM, 32],
      [BpfCmd.MAP_UPDATE_ELEM, 32],
      [BpfCmd.MAP_DELETE_ELEM, 32],
      [BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, 32],
      [BpfCmd.MAP_GET_NEXT_KEY, 24],
      [BpfCmd.MAP_FREEZE, 4],
      [BpfCmd.PROG_LOAD, 128],
      [BpfCmd.BTF_LOAD, 28],
      [BpfCmd.LINK_CREATE, 48],
      [BpfCmd.LINK_DETACH, 4],
      [BpfCmd.OBJ_GET_INFO_BY_FD, 16],
      [BpfCmd.PROG_BIND_MAP, 12],
      [BpfCmd.PROG_GET_NEXT_ID, 12],
      [BpfCmd.BTF_GET_FD_BY_ID, 12],
      [BpfCmd.RAW_TRACEPOINT_OPEN, 16],
      [BpfCmd.PROG_TEST_RUN, 80],
      [BpfCmd.OBJ_PIN, 16],
      [BpfCmd.OBJ_GET, 16],
      [BpfCmd.ITER_CREATE, 8],
      [BpfCmd.PROG_ATTACH, 20],
      [BpfCmd.PROG_DETACH, 20],
      [BpfCmd.MAP_LOOKUP_BATCH, 56],
      [BpfCmd.MAP_DELETE_BATCH, 56],
    ];
    expect(sizes.map(([cmd]) => [cmd, attrLayout(cmd).size])).toEqual(sizes);
    // A command tsbpf has no size for sends its whole member of the union.
    expect(attrLayout(BpfCmd.PROG_QUERY).size).toBe(BPF_ATTR_LAYOUTS[BpfCmd.PROG_QUERY].size);
    expect(PERF_ATTR_SIZE).toBe(128); // PERF_ATTR_SIZE_VER7
  });
});
