/**
 * Map specifications: what a map should be, before it exists in the kernel.
 * They come from global-data sections (.bss, .data, .rodata, ...) and from
 * BTF-defined maps in SEC(".maps").
 */
import { BpfMapType } from "../abi/uapi-enums.js";

export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_NUMA_NODE = 1 << 2;
export const BPF_F_RDONLY = 1 << 3;
export const BPF_F_WRONLY = 1 << 4;
export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_WRONLY_PROG = 1 << 8;
export const BPF_F_MMAPABLE = 1 << 10;
export const BPF_F_INNER_MAP = 1 << 12;

/** LIBBPF_PIN_* values of a BTF map's `pinning` attribute. */
export enum PinningType {
  None = 0,
  ByName = 1,
}

/** Which kind of global-data section a data map holds. */
export type DataSectionKind = "data" | "rodata" | "bss" | "kconfig";

export interface MapSpec {
  /** The name the kernel sees (internal data maps: "minimal.bss"). */
  name: string;
  /** For global-data maps, the section it holds (".bss"); users may use either name. */
  sectionName?: string;
  type: BpfMapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode?: number;
  mapExtra?: bigint;
  pinning?: PinningType;
  /** Global-data map: its kind and initial contents (one value, key 0). */
  data?: { kind: DataSectionKind; initial: Uint8Array };
  /** Freeze after the initial contents are written (.rodata, .kconfig). */
  freeze: boolean;
  /** BTF type ids of key and value in the object's BTF (0 when unknown). */
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** Map-in-map: the spec of the inner map. */
  innerMap?: MapSpec;
  /** `.values` initialisers: slot index → name of the map or program to store. */
  initSlots?: Map<number, string>;
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
