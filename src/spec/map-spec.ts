/**
 * Map specifications: what a map should be, before it exists in the kernel.
 * They come from global-data sections (.bss, .data, .rodata, ...) and from
 * BTF-defined maps in SEC(".maps").
 */
import { BpfMapType } from "../abi/uapi-enums.js";
import type { StructOpsSpec } from "./struct-ops.js";

/** LIBBPF_PIN_* values of a BTF map's `pinning` attribute. */
export enum PinningType {
  None = 0,
  ByName = 1,
}

/** Which kind of global-data section a data map holds. */
export type DataSectionKind = "data" | "rodata" | "bss" | "kconfig";

export interface MapSpec {
  /** The name the kernel sees (internal data maps: "minimal.bss"). */
  readonly name: string;
  /** For global-data maps, the section it holds (".bss"); users may use either name. */
  readonly sectionName?: string;
  readonly type: BpfMapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly numaNode?: number;
  readonly mapExtra?: bigint;
  readonly pinning?: PinningType;
  /**
   * Global-data map: its kind and initial contents (one value, key 0). The
   * contents may be shared between specs (see ObjectSpec): read them with
   * data.read(), change them through ObjectSpec.setVariable, never in place.
   */
  readonly data?: InitialData;
  /** Freeze after the initial contents are written (.rodata, .kconfig). */
  readonly freeze: boolean;
  /** BTF type ids of key and value in the object's BTF (0 when unknown). */
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  /** Map-in-map: the spec of the inner map (the kernel needs a template map at creation). */
  readonly innerMap?: MapSpec;
  /** Map-in-map: an existing map (fd) to use as the template instead of creating one from innerMap. */
  readonly innerMapFd?: number;
  /** `.values` initialisers: slot index → name of the map or program to store. */
  readonly initSlots?: ReadonlyMap<number, string>;
  /** Load uses this existing map (fd) instead of creating one, as libbpf's bpf_map__reuse_fd. */
  readonly reuseFd?: number;
  /** struct_ops maps (SEC(".struct_ops"), SEC(".struct_ops.link")): the struct and its programs. */
  readonly structOps?: StructOpsSpec;
  /** struct_ops maps: the value's type in the kernel's BTF (bpf_struct_ops_<name>), set at load. */
  readonly btfVmlinuxValueTypeId?: number;
}

/** The kernel wants a ring buffer's size a power-of-2 multiple of the page size; libbpf rounds up. */
export function ringbufSize(requested: number): number {
  let size = 4096; // libbpf rounds to the host's page size: 4 KiB on the architectures tsbpf targets
  while (size < requested) size *= 2;
  return size;
}

/** The map types whose value is one array slot per possible CPU. */
export function isPerCpu(type: BpfMapType): boolean {
  return (
    type === BpfMapType.PERCPU_ARRAY ||
    type === BpfMapType.PERCPU_HASH ||
    type === BpfMapType.LRU_PERCPU_HASH ||
    type === BpfMapType.PERCPU_CGROUP_STORAGE
  );
}

/**
 * The initial contents of a global-data map (one value), created only when
 * needed: a 256 MiB .bss is 256 MiB of zeros that are neither in the file
 * nor worth allocating, since the kernel zero-fills a new map. A section
 * with bytes keeps a view of the file (which must not change). Readers use
 * read(); the bytes are created by `initial`, which an ObjectSpec calls on
 * its own copy() only, to write a variable (a parse's InitialData is shared
 * by every spec of that file and is only read).
 */
export class InitialData {
  /** The bytes once created; a private field, so a frozen InitialData can still create them. */
  #value: Uint8Array | undefined;

  /** `source`: the section's bytes in the file; none for zeros (.bss, .kconfig before load). */
  constructor(
    readonly kind: DataSectionKind,
    readonly size: number,
    private readonly source?: Uint8Array,
  ) {}

  /** The whole value, writable: created on first use, as a copy of the section's bytes or as zeros. */
  get initial(): Uint8Array {
    // new Uint8Array(view) copies; a Buffer's slice() would not (the file's bytes may be a Buffer).
    this.#value ??= this.source ? new Uint8Array(this.source.subarray(0, this.size)) : new Uint8Array(this.size);
    return this.#value;
  }

  /** Bytes [offset, offset + length), read-only, without creating the whole value. */
  read(offset: number, length: number): Uint8Array {
    const bytes = this.#value ?? this.source;
    return bytes ? bytes.subarray(offset, offset + length) : new Uint8Array(Math.max(0, Math.min(length, this.size - offset)));
  }

  /** All zeros, and nothing was ever written: a new map already holds this value. */
  get zeroFilled(): boolean {
    return this.#value === undefined && this.source === undefined;
  }

  /** An independent copy (sharing the file's bytes): what one spec writes, another does not see. */
  copy(): InitialData {
    const c = new InitialData(this.kind, this.size, this.source);
    if (this.#value) c.#value = new Uint8Array(this.#value);
    return c;
  }
}
