/**
 * BTF-defined maps of every common type, created in the real kernel and
 * read back with BPF_OBJ_GET_INFO_BY_FD; map-in-map and prog-array
 * `.values` initialisers checked by running programs that use them.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { parseObject } from "../src/spec/object-spec.js";
import { mapInfo } from "../src/syscall/obj-info.js";
import { BpfMapType } from "../src/abi/uapi-enums.js";
import { possibleCpuCount } from "../src/syscall/cpus.js";

const MAPS = "bpf/maps.bpf.o";
const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};

describe("BTF-defined map specs (pure)", () => {
  const spec = parseObject(readFileSync(MAPS), { path: MAPS });
  const m = (name: string) => spec.maps.find((x) => x.name === name)!;

  it("reads type, sizes from key/value types, flags, max_entries and map_extra", () => {
    expect(m("hash")).toMatchObject({ type: BpfMapType.HASH, keySize: 4, valueSize: 16, maxEntries: 128 });
    expect(m("lpm")).toMatchObject({ type: BpfMapType.LPM_TRIE, keySize: 8, valueSize: 4, flags: 1 });
    expect(m("queue")).toMatchObject({ type: BpfMapType.QUEUE, keySize: 0, valueSize: 4, maxEntries: 8 });
    expect(m("bloom")).toMatchObject({ type: BpfMapType.BLOOM_FILTER, mapExtra: 3n });
    // max_entries 0 stays 0 in the spec: the possible CPUs are the loading host's (see the load test).
    expect(m("perf")).toMatchObject({ type: BpfMapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 });
    expect(m("ring")).toMatchObject({ type: BpfMapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 });
    expect(m("hash").btfKeyTypeId).toBeGreaterThan(0);
    expect(m("hash").btfValueTypeId).toBeGreaterThan(0);
  });

  it("reads inner map definitions and .values initialisers", () => {
    expect(m("outer_array").innerMap).toMatchObject({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    expect([...m("outer_array").initSlots!]).toEqual([
      [0, "inner_a"],
      [1, "inner_b"],
    ]);
    expect([...m("outer_hash").initSlots!]).toEqual([[3, "inner_b"]]);
    expect([...m("jump").initSlots!]).toEqual([[1, "tail_target"]]);
  });
});

describe("BTF-defined maps in the kernel", () => {
  it("creates every map as specified", () => {
    using obj = BpfObject.open(MAPS);
    obj.load();
    for (const map of obj.maps) {
      const info = mapInfo(map.fd);
      expect(info, map.name).toMatchObject({
        type: map.spec.type,
        keySize: map.spec.keySize,
        valueSize: map.spec.valueSize,
        maxEntries: map.spec.maxEntries,
        name: map.spec.name,
      });
      if (map.spec.type === BpfMapType.HASH) {
        expect(info.btfId).toBeGreaterThan(0);
        expect(info.btfValueTypeId).toBe(map.spec.btfValueTypeId);
      }
    }
  });

  it("fills prog arrays from .values: the tail call reaches tail_target", () => {
    using obj = BpfObject.open(MAPS);
    obj.load();
    expect(obj.program("tail_caller").testRun().retval).toBe(42);
    obj.map("jump").delete(u32(1));
    expect(obj.program("tail_caller").testRun().retval).toBe(7);
  });

  it("fills map-in-map slots from .values: outer_array[1] is inner_b", () => {
    using obj = BpfObject.open(MAPS);
    obj.load();
    obj.map("inner_b").update(u32(0), u32(1234));
    expect(obj.program("read_inner").testRun().retval).toBe(1234);
    expect(obj.map("outer_hash").lookup(u32(3))).toBeDefined();
    expect(obj.map("outer_hash").lookup(u32(0))).toBeUndefined();
  });

  it("per-CPU maps hold one value per possible CPU", () => {
    using obj = BpfObject.open(MAPS);
    obj.load();
    const v = obj.map("percpu_array").lookup(u32(0))!;
    expect(v.byteLength).toBe(8 * possibleCpuCount());
  });
});

describe("batch operations", () => {
  it("updates, reads back and deletes many hash elements per call", () => {
    using obj = BpfObject.open(MAPS);
    obj.load();
    const hash = obj.map("hash");
    const n = 100;
    const keys = new Uint8Array(n * 4);
    const values = new Uint8Array(n * 16);
    for (let i = 0; i < n; i++) {
      new DataView(keys.buffer).setUint32(i * 4, i, true);
      new DataView(values.buffer).setUint32(i * 16, i * 3, true);
    }
    hash.updateBatch(keys, values);
    const got = hash.lookupBatch(16);
    expect(got.length).toBe(n);
    const byKey = new Map(got.map(([k, v]) => [new DataView(k.buffer).getUint32(0, true), new DataView(v.buffer).getUint32(0, true)]));
    for (let i = 0; i < n; i++) expect(byKey.get(i)).toBe(i * 3);
    expect(hash.deleteBatch(keys.subarray(0, 40))).toBe(10);
    expect([...hash.keys()].length).toBe(n - 10);
  });
});

describe("typed maps (BTF-aware keys and values)", () => {
  it("encodes and decodes struct values and u32 keys; refuses misspelt members", () => {
    using obj = BpfObject.open(MAPS);
    obj.load();
    const hash = obj.typedMap<number, { x: number; y: number; z: bigint }>("hash");
    hash.update(7, { x: 1, y: -2, z: 3n });
    expect(hash.lookup(7)).toEqual({ x: 1, y: -2, z: 3n });
    expect(hash.lookup(8)).toBeUndefined();
    expect([...hash.keys()]).toEqual([7]);
    expect(() => hash.update(9, { x: 1, why: 2 } as never)).toThrow(/has no member why/);
    // The program writes through the same map; we read its struct back.
    obj.program("touch_all").testRun();
    expect(hash.lookup(0)).toEqual({ x: 1, y: -2, z: 3n });
    const percpu = obj.typedMap<number, number[]>("percpu_array");
    percpu.update(
      1,
      Array.from({ length: possibleCpuCount() }, (_, i) => i + 10),
    );
    expect(percpu.lookup(1)).toEqual(Array.from({ length: possibleCpuCount() }, (_, i) => i + 10));
  });
});

describe("perf buffers (PERF_EVENT_ARRAY)", () => {
  it.each(["loop", "threadpool"] as const)("receives bpf_perf_event_output records through a %s poller, per CPU", async (wait) => {
    const { PerfBuffer } = await import("../src/maps/perf-buffer.js");
    const { RingBufferPoller } = await import("../src/maps/ring-poller.js");
    using obj = BpfObject.open(MAPS);
    for (const p of obj.spec.programs) obj.setAutoload(p.name, p.name === "touch_all");
    obj.load();
    expect(obj.map("perf").spec.maxEntries).toBe(possibleCpuCount());
    using perf = new PerfBuffer(obj.map("perf"));
    // In "loop" mode libuv's epoll consumes each perf wake-up before the poller's epoll_wait
    // sees it (see perf-buffer.ts): the rings' pending() must stand in.
    const poller = new RingBufferPoller({ wait });
    const got: number[] = [];
    for (const ring of perf.rings) poller.add(ring, (v) => void got.push(new DataView(v.buffer, v.byteOffset).getUint32(0, true)));
    for (let i = 0; i < 7; i++) obj.program("touch_all").testRun();
    for (let i = 0; i < 10 && got.length < 7; i++) await poller.poll(1000);
    expect(got).toEqual([1, 1, 1, 1, 1, 1, 1]);
    // A record produced while the poller waits wakes it.
    const waiting = poller.poll(5000);
    setTimeout(() => obj.program("touch_all").testRun(), 20);
    expect(await waiting).toBe(1);
    // Records left behind by a drain's budget are drained by the next wait, though epoll reports them no more.
    const small = new RingBufferPoller({ wait, budget: 1 });
    const more: number[] = [];
    for (const ring of perf.rings) small.add(ring, () => void more.push(1));
    for (let i = 0; i < 3; i++) obj.program("touch_all").testRun();
    for (let i = 0; i < 10 && more.length < 3; i++) await small.poll(1000);
    small.close();
    poller.close();
    expect(more).toEqual([1, 1, 1]);
    expect(perf.lost).toBe(0n);
  });
});
