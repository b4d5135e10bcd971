/**
 * Editing a spec before load, then loading it (bpf/edit.bpf.o): a program in
 * a custom section given its type, a max_entries 0 map sized at runtime, a
 * widened value, a map shared by fd between two objects, and edits refused
 * once loaded. bpftool's view of what was created is the oracle.
 */
import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { BpfMapType, BpfProgType } from "../src/abi/uapi-enums.js";
import { StateError, TsbpfError, UnsupportedError } from "../src/errors.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { mapInfo, progInfo } from "../src/syscall/obj-info.js";
import { NO_NEW_OBJECTS, kernelObjects, openFdCount, remainingKernelObjects } from "./helpers/kernel.js";
import { thrownBy } from "./helpers/thrown.js";

const EDIT = "bpf/edit.bpf.o";

const bpftool = (...args: string[]) => execFileSync("bpftool", args, { encoding: "utf8" });

const opened: BpfObject[] = [];
function open(): BpfObject {
  const obj = BpfObject.open(EDIT);
  opened.push(obj);
  return obj;
}
afterEach(() => {
  for (const o of opened.splice(0)) o.destroy();
});

/** edit.bpf.o with its custom program typed as a socket filter and sized_later sized. */
function openTyped(maxEntries = 4): BpfObject {
  const obj = open();
  obj.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER);
  obj.editMap("sized_later").setMaxEntries(maxEntries);
  return obj;
}

describe("a program in a custom section", () => {
  it("is refused at load until it has a type, then loads as the type set (bpftool agrees)", () => {
    const fds = openFdCount();
    const obj = open();
    obj.editMap("sized_later").setMaxEntries(4);
    const err = thrownBy(() => obj.load());
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toMatch(/program custom_bump: section "tsbpf_custom\/bump" is not a known program type/);
    expect((err as Error).message).toContain("setType");
    // Refused before anything was created: the object is still open, and can be fixed.
    expect(obj.state).toBe("opened");
    expect(openFdCount()).toBe(fds);

    obj.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER);
    obj.load();
    const prog = obj.program("custom_bump");
    expect(progInfo(prog.fd).type).toBe(BpfProgType.SOCKET_FILTER);
    const id = progInfo(prog.fd).id;
    expect(bpftool("prog", "show", "id", String(id))).toMatch(new RegExp(`^${id}: socket_filter  name custom_bump  tag `));
    expect(prog.testRun().retval).toBe(1);
    expect(prog.testRun().retval).toBe(2);
  });

  it("with autoload off, an untyped program is no obstacle", () => {
    const obj = open();
    obj.editMap("sized_later").setMaxEntries(4);
    obj.setAutoload("custom_bump", false);
    obj.load();
    expect(obj.programs.map((p) => p.name)).toEqual(["fill"]);
  });
});

describe("a map with max_entries 0 in the object", () => {
  it("does not load unsized: a clear error, nothing left", async () => {
    const before = kernelObjects();
    const fds = openFdCount();
    const obj = open();
    obj.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER);
    const err = thrownBy(() => obj.load());
    expect(err).toBeInstanceOf(TsbpfError);
    expect((err as Error).message).toMatch(/map sized_later has max_entries 0: .*setMaxEntries/);
    expect(openFdCount()).toBe(fds);
    expect(await remainingKernelObjects(before)).toEqual(NO_NEW_OBJECTS);
  });

  it.each([4, 32])("sized to %i at runtime holds that many entries (bpftool agrees)", (n) => {
    const obj = openTyped(n);
    obj.load();
    const map = obj.map("sized_later");
    expect(mapInfo(map.fd).maxEntries).toBe(n);
    const id = mapInfo(map.fd).id;
    expect(bpftool("map", "show", "id", String(id))).toMatch(new RegExp(`key 4B  value 8B  max_entries ${n}  `));
    // fill inserts keys 0..15 and returns how many fitted.
    expect(obj.program("fill").testRun().retval).toBe(Math.min(n, 16));
    expect([...map.keys()].length).toBe(Math.min(n, 16));
  });
});

describe("setValueSize", () => {
  it("creates the map with the value size set; the program writes its first bytes (bpftool agrees)", () => {
    const obj = openTyped();
    obj.editMap("wide").setValueSize(64);
    expect(obj.spec.map("wide").btfValueTypeId).toBe(0); // a u64 no longer describes it
    obj.load();
    const wide = obj.map("wide");
    const info = mapInfo(wide.fd);
    expect(info.valueSize).toBe(64);
    expect(bpftool("map", "show", "id", String(info.id))).toMatch(/key 4B {2}value 64B {2}max_entries 1 {2}/);
    obj.program("fill").testRun();
    const value = wide.lookup(new Uint8Array(4))!;
    expect(value.byteLength).toBe(64);
    expect(new DataView(value.buffer, value.byteOffset).getBigUint64(0, true)).toBe(0x5157n);
  });
});

describe("reuseFd", () => {
  it("shares a map between two objects; each keeps its own fd", async () => {
    const before = kernelObjects();
    const fds = openFdCount();
    {
      const a = openTyped();
      a.load();
      const b = openTyped();
      b.editMap("counter").reuseFd(a.map("counter").fd);
      b.load();
      expect(mapInfo(b.map("counter").fd).id).toBe(mapInfo(a.map("counter").fd).id);
      expect(b.map("counter").fd).not.toBe(a.map("counter").fd);
      expect(mapInfo(b.map("wide").fd).id).not.toBe(mapInfo(a.map("wide").fd).id);
      expect(a.program("custom_bump").testRun().retval).toBe(1);
      expect(b.program("custom_bump").testRun().retval).toBe(2);
      a.destroy();
      // b's fd is its own: the map outlives a.
      expect(b.program("custom_bump").testRun().retval).toBe(3);
      b.destroy();
    }
    expect(openFdCount()).toBe(fds);
    expect(await remainingKernelObjects(before)).toEqual(NO_NEW_OBJECTS);
  });

  it("refuses a map that cannot stand in, naming the differences; nothing left", async () => {
    const a = openTyped();
    a.load();
    const before = kernelObjects();
    const fds = openFdCount();
    const b = openTyped();
    b.editMap("counter").reuseFd(a.map("sized_later").fd);
    expect(() => b.load()).toThrow(/^the map of fd \d+ \(sized_later\) cannot stand in for map counter: type 1 ≠ 2, max_entries 4 ≠ 1$/);
    expect(openFdCount()).toBe(fds);
    expect(await remainingKernelObjects(before)).toEqual(NO_NEW_OBJECTS);
  });
});

describe("after load", () => {
  it("every edit is a StateError; a copy of the spec is editable and loads", () => {
    const obj = openTyped();
    obj.load();
    expect(() => obj.editMap("sized_later")).toThrow(StateError);
    expect(() => obj.editProgram("fill")).toThrow(StateError);
    expect(() => obj.setAutoload("fill", false)).toThrow(StateError);
    expect(() => obj.spec.editMap("sized_later")).toThrow(/object edit is loaded: its spec can no longer change/);
    expect(() => obj.spec.editProgram("fill")).toThrow(StateError);
    // An editor taken before load is refused too.
    const early = openTyped();
    const editor = early.editMap("sized_later");
    early.load();
    expect(() => editor.setMaxEntries(8)).toThrow(StateError);

    const copy = obj.spec.copy();
    copy.editMap("sized_later").setMaxEntries(8);
    const again = BpfObject.fromSpec(copy);
    opened.push(again);
    again.load();
    expect(mapInfo(again.map("sized_later").fd).maxEntries).toBe(8);
    expect(obj.spec.map("sized_later").maxEntries).toBe(4);
  });

  it("a global's initial value cannot change on a loaded spec", () => {
    using obj = BpfObject.open("bpf/minimal.bpf.o");
    obj.load();
    expect(() => obj.spec.setVariable("my_pid", 1)).toThrow(StateError);
  });
});

describe("setLogLevel", () => {
  it("keeps the verifier's log of a successful load", () => {
    const obj = openTyped();
    obj.editProgram("fill").setLogLevel(1 | 4);
    obj.load();
    expect(obj.program("fill").verifierLog).toMatch(/^processed \d+ insns \(limit 1000000\)/m);
    expect(obj.program("custom_bump").verifierLog).toBeUndefined();
  });
});

describe("setInnerMap", () => {
  it("is refused on a map that holds no maps", () => {
    const obj = open();
    expect(() => obj.editMap("counter").setInnerMap(obj.spec.map("wide"))).toThrow(/map counter is not a map of maps/);
    expect(obj.spec.map("counter").type).toBe(BpfMapType.ARRAY);
  });
});
