/**
 * What a BpfObject tells a listener while it loads and attaches: one typed
 * step per thing it does, as data (the CLI's --explain and -v render them
 * as text; a library user can log, count or assert on them).
 *
 * Order: a step that stands for a syscall is emitted just before that
 * syscall, so steps and a syscall trace (observeSyscalls, --trace)
 * interleave in the order things happen. Steps with no syscall of their own
 * (CO-RE relocations, references bound) precede the PROG_LOAD they feed;
 * "program-loaded" and "btf-refused" report an outcome, after the call.
 */
import type { BpfProgType } from "../abi/uapi-enums.js";
import type { CoreRelocationReport } from "../core/index.js";
import type { Reference } from "../insn/insn.js";
import type { MapSpec } from "../spec/map-spec.js";
import type { AttachKind } from "../spec/section-types.js";
import type { AttachStep } from "../programs/attach/attach-steps.js";

export type LoadStep =
  /** The kernel cannot load BTF at all: the load goes on without it. No syscall. */
  | { kind: "btf-unsupported" }
  /** BPF_BTF_LOAD of the object's BTF (sanitised for this kernel). */
  | { kind: "btf-load"; bytes: number; types: number }
  /** The kernel refused the object's BTF (after BPF_BTF_LOAD); the load goes on without it. */
  | { kind: "btf-refused"; error: string }
  /** The BTF CO-RE relocates against is read (`path`, or a Btf the caller gave). */
  | { kind: "kernel-btf"; path: string }
  /** BPF_MAP_CREATE of a map-in-map's inner template (closed once the outer map exists). */
  | { kind: "inner-map-create"; map: string; inner: MapSpec }
  /** BPF_MAP_CREATE; key and value type names come from the object's BTF. */
  | { kind: "map-create"; map: MapSpec; keyType?: string; valueType?: string }
  /** A LIBBPF_PIN_BY_NAME map is looked for at `path` (statfs: is the pin root on bpffs; access of the path). */
  | { kind: "pin-lookup"; map: string; path: string }
  /** An existing map stands in for the spec's: a pinned one (BPF_OBJ_GET) or one given by fd (BPF_OBJ_GET_INFO_BY_FD). */
  | { kind: "map-reuse"; map: string; pinned?: string; fd?: number }
  /** BPF_OBJ_PIN of a LIBBPF_PIN_BY_NAME map. */
  | { kind: "map-pin"; map: string; path: string }
  /** BPF_MAP_UPDATE_ELEM of a global-data map's initial contents. */
  | { kind: "map-init"; map: string; section: string; bytes: number }
  /** BPF_MAP_FREEZE of .rodata/.kconfig. */
  | { kind: "map-freeze"; map: string }
  /** One CO-RE relocation resolved and patched (no syscall). */
  | { kind: "core-relocation"; program: string; report: CoreRelocationReport }
  /**
   * A map, global, subprogram or kernel-symbol reference bound in instruction
   * `insn` (no syscall): `imm` and `src` are the instruction's as loaded (a
   * map fd; a call's offset; for externs src 2 is a kfunc call, 3 a BTF id).
   */
  | { kind: "reference"; program: string; insn: number; reference: Reference; imm: number; src: number }
  /** BPF_PROG_LOAD (repeated with a verifier log if the kernel refuses). */
  | { kind: "program-load"; program: string; type: BpfProgType; section: string; insns: number }
  /** The verifier accepted the program (after BPF_PROG_LOAD). */
  | { kind: "program-loaded"; program: string; fd: number; verifierStats?: string[] }
  /** BPF_MAP_UPDATE_ELEM of a `.values` initialiser: a program or map fd into a slot. */
  | { kind: "slot-fill"; map: string; slot: number; target: string; fd: number }
  /** A `.values` slot left empty: its program is not loaded (autoload off). No syscall. */
  | { kind: "slot-skip"; map: string; slot: number; program: string }
  /** mmap of a global-data map into this process. */
  | { kind: "map-mmap"; map: string; section: string; writable: boolean }
  /** The syscalls that attach a program (perf_event_open, BPF_LINK_CREATE, ...). */
  | { kind: "attach"; program: string; attach: AttachKind; target: string }
  /** BPF_MAP_UPDATE_ELEM of a struct_ops map's value, then BPF_LINK_CREATE for a .struct_ops.link map. */
  | { kind: "struct-ops-register"; map: string; type: string; link: boolean }
  /** BPF_PROG_BIND_MAP of a read-only data map to a program that may not reference it (libbpf does it for metadata). */
  | { kind: "map-bind"; program: string; map: string }
  /** A kernel feature probe made during the load (a throwaway map/program/BTF): its answer is cached per process. */
  | { kind: "feature-probe"; feature: string }
  /** Something libbpf would warn about; the load goes on. */
  | { kind: "warning"; message: string }
  /** The attachment's own steps (tracefs id, perf_event_open, the perf link, enabling the event): see attach-steps.ts. */
  | AttachStep
  /**
   * Reading a ring buffer: one mmap of the consumer page read-write, one of
   * the producer page and the data pages read-only (the data mapped twice
   * in a row, so a record that wraps reads as one), and an epoll set that
   * wakes when the kernel adds records.
   */
  | { kind: "ring-buffer"; map: string; dataBytes: number };

export type LoadStepKind = LoadStep["kind"];

/** A narration hook (OpenOptions.onStep). */
export type StepListener = (step: LoadStep) => void;
