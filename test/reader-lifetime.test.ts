/**
 * A ring buffer's mapping holds its map in the kernel. destroy() closes the
 * readers made from the object's maps (ring buffers, perf buffers), so an
 * unclosed RingBuffer no longer keeps its map alive after destroy(), even
 * while a poller runs on it; and a ring dropped without close() is unmapped
 * once garbage collected. Checked by kernel map id (ids this process made).
 */
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { BpfMapType } from "../src/abi/uapi-enums.js";
import { BpfMap } from "../src/maps/bpf-map.js";
import { PerfBuffer } from "../src/maps/perf-buffer.js";
import { RingBufferPoller } from "../src/maps/ring-poller.js";
import { RingBuffer } from "../src/maps/ringbuf.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { closeFd } from "../src/syscall/bpf.js";
import { fdById, mapInfo } from "../src/syscall/obj-info.js";
import { openFdCount, settle } from "./helpers/kernel.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Whether map `id` still exists in the kernel. */
function mapExists(id: number): boolean {
  try {
    closeFd(fdById("map", id));
    return true;
  } catch {
    return false;
  }
}

/** Polls until map `id` is freed (the kernel frees maps after an RCU grace period), up to `tries` × 50 ms. */
async function mapFreed(id: number, tries = 100): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (!mapExists(id)) return true;
    await settle(50);
  }
  return false;
}

/** Lines of /proc/self/maps that map a BPF map (a ring buffer's pages). */
function bpfMappings(): number {
  return readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((l) => l.endsWith("anon_inode:bpf-map")).length;
}

describe("readers do not outlive their maps", () => {
  it("destroy() closes an unclosed RingBuffer, and the map is freed", async () => {
    const obj = BpfObject.open("bpf/ringbuf_test.bpf.o");
    obj.load();
    const ring = new RingBuffer(obj.map("rb"));
    const id = mapInfo(obj.map("rb").fd).id;
    obj.destroy();
    expect(ring.isClosed).toBe(true);
    expect(() => ring.available).toThrow(/ring buffer rb is closed/);
    expect(await mapFreed(id)).toBe(true);
  });

  it("destroy() while a poller runs on the ring: the poller drops it, the map is freed", async () => {
    const obj = BpfObject.open("bpf/ringbuf_test.bpf.o");
    obj.load();
    const ring = new RingBuffer(obj.map("rb"));
    const id = mapInfo(obj.map("rb").fd).id;
    const poller = new RingBufferPoller().add(ring, () => {});
    const running = poller.start();
    await settle(20);
    expect(poller.running).toBe(true);
    obj.destroy();
    expect(ring.isClosed).toBe(true);
    poller.stop();
    await running;
    poller.close();
    expect(await mapFreed(id)).toBe(true);
  });

  it("closing a map closes its perf buffer (perf event fds and mappings)", () => {
    const fds = openFdCount();
    const map = BpfMap.create({
      name: "lifetime_perf",
      type: BpfMapType.PERF_EVENT_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 0,
      flags: 0,
      freeze: false,
      btfKeyTypeId: 0,
      btfValueTypeId: 0,
    });
    const perf = new PerfBuffer(map, { pages: 1 });
    expect(perf.rings.length).toBeGreaterThan(0);
    map.close();
    expect(perf.rings.every((r) => r.isClosed)).toBe(true);
    expect(openFdCount()).toBe(fds);
  });

  it("a RingBuffer dropped without close() is unmapped once collected, releasing the map", async () => {
    const map = BpfMap.create({
      name: "lifetime_rb",
      type: BpfMapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 4096,
      flags: 0,
      freeze: false,
      btfKeyTypeId: 0,
      btfValueTypeId: 0,
    });
    const id = mapInfo(map.fd).id;
    const before = bpfMappings();
    (() => {
      const ring = new RingBuffer(map);
      expect(ring.available).toBe(0);
    })();
    expect(bpfMappings()).toBe(before + 2); // consumer page, producer pages
    // Finalizers run in tasks after the collection that found their targets.
    for (let i = 0; i < 20 && bpfMappings() > before; i++) {
      gc();
      await settle(10);
    }
    expect(bpfMappings()).toBe(before);
    // Nothing but our fd holds the map now: closing it frees it.
    closeFd(map.fd);
    expect(await mapFreed(id)).toBe(true);
  });
});
