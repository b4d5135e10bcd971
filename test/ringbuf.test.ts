/**
 * The ring buffer reader and poller against the real kernel, with
 * bpf/ringbuf_test.bpf.o as the producer: its XDP programs run under
 * BPF_PROG_TEST_RUN with `repeat = N` write exactly N records (or count
 * the ones that did not fit in `dropped`), numbered by the `.bss` `seq`.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Btf } from "../src/btf/btf.js";
import { ElfFile } from "../src/elf/elf-file.js";
import { StateError } from "../src/errors.js";
import { BpfMap } from "../src/maps/bpf-map.js";
import { RingBufferPoller, type WaitMode } from "../src/maps/ring-poller.js";
import { RingBuffer } from "../src/maps/ringbuf.js";
import { makeDecoder } from "../src/btf/value-decoder.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { bpfRequest } from "../src/syscall/bpf.js";
import koffi from "koffi";
import { BpfCmd, BpfMapType } from "../src/abi/uapi-enums.js";
import { kernelObjects, openFdCount, remainingKernelObjects, settle } from "./helpers/kernel.js";

const OBJ = "bpf/ringbuf_test.bpf.o";
const REC_SIZE = 16; // struct rec
const MODES: WaitMode[] = ["loop", "threadpool"];

const btf = (() => {
  const elf = new ElfFile(new Uint8Array(readFileSync(OBJ)));
  return Btf.parse(elf.section(".BTF")!.data, { where: OBJ });
})();

function openObject(): BpfObject {
  const obj = BpfObject.open(OBJ);
  obj.load();
  return obj;
}

/** Runs program `prog` `n` times (BPF_PROG_TEST_RUN repeat): n records attempted. */
function produce(obj: BpfObject, n: number, prog = "produce"): void {
  obj.program(prog).testRun(new Uint8Array(64), { repeat: n });
}

const u64At = (b: Uint8Array, off = 0): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
const u32At = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
const counter = (obj: BpfObject, name: string): number => Number(u64At(obj.variable(name)));

function setTarget(obj: BpfObject, ring: 0 | 1 | 2): void {
  obj.setVariable("target", ring);
}

/** BPF_PROG_TEST_RUN on the libuv thread pool: a producer running while the event loop consumes. */
function produceConcurrently(obj: BpfObject, n: number, prog = "produce"): Promise<void> {
  const sys = koffi.load("libc.so.6").func("long syscall(long nr, long cmd, void *attr, unsigned long size)");
  const data = new Uint8Array(64);
  const req = bpfRequest(BpfCmd.PROG_TEST_RUN, { prog_fd: obj.program(prog).fd, data_size_in: data.byteLength, data_in: data, repeat: n });
  const nr = process.arch === "x64" ? 321 : 280;
  return new Promise((resolve, reject) => {
    sys.async(nr, BpfCmd.PROG_TEST_RUN, req.attr, req.layout.size, (err: unknown, ret: number | bigint) => {
      void data; // keep the input alive until the call returns
      if (err) reject(err);
      else if (Number(ret) !== 0) reject(new Error(`PROG_TEST_RUN returned ${ret}`));
      else resolve();
    });
  });
}

function ringMappings(): number {
  return readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((l) => l.includes("bpf-map")).length;
}

describe.each(MODES)("ring buffer, real kernel, %s wait", (mode) => {
  it("receives a known sequence, all of it, in order", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    using poller = new RingBufferPoller({ wait: mode });
    const seqs: bigint[] = [];
    const bad: string[] = [];
    poller.add(ring, (d, r) => {
      if (r !== ring || d.byteLength !== REC_SIZE || u32At(d, 8) !== 0 || u32At(d, 12) !== REC_SIZE) bad.push(`record ${seqs.length}`);
      seqs.push(u64At(d));
    });
    for (let chunk = 0; chunk < 20; chunk++) {
      produce(obj, 1000); // 1000 × 24 bytes: fits the 64 KiB ring
      let got = 0;
      while (got < 1000) got += await poller.poll(1000);
      expect(got).toBe(1000);
    }
    expect(bad).toEqual([]);
    expect(seqs.length).toBe(20_000);
    expect(seqs.every((s, i) => s === BigInt(i))).toBe(true);
    expect(counter(obj, "dropped")).toBe(0);
    expect(ring.consumerPosition).toBe(ring.producerPosition);
    expect(ring.consumerPosition).toBe(20_000n * 24n);
  });

  it("an overfilled ring: received + dropped == produced, exactly", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    using poller = new RingBufferPoller({ wait: mode });
    const seqs: bigint[] = [];
    poller.add(ring, (d) => void seqs.push(u64At(d)));
    produce(obj, 5000); // nobody consumes meanwhile
    expect(await poller.poll(1000)).toBe(seqs.length);
    expect(await poller.poll(0)).toBe(0);
    const dropped = counter(obj, "dropped");
    expect(seqs.length + dropped).toBe(5000);
    // The kernel refuses a reserve that would fill the ring completely: 24-byte
    // records fit while 24·k ≤ 65535, so exactly 2730 get in.
    expect(seqs.length).toBe(2730);
    expect(seqs).toEqual(Array.from({ length: 2730 }, (_, i) => BigInt(i)));
    // Drained, the ring takes records again.
    produce(obj, 10);
    await poller.poll(1000);
    expect(seqs.slice(-10)).toEqual(Array.from({ length: 10 }, (_, i) => 5000n + BigInt(i)));
  });

  it("with a producer running concurrently: every record counted once, in order", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    using poller = new RingBufferPoller({ wait: mode });
    let received = 0;
    let last = -1n;
    let ordered = true;
    poller.add(ring, (d) => {
      const s = u64At(d);
      if (s <= last) ordered = false;
      last = s;
      received++;
    });
    const running = poller.start();
    const N = 300_000;
    await produceConcurrently(obj, N);
    // Let the consumer catch up with what is left, then stop.
    while (ring.available > 0) await new Promise((r) => setTimeout(r, 5));
    poller.stop();
    await running;
    const dropped = counter(obj, "dropped");
    expect(counter(obj, "seq")).toBe(N);
    expect(received + dropped).toBe(N);
    expect(ordered).toBe(true);
    console.log(`ringbuf (${mode}): concurrent producer, ${N} records: ${received} received, ${dropped} dropped`);
  });

  it("bpf_ringbuf_output records of 9..24 bytes arrive whole and 8-byte aligned", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    using poller = new RingBufferPoller({ wait: mode });
    const bad: string[] = [];
    let n = 0;
    poller.add(ring, (d) => {
      const s = u64At(d);
      if (d.byteLength !== 9 + Number(s & 15n)) bad.push(`record ${s} is ${d.byteLength} bytes`);
      if ((d.byteOffset - 8) % 8 !== 0) bad.push(`record ${s} header not 8-aligned`);
      for (let i = 8; i < d.byteLength; i++) if (d[i] !== Number((s + BigInt(i)) & 0xffn)) bad.push(`record ${s} byte ${i}`);
      if (s !== BigInt(n)) bad.push(`record ${n} has seq ${s}`);
      n++;
    });
    for (let chunk = 0; chunk < 10; chunk++) {
      produce(obj, 1000, "output_var"); // ≤ 32 bytes each: 1000 fit
      await poller.poll(1000);
    }
    expect(bad).toEqual([]);
    expect(n).toBe(10_000);
    expect(counter(obj, "dropped")).toBe(0);
  });

  it("skips discarded records", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    using poller = new RingBufferPoller({ wait: mode });
    const seqs: bigint[] = [];
    poller.add(ring, (d) => void seqs.push(u64At(d)));
    produce(obj, 2000, "discard_odd");
    await poller.poll(1000);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => BigInt(2 * i)));
    expect(counter(obj, "discarded")).toBe(1000);
    expect(ring.consumerPosition).toBe(2000n * 24n); // discarded records are consumed too
  });

  it("several rings in one poller, each to its own callback", async () => {
    using obj = openObject();
    using rb = new RingBuffer(obj.map("rb"));
    using rb2 = new RingBuffer(obj.map("rb2"));
    using poller = new RingBufferPoller({ wait: mode });
    const got: Record<string, bigint[]> = { rb: [], rb2: [] };
    poller.add(rb, (d) => void got.rb!.push(u64At(d)));
    poller.add(rb2, (d) => {
      expect(u32At(d, 8)).toBe(1);
      got.rb2!.push(u64At(d));
    });
    expect(poller.rings).toEqual([rb, rb2]);
    const expected: Record<string, bigint[]> = { rb: [], rb2: [] };
    let seq = 0n;
    for (let round = 0; round < 6; round++) {
      const which = round % 2 === 0 ? "rb2" : "rb";
      setTarget(obj, which === "rb2" ? 1 : 0);
      produce(obj, 300); // 300 × 24 bytes fits rb2's 16 KiB
      for (let i = 0; i < 300; i++) expected[which]!.push(seq++);
      if (round % 3 === 2) {
        // let records pile up in both rings, then take them in one wakeup
        let total = 0;
        while (total < 900) total += await poller.poll(1000);
      }
    }
    expect(got).toEqual(expected);
    // A ring can leave the poller.
    expect(poller.remove(rb2)).toBe(true);
    setTarget(obj, 1);
    produce(obj, 5);
    expect(await poller.poll(50)).toBe(0);
    expect(rb2.available).toBe(5 * 24);
  });

  it("stop() ends a pending wait that nothing else would end", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    using poller = new RingBufferPoller({ wait: mode });
    poller.add(ring, () => {});
    // start(): runs until stop(); only stop() can make it resolve.
    const running = poller.start();
    expect(poller.running).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    poller.stop();
    expect(await running).toBe(0);
    expect(poller.running).toBe(false);
    // poll(-1): waits forever unless stopped
    const pending = poller.poll(-1);
    await new Promise((r) => setTimeout(r, 50));
    poller.stop();
    expect(await pending).toBe(0);
    // a timeout returns 0, and the poller still works afterwards
    expect(await poller.poll(20)).toBe(0);
    produce(obj, 3);
    expect(await poller.poll(10_000)).toBe(3);
  });

  it("one consumer at a time", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    using poller = new RingBufferPoller({ wait: mode });
    poller.add(ring, () => {});
    const running = poller.start();
    await expect(poller.poll(0)).rejects.toThrow(StateError);
    expect(() => poller.add(ring)).toThrow(/already in this poller/);
    poller.stop();
    await running;
  });

  it("async iterator: copies of every record, from every ring, until stop()", async () => {
    using obj = openObject();
    using rb = new RingBuffer(obj.map("rb"));
    using rb2 = new RingBuffer(obj.map("rb2"));
    using poller = new RingBufferPoller({ wait: mode });
    poller.add(rb).add(rb2);
    const seen: Record<string, bigint[]> = { rb: [], rb2: [] };
    const kept: Uint8Array[] = [];
    // Produce in the background, a chunk per timer tick, alternating rings.
    const producer = (async () => {
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 2));
        setTarget(obj, (i % 2) as 0 | 1);
        produce(obj, 500);
      }
    })();
    for await (const { ring, data } of poller) {
      expect(data.buffer.byteLength).toBe(REC_SIZE); // a copy, not a view of the ring
      seen[ring.name]!.push(u64At(data));
      kept.push(data);
      if (seen.rb!.length + seen.rb2!.length === 5000) poller.stop();
    }
    await producer;
    const all = [...seen.rb!, ...seen.rb2!].sort((a, b) => (a < b ? -1 : 1));
    expect(all).toEqual(Array.from({ length: 5000 }, (_, i) => BigInt(i)));
    for (const s of Object.values(seen)) expect([...s].sort((a, b) => (a < b ? -1 : 1))).toEqual(s);
    // Copies stay valid after the ring moved on and was written over.
    const order = kept.map((d) => u64At(d));
    setTarget(obj, 0);
    produce(obj, 2000); // over the bytes the copies came from
    expect(rb.available).toBe(2000 * 24);
    expect(kept.map((d) => u64At(d))).toEqual(order);
    expect(new Set(order).size).toBe(5000);
  });

  it("iterators: return() during a wait frees the poller; batches() yields arrays", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    using poller = new RingBufferPoller({ wait: mode });
    poller.add(ring);
    const it = poller.records();
    const waiting = it.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(poller.running).toBe(true);
    await it.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(poller.running).toBe(false);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    // next() called again before the previous one settled: nothing lost, nothing twice.
    const it2 = poller.records((d) => u64At(d));
    const early = [it2.next(), it2.next(), it2.next()];
    await new Promise((r) => setTimeout(r, 10));
    produce(obj, 4);
    expect((await Promise.all([...early, it2.next()])).map((r) => r.value)).toEqual([0n, 1n, 2n, 3n]);
    await it2.return!();
    produce(obj, 2500);
    const sizes: number[] = [];
    for await (const batch of poller.batches((d) => u64At(d), { batch: 1000 })) {
      sizes.push(batch.length);
      if (batch[batch.length - 1] === 2503n) break;
    }
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(poller.running).toBe(false);
  });

  it("async iterator with the BTF decoder: plain objects", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    using poller = new RingBufferPoller({ wait: mode });
    poller.add(ring);
    produce(obj, 6, "emit_event");
    const events: Record<string, unknown>[] = [];
    for await (const e of poller.records(makeDecoder(btf, "struct event"))) {
      events.push(e);
      if (events.length === 6) break;
    }
    expect(poller.running).toBe(false);
    expect(events).toEqual(
      Array.from({ length: 6 }, (_, i) => ({
        pid: i,
        ppid: -7,
        exit_code: 0xfffffff0,
        duration_ns: 0x20000000000001n + BigInt(i),
        comm: "ringbuf_test",
        filename: "/usr/bin/true",
        exit_event: i % 2 === 1,
      })),
    );
  });
});

describe("ring buffer lifetime", () => {
  it("leaks no fd, mapping or kernel object, in either wait mode", async () => {
    // Warm up lazily created things (koffi, libc) first.
    {
      using obj = openObject();
      using ring = new RingBuffer(obj.map("rb"));
      using poller = new RingBufferPoller({ wait: "threadpool" });
      poller.add(ring, () => {});
      await poller.poll(0);
    }
    await settle();
    const fds = openFdCount();
    const maps = ringMappings();
    const before = kernelObjects();
    for (const mode of MODES) {
      const obj = openObject();
      const rb = new RingBuffer(obj.map("rb"));
      const rb2 = new RingBuffer(obj.map("rb2"));
      const poller = new RingBufferPoller({ wait: mode });
      poller.add(rb, () => {}).add(rb2, () => {});
      produce(obj, 10);
      expect(await poller.poll(1000)).toBe(10);
      const running = poller.start(); // close() while waiting
      await new Promise((r) => setTimeout(r, 10));
      expect(ringMappings()).toBeGreaterThan(maps);
      poller.close();
      expect(await running).toBe(0);
      rb.close();
      rb2.close();
      obj.destroy();
    }
    await settle(100);
    expect(openFdCount()).toBe(fds);
    expect(ringMappings()).toBe(maps);
    expect((await remainingKernelObjects(before)).map).toEqual([]);
  });

  it("a view kept past close() reads zeros instead of faulting", () => {
    using obj = openObject();
    const ring = new RingBuffer(obj.map("rb"));
    produce(obj, 1);
    let kept: Uint8Array | undefined;
    ring.consume((d) => {
      kept = d; // wrong: views are valid only during the callback
    });
    expect(u32At(kept!, 12)).toBe(REC_SIZE);
    ring.close();
    expect([...kept!]).toEqual(new Array(REC_SIZE).fill(0));
    expect(() => ring.consume(() => {})).toThrow(StateError);
    ring.close(); // twice is fine
  });

  it("close() from inside a callback stops after that record, without faulting", () => {
    using obj = openObject();
    const ring = new RingBuffer(obj.map("rb"));
    produce(obj, 5);
    const seen: bigint[] = [];
    expect(
      ring.consume((d) => {
        seen.push(u64At(d));
        expect(() => ring.consume(() => {})).toThrow(/own callback/);
        ring.close();
      }),
    ).toBe(1);
    expect(seen).toEqual([0n]);
    expect(ring.isClosed).toBe(true);
    expect(() => ring.consume(() => {})).toThrow(StateError);
    // The next RingBuffer on the map resumes after the record the closed one consumed.
    using again = new RingBuffer(obj.map("rb"));
    const rest: bigint[] = [];
    again.consume((d) => void rest.push(u64At(d)));
    expect(rest).toEqual([1n, 2n, 3n, 4n]);
  });

  it("refuses maps that are not ring buffers, and memory rings in a poller", () => {
    using obj = openObject();
    expect(() => new RingBuffer(obj.map(".bss"))).toThrow(/not a ring buffer/);
    using poller = new RingBufferPoller();
    const mem = new RingBuffer({ consumer: new Uint8Array(8), producer: new Uint8Array(4096 + 8192), dataOffset: 4096, size: 4096 });
    expect(() => poller.add(mem)).toThrow(/no fd/);
  });

  it("works on a ring map created by hand (no object)", async () => {
    const map = BpfMap.create({
      name: "rb",
      type: BpfMapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 4096 * 4,
      flags: 0,
      freeze: false,
      btfKeyTypeId: 0,
      btfValueTypeId: 0,
    });
    try {
      using ring = new RingBuffer(map);
      expect(ring.size).toBe(16384);
      expect(ring.available).toBe(0);
      expect(ring.consume(() => {})).toBe(0);
      using poller = new RingBufferPoller();
      poller.add(ring, () => {});
      expect(await poller.poll(10)).toBe(0);
    } finally {
      map.close();
    }
  });
});

describe("consumeRaw, real kernel", () => {
  /** Records of `produce`/`discard_odd` take 24 bytes: 8 of header, 16 of struct rec. */
  const REC_TOTAL = 24;

  it("hands over offsets into ring.data: in order, exact lengths, the bytes the program wrote", () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    expect(ring.data.byteLength).toBe(2 * ring.size);
    expect(ring.words.length).toBe((2 * ring.size) / 4);
    expect(ring.dataView.byteLength).toBe(2 * ring.size);
    const bad: string[] = [];
    let n = 0;
    const check = (data: Uint8Array, offset: number, length: number) => {
      if (data !== ring.data) bad.push(`record ${n}: not ring.data`);
      if (offset % 8 !== 0 || offset < 8 || offset + length > data.byteLength) bad.push(`record ${n}: offset ${offset}, length ${length}`);
      const s = ring.dataView.getBigUint64(offset, true);
      if (s !== BigInt(n)) bad.push(`record ${n} has seq ${s}`);
      if (ring.words[offset >>> 2] !== n) bad.push(`record ${n}: words disagree`);
      if (length !== 9 + (n & 15)) bad.push(`record ${n} is ${length} bytes`);
      for (let i = 8; i < length; i++) if (data[offset + i] !== ((n + i) & 0xff)) bad.push(`record ${n} byte ${i}`);
      n++;
    };
    // 10 × 1000 records of 9..24 bytes (bpf_ringbuf_output): goes round the 64 KiB ring 3 times.
    for (let chunk = 0; chunk < 10; chunk++) {
      produce(obj, 1000, "output_var");
      expect(ring.consumeRaw(check)).toBe(1000);
    }
    expect(bad).toEqual([]);
    expect(n).toBe(10_000);
    expect(counter(obj, "dropped")).toBe(0);
    expect(ring.consumerPosition).toBe(ring.producerPosition);
    expect(ring.consumerPosition).toBeGreaterThan(BigInt(ring.size) * 3n);
    // consumer_pos reached the kernel: a new reader of the map starts there.
    using again = new RingBuffer(obj.map("rb"));
    expect(again.consumerPosition).toBe(ring.producerPosition);
  });

  it("skips discarded records, and consumes them", () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    produce(obj, 2000, "discard_odd");
    const seqs: number[] = [];
    const lens: number[] = [];
    expect(
      ring.consumeRaw((_d, offset, length) => {
        seqs.push(ring.words[offset >>> 2]!);
        lens.push(length);
      }),
    ).toBe(1000);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => 2 * i));
    expect(new Set(lens)).toEqual(new Set([REC_SIZE]));
    expect(counter(obj, "discarded")).toBe(1000);
    expect(ring.consumerPosition).toBe(2000n * BigInt(REC_TOTAL));
  });

  it("stops after a record its callback returns false for, and at the limit; what it saw is consumed", () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    produce(obj, 10);
    const seq = (offset: number) => ring.words[offset >>> 2]!;
    const seen: number[] = [];
    expect(
      ring.consumeRaw((_d, o) => {
        seen.push(seq(o));
        return seq(o) !== 3;
      }),
    ).toBe(4);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(ring.consumerPosition).toBe(4n * BigInt(REC_TOTAL));
    expect(ring.consumeRaw((_d, o) => void seen.push(seq(o)), 3)).toBe(3);
    expect(ring.consumerPosition).toBe(7n * BigInt(REC_TOTAL));
    // A new reader of the map sees the position the kernel has.
    using again = new RingBuffer(obj.map("rb"));
    expect(again.consumerPosition).toBe(7n * BigInt(REC_TOTAL));
    expect(ring.consumeRaw((_d, o) => void seen.push(seq(o)), Infinity)).toBe(3);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ring.consumeRaw(() => {})).toBe(0);
  });

  it("a throwing callback consumes its record; close() from a callback stops; no re-entry", () => {
    using obj = openObject();
    const ring = new RingBuffer(obj.map("rb"));
    produce(obj, 5);
    expect(() =>
      ring.consumeRaw(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(ring.consumerPosition).toBe(BigInt(REC_TOTAL));
    const seen: number[] = [];
    expect(
      ring.consumeRaw((_d, o) => {
        seen.push(ring.words[o >>> 2]!);
        expect(() => ring.consumeRaw(() => {})).toThrow(/own callback/);
        expect(() => ring.consume(() => {})).toThrow(/own callback/);
        ring.close();
      }),
    ).toBe(1);
    expect(seen).toEqual([1]);
    expect(() => ring.consumeRaw(() => {})).toThrow(StateError);
    using again = new RingBuffer(obj.map("rb"));
    const rest: number[] = [];
    again.consumeRaw((_d, o) => void rest.push(again.words[o >>> 2]!));
    expect(rest).toEqual([2, 3, 4]);
  });

  it("stores consumer_pos in small batches during a long drain, never past the record being read", () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("big"));
    setTarget(obj, 2);
    const N = 100_000; // 2.4 MB
    produce(obj, N);
    const start = ring.consumerPosition;
    let i = 0;
    let maxLag = 0;
    let ahead = 0;
    const positions = new Set<bigint>();
    expect(
      ring.consumeRaw(() => {
        const here = start + BigInt(i++ * REC_TOTAL); // this record's header
        const stored = ring.consumerPosition;
        if (stored > here) ahead++;
        maxLag = Math.max(maxLag, Number(here - stored));
        positions.add(stored);
      }),
    ).toBe(N);
    expect(ahead).toBe(0); // a record is never handed back to the producer while its callback runs
    expect(maxLag).toBeLessThan(64 * 1024); // the producer gets space back as the drain goes
    expect(positions.size).toBeGreaterThan(100);
    expect(ring.consumerPosition).toBe(start + BigInt(N * REC_TOTAL));
    expect(ring.consumerPosition).toBe(ring.producerPosition);
  });

  it("with a producer running concurrently on a small ring: every record once, in order", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    const ROUND = 200_000; // the 64 KiB ring can wrap ~70 times; busy records are met on the way
    let received = 0;
    let last = -1;
    let ordered = true;
    const cb = (_d: Uint8Array, offset: number) => {
      const s = ring.words[offset >>> 2]!;
      if (s <= last) ordered = false;
      last = s;
      received++;
    };
    // On a loaded machine the producer may fill the ring before this thread
    // runs at all: produce again until the consumer has gone round the ring.
    let N = 0;
    for (let round = 0; round < 20 && ring.consumerPosition <= BigInt(ring.size); round++) {
      let done = false;
      const producing = produceConcurrently(obj, ROUND).finally(() => (done = true));
      while (!done) {
        ring.consumeRaw(cb);
        await new Promise((r) => setImmediate(r));
      }
      await producing;
      ring.consumeRaw(cb);
      N += ROUND;
    }
    const dropped = counter(obj, "dropped");
    expect(counter(obj, "seq")).toBe(N);
    expect(received + dropped).toBe(N);
    expect(ordered).toBe(true);
    expect(ring.available).toBe(0);
    expect(ring.consumerPosition).toBe(ring.producerPosition);
    expect(ring.consumerPosition).toBeGreaterThan(BigInt(ring.size)); // it went round the ring
    console.log(`ringbuf consumeRaw: concurrent producer, ${N} records: ${received} received, ${dropped} dropped`);
  });

  it("a poller wakes for a record produced after consumeRaw emptied the ring", async () => {
    using obj = openObject();
    using ring = new RingBuffer(obj.map("rb"));
    produce(obj, 2000); // more than one batch
    expect(ring.consumeRaw(() => {})).toBe(2000);
    using poller = new RingBufferPoller();
    poller.add(ring, () => {});
    // A lost wake-up would end the wait by its timeout, with 0 records.
    const waiting = poller.poll(30_000);
    setImmediate(() => produce(obj, 1));
    expect(await waiting).toBe(1);
  });
});

describe("wait modes", () => {
  /**
   * Whether an fs.promises read (which needs a libuv pool thread) completes
   * while `n` pollers wait: it is started while they wait, then given
   * `graceMs`; only after that are the pollers stopped. Returns whether it
   * had completed before the stop. No time is asserted: a slow machine
   * only makes a read that can complete take longer to, and one that
   * cannot (every pool thread held) still cannot.
   */
  async function readCompletesWhileWaiting(mode: WaitMode, n: number, graceMs: number): Promise<boolean> {
    const obj = openObject();
    const rings: RingBuffer[] = [];
    const pollers: RingBufferPoller[] = [];
    const waits: Promise<number>[] = [];
    let read: Promise<unknown> | undefined;
    try {
      for (let i = 0; i < n; i++) {
        const ring = new RingBuffer(obj.map("rb2"));
        const poller = new RingBufferPoller({ wait: mode }).add(ring, () => {});
        rings.push(ring);
        pollers.push(poller);
        waits.push(poller.poll(-1));
      }
      await new Promise((r) => setTimeout(r, 20));
      let done = false;
      read = readFile("/proc/self/stat").then(() => (done = true));
      // Loop mode: the read completes, however long that takes; threadpool mode: it cannot.
      if (mode === "loop") await read;
      else await new Promise((r) => setTimeout(r, graceMs));
      return done;
    } finally {
      for (const p of pollers) p.stop();
      await Promise.all(waits);
      await read;
      for (const p of pollers) p.close();
      for (const r of rings) r.close();
      obj.destroy();
    }
  }

  it("loop mode holds no libuv pool thread while waiting; threadpool mode holds one per poller", async () => {
    const pool = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    expect(await readCompletesWhileWaiting("loop", pool, 0)).toBe(true);
    expect(await readCompletesWhileWaiting("threadpool", pool, 300)).toBe(false);
  });

  it("a ring closed while in a poller is dropped, not spun on", async () => {
    using obj = openObject();
    const ring = new RingBuffer(obj.map("rb"));
    using other = new RingBuffer(obj.map("rb2"));
    using poller = new RingBufferPoller();
    poller.add(ring, () => {}).add(other, () => {});
    produce(obj, 5); // unconsumed data keeps rb's fd readable
    ring.close();
    expect(await poller.poll(50)).toBe(0);
    expect(poller.rings).toEqual([other]);
  });
});

describe("ring buffer throughput (printed, not asserted)", () => {
  let obj: BpfObject;
  let ring: RingBuffer;
  beforeAll(() => {
    obj = openObject();
    ring = new RingBuffer(obj.map("big"));
    setTarget(obj, 2);
  });
  afterAll(() => {
    ring.close();
    obj.destroy();
  });

  /** Fills the 16 MiB ring with `n` records, then times only the drain. */
  function drainRate(n: number, cb: (d: Uint8Array) => void): number {
    produce(obj, n);
    const t0 = process.hrtime.bigint();
    const got = ring.consume(cb);
    const ns = Number(process.hrtime.bigint() - t0);
    expect(got).toBe(n);
    return (n / ns) * 1e9;
  }

  it("drain: consumeRaw, raw views and decoded objects", () => {
    const N = 500_000; // 12 MB of 24-byte records
    let sink = 0;
    const raw = (d: Uint8Array) => {
      sink += d[0]!;
    };
    drainRate(N, raw); // warm-up
    const rawRate = Math.max(drainRate(N, raw), drainRate(N, raw), drainRate(N, raw));
    const decode = makeDecoder<{ seq: bigint; ring: number; len: number }>(btf, "struct rec");
    const decoded = (d: Uint8Array) => {
      sink += decode(d).len;
    };
    drainRate(N, decoded);
    const decRate = Math.max(drainRate(N, decoded), drainRate(N, decoded), drainRate(N, decoded));
    // consumeRaw: no view per record, the sequence number read in place.
    const words = ring.words;
    const rawOffsets = (n: number): number => {
      produce(obj, n);
      const t0 = process.hrtime.bigint();
      const got = ring.consumeRaw((_d, offset) => {
        sink += words[offset >>> 2]! & 1;
      });
      const ns = Number(process.hrtime.bigint() - t0);
      expect(got).toBe(n);
      return (n / ns) * 1e9;
    };
    rawOffsets(N);
    const offRate = Math.max(rawOffsets(N), rawOffsets(N), rawOffsets(N));
    console.log(
      `ringbuf (kernel): drain ${(offRate / 1e6).toFixed(1)} M records/s with consumeRaw (${(1e9 / offRate).toFixed(1)} ns each), ` +
        `${(rawRate / 1e6).toFixed(1)} M records/s raw views (${(1e9 / rawRate).toFixed(0)} ns each), ` +
        `${(decRate / 1e6).toFixed(1)} M records/s decoded to {seq, ring, len} (${(1e9 / decRate).toFixed(0)} ns each)`,
    );
    expect(counter(obj, "dropped")).toBe(0);
    expect(sink).toBeGreaterThan(0);
  });

  it("async iterator: copies and decoded objects", async () => {
    const N = 500_000;
    const decode = makeDecoder<{ seq: bigint; ring: number; len: number }>(btf, "struct rec");
    const rates: string[] = [];
    for (const [what, transform] of [
      ["copies", undefined],
      ["decoded", (d: Uint8Array) => decode(d)],
    ] as const) {
      using poller = new RingBufferPoller();
      poller.add(ring);
      produce(obj, N);
      let n = 0;
      const t0 = process.hrtime.bigint();
      for await (const _ of transform ? poller.records(transform) : poller) {
        if (++n === N) break;
      }
      const ns = Number(process.hrtime.bigint() - t0);
      rates.push(`${((N / ns) * 1e3).toFixed(1)} M/s ${what}`);
    }
    {
      using poller = new RingBufferPoller();
      poller.add(ring);
      produce(obj, N);
      let n = 0;
      const t0 = process.hrtime.bigint();
      for await (const batch of poller.batches((d) => decode(d))) {
        n += batch.length;
        if (n === N) break;
      }
      rates.push(`${((N / Number(process.hrtime.bigint() - t0)) * 1e3).toFixed(1)} M/s decoded, batches()`);
    }
    console.log(`ringbuf (kernel): for await over the poller: ${rates.join(", ")}`);
  });

  it("wake-up latency: record produced while the poller waits", async () => {
    for (const mode of MODES) {
      using poller = new RingBufferPoller({ wait: mode });
      poller.add(ring, () => {});
      const lat: number[] = [];
      for (let i = 0; i < 300; i++) {
        let t0 = 0;
        // A generous timeout: a stalled machine must not fail what is printed, not asserted.
        const p = poller.poll(30_000);
        setImmediate(() => {
          t0 = performance.now();
          produce(obj, 1);
        });
        expect(await p).toBe(1);
        lat.push((performance.now() - t0) * 1000);
      }
      lat.sort((a, b) => a - b);
      console.log(`ringbuf (${mode}): wake-up latency median ${lat[150]!.toFixed(0)} µs, p90 ${lat[270]!.toFixed(0)} µs`);
    }
  });

  it("streaming: concurrent producer into the 16 MiB ring", async () => {
    for (const mode of MODES) {
      using poller = new RingBufferPoller({ wait: mode });
      let n = 0;
      poller.add(ring, () => {
        n++;
      });
      const running = poller.start();
      const N = 1_000_000;
      const before = counter(obj, "dropped");
      const t0 = performance.now();
      await produceConcurrently(obj, N);
      while (ring.available > 0) await new Promise((r) => setImmediate(r));
      const ms = performance.now() - t0;
      poller.stop();
      await running;
      const dropped = counter(obj, "dropped") - before;
      expect(n + dropped).toBe(N);
      console.log(
        `ringbuf (${mode}): streaming ${(((n / ms) * 1e3) / 1e6).toFixed(2)} M records/s received (${n} received, ${dropped} dropped)`,
      );
    }
  });
});
