/**
 * The consumer side of a BPF_MAP_TYPE_RINGBUF map, reading records straight
 * out of the kernel's memory (no copy, no syscall per record).
 *
 * Layout (kernel/bpf/ringbuf.c), as libbpf maps it:
 *
 *   offset 0      consumer page, mapped READ-WRITE: consumer_pos (u64)
 *   offset 4096   producer page, mapped READ-ONLY:  producer_pos (u64)
 *   offset 8192   data area (`size` = max_entries bytes, a power of 2),
 *                 mapped twice back to back, so a record that wraps past the
 *                 end of the area is still contiguous in our address space.
 *
 * Every record starts with an 8-byte header: u32 len, whose top bits are
 * BPF_RINGBUF_BUSY_BIT (reserved, not yet submitted) and
 * BPF_RINGBUF_DISCARD_BIT (discarded: skip it), then u32 pg_off (kernel
 * use). A record occupies roundup(len + 8, 8) bytes.
 *
 * Positions. producer_pos and consumer_pos are u64 byte counters that only
 * grow. This reader keeps only their low 32 bits in its arithmetic: a ring
 * holds at most 2^31 bytes (max_entries is a u32 power of two), so
 * `producer - consumer` is always below 2^32 and is exact modulo 2^32.
 * That keeps the hot loop free of BigInt and of the 2^53 limit of doubles.
 * The high 32 bits of consumer_pos are tracked separately and written only
 * when the low half wraps (once every 4 GiB of records), with one atomic
 * 64-bit store, so the kernel never sees a torn position.
 *
 * Memory ordering. producer_pos and each header are read with Atomics.load
 * (acquire: the record's bytes are visible once its header says so), and
 * consumer_pos is written with Atomics.store (release: we are done with the
 * bytes before the producer may reuse them). On x86-64 plain accesses would
 * do; Atomics make arm64 correct too.
 *
 * Safety. Views are made only after checking the record lies inside the
 * data the producer published (and so inside the double mapping). The
 * mapping is read-only: writing into a record view kills the process with
 * SIGSEGV, so treat views as read-only. A view is valid only until the
 * consumer position passes its record, i.e. until the callback returns:
 * copy (`data.slice()`) or decode what you keep. After close(), the data
 * mapping is replaced by anonymous zero pages instead of being unmapped, so
 * a view wrongly kept past close() reads zeros instead of crashing the
 * process; those pages are unmapped once the garbage collector has
 * collected every view.
 */
import { StateError, TsbpfError } from "../errors.js";
import { syscallAddress, trySyscall } from "../syscall/kernel.js";
import { koffi } from "../syscall/libc.js";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from "../syscall/mman.js";
import { BpfMapType } from "../syscall/uapi-enums.js";
import type { BpfMap } from "./bpf-map.js";

export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
export const BPF_RINGBUF_HDR_SZ = 8;
const LEN_MASK = 0x3fffffff;


/**
 * Called with each record's bytes: a zero-copy, read-only view valid only
 * during the call. Return `false` to stop consuming after this record.
 */
export type RecordCallback = (data: Uint8Array, ring: RecordSource) => void | boolean;

/**
 * Anything a RingBufferPoller can wait on and drain: a BPF ring buffer, or
 * one CPU's perf buffer. `fd` becomes readable when records arrive.
 */
export interface RecordSource {
  readonly fd: number;
  readonly name: string;
  readonly isClosed: boolean;
  consume(cb: RecordCallback, limit?: number): number;
}

/**
 * A ring's memory as the reader sees it. `RingBuffer` makes one by mmapping
 * a map; tests (and other mappings) can pass their own.
 */
export interface RingMemory {
  /** consumer_pos (u64, little-endian) at byte 0; the reader writes it. 8-aligned. */
  consumer: Uint8Array;
  /** producer_pos (u64) at byte 0, then the data area twice from `dataOffset`. 8-aligned. */
  producer: Uint8Array;
  /** Byte offset of the data area in `producer` (the kernel's: one page). */
  dataOffset: number;
  /** Size of the data area: a power of two, at least 8. */
  size: number;
}

interface Mapping {
  address: bigint;
  length: number;
}

/** Unmaps the zero pages left in place of a closed ring's data once no view can reach them. */
const placeholders = new FinalizationRegistry<Mapping>((m) => {
  trySyscall({ call: "munmap", addr: m.address, length: m.length });
});

export class RingBuffer implements RecordSource {
  /** The map's name ("rb"), for messages and for telling rings apart in callbacks. */
  readonly name: string;
  /** The map's fd, which a poller waits on; -1 for a ring built from plain memory. */
  readonly fd: number;
  /** Bytes in the data area (the map's max_entries). */
  readonly size: number;

  private readonly mask: number;
  /** The producer mapping's bytes: record views are made over it. */
  private readonly buffer: ArrayBufferLike;
  /** u32 words of the producer mapping, from its producer_pos. */
  private readonly words: Uint32Array;
  /** Index in `words` of the first word of the data area. */
  private readonly dataWord: number;
  /** Byte offset in `buffer` of the first data byte of a record at offset 0 (header skipped). */
  private readonly recordBase: number;
  private readonly consWords: Uint32Array;
  private readonly consU64: BigUint64Array;
  /** consumer_pos, split in halves: see "Positions" above. */
  private consLo: number;
  private consHi: number;
  private consumerMapping: Mapping | undefined;
  private producerMapping: Mapping | undefined;
  private producerBuffer: ArrayBufferLike | undefined;
  private closed = false;
  /** Inside consume(): close() then waits for it to finish, and re-entry is refused. */
  private consuming = false;

  /** Maps the ring of a BPF_MAP_TYPE_RINGBUF map. The map stays owned by the caller. */
  constructor(map: BpfMap);
  /** A ring over memory laid out as the kernel's (for tests, or a mapping made elsewhere). */
  constructor(memory: RingMemory, name?: string);
  constructor(source: BpfMap | RingMemory, name?: string) {
    let mem: RingMemory;
    if ("spec" in source) {
      const map = source;
      if (map.spec.type !== BpfMapType.RINGBUF) {
        throw new TsbpfError(`map ${map.name} is not a ring buffer (BPF_MAP_TYPE_RINGBUF)`);
      }
      this.name = map.name;
      this.fd = map.fd;
      mem = this.mapRing(map);
    } else {
      this.name = name ?? "ringbuf";
      this.fd = -1;
      mem = source;
    }
    const { consumer, producer, dataOffset, size } = mem;
    if (!Number.isInteger(size) || size < 8 || size > 0x80000000 || (size & (size - 1)) !== 0) {
      throw new TsbpfError(`ring ${this.name}: data size ${size} is not a power of two between 8 and 2^31`);
    }
    if (consumer.byteOffset % 8 || consumer.byteLength < 8) throw new TsbpfError(`ring ${this.name}: consumer page must be 8-aligned, 8+ bytes`);
    if (producer.byteOffset % 8 || dataOffset % 8 || dataOffset < 8 || producer.byteLength < dataOffset + 2 * size) {
      throw new TsbpfError(`ring ${this.name}: producer mapping must be 8-aligned and hold ${dataOffset} + 2 × ${size} bytes`);
    }
    this.size = size;
    this.mask = size - 1;
    this.buffer = producer.buffer;
    this.words = new Uint32Array(producer.buffer, producer.byteOffset, (dataOffset + 2 * size) >>> 2);
    this.dataWord = dataOffset >>> 2;
    this.recordBase = producer.byteOffset + dataOffset + BPF_RINGBUF_HDR_SZ;
    this.consWords = new Uint32Array(consumer.buffer, consumer.byteOffset, 2);
    this.consU64 = new BigUint64Array(consumer.buffer, consumer.byteOffset, 1);
    // A map may have been read before (by another RingBuffer): start where that left off.
    this.consLo = Atomics.load(this.consWords, 0);
    this.consHi = Atomics.load(this.consWords, 1);
  }

  private mapRing(map: BpfMap): RingMemory {
    const size = map.spec.maxEntries;
    if (size < PAGE_SIZE || size % PAGE_SIZE || (size & (size - 1)) !== 0) {
      throw new TsbpfError(`ring ${map.name}: max_entries ${size} is not a power-of-two multiple of the page size`);
    }
    const consumerAddress = syscallAddress({ call: "mmap", addr: 0n, length: PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, fd: map.fd, offset: 0 });
    this.consumerMapping = { address: consumerAddress, length: PAGE_SIZE };
    const length = PAGE_SIZE + 2 * size;
    let producerAddress: bigint;
    try {
      producerAddress = syscallAddress({ call: "mmap", addr: 0n, length, prot: PROT_READ, flags: MAP_SHARED, fd: map.fd, offset: PAGE_SIZE });
    } catch (e) {
      trySyscall({ call: "munmap", addr: consumerAddress, length: PAGE_SIZE });
      this.consumerMapping = undefined;
      throw e;
    }
    this.producerMapping = { address: producerAddress, length };
    const k = koffi();
    this.producerBuffer = k.view(producerAddress, length) as ArrayBuffer;
    return {
      consumer: new Uint8Array(k.view(consumerAddress, PAGE_SIZE) as ArrayBuffer),
      producer: new Uint8Array(this.producerBuffer),
      dataOffset: PAGE_SIZE,
      size,
    };
  }

  /** producer_pos: bytes ever reserved by the producer (a u64). */
  get producerPosition(): bigint {
    this.check();
    // Two halves may tear while the producer runs; re-read until stable. Diagnostics only.
    for (;;) {
      const hi = Atomics.load(this.words, 1);
      const lo = Atomics.load(this.words, 0);
      if (Atomics.load(this.words, 1) === hi) return (BigInt(hi) << 32n) | BigInt(lo);
    }
  }

  /** consumer_pos: bytes consumed so far (a u64). */
  get consumerPosition(): bigint {
    this.check();
    return (BigInt(this.consHi) << 32n) | BigInt(this.consLo);
  }

  /** Bytes published by the producer and not consumed yet (headers, padding and busy records included). */
  get available(): number {
    this.check();
    return (Atomics.load(this.words, 0) - this.consLo) >>> 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private check(): void {
    if (this.closed) throw new StateError(`ring buffer ${this.name} is closed`);
  }

  /**
   * Hands every record available now to `cb`, in order, skipping discarded
   * ones and stopping at one the producer has not submitted yet (BUSY).
   * Like libbpf's ring_buffer__consume, it re-reads the producer position
   * until no new record appears, so a producer that keeps up can keep it
   * going: pass `limit` to bound the work done in one call.
   *
   * The consumer position is written back after each record (as libbpf
   * does), so the producer gets the space back as early as possible; hence
   * the view passed to `cb` is valid only until `cb` returns. If `cb`
   * throws, its record counts as consumed and the error propagates. The
   * callback may call close() (consumption stops after its record), but not
   * consume() on the same ring.
   *
   * Returns the number of records handed to `cb`.
   */
  consume(cb: RecordCallback, limit = Infinity): number {
    this.check();
    if (this.consuming) throw new StateError(`ring buffer ${this.name}: consume() called from its own callback`);
    this.consuming = true;
    try {
      return this.drain(cb, limit);
    } finally {
      this.consuming = false;
      // close() from a callback: the mappings were kept until the record's position was written.
      if (this.closed) this.unmap();
    }
  }

  private drain(cb: RecordCallback, limit: number): number {
    const words = this.words;
    const buffer = this.buffer;
    const mask = this.mask;
    const dataWord = this.dataWord;
    const recordBase = this.recordBase;
    const consWords = this.consWords;
    let cons = this.consLo;
    let count = 0;
    for (;;) {
      // One acquire read of producer_pos per pass (libbpf's smp_load_acquire).
      let avail = (Atomics.load(words, 0) - cons) >>> 0;
      if (avail === 0) return count;
      if (avail > this.size) throw this.corrupt(`producer is ${avail} bytes ahead of the consumer in a ${this.size}-byte ring`);
      while (avail > 0) {
        const off = cons & mask;
        const hdr = Atomics.load(words, dataWord + (off >>> 2));
        if (hdr & BPF_RINGBUF_BUSY_BIT) return count; // reserved, not submitted yet: stop here
        const len = hdr & LEN_MASK;
        const total = (len + BPF_RINGBUF_HDR_SZ + 7) & ~7;
        // Memory safety: the record must lie inside what the producer published
        // (avail <= size, so inside the double mapping) before any view is made.
        if (total > avail) throw this.corrupt(`record at position ${cons} claims ${len} bytes, but only ${avail - BPF_RINGBUF_HDR_SZ} are published`);
        const next = (cons + total) >>> 0;
        avail -= total;
        if (hdr & BPF_RINGBUF_DISCARD_BIT) {
          this.commit(cons, next);
          cons = next;
          continue;
        }
        count++;
        let more: void | boolean;
        try {
          more = cb(new Uint8Array(buffer, recordBase + off, len), this);
        } finally {
          if (next < cons) this.commit(cons, next);
          else Atomics.store(consWords, 0, (this.consLo = next));
        }
        cons = next;
        if (more === false || count >= limit || this.closed) return count;
      }
    }
  }

  /** Moves the consumer position from `prev` to `next` (low halves). */
  private commit(prev: number, next: number): void {
    this.consLo = next;
    if (next < prev) {
      // The low half wrapped: one 64-bit store so the kernel never sees a torn value.
      this.consHi = (this.consHi + 1) >>> 0;
      Atomics.store(this.consU64, 0, (BigInt(this.consHi) << 32n) | BigInt(next));
    } else {
      Atomics.store(this.consWords, 0, next);
    }
  }

  private corrupt(problem: string): TsbpfError {
    return new TsbpfError(`ring buffer ${this.name} is corrupt: ${problem}`);
  }

  /**
   * Unmaps the ring (the map itself stays open: it belongs to its object).
   * The read-only data mapping is swapped for zero pages rather than
   * unmapped, so a view kept by mistake reads zeros instead of faulting.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.consuming) this.unmap();
  }

  private unmap(): void {
    if (this.consumerMapping) {
      trySyscall({ call: "munmap", addr: this.consumerMapping.address, length: this.consumerMapping.length });
      this.consumerMapping = undefined;
    }
    const m = this.producerMapping;
    if (m) {
      this.producerMapping = undefined;
      const r = trySyscall({
        call: "mmap",
        addr: m.address,
        length: m.length,
        prot: PROT_READ,
        flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
        fd: -1,
        offset: 0,
      });
      if (r.ret === -1) {
        // Could not put zero pages in place (out of memory?): unmap anyway,
        // the documented contract is that no view outlives its callback.
        trySyscall({ call: "munmap", addr: m.address, length: m.length });
      } else {
        placeholders.register(this.producerBuffer!, m);
      }
      this.producerBuffer = undefined;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
