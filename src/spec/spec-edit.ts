/**
 * Editing a parsed object before it is loaded — what libbpf's
 * bpf_program__set_* / bpf_map__set_* and cilium's CollectionSpec edits do:
 * give a custom-section program its type, size a map whose max_entries the
 * object leaves to user space, reuse a map that already exists.
 *
 * Specs are frozen (see ObjectSpec); an editor never changes one in place,
 * it hands its ObjectSpec a changed copy.
 */
import { BpfAttachTypeNames, BpfMapType, type BpfAttachType, BpfProgType, BpfProgTypeNames } from "../abi/uapi-enums.js";
import { TsbpfError, UnsupportedError } from "../errors.js";
import { type MapSpec, ringbufSize } from "./map-spec.js";
import type { ProgramSpec } from "./object-spec.js";
import { conventionFor } from "./section-types.js";

/** How an editor reads and replaces the entry it edits; replace() refuses once the spec is sealed. */
export interface EditSlot<T> {
  current(): T;
  replace(next: T): void;
}

const U32_MAX = 0xffff_ffff;

function checkU32(what: string, value: number, min = 0): number {
  if (!Number.isInteger(value) || value < min || value > U32_MAX) {
    throw new TsbpfError(`${what} must be an integer from ${min} to ${U32_MAX}, got ${value}`);
  }
  return value;
}

function checkFd(what: string, fd: number): number {
  if (!Number.isInteger(fd) || fd < 0) throw new TsbpfError(`${what} must be an open file descriptor, got ${fd}`);
  return fd;
}

/** Verifier log levels the kernel accepts: BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2 | BPF_LOG_STATS. */
const LOG_LEVEL_BITS = 1 | 2 | 4;

export class ProgramEditor {
  constructor(private readonly slot: EditSlot<ProgramSpec>) {}

  /** The program's spec as edited so far. */
  get spec(): ProgramSpec {
    return this.slot.current();
  }

  private what(): string {
    return `program ${this.spec.name}`;
  }

  private set(change: Partial<ProgramSpec>): this {
    this.slot.replace(Object.freeze({ ...this.spec, ...change }));
    return this;
  }

  /**
   * The program type (BPF_PROG_TYPE_*). How it attaches follows: that of the
   * first section convention with this type (and expected attach type).
   */
  setType(type: BpfProgType): this {
    if (type === BpfProgType.UNSPEC || BpfProgTypeNames[type] === undefined) {
      throw new TsbpfError(`${this.what()}: ${type} is not a BPF program type`);
    }
    const { def, target } = this.spec.section;
    return this.set({ section: Object.freeze({ def: conventionFor(type, def.expectedAttachType, def), target }) });
  }

  /** expected_attach_type (BPF_*; 0 for none), which some program types need at load. */
  setExpectedAttachType(type: BpfAttachType | 0): this {
    if (type !== 0 && BpfAttachTypeNames[type] === undefined) throw new TsbpfError(`${this.what()}: ${type} is not a BPF attach type`);
    const { def, target } = this.spec.section;
    return this.set({ section: Object.freeze({ def: conventionFor(def.progType, type, def), target }) });
  }

  /**
   * What the program attaches to, as its section name would say after the
   * slash: a kernel function for fentry/fexit, a tracepoint for tp_btf
   * (both looked up in kernel BTF at load), "category/name" for tp,
   * "PATH:FUNC" for uprobe.
   */
  setAttachTarget(target: string): this {
    return this.set({ section: Object.freeze({ def: this.spec.section.def, target }) });
  }

  /** prog_flags (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, ...), replacing the section's. */
  setFlags(flags: number): this {
    return this.set({ flags: checkU32(`${this.what()}: flags`, flags) });
  }

  /** Whether load() loads this program; all programs load by default. */
  setAutoload(autoload: boolean): this {
    return this.set({ autoload });
  }

  /**
   * Verifier log level of the load (1 verbose, 2 more, 4 statistics; 0 the
   * default: a log only if the verifier refuses). The log of a successful
   * load is then kept as BpfProgram.verifierLog.
   */
  setLogLevel(level: number): this {
    if (!Number.isInteger(level) || level < 0 || (level & ~LOG_LEVEL_BITS) !== 0) {
      throw new TsbpfError(`${this.what()}: log level must combine 1, 2 and 4, got ${level}`);
    }
    return this.set({ logLevel: level });
  }
}

const MAP_IN_MAP: ReadonlySet<BpfMapType> = new Set([BpfMapType.ARRAY_OF_MAPS, BpfMapType.HASH_OF_MAPS]);

export class MapEditor {
  constructor(private readonly slot: EditSlot<MapSpec>) {}

  /** The map's spec as edited so far. */
  get spec(): MapSpec {
    return this.slot.current();
  }

  private what(): string {
    return `map ${this.spec.name}`;
  }

  private set(change: Partial<MapSpec>): this {
    this.slot.replace(Object.freeze({ ...this.spec, ...change }));
    return this;
  }

  /** Global-data maps are sized by their section: their layout is the program's. */
  private checkResizable(): void {
    if (this.spec.data) {
      throw new UnsupportedError(`${this.what()} holds ${this.spec.sectionName}: its size is that of the section, set at compile time`);
    }
  }

  /** max_entries (a ring buffer's is rounded up to a power-of-2 number of pages, as libbpf does). */
  setMaxEntries(n: number): this {
    this.checkResizable();
    checkU32(`${this.what()}: max_entries`, n);
    const type = this.spec.type;
    return this.set({ maxEntries: type === BpfMapType.RINGBUF || type === BpfMapType.USER_RINGBUF ? ringbufSize(n) : n });
  }

  /** key_size. The key's BTF type no longer describes a key of another size: the map is created without it. */
  setKeySize(size: number): this {
    this.checkResizable();
    checkU32(`${this.what()}: key_size`, size);
    return size === this.spec.keySize ? this : this.set({ keySize: size, btfKeyTypeId: 0 });
  }

  /** value_size. As for setKeySize, a changed size drops the value's BTF type. */
  setValueSize(size: number): this {
    this.checkResizable();
    checkU32(`${this.what()}: value_size`, size, 1);
    return size === this.spec.valueSize ? this : this.set({ valueSize: size, btfValueTypeId: 0 });
  }

  /** map_flags (BPF_F_NO_PREALLOC, BPF_F_MMAPABLE, ...), replacing the object's. */
  setFlags(flags: number): this {
    return this.set({ flags: checkU32(`${this.what()}: flags`, flags) });
  }

  private checkMapInMap(): void {
    if (!MAP_IN_MAP.has(this.spec.type)) throw new UnsupportedError(`${this.what()} is not a map of maps: it has no inner map`);
  }

  /** Map of maps: the spec its inner maps follow (a template of it is created at load). */
  setInnerMap(inner: MapSpec): this {
    this.checkMapInMap();
    const { innerMapFd: _, ...rest } = this.spec;
    this.slot.replace(Object.freeze({ ...rest, innerMap: Object.freeze({ ...inner }) }));
    return this;
  }

  /** Map of maps: an existing map as the inner-map template (libbpf's bpf_map__set_inner_map_fd). The caller keeps `fd` open until load. */
  setInnerMapFd(fd: number): this {
    this.checkMapInMap();
    return this.set({ innerMapFd: checkFd(`${this.what()}: inner map fd`, fd) });
  }

  /**
   * Use the existing map behind `fd` instead of creating one (libbpf's
   * bpf_map__reuse_fd): two objects then share it. Load opens its own fd for
   * it and checks it is compatible (type, sizes, entries, flags); the caller
   * keeps `fd` open until load.
   */
  reuseFd(fd: number): this {
    return this.set({ reuseFd: checkFd(`${this.what()}: fd to reuse`, fd) });
  }
}
