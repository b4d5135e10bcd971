/**
 * Reading a BPF_MAP_TYPE_PERF_EVENT_ARRAY (bpf_perf_event_output), with
 * the ring buffer's API: `consume(cb)`, `consumeRaw(cb)`, and a
 * RingBufferPoller that waits on it (`poller.add(perfBuffer, cb)`).
 *
 * One perf event per CPU (software event BPF_OUTPUT, sample type RAW), its
 * fd stored in the map at the CPU's index, and its ring mmapped:
 *   page 0: struct perf_event_mmap_page (data_head at 1024, data_tail at 1032)
 *   pages 1..n: the data area (a power of two pages), NOT mapped twice, so a
 *   record that wraps is copied out in two parts.
 * Records: struct perf_event_header { u32 type; u16 misc; u16 size; }, then
 * for PERF_RECORD_SAMPLE a u32 raw size and the raw bytes; PERF_RECORD_LOST
 * carries { u64 id; u64 lost; } and goes to the `onLost` callback.
 * Each CPU's ring is a RecordSource, so a RingBufferPoller waits on them,
 * in either mode. The kernel's perf_poll() clears a ring's wake-up as it
 * reports it, so epoll says "ready" only once per wake-up: to the first
 * look (in "loop" mode, libuv's epoll looking into the poller's), and never
 * again for records left behind by a drain that hit its budget. pending()
 * (data_head ≠ data_tail, read from the shared page) tells the poller
 * instead.
 */
import { TsbpfError } from "../errors.js";
import { closeFd } from "../syscall/bpf.js";
import { syscallAddress, trySyscall } from "../syscall/kernel.js";
import { memoryView } from "../syscall/native.js";
import { onlineCpus } from "../syscall/cpus.js";
import { MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from "../syscall/mman.js";
import { PERF_EVENT_IOC_ENABLE, perfEventOpen, perfIoctl } from "../syscall/perf.js";
import { BpfMapType, PerfSampleFormat, PerfSwId, PerfTypeId } from "../abi/uapi-enums.js";
import type { BpfMap } from "./bpf-map.js";
import type { RawRecordCallback, RecordCallback, RecordSource } from "./ringbuf.js";

const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;
const DATA_HEAD = 1024;
const DATA_TAIL = 1032;
/** A sample's raw bytes follow its 8-byte header and a u32 size. */
const RAW_OFFSET = 12;

/** Called when the kernel reports samples it dropped because a CPU's ring was full. */
export type LostCallback = (lost: bigint, cpu: number) => void;

/** A perf ring dropped without close(): its mapping and its perf event fd. */
interface PerfRingResources {
  address: bigint;
  length: number;
  fd: number;
}

/** Releases a perf ring that became unreachable without close(), keyed by its mapped ArrayBuffer. */
const releaseWhenCollected = new FinalizationRegistry<PerfRingResources>((r) => {
  trySyscall({ call: "munmap", addr: r.address, length: r.length });
  closeFd(r.fd);
});

/** One CPU's perf ring. */
export class PerfRing implements RecordSource {
  private closed = false;
  private readonly resources: PerfRingResources;
  private readonly meta: DataView;
  /** The data area (a power of two pages), read-only. consumeRaw() offsets point into it. */
  readonly data: Uint8Array;
  /** Samples lost because the ring was full (PERF_RECORD_LOST), since open. */
  lost = 0n;

  constructor(
    readonly name: string,
    readonly cpu: number,
    readonly fd: number,
    private readonly address: bigint,
    private readonly length: number,
    private readonly onLost?: LostCallback,
  ) {
    const mem = new Uint8Array(memoryView(address, length));
    this.resources = { address, length, fd };
    releaseWhenCollected.register(mem.buffer, this.resources, this.resources);
    this.meta = new DataView(mem.buffer, 0, PAGE_SIZE);
    this.data = mem.subarray(PAGE_SIZE);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Records (or loss reports) are waiting: the kernel's data_head is past our data_tail. */
  pending(): boolean {
    return !this.closed && this.meta.getBigUint64(DATA_HEAD, true) !== this.meta.getBigUint64(DATA_TAIL, true);
  }

  /**
   * Hands each sample's raw bytes to `cb` as a view (valid only during the
   * call; a sample that wraps the ring's end is a copy). The kernel pads a
   * raw sample so that its record stays 8-aligned: a 64-byte output comes
   * as 68 bytes, the last 4 zero. Returns the samples
   * handed over; `limit` bounds them, `false` from `cb` stops after that one.
   */
  consume(cb: RecordCallback, limit = Infinity): number {
    return this.consumeRaw((data, offset, length) => cb(data.subarray(offset, offset + length), this), limit);
  }

  /**
   * consume() without a view per sample: `cb(data, offset, length)` gets
   * the ring's data area (`ring.data`) and where the sample lies in it. A
   * sample that wraps the end of the area (perf rings are mapped once) is
   * copied into a scratch array first, which is then `data`, at offset 0.
   * Samples are 4-aligned (8-aligned headers, then a u32 size).
   */
  consumeRaw(cb: RawRecordCallback, limit = Infinity): number {
    if (this.closed) return 0;
    const size = this.data.byteLength;
    const head = this.meta.getBigUint64(DATA_HEAD, true);
    let tail = this.meta.getBigUint64(DATA_TAIL, true);
    let n = 0;
    while (tail < head && n < limit) {
      const at = Number(tail % BigInt(size));
      const header = this.read(at, 8);
      const hv = new DataView(header.buffer, header.byteOffset, 8);
      const type = hv.getUint32(0, true);
      const recSize = hv.getUint16(6, true);
      if (recSize < 8 || BigInt(recSize) > head - tail)
        throw new TsbpfError(`perf ring ${this.name} cpu ${this.cpu}: corrupt record size ${recSize}`);
      const wraps = at + recSize > size;
      const rec = wraps ? this.read(at, recSize) : this.data;
      const base = wraps ? 0 : at;
      const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
      let keepGoing: void | boolean = true;
      if (type === PERF_RECORD_SAMPLE && recSize >= RAW_OFFSET) {
        const rawSize = rv.getUint32(base + 8, true);
        if (RAW_OFFSET + rawSize > recSize)
          throw new TsbpfError(`perf ring ${this.name} cpu ${this.cpu}: raw size ${rawSize} exceeds its record`);
        n++;
        try {
          keepGoing = cb(rec, base + RAW_OFFSET, rawSize);
        } finally {
          // The sample counts as consumed even when the callback throws.
          tail += BigInt(recSize);
          this.meta.setBigUint64(DATA_TAIL, tail, true);
        }
        if (keepGoing === false) break;
        continue;
      }
      if (type === PERF_RECORD_LOST && recSize >= 24) {
        const lost = rv.getBigUint64(base + 16, true);
        this.lost += lost;
        tail += BigInt(recSize);
        this.meta.setBigUint64(DATA_TAIL, tail, true);
        this.onLost?.(lost, this.cpu);
        continue;
      }
      tail += BigInt(recSize);
      this.meta.setBigUint64(DATA_TAIL, tail, true);
    }
    return n;
  }

  /** `len` bytes at ring offset `at`, copied when they wrap past the end. */
  private read(at: number, len: number): Uint8Array {
    const size = this.data.byteLength;
    if (at + len <= size) return this.data.subarray(at, at + len);
    const out = new Uint8Array(len);
    out.set(this.data.subarray(at));
    out.set(this.data.subarray(0, len - (size - at)), size - at);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    releaseWhenCollected.unregister(this.resources);
    trySyscall({ call: "munmap", addr: this.address, length: this.length });
    closeFd(this.fd);
  }
}

export interface PerfBufferOptions {
  /** Data pages per CPU (a power of two). Default 8. */
  pages?: number;
  /** Called with the number of samples the kernel dropped on a full ring, and the CPU, as it reports them. */
  onLost?: LostCallback;
}

/**
 * The per-CPU rings of a PERF_EVENT_ARRAY map. Like a RingBuffer: drain it
 * with consume()/consumeRaw(), or add it to a RingBufferPoller (which then
 * waits on every CPU's ring). The map stays owned by the caller.
 */
export class PerfBuffer {
  readonly rings: PerfRing[] = [];
  /** Removes this buffer from its map's readers (see BpfMap.trackReader). */
  private readonly untrack: () => void;
  readonly name: string;

  constructor(
    readonly map: BpfMap,
    opts: PerfBufferOptions = {},
  ) {
    if (map.spec.type !== BpfMapType.PERF_EVENT_ARRAY) throw new TsbpfError(`map ${map.name} is not a PERF_EVENT_ARRAY`);
    this.name = map.name;
    const pages = opts.pages ?? 8;
    if (!Number.isInteger(pages) || pages < 1 || pages & (pages - 1))
      throw new TsbpfError(`perf buffer pages must be a power of two, got ${pages}`);
    const length = PAGE_SIZE * (1 + pages);
    // Closed with its map (and so with its object).
    this.untrack = map.trackReader(this);
    try {
      for (const cpu of onlineCpus()) {
        if (cpu >= map.spec.maxEntries) break;
        const fd = perfEventOpen(
          { type: PerfTypeId.SOFTWARE, config: PerfSwId.BPF_OUTPUT, sample_period: 1, sample_type: PerfSampleFormat.RAW, wakeup_events: 1 },
          -1,
          cpu,
        );
        let address: bigint;
        try {
          address = syscallAddress({ call: "mmap", addr: 0n, length, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, fd, offset: 0 });
        } catch (e) {
          closeFd(fd);
          throw e;
        }
        const ring = new PerfRing(map.name, cpu, fd, address, length, opts.onLost);
        this.rings.push(ring);
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, cpu, true);
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, fd, true);
        map.update(key, value);
        perfIoctl(fd, PERF_EVENT_IOC_ENABLE);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** What a RingBufferPoller waits on: one source per CPU. */
  get sources(): readonly PerfRing[] {
    return this.rings;
  }

  /** Samples lost on every CPU since open. */
  get lost(): bigint {
    return this.rings.reduce((n, r) => n + r.lost, 0n);
  }

  /**
   * Drains every CPU's ring (CPU by CPU) through `cb`: at most `limit`
   * samples, stopping after one for which `cb` returns false. Returns the
   * samples handed over.
   */
  consume(cb: RecordCallback, limit = Infinity): number {
    return this.drainAll(
      (r, left, stop) =>
        r.consume((data, ring) => {
          const go = cb(data, ring);
          if (go === false) stop();
          return go;
        }, left),
      limit,
    );
  }

  /** consume() without a view per sample (see PerfRing.consumeRaw). */
  consumeRaw(cb: RawRecordCallback, limit = Infinity): number {
    return this.drainAll(
      (r, left, stop) =>
        r.consumeRaw((data, offset, length) => {
          const go = cb(data, offset, length);
          if (go === false) stop();
          return go;
        }, left),
      limit,
    );
  }

  private drainAll(drain: (ring: PerfRing, left: number, stop: () => void) => number, limit: number): number {
    let n = 0;
    let stopped = false;
    const stop = () => {
      stopped = true;
    };
    for (const r of this.rings) {
      if (stopped || n >= limit) break;
      n += drain(r, limit - n, stop);
    }
    return n;
  }

  close(): void {
    this.untrack();
    for (const r of this.rings) r.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
