/**
 * The ring buffer reader's parsing, on plain memory laid out as the kernel
 * lays a ring out (no kernel needed): a fake producer writes records the
 * way kernel/bpf/ringbuf.c does, including into the second mapping of the
 * data area, so wrapped records are contiguous.
 */
import { describe, expect, it } from "vitest";
import { TsbpfError } from "../src/errors.js";
import { BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, RingBuffer } from "../src/maps/ringbuf.js";

const DATA_OFFSET = 4096;

/** A producer writing into memory shaped like a mapped ring. */
class FakeRing {
  readonly consumer = new Uint8Array(4096);
  readonly producer: Uint8Array;
  private readonly pv: DataView;
  private readonly cv: DataView;
  prod: bigint;

  constructor(
    readonly size: number,
    start = 0n,
  ) {
    this.producer = new Uint8Array(DATA_OFFSET + 2 * size);
    this.pv = new DataView(this.producer.buffer);
    this.cv = new DataView(this.consumer.buffer);
    this.prod = start;
    this.pv.setBigUint64(0, start, true);
    this.cv.setBigUint64(0, start, true);
  }

  get consumerPos(): bigint {
    return this.cv.getBigUint64(0, true);
  }

  ring(): RingBuffer {
    return new RingBuffer({ consumer: this.consumer, producer: this.producer, dataOffset: DATA_OFFSET, size: this.size }, "fake");
  }

  /** Writes bytes at a ring position, into both mappings of the data area. */
  private put(pos: bigint, bytes: Uint8Array): void {
    const start = Number(pos % BigInt(this.size));
    for (let i = 0; i < bytes.length; i++) {
      const off = (start + i) % this.size;
      this.producer[DATA_OFFSET + off] = bytes[i]!;
      this.producer[DATA_OFFSET + this.size + off] = bytes[i]!;
    }
  }

  private header(pos: bigint, len: number): void {
    const h = new Uint8Array(8);
    new DataView(h.buffer).setUint32(0, len >>> 0, true);
    this.put(pos, h);
  }

  /** Reserves a record (BUSY) and publishes producer_pos, like bpf_ringbuf_reserve. Returns its position. */
  reserve(len: number): bigint {
    const pos = this.prod;
    const total = BigInt((len + 8 + 7) & ~7);
    if (this.prod + total - this.consumerPos > BigInt(this.size - 1)) throw new Error("fake ring full");
    this.header(pos, len | BPF_RINGBUF_BUSY_BIT);
    this.prod += total;
    this.pv.setBigUint64(0, this.prod, true);
    return pos;
  }

  submit(pos: bigint, data: Uint8Array): void {
    this.put(pos + 8n, data);
    this.header(pos, data.length);
  }

  discard(pos: bigint, len: number): void {
    this.header(pos, len | BPF_RINGBUF_DISCARD_BIT);
  }

  /** reserve + submit. */
  write(data: Uint8Array): bigint {
    const pos = this.reserve(data.length);
    this.submit(pos, data);
    return pos;
  }

  /** Corrupts the header at `pos` (tests of the bounds checks). */
  rawHeader(pos: bigint, word: number): void {
    this.header(pos, word);
  }
}

const u64 = (n: number | bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
};
const readU64 = (v: Uint8Array): bigint => new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true);

function drain(ring: RingBuffer, limit?: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  ring.consume((d) => void out.push(d.slice()), limit);
  return out;
}

describe("RingBuffer on fake memory", () => {
  it("reads records in order, as views of the data area, and writes consumer_pos back", () => {
    const f = new FakeRing(4096);
    const ring = f.ring();
    for (let i = 0; i < 10; i++) f.write(u64(i));
    const seen: bigint[] = [];
    const n = ring.consume((d) => {
      expect(d.byteLength).toBe(8);
      expect(d.buffer).toBe(f.producer.buffer); // zero-copy
      seen.push(readU64(d));
    });
    expect(n).toBe(10);
    expect(seen).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    expect(f.consumerPos).toBe(160n);
    expect(ring.consumerPosition).toBe(160n);
    expect(ring.available).toBe(0);
    expect(ring.consume(() => {})).toBe(0);
  });

  it("rounds odd lengths up to 8 bytes", () => {
    const f = new FakeRing(4096);
    const ring = f.ring();
    const lens = [1, 7, 8, 9, 15, 16, 17, 0, 3];
    for (const len of lens) f.write(Uint8Array.from({ length: len }, (_, i) => len + i));
    const got = drain(ring);
    expect(got.map((d) => d.length)).toEqual(lens);
    got.forEach((d, k) => {
      expect([...d]).toEqual(Array.from({ length: lens[k]! }, (_, i) => lens[k]! + i));
    });
    expect(f.consumerPos).toBe(BigInt(lens.reduce((s, l) => s + ((l + 15) & ~7), 0)));
  });

  it("skips discarded records and stops at a busy one, then resumes", () => {
    const f = new FakeRing(4096);
    const ring = f.ring();
    f.write(u64(1));
    const d = f.reserve(8);
    f.discard(d, 8);
    f.write(u64(2));
    const busy = f.reserve(8);
    f.write(u64(4)); // submitted after a busy record: must wait for it
    expect(drain(ring).map(readU64)).toEqual([1n, 2n]);
    expect(f.consumerPos).toBe(48n); // stopped at the busy record's header
    expect(drain(ring)).toEqual([]);
    f.submit(busy, u64(3));
    expect(drain(ring).map(readU64)).toEqual([3n, 4n]);
    expect(f.consumerPos).toBe(f.prod);
  });

  it("hands a record that wraps past the end of the data area over in one piece", () => {
    const f = new FakeRing(64);
    const ring = f.ring();
    const first = Uint8Array.from({ length: 40 }, (_, i) => i); // occupies 48 bytes
    f.write(first);
    expect(drain(ring)).toEqual([first]);
    const wrapped = Uint8Array.from({ length: 32 }, (_, i) => 100 + i); // header at 48, data 56..88 → wraps
    f.write(wrapped);
    const got: Uint8Array[] = [];
    ring.consume((d) => {
      // The view lies in the second mapping, past the data area's end, but inside the mapping.
      expect(d.byteOffset + d.byteLength).toBeGreaterThan(DATA_OFFSET + 64);
      expect(d.byteOffset + d.byteLength).toBeLessThanOrEqual(DATA_OFFSET + 128);
      got.push(d.slice());
    });
    expect(got).toEqual([wrapped]);
    expect(f.consumerPos).toBe(88n);
  });

  it("goes around a small ring many times, through every alignment", () => {
    const f = new FakeRing(256);
    const ring = f.ring();
    let next = 0;
    const seen: number[] = [];
    for (let round = 0; round < 500; round++) {
      for (let k = 0; k < 3; k++) {
        const len = 1 + ((round * 7 + k * 13) % 60);
        const data = Uint8Array.from({ length: len }, (_, i) => (next + i) & 0xff);
        data[0] = next & 0xff;
        f.write(data);
        next++;
      }
      ring.consume((d) => {
        for (let i = 1; i < d.length; i++) if (d[i] !== ((d[0]! + i) & 0xff)) throw new Error(`bad byte in record ${d[0]}`);
        seen.push(d[0]!);
      });
    }
    expect(seen).toEqual(Array.from({ length: next }, (_, i) => i & 0xff));
    expect(f.consumerPos).toBe(f.prod);
    expect(f.prod).toBeGreaterThan(256n * 100n);
  });

  it("stops when the callback returns false or at the limit; the record it saw is consumed", () => {
    const f = new FakeRing(4096);
    const ring = f.ring();
    for (let i = 0; i < 6; i++) f.write(u64(i));
    expect(ring.consume((d) => readU64(d) !== 1n)).toBe(2);
    expect(f.consumerPos).toBe(32n);
    expect(drain(ring, 3).map(readU64)).toEqual([2n, 3n, 4n]);
    expect(drain(ring).map(readU64)).toEqual([5n]);
  });

  it("a throwing callback consumes its record and propagates the error", () => {
    const f = new FakeRing(4096);
    const ring = f.ring();
    for (let i = 0; i < 3; i++) f.write(u64(i));
    expect(() =>
      ring.consume(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(f.consumerPos).toBe(16n);
    expect(drain(ring).map(readU64)).toEqual([1n, 2n]);
  });

  it("carries positions across 2^32 with one 64-bit write of consumer_pos", () => {
    const start = 0xffffffc0n + 0x7n * 2n ** 32n; // high half 7, low half 64 bytes before wrapping
    const f = new FakeRing(4096, start);
    const ring = f.ring();
    expect(ring.consumerPosition).toBe(start);
    for (let i = 0; i < 20; i++) f.write(u64(i));
    expect(drain(ring).map(readU64)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)));
    expect(f.consumerPos).toBe(start + 20n * 16n);
    expect(f.consumerPos >> 32n).toBe(8n);
    expect(ring.consumerPosition).toBe(f.consumerPos);
    // and a discarded record exactly at the wrap
    const g = new FakeRing(4096, 0xfffffff0n);
    const r2 = g.ring();
    const d = g.reserve(8);
    g.discard(d, 8);
    g.write(u64(9));
    expect(drain(r2).map(readU64)).toEqual([9n]);
    expect(g.consumerPos).toBe(0x100000010n);
  });

  it("positions beyond 2^53 work: only the low 32 bits take part in the arithmetic", () => {
    const start = 2n ** 60n + 8n;
    const f = new FakeRing(4096, start);
    const ring = f.ring();
    f.write(u64(77));
    expect(drain(ring).map(readU64)).toEqual([77n]);
    expect(f.consumerPos).toBe(start + 16n);
  });

  it("refuses a record longer than what the producer published, without making a view", () => {
    const f = new FakeRing(4096);
    const ring = f.ring();
    const pos = f.write(u64(1));
    f.rawHeader(pos, 4000); // claims 4000 bytes; 16 are published
    let called = false;
    expect(() =>
      ring.consume(() => {
        called = true;
      }),
    ).toThrow(/corrupt.*claims 4000 bytes/);
    expect(called).toBe(false);
    expect(f.consumerPos).toBe(0n);
  });

  it("refuses a producer position more than a ring ahead", () => {
    const f = new FakeRing(4096);
    const ring = f.ring();
    new DataView(f.producer.buffer).setBigUint64(0, 8192n, true);
    expect(() => ring.consume(() => {})).toThrow(/corrupt.*8192 bytes ahead/);
  });

  it("checks the memory it is given", () => {
    const ok = new FakeRing(4096);
    expect(() => new RingBuffer({ consumer: ok.consumer, producer: ok.producer, dataOffset: DATA_OFFSET, size: 3000 })).toThrow(TsbpfError);
    expect(
      () => new RingBuffer({ consumer: ok.consumer, producer: ok.producer.subarray(0, 8192), dataOffset: DATA_OFFSET, size: 4096 }),
    ).toThrow(TsbpfError);
    expect(() => new RingBuffer({ consumer: ok.consumer.subarray(4), producer: ok.producer, dataOffset: DATA_OFFSET, size: 4096 })).toThrow(
      TsbpfError,
    );
  });

  it("micro-benchmark: drain rate on memory (printed, not asserted)", () => {
    const f = new FakeRing(1 << 20);
    const ring = f.ring();
    const rec = new Uint8Array(56); // 64-byte records, as in the libbpf baseline
    const perFill = Math.floor(((1 << 20) - 1) / 64);
    let total = 0;
    let ns = 0;
    let sink = 0;
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < perFill; i++) f.write(rec);
      const t0 = process.hrtime.bigint();
      const n = ring.consume((d) => {
        sink += d[0]!;
      });
      const dt = Number(process.hrtime.bigint() - t0);
      if (round >= 10) {
        total += n;
        ns += dt;
      }
    }
    console.log(`ringbuf (memory): drain ${((total / ns) * 1e3).toFixed(1)} M records/s (${(ns / total).toFixed(1)} ns each)`);
    expect(sink).toBe(0);
  });
});
