/**
 * ObjectSpec editing without a kernel: validation of names and values,
 * copy-on-edit sharing (the parse cache hands out copies, not deep copies),
 * sealing, and programs in section names no convention knows.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfAttachType, BpfMapType, BpfProgType } from "../src/abi/uapi-enums.js";
import { NotFoundError, StateError, TsbpfError, UnsupportedError } from "../src/errors.js";
import { parseFileCached } from "../src/object/spec-cache.js";
import { inspectObject } from "../src/spec/inspect.js";
import { parseObject } from "../src/spec/object-spec.js";
import { UNKNOWN_SECTION } from "../src/spec/section-types.js";

const EDIT = "bpf/edit.bpf.o";
const parse = (path = EDIT) => parseObject(readFileSync(path), { path });
const cached = (path: string) => parseFileCached(readFileSync(path), { path });

describe("a program in a section name no convention knows", () => {
  it("parses with no type; inspect reports it", () => {
    const spec = parse();
    const p = spec.program("custom_bump");
    expect(p.section.def).toBe(UNKNOWN_SECTION);
    expect(p.section.def.progType).toBe(BpfProgType.UNSPEC);
    const report = inspectObject(spec).programs.find((x) => x.name === "custom_bump");
    expect(report).toMatchObject({ section: "tsbpf_custom/bump", type: "unknown", attach: "none" });
  });

  it("takes the attach kind of the type it is given", () => {
    const spec = parse();
    spec.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER);
    expect(spec.program("custom_bump").section.def).toMatchObject({ progType: BpfProgType.SOCKET_FILTER, attach: "socket" });
    spec.editProgram("custom_bump").setType(BpfProgType.SCHED_CLS).setExpectedAttachType(BpfAttachType.TCX_INGRESS);
    expect(spec.program("custom_bump").section.def).toMatchObject({ expectedAttachType: BpfAttachType.TCX_INGRESS, attach: "tcx" });
    spec
      .editProgram("custom_bump")
      .setType(BpfProgType.TRACING)
      .setExpectedAttachType(BpfAttachType.TRACE_FENTRY)
      .setAttachTarget("do_exit");
    expect(spec.program("custom_bump").section).toMatchObject({ def: { attach: "trampoline", attachBtf: true }, target: "do_exit" });
  });
});

describe("editing validates", () => {
  it("unknown names are NotFoundError, listing what exists", () => {
    const spec = parse();
    expect(() => spec.editProgram("nope")).toThrow(NotFoundError);
    expect(() => spec.editProgram("nope")).toThrow(/has no program nope \(it has: custom_bump, fill\)/);
    expect(() => spec.editMap("nope")).toThrow(/has no map nope \(it has: counter, wide, sized_later\)/);
    expect(() => spec.setVariable("nope", 1)).toThrow(NotFoundError);
  });

  it("values out of range, and edits that make no sense, are refused", () => {
    const spec = parse();
    expect(() => spec.editProgram("fill").setType(0 as BpfProgType)).toThrow(/0 is not a BPF program type/);
    expect(() => spec.editProgram("fill").setType(9999 as BpfProgType)).toThrow(TsbpfError);
    expect(() => spec.editProgram("fill").setExpectedAttachType(9999 as BpfAttachType)).toThrow(/not a BPF attach type/);
    expect(() => spec.editProgram("fill").setLogLevel(8)).toThrow(/log level must combine 1, 2 and 4/);
    expect(() => spec.editProgram("fill").setFlags(-1)).toThrow(/flags must be an integer from 0 to 4294967295/);
    expect(() => spec.editMap("wide").setMaxEntries(1.5)).toThrow(/max_entries must be an integer/);
    expect(() => spec.editMap("wide").setValueSize(0)).toThrow(/value_size must be an integer from 1/);
    expect(() => spec.editMap("wide").reuseFd(-1)).toThrow(/must be an open file descriptor/);
    expect(() => spec.editMap("wide").setInnerMapFd(3)).toThrow(UnsupportedError);
    const globals = parse("bpf/globals.bpf.o");
    expect(() => globals.editMap(".rodata").setValueSize(64)).toThrow(/holds \.rodata: its size is that of the section/);
  });

  it("a changed key or value size drops the BTF type that described it; a ring buffer is rounded to pages", () => {
    const spec = parse();
    const before = spec.map("wide");
    expect(before.btfValueTypeId).not.toBe(0);
    spec.editMap("wide").setValueSize(8); // unchanged: keeps the type
    expect(spec.map("wide").btfValueTypeId).toBe(before.btfValueTypeId);
    spec.editMap("wide").setValueSize(16).setKeySize(4);
    expect(spec.map("wide")).toMatchObject({ valueSize: 16, btfValueTypeId: 0, btfKeyTypeId: before.btfKeyTypeId });
    const maps = parse("bpf/maps.bpf.o");
    maps.editMap("ring").setMaxEntries(5000);
    expect(maps.map("ring")).toMatchObject({ type: BpfMapType.RINGBUF, maxEntries: 8192 });
  });
});

describe("sharing one parse", () => {
  it("opens of an unchanged file share the frozen parts; an edit reaches only its own spec", () => {
    const a = cached("bpf/minimal.bpf.o");
    const b = cached("bpf/minimal.bpf.o");
    expect(a).not.toBe(b);
    expect(a.program("handle_tp")).toBe(b.program("handle_tp")); // not copied
    expect(Object.isFrozen(a.program("handle_tp"))).toBe(true);
    expect(Object.isFrozen(a.program("handle_tp").insns)).toBe(true);
    expect(() => {
      (a.program("handle_tp").section as { target: string }).target = "x";
    }).toThrow(TypeError);

    a.editProgram("handle_tp").setAttachTarget("changed/by_a");
    a.setVariable("my_pid", 1234);
    const c = cached("bpf/minimal.bpf.o");
    for (const other of [b, c]) {
      expect(other.program("handle_tp").section.target).toBe("syscalls/sys_enter_write");
      expect([...other.initialValue("my_pid")]).toEqual([0, 0, 0, 0]);
    }
    expect([...a.initialValue("my_pid")]).toEqual([0xd2, 0x04, 0, 0]);
    // Unedited entries are still shared.
    expect(a.map(".bss")).not.toBe(c.map(".bss")); // a copied the bytes it wrote
    expect(a.program("handle_tp").insns).toBe(c.program("handle_tp").insns);
  });

  it("copy() is independent both ways, global data included", () => {
    const a = parse("bpf/globals.bpf.o");
    a.setVariable("seeded", 7);
    const b = a.copy();
    b.setVariable("seeded", 9);
    a.setVariable("seeded", 8);
    expect(a.readVariable("seeded")).not.toEqual(b.readVariable("seeded"));
    expect(new DataView(b.initialValue("seeded").buffer, b.initialValue("seeded").byteOffset).getUint8(0)).toBe(9);
    expect(new DataView(a.initialValue("seeded").buffer, a.initialValue("seeded").byteOffset).getUint8(0)).toBe(8);
  });

  it("a sealed spec refuses every edit; its copy does not", () => {
    const spec = parse();
    const editor = spec.editMap("sized_later");
    spec.seal();
    expect(spec.sealed).toBe(true);
    expect(() => editor.setMaxEntries(4)).toThrow(StateError);
    expect(() => spec.editProgram("fill")).toThrow(StateError);
    const copy = spec.copy();
    expect(copy.sealed).toBe(false);
    copy.editMap("sized_later").setMaxEntries(4);
    expect(copy.map("sized_later").maxEntries).toBe(4);
    expect(spec.map("sized_later").maxEntries).toBe(0);
    const globals = parse("bpf/globals.bpf.o");
    globals.seal();
    expect(() => globals.setVariable("seeded", 1)).toThrow(StateError);
    expect(() => globals.variableBytes("seeded")).toThrow(StateError);
  });
});
