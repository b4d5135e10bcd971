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
 * Memory ordering. producer_pos is read with Atomics.load: an acquire, and
 * (being sequentially consistent) also ordered after our own earlier
 * consumer_pos store, which the wake-up rule below needs. A header must be
 * read with acquire semantics too (the record's bytes are visible once its
 * header says so; libbpf's smp_load_acquire). On x86-64 and ia32 (TSO: loads
 * are never reordered with loads) a plain load is such an acquire: the JIT
 * keeps it before the payload reads, which are control-dependent on it and
 * come after it in program order, and a header is only ever read again
 * after an Atomics call, so never from a stale register. Elsewhere (arm64)
 * headers are read with Atomics.load (ldar). The plain load matters: in
 * Node 20 an Atomics call costs ~8 ns, the whole per-record budget of a fast
 * drain. consumer_pos is written with Atomics.store (release: we are done
 * with the bytes before the producer may reuse them).
 *
 * Batched consumer_pos. libbpf stores consumer_pos after every record; here
 * records are taken in batches of at most `publishEvery` bytes (1/16 of the
 * ring, at most 16 KiB), each ending with one store, which saves the ~9 ns
 * of an Atomics.store per record. Holding the position back is safe: the
 * producer may only reuse space that consumer_pos has passed, so a late
 * store only delays it (a producer that finds the ring full meanwhile drops
 * a record, as it would with a slower consumer), and the batch size bounds
 * that. The store also always comes before the reader decides there is
 * nothing more to read: before re-reading producer_pos, and before giving
 * up on a BUSY header (which is then read again). The kernel wakes the
 * reader only when it commits a record at exactly consumer_pos; had we gone
 * to sleep with consumed records unpublished, a record committed there would
 * send no wake-up and the reader could sleep with data waiting. Both sides
 * store then load (our seq-cst store, then our load; the kernel's xchg of
 * the header, then its load of consumer_pos), so one sees the other. Every
 * exit (nothing left, BUSY, callback stop, limit, throw, close) has stored
 * the final position.
 *
 * Safety. A record is handed over (as a view, or as an offset into
 * `ring.data`) only after checking it lies inside the data the producer
 * published (and so inside the double mapping). The mapping is read-only:
 * writing into it kills the process with SIGSEGV, so treat views and
 * `ring.data`/`dataView`/`words` as read-only. A record's bytes are valid
 * only until its callback returns (after that the producer may reuse them):
 * copy (`data.slice()`) or decode what you keep. After close(), the data
 * mapping is replaced by anonymous zero pages instead of being unmapped, so
 * a view wrongly kept past close() reads zeros instead of crashing the
 * process; those pages are unmapped once the garbage collector has
 * collected the ring and every view.
 *
 * Lifetime. A ring's mapping holds its map in the kernel, so a ring must
 * not outlive its map: closing the BpfMap (or destroying its object) closes
 * every ring made from it, and a ring dropped without close() has its
 * mappings unmapped once it and every view of it are garbage collected.
 */
import { StateError, TsbpfError } from "../errors.js";
import { syscallAddress, trySyscall } from "../syscall/kernel.js";
import { memoryView } from "../syscall/native.js";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from "../syscall/mman.js";
import { BpfMapType } from "../abi/uapi-enums.js";
import type { BpfMap } from "./bpf-map.js";

export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
export const BPF_RINGBUF_HDR_SZ = 8;
const LEN_MASK = 0x3fffffff;
/** Headers may be read with plain loads: see "Memory ordering" above. */
const PLAIN_ACQUIRE = process.arch === "x64" || process.arch === "ia32";
/** Upper bound on the bytes consumed but not yet published: see "Batched consumer_pos". */
const MAX_PUBLISH_EVERY = 16 * 1024;
/** Why run() returned. */
const DONE = 0;
const BUSY = 1;
const STOPPED = 2;
const CORRUPT = 3;

/**
 * Called with each record's bytes: a zero-copy, read-only view valid only
 * during the call. Return `false` to stop consuming after this record.
 */
export type RecordCallback = (data: Uint8Array, ring: RecordSource) => void | boolean;

/**
 * Called with each record, allocation-free: `data` is always the same array,
 * the ring's whole data area (`ring.data`), and the record's payload is
 * `data[offset .. offset + length)`. `offset` is 8-aligned, so fields can be
 * read through `ring.words[(offset >>> 2) + i]` or `ring.dataView`. Valid only
 * during the call. Return `false` to stop consuming after this record.
 */
export type RawRecordCallback = (data: Uint8Array, offset: number, length: number) => void | boolean;

/**
 * Anything a RingBufferPoller can wait on and drain: a BPF ring buffer, or
 * one CPU's perf buffer. `fd` becomes readable when records arrive.
 */
export interface RecordSource {
  readonly fd: number;
  readonly name: string;
  readonly isClosed: boolean;
  consume(cb: RecordCallback, limit?: number): number;
  /**
   * Whether records are waiting, known without a syscall. Sources whose
   * readiness a poll can consume before the poller sees it (a perf event's
   * poll clears its wake-up) implement it, and the poller drains them
   * whenever it is true, whatever epoll says.
   */
  pending?(): boolean;
}

/** Several sources added to a poller at once, with one callback (a perf buffer's per-CPU rings). */
export interface RecordSourceGroup {
  readonly name: string;
  readonly sources: readonly RecordSource[];
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

/**
 * Unmaps a ring's memory once nothing can reach it: the mappings of a ring
 * dropped without close() (they would keep the map alive in the kernel
 * until exit), and the zero pages left in place of a closed ring's data.
 * Keyed by the mapped ArrayBuffers, not the ring, so a view kept by mistake
 * still keeps its memory mapped.
 */
const unmapWhenCollected = new FinalizationRegistry<Mapping>((m) => {
  trySyscall({ call: "munmap", addr: m.address, length: m.length });
});

export class RingBuffer implements RecordSource {
  /** The map's name ("rb"), for messages and for telling rings apart in callbacks. */
  readonly name: string;
  /** The map's fd, which a poller waits on; -1 for a ring built from plain memory. */
  readonly fd: number;
  /** Bytes in the data area (the map's max_entries). */
  readonly size: number;
  /**
   * The data area, both mappings of it (2 × size bytes), read-only: what
   * consumeRaw() callbacks get, with record offsets into it. Zeros after close().
   */
  readonly data: Uint8Array;
  /** `data` as a DataView (little-endian fields: pass `true`). */
  readonly dataView: DataView;
  /** `data` as u32 words: a record's first word is `words[offset >>> 2]`. */
  readonly words: Uint32Array;

  private readonly mask: number;
  /** Batch size: consumer_pos is stored after at most this many bytes (and the record that crosses it). */
  private readonly publishEvery: number;
  /** producer_pos, as two u32 halves (low first). */
  private readonly prodWords: Uint32Array;
  /** The data area as i32 words: a header's BUSY bit is its sign. */
  private readonly headers: Int32Array;
  private readonly consWords: Uint32Array;
  private readonly consU64: BigUint64Array;
  /** consumer_pos as published to the kernel, split in halves: see "Positions" above. */
  private consLo: number;
  private consHi: number;
  private consumerMapping: Mapping | undefined;
  private producerMapping: Mapping | undefined;
  private producerBuffer: ArrayBufferLike | undefined;
  /** Removes this ring from its map's readers (see BpfMap.trackReader). */
  private untrack: (() => void) | undefined;
  private closed = false;
  /** Inside consume()/consumeRaw(): close() then waits for it to finish, and re-entry is refused. */
  private consuming = false;
  /** Where the last run() stopped, and the records handed over so far in this call. */
  private runNext = 0;
  private runCount = 0;

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
      this.untrack = map.trackReader(this);
    } else {
      this.name = name ?? "ringbuf";
      this.fd = -1;
      mem = source;
    }
    const { consumer, producer, dataOffset, size } = mem;
    if (!Number.isInteger(size) || size < 8 || size > 0x80000000 || (size & (size - 1)) !== 0) {
      throw new TsbpfError(`ring ${this.name}: data size ${size} is not a power of two between 8 and 2^31`);
    }
    if (consumer.byteOffset % 8 || consumer.byteLength < 8)
      throw new TsbpfError(`ring ${this.name}: consumer page must be 8-aligned, 8+ bytes`);
    if (producer.byteOffset % 8 || dataOffset % 8 || dataOffset < 8 || producer.byteLength < dataOffset + 2 * size) {
      throw new TsbpfError(`ring ${this.name}: producer mapping must be 8-aligned and hold ${dataOffset} + 2 × ${size} bytes`);
    }
    this.size = size;
    this.mask = size - 1;
    this.publishEvery = Math.max(8, Math.min(size >>> 4, MAX_PUBLISH_EVERY));
    const dataBase = producer.byteOffset + dataOffset;
    this.data = new Uint8Array(producer.buffer, dataBase, 2 * size);
    this.dataView = new DataView(producer.buffer, dataBase, 2 * size);
    this.words = new Uint32Array(producer.buffer, dataBase, (2 * size) >>> 2);
    this.headers = new Int32Array(producer.buffer, dataBase, (2 * size) >>> 2);
    this.prodWords = new Uint32Array(producer.buffer, producer.byteOffset, 2);
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
    const consumerAddress = syscallAddress({
      call: "mmap",
      addr: 0n,
      length: PAGE_SIZE,
      prot: PROT_READ | PROT_WRITE,
      flags: MAP_SHARED,
      fd: map.fd,
      offset: 0,
    });
    this.consumerMapping = { address: consumerAddress, length: PAGE_SIZE };
    const length = PAGE_SIZE + 2 * size;
    let producerAddress: bigint;
    try {
      producerAddress = syscallAddress({
        call: "mmap",
        addr: 0n,
        length,
        prot: PROT_READ,
        flags: MAP_SHARED,
        fd: map.fd,
        offset: PAGE_SIZE,
      });
    } catch (e) {
      trySyscall({ call: "munmap", addr: consumerAddress, length: PAGE_SIZE });
      this.consumerMapping = undefined;
      throw e;
    }
    this.producerMapping = { address: producerAddress, length };
    this.producerBuffer = memoryView(producerAddress, length);
    const consumerBuffer = memoryView(consumerAddress, PAGE_SIZE);
    unmapWhenCollected.register(this.producerBuffer, this.producerMapping, this.producerMapping);
    unmapWhenCollected.register(consumerBuffer, this.consumerMapping, this.consumerMapping);
    return {
      consumer: new Uint8Array(consumerBuffer),
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
      const hi = Atomics.load(this.prodWords, 1);
      const lo = Atomics.load(this.prodWords, 0);
      if (Atomics.load(this.prodWords, 1) === hi) return (BigInt(hi) << 32n) | BigInt(lo);
    }
  }

  /**
   * consumer_pos: bytes consumed so far (a u64), as published to the kernel.
   * Inside a callback it may lag behind the records already handed over.
   */
  get consumerPosition(): bigint {
    this.check();
    return (BigInt(this.consHi) << 32n) | BigInt(this.consLo);
  }

  /** Bytes published by the producer and not consumed yet (headers, padding and busy records included). */
  get available(): number {
    this.check();
    return (Atomics.load(this.prodWords, 0) - this.consLo) >>> 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private check(): void {
    if (this.closed) throw new StateError(`ring buffer ${this.name} is closed`);
  }

  /**
   * Hands every record available now to `cb`, in order, as a zero-copy
   * view, skipping discarded ones and stopping at one the producer has not
   * submitted yet (BUSY). Like libbpf's ring_buffer__consume, it re-reads
   * the producer position until no new record appears, so a producer that
   * keeps up can keep it going: pass `limit` to bound the work done in one
   * call.
   *
   * The view passed to `cb` is valid only until `cb` returns (the producer
   * may then reuse its bytes). If `cb` throws, its record counts as
   * consumed and the error propagates. The callback may call close()
   * (consumption stops after its record), but not consume() or
   * consumeRaw() on the same ring.
   *
   * Returns the number of records handed to `cb`. consumeRaw() does the
   * same without allocating a view per record.
   */
  consume(cb: RecordCallback, limit = Infinity): number {
    const { buffer, byteOffset } = this.data;
    return this.consumeRaw((_data, offset, length) => cb(new Uint8Array(buffer, byteOffset + offset, length), this), limit);
  }

  /**
   * consume() without a view per record: `cb(data, offset, length)` gets
   * the one long-lived array over the data area (`ring.data`, read-only)
   * and where the record's payload lies in it. Records never wrap there
   * (the area is mapped twice), so the payload is contiguous. Read fields
   * in place, e.g. `ring.words[offset >>> 2]` for the first u32, or
   * `ring.dataView.getBigUint64(offset, true)`; the bytes are valid only
   * until `cb` returns. Same stops, limit, errors and return value as
   * consume(); this is the fast path (no allocation per record).
   */
  consumeRaw(cb: RawRecordCallback, limit = Infinity): number {
    this.check();
    if (this.consuming) throw new StateError(`ring buffer ${this.name}: consume() called from its own callback`);
    this.consuming = true;
    try {
      // An int32 limit keeps the per-record compare on integers (∞ and NaN:
      // no limit; at most 2^31 - 1 records per call, then the caller calls again).
      return this.drain(cb, limit < 0x7fffffff ? Math.max(1, Math.ceil(limit)) : 0x7fffffff);
    } finally {
      this.consuming = false;
      // close() from a callback: the mappings were kept until the final position was stored.
      if (this.closed) this.unmap();
    }
  }

  /**
   * The one consuming loop, in batches of at most `publishEvery` bytes: each
   * batch reads producer_pos, hands records over (run()), then stores
   * consumer_pos. Offsets are data-area offsets, which run on past `size`
   * into the second mapping within a batch, so the per-record path never
   * masks; ring positions (u32) are computed once per batch.
   */
  private drain(cb: RawRecordCallback, limit: number): number {
    const mask = this.mask;
    const size = this.size;
    const every = this.publishEvery;
    let pos = this.consLo; // ring position of data offset `start`, as stored
    let start = pos & mask;
    let count = 0;
    this.runNext = start;
    try {
      for (;;) {
        const avail = (Atomics.load(this.prodWords, 0) - pos) >>> 0;
        if (avail === 0) return count;
        if (avail > size) throw this.corrupt(`producer is ${avail} bytes ahead of the consumer in a ${size}-byte ring`);
        const end = start + avail;
        const why = this.run(cb, limit, count, start, avail > every ? start + every : end, end);
        const p = this.runNext;
        count = this.runCount;
        // BUSY as the first record after our last store (so read after it): stop.
        if (why === BUSY && p === start) return count;
        if (why === CORRUPT) {
          const len = this.headers[p >>> 2]! & LEN_MASK;
          throw this.corrupt(
            `record at position ${(pos + (p - start)) >>> 0} claims ${len} bytes, but only ${end - p - BPF_RINGBUF_HDR_SZ} are published`,
          );
        }
        // Store the position before looking for more (a BUSY header is then
        // read again): see "Batched consumer_pos".
        if (p !== start) {
          pos = (pos + (p - start)) >>> 0;
          this.publish(pos);
          start = this.runNext = pos & mask;
        }
        if (why === STOPPED) return count;
      }
    } catch (e) {
      const p = this.runNext;
      if (p !== start) this.publish((pos + (p - start)) >>> 0);
      throw e;
    }
  }

  /**
   * Hands the records in [p, stop) over to `cb` (a record may end past
   * `stop`, never past `end`, where the producer's data ends). Says why it
   * stopped; leaves the next record's offset in `runNext` and the running
   * count in `runCount`. Kept apart from drain() so that this, the hot
   * loop, is a small function entered afresh for every batch: V8 optimizes
   * it as a whole with complete type feedback, instead of only replacing a
   * running loop (on-stack replacement) anew in every call.
   */
  private run(cb: RawRecordCallback, limit: number, count: number, p: number, stop: number, end: number): number {
    const headers = this.headers;
    const data = this.data;
    let why = DONE;
    try {
      while (p < stop) {
        const hdr = PLAIN_ACQUIRE ? headers[p >>> 2]! : Atomics.load(headers, p >>> 2);
        if (hdr < 0) {
          why = BUSY; // reserved, not submitted yet
          break;
        }
        // Literals, not the module constants: V8 would load those from a
        // cell, with a hole check, on every record.
        const len = hdr & 0x3fffffff; // LEN_MASK
        const total = (len + 15) & ~7; // roundup(len + BPF_RINGBUF_HDR_SZ, 8)
        // Memory safety: the record must lie inside what the producer published
        // (less than a ring, so inside the double mapping) before it is handed over.
        if (total > end - p) {
          why = CORRUPT;
          break;
        }
        const offset = p + 8; // + BPF_RINGBUF_HDR_SZ
        p += total; // before the callback: a record whose callback throws is consumed
        if (hdr & 0x40000000) continue; // BPF_RINGBUF_DISCARD_BIT
        count++;
        if (cb(data, offset, len) === false || count >= limit || this.closed === true) {
          why = STOPPED;
          break;
        }
      }
    } finally {
      // Also when cb throws: its record counts as consumed.
      this.runNext = p;
      this.runCount = count;
    }
    return why;
  }

  /** Stores consumer_pos (its low half is `next`; the high half follows a wrap). */
  private publish(next: number): void {
    const prev = this.consLo;
    this.consLo = next;
    // Stores are less than a ring apart, so a smaller low half means it wrapped.
    if (next < prev) {
      // One 64-bit store so the kernel never sees a torn value.
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
    this.untrack?.();
    this.untrack = undefined;
    if (this.consumerMapping) {
      unmapWhenCollected.unregister(this.consumerMapping);
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
        unmapWhenCollected.unregister(m);
        trySyscall({ call: "munmap", addr: m.address, length: m.length });
      }
      // Otherwise the zero pages are unmapped once the buffer is collected (registered at mmap).
      this.producerBuffer = undefined;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
