/**
 * Reading a BPF_MAP_TYPE_PERF_EVENT_ARRAY (bpf_perf_event_output): one
 * perf event per CPU (software event BPF_OUTPUT, sample type RAW), its fd
 * stored in the map at the CPU's index, and its ring mmapped:
 *   page 0: struct perf_event_mmap_page (data_head at 1024, data_tail at 1032)
 *   pages 1..n: the data area (a power of two pages), NOT mapped twice, so a
 *   record that wraps is copied out in two parts.
 * Records: struct perf_event_header { u32 type; u16 misc; u16 size; }, then
 * for PERF_RECORD_SAMPLE a u32 raw size and the raw bytes; PERF_RECORD_LOST
 * carries { u64 id; u64 lost; }.
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
import type { RecordCallback, RecordSource } from "./ringbuf.js";

const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;
const DATA_HEAD = 1024;
const DATA_TAIL = 1032;

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
  private readonly data: Uint8Array;
  /** Records lost because the ring was full (PERF_RECORD_LOST), since open. */
  lost = 0n;

  constructor(
    readonly name: string,
    readonly cpu: number,
    readonly fd: number,
    private readonly address: bigint,
    private readonly length: number,
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

  consume(cb: RecordCallback, limit = Infinity): number {
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
      const rec = this.read(at, recSize);
      const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
      if (type === PERF_RECORD_SAMPLE && recSize >= 12) {
        const rawSize = rv.getUint32(8, true);
        if (12 + rawSize > recSize) throw new TsbpfError(`perf ring ${this.name} cpu ${this.cpu}: raw size ${rawSize} exceeds its record`);
        n++;
        const keepGoing = cb(rec.subarray(12, 12 + rawSize), this);
        tail += BigInt(recSize);
        this.meta.setBigUint64(DATA_TAIL, tail, true);
        if (keepGoing === false) break;
        continue;
      }
      if (type === PERF_RECORD_LOST && recSize >= 24) this.lost += rv.getBigUint64(16, true);
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
}

/** The per-CPU rings of a PERF_EVENT_ARRAY map. Add `rings` to a RingBufferPoller. */
export class PerfBuffer {
  readonly rings: PerfRing[] = [];
  /** Removes this buffer from its map's readers (see BpfMap.trackReader). */
  private readonly untrack: () => void;

  constructor(
    readonly map: BpfMap,
    opts: PerfBufferOptions = {},
  ) {
    if (map.spec.type !== BpfMapType.PERF_EVENT_ARRAY) throw new TsbpfError(`map ${map.name} is not a PERF_EVENT_ARRAY`);
    const pages = opts.pages ?? 8;
    if (pages & (pages - 1)) throw new TsbpfError(`perf buffer pages must be a power of two, got ${pages}`);
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
        const ring = new PerfRing(map.name, cpu, fd, address, length);
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

  /** Records lost on every CPU since open. */
  get lost(): bigint {
    return this.rings.reduce((n, r) => n + r.lost, 0n);
  }

  consume(cb: RecordCallback): number {
    return this.rings.reduce((n, r) => n + r.consume(cb), 0);
  }

  close(): void {
    this.untrack();
    for (const r of this.rings) r.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
