/**
 * A map that exists in the kernel: its fd, element operations with raw
 * bytes, and for mmapable arrays (global data) a live view of the value.
 */
import { StateError, TsbpfError } from "../errors.js";
import { bpf, closeFd, readAttrU32, tryBpf } from "../syscall/bpf.js";
import { ENOENT } from "../syscall/errno.js";
import { memoryView } from "../syscall/native.js";
import { MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from "../syscall/mman.js";
import { syscallAddress, trySyscall } from "../syscall/kernel.js";
import { SyscallError } from "../syscall/syscall-error.js";
import { BpfCmd, BpfMapType, BpfMapTypeNames } from "../abi/uapi-enums.js";
import { BPF_F_MMAPABLE } from "../abi/uapi-flags.js";
import { type MapInfo, fdById, mapInfo } from "../syscall/obj-info.js";
import { type OpenFlags, PinState, fileFlags, openPinnedObject } from "../syscall/pin.js";
import { type MapSpec, isPerCpu } from "../spec/map-spec.js";
import { possibleCpuCount } from "../syscall/cpus.js";

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
/** Update/lookup flag: copy the value with its bpf_spin_lock held (maps whose value has one). */
export const BPF_F_LOCK = 4;

/** Map types without keys: values are pushed and popped (or, for a bloom filter, added and tested). */
const VALUE_ONLY_MAP_TYPES: ReadonlySet<BpfMapType> = new Set([BpfMapType.QUEUE, BpfMapType.STACK, BpfMapType.BLOOM_FILTER]);

export { PAGE_SIZE } from "../syscall/mman.js";

/** Map types created without BTF key/value ids (libbpf's list: the kernel refuses or ignores them). */
const NO_BTF_MAP_TYPES: ReadonlySet<BpfMapType> = new Set([
  BpfMapType.PERF_EVENT_ARRAY,
  BpfMapType.CGROUP_ARRAY,
  BpfMapType.STACK_TRACE,
  BpfMapType.ARRAY_OF_MAPS,
  BpfMapType.HASH_OF_MAPS,
  BpfMapType.DEVMAP,
  BpfMapType.DEVMAP_HASH,
  BpfMapType.CPUMAP,
  BpfMapType.XSKMAP,
  BpfMapType.SOCKMAP,
  BpfMapType.SOCKHASH,
  BpfMapType.QUEUE,
  BpfMapType.STACK,
]);

/** The spec of a map that exists in the kernel, as its info describes it. */
export function mapSpecOf(info: MapInfo): MapSpec {
  return {
    name: info.name,
    type: info.type,
    keySize: info.keySize,
    valueSize: info.valueSize,
    maxEntries: info.maxEntries,
    flags: info.flags,
    mapExtra: info.mapExtra,
    freeze: false,
    btfKeyTypeId: info.btfKeyTypeId,
    btfValueTypeId: info.btfValueTypeId,
  };
}

export interface CreateMapOptions {
  btfFd?: number;
  innerMapFd?: number;
}

/** A region of a BPF map mmapped into this process. */
export interface MapMapping {
  address: bigint;
  length: number;
  /** Zero-copy view of the value; read-only mappings must never be written. */
  bytes: Uint8Array;
  writable: boolean;
}

/** Something made from a map that must not outlive it: a ring or perf buffer reader. */
export interface MapReader {
  close(): void;
}

export class BpfMap {
  private closed = false;
  private mapping: MapMapping | undefined;
  /**
   * Readers made from this map, closed with it. Held weakly: a reader that
   * becomes unreachable is released by its own finalizer instead.
   */
  private readonly readers = new Set<WeakRef<MapReader>>();
  private readonly pins = new PinState(() => `map ${this.name}`);

  private constructor(
    readonly spec: MapSpec,
    readonly fd: number,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /**
   * BPF_MAP_CREATE from a spec. As libbpf does, map types whose kernel side
   * rejects BTF key/value descriptions get none, and a map the kernel refuses
   * with BTF is retried without it.
   */
  static create(spec: MapSpec, opts: CreateMapOptions = {}): BpfMap {
    // A perf event array sized 0 gets a slot per possible CPU of this host, as libbpf does at load.
    if (spec.type === BpfMapType.PERF_EVENT_ARRAY && spec.maxEntries === 0) spec = { ...spec, maxEntries: possibleCpuCount() };
    const btfFd = opts.btfFd !== undefined && !NO_BTF_MAP_TYPES.has(spec.type) ? opts.btfFd : undefined;
    const attempt = (withBtf: boolean) =>
      tryBpf(BpfCmd.MAP_CREATE, {
        map_type: spec.type,
        key_size: spec.keySize,
        value_size: spec.valueSize,
        max_entries: spec.maxEntries,
        map_flags: spec.flags,
        inner_map_fd: opts.innerMapFd ?? 0,
        numa_node: spec.numaNode ?? 0,
        map_name: spec.name,
        btf_fd: withBtf ? btfFd : 0,
        btf_key_type_id: withBtf ? spec.btfKeyTypeId : 0,
        btf_value_type_id: withBtf ? spec.btfValueTypeId : 0,
        // struct_ops: the value is a kernel type; the kernel still wants the object's BTF fd.
        btf_vmlinux_value_type_id: spec.btfVmlinuxValueTypeId ?? 0,
        map_extra: spec.mapExtra ?? 0n,
      });
    let r = attempt(btfFd !== undefined);
    if (r.ret === -1 && btfFd !== undefined && (spec.btfKeyTypeId || spec.btfValueTypeId)) r = attempt(false);
    if (r.ret === -1) throw new SyscallError(r.req, r.errno, `creating map ${spec.name}`);
    return new BpfMap(spec, Number(r.ret));
  }

  /** Wraps an existing fd (e.g. one opened by id); the BpfMap owns it from now on. */
  static fromFd(spec: MapSpec, fd: number): BpfMap {
    return new BpfMap(spec, fd);
  }

  /**
   * Wraps a map fd whose spec is not known: type, sizes, flags, name and
   * BTF type ids come from the kernel (BPF_OBJ_GET_INFO_BY_FD). Takes
   * ownership of `fd`, and closes it if the info cannot be read.
   */
  static fromKernelFd(fd: number): BpfMap {
    try {
      return new BpfMap(mapSpecOf(mapInfo(fd)), fd);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  /** Opens the map pinned at `path` (BPF_OBJ_GET); `readOnly` / `writeOnly` restrict the fd (file_flags). */
  static fromPinned(path: string, opts: OpenFlags = {}): BpfMap {
    const map = BpfMap.fromKernelFd(openPinnedObject(path, fileFlags(opts), "map"));
    map.pins.path = path;
    return map;
  }

  /** Opens a map by id (BPF_MAP_GET_FD_BY_ID); `readOnly` / `writeOnly` restrict the fd. */
  static fromId(id: number, opts: OpenFlags = {}): BpfMap {
    return BpfMap.fromKernelFd(fdById("map", id, fileFlags(opts)));
  }

  /** The map's id in the kernel. */
  get id(): number {
    this.check();
    return mapInfo(this.fd).id;
  }

  /** What the kernel reports of the map (BPF_OBJ_GET_INFO_BY_FD). */
  info(): MapInfo {
    this.check();
    return mapInfo(this.fd);
  }

  /** Where this map was pinned by pin() or opened from by fromPinned(). */
  get pinnedPath(): string | undefined {
    return this.pins.path;
  }

  /** Pins the map at `path` in a BPF filesystem: it outlives this process until unpinned. */
  pin(path: string): void {
    this.check();
    this.pins.pin(this.fd, path);
  }

  /** Removes the pin at `path` (default: where this map was pinned or opened from). */
  unpin(path?: string): void {
    this.pins.unpin(path);
  }

  private check(): void {
    if (this.closed) throw new StateError(`map ${this.name} is closed`);
  }

  /** Bytes of one value as user space sees it: per-CPU maps hold one 8-aligned slot per possible CPU. */
  get valueBytes(): number {
    return isPerCpu(this.spec.type) ? Math.ceil(this.spec.valueSize / 8) * 8 * possibleCpuCount() : this.spec.valueSize;
  }

  private checkSize(what: string, buf: Uint8Array, expected: number): void {
    if (buf.byteLength !== expected) {
      throw new TsbpfError(`map ${this.name}: ${what} is ${buf.byteLength} bytes, the map's is ${expected}`);
    }
  }

  private checkKeyed(what: string): void {
    if (VALUE_ONLY_MAP_TYPES.has(this.spec.type)) {
      throw new StateError(`map ${this.name} has no keys (${BpfMapTypeNames[this.spec.type]}); ${what}`);
    }
  }

  private checkValueOnly(op: string, types: BpfMapType[]): void {
    if (!types.includes(this.spec.type)) {
      throw new StateError(
        `${op}() needs a ${types.map((t) => BpfMapTypeNames[t]).join(" or ")} map; ${this.name} is ${BpfMapTypeNames[this.spec.type]}`,
      );
    }
  }

  /** An element command that may answer ENOENT: the value buffer on success, undefined on ENOENT. */
  private elementOrNone(cmd: BpfCmd, key: Uint8Array | null, value: Uint8Array, flags: number): Uint8Array | undefined {
    const r = tryBpf(cmd, { map_fd: this.fd, key, value, flags });
    if (r.ret === -1) {
      if (r.errno === ENOENT) return undefined;
      throw new SyscallError(r.req, r.errno, `map ${this.name}`);
    }
    return value;
  }

  /**
   * The value for `key`, or undefined when there is none. `flags`
   * BPF_F_LOCK copies it with the value's bpf_spin_lock held (and the lock
   * itself reads as zero).
   */
  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.check();
    this.checkKeyed("use peek() or contains()");
    this.checkSize("key", key, this.spec.keySize);
    return this.elementOrNone(BpfCmd.MAP_LOOKUP_ELEM, key, new Uint8Array(this.valueBytes), flags);
  }

  /** Removes `key` and returns the value it had (BPF_MAP_LOOKUP_AND_DELETE_ELEM), or undefined when there was none. */
  lookupAndDelete(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.check();
    this.checkKeyed("use pop()");
    this.checkSize("key", key, this.spec.keySize);
    return this.elementOrNone(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, key, new Uint8Array(this.valueBytes), flags);
  }

  /**
   * QUEUE, STACK, BLOOM_FILTER: adds a value (an update with no key). On a
   * full queue or stack, BPF_EXIST makes room by dropping the oldest value;
   * BPF_ANY fails with E2BIG.
   */
  push(value: Uint8Array, flags = BPF_ANY): void {
    this.check();
    this.checkValueOnly("push", [BpfMapType.QUEUE, BpfMapType.STACK, BpfMapType.BLOOM_FILTER]);
    this.checkSize("value", value, this.valueBytes);
    bpf(BpfCmd.MAP_UPDATE_ELEM, { map_fd: this.fd, key: null, value, flags }, `map ${this.name}`);
  }

  /** QUEUE, STACK: the value pop() would return, left in place; undefined when empty. */
  peek(): Uint8Array | undefined {
    this.check();
    this.checkValueOnly("peek", [BpfMapType.QUEUE, BpfMapType.STACK]);
    return this.elementOrNone(BpfCmd.MAP_LOOKUP_ELEM, null, new Uint8Array(this.valueBytes), 0);
  }

  /** QUEUE (oldest first), STACK (newest first): removes and returns a value; undefined when empty. */
  pop(): Uint8Array | undefined {
    this.check();
    this.checkValueOnly("pop", [BpfMapType.QUEUE, BpfMapType.STACK]);
    return this.elementOrNone(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, null, new Uint8Array(this.valueBytes), 0);
  }

  /** BLOOM_FILTER: false when `value` was certainly never pushed; true when it may have been. */
  contains(value: Uint8Array): boolean {
    this.check();
    this.checkValueOnly("contains", [BpfMapType.BLOOM_FILTER]);
    this.checkSize("value", value, this.valueBytes);
    return this.elementOrNone(BpfCmd.MAP_LOOKUP_ELEM, null, value, 0) !== undefined;
  }

  /** The key after `key` (the first key without one), or undefined at the end (BPF_MAP_GET_NEXT_KEY). */
  getNextKey(key?: Uint8Array): Uint8Array | undefined {
    this.check();
    this.checkKeyed("it cannot be iterated");
    if (key) this.checkSize("key", key, this.spec.keySize);
    const next = new Uint8Array(this.spec.keySize);
    const r = tryBpf(BpfCmd.MAP_GET_NEXT_KEY, { map_fd: this.fd, key: key ?? null, next_key: next });
    if (r.ret === -1) {
      if (r.errno === ENOENT) return undefined;
      throw new SyscallError(r.req, r.errno, `map ${this.name}`);
    }
    return next;
  }

  /** Sets `key` to `value`; `flags` BPF_ANY, BPF_NOEXIST, BPF_EXIST, optionally | BPF_F_LOCK. */
  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    this.check();
    this.checkKeyed("use push()");
    this.checkSize("key", key, this.spec.keySize);
    this.checkSize("value", value, this.valueBytes);
    bpf(BpfCmd.MAP_UPDATE_ELEM, { map_fd: this.fd, key, value, flags }, `map ${this.name}`);
  }

  /** Deletes `key`; returns false if it was not there. */
  delete(key: Uint8Array): boolean {
    this.check();
    this.checkKeyed("use pop()");
    this.checkSize("key", key, this.spec.keySize);
    const r = tryBpf(BpfCmd.MAP_DELETE_ELEM, { map_fd: this.fd, key });
    if (r.ret === -1) {
      if (r.errno === ENOENT) return false;
      throw new SyscallError(r.req, r.errno, `map ${this.name}`);
    }
    return true;
  }

  /** Iterates keys with MAP_GET_NEXT_KEY (starting from no key). */
  *keys(): Generator<Uint8Array> {
    let key: Uint8Array | undefined;
    for (;;) {
      key = this.getNextKey(key);
      if (!key) return;
      yield key;
    }
  }

  *entries(): Generator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) yield [k, v];
    }
  }

  /**
   * Batch operations: many elements per syscall (BPF_MAP_*_BATCH). Keys and
   * values are concatenated, `count` elements each of keySize / valueBytes.
   */
  updateBatch(keys: Uint8Array, values: Uint8Array, flags = BPF_ANY): void {
    this.check();
    const count = keys.byteLength / this.spec.keySize;
    if (!Number.isInteger(count) || values.byteLength !== count * this.valueBytes) {
      throw new TsbpfError(
        `map ${this.name}: batch of ${keys.byteLength} key bytes and ${values.byteLength} value bytes is not whole elements`,
      );
    }
    bpf(BpfCmd.MAP_UPDATE_BATCH, { map_fd: this.fd, keys, values, count, elem_flags: flags }, `map ${this.name}`);
  }

  /** Reads every element in batches of `batchSize`; returns [keys, values] pairs. */
  lookupBatch(batchSize = 256): Array<[Uint8Array, Uint8Array]> {
    this.check();
    const out: Array<[Uint8Array, Uint8Array]> = [];
    // The kernel's opaque batch cursor: at least the key size (hash maps use 4 bytes).
    const cursorSize = Math.max(this.spec.keySize, 8);
    let inBatch: Uint8Array | null = null;
    for (;;) {
      const outBatch = new Uint8Array(cursorSize);
      const keys = new Uint8Array(batchSize * this.spec.keySize);
      const values = new Uint8Array(batchSize * this.valueBytes);
      const r = tryBpf(BpfCmd.MAP_LOOKUP_BATCH, {
        in_batch: inBatch,
        out_batch: outBatch,
        keys,
        values,
        count: batchSize,
        map_fd: this.fd,
      });
      const count = readAttrU32(r.req, "count");
      for (let i = 0; i < count; i++) {
        out.push([
          keys.slice(i * this.spec.keySize, (i + 1) * this.spec.keySize),
          values.slice(i * this.valueBytes, (i + 1) * this.valueBytes),
        ]);
      }
      if (r.ret === -1) {
        if (r.errno === ENOENT) return out; // no more elements
        throw new SyscallError(r.req, r.errno, `map ${this.name}`);
      }
      inBatch = outBatch;
    }
  }

  /** Deletes the given keys in one call; returns how many were deleted. */
  deleteBatch(keys: Uint8Array): number {
    this.check();
    const count = keys.byteLength / this.spec.keySize;
    const r = tryBpf(BpfCmd.MAP_DELETE_BATCH, { map_fd: this.fd, keys, count });
    if (r.ret === -1 && r.errno !== ENOENT) throw new SyscallError(r.req, r.errno, `map ${this.name}`);
    return readAttrU32(r.req, "count");
  }

  /** BPF_MAP_FREEZE: user space can no longer write the map (the verifier may then trust .rodata). */
  freeze(): void {
    this.check();
    bpf(BpfCmd.MAP_FREEZE, { map_fd: this.fd }, `freezing map ${this.name}`);
  }

  /**
   * mmaps the value of a BPF_F_MMAPABLE array. A frozen map can only be
   * mapped read-only: the kernel refuses PROT_WRITE after MAP_FREEZE.
   */
  mmap(writable: boolean): MapMapping {
    this.check();
    if (this.mapping) return this.mapping;
    if (!(this.spec.flags & BPF_F_MMAPABLE) || this.spec.type !== BpfMapType.ARRAY) {
      throw new StateError(`map ${this.name} is not an mmapable array`);
    }
    const length = Math.ceil((this.spec.valueSize * this.spec.maxEntries) / PAGE_SIZE) * PAGE_SIZE;
    const address = syscallAddress({
      call: "mmap",
      addr: 0n,
      length,
      prot: PROT_READ | (writable ? PROT_WRITE : 0),
      flags: MAP_SHARED,
      fd: this.fd,
      offset: 0,
    });
    const bytes = new Uint8Array(memoryView(address, length), 0, this.spec.valueSize * this.spec.maxEntries);
    this.mapping = { address, length, bytes, writable };
    return this.mapping;
  }

  get mapped(): MapMapping | undefined {
    return this.mapping;
  }

  /**
   * Registers a reader (RingBuffer, PerfBuffer) to be closed when this map
   * is: a ring's mmap holds the map in the kernel, so an unclosed reader
   * would keep it alive after its object is destroyed. Returns the function
   * that unregisters it (the reader calls it when closed first).
   */
  trackReader(reader: MapReader): () => void {
    this.check();
    const ref = new WeakRef(reader);
    this.readers.add(ref);
    return () => this.readers.delete(ref);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const ref of [...this.readers]) ref.deref()?.close();
    this.readers.clear();
    if (this.mapping) {
      trySyscall({ call: "munmap", addr: this.mapping.address, length: this.mapping.length });
      this.mapping = undefined;
    }
    closeFd(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
