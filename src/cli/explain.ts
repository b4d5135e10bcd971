/**
 * The load narrated, from the typed steps BpfObject emits (load-steps.ts):
 * --explain gives each kind of step, the first time it happens, a short
 * paragraph on why a loader does it, then lists every occurrence with what
 * it did here; -v prints one "[label] detail" line per step. Every step kind
 * must have a label, a paragraph and a detail line: a new kind that lacks
 * one does not compile.
 */
import { BpfMapTypeNames, BpfProgTypeNames } from "../abi/uapi-enums.js";
import { MAP_FLAG_NAMES } from "../abi/uapi-flags.js";
import type { Reference } from "../insn/insn.js";
import type { MapSpec } from "../spec/map-spec.js";
import type { LoadStep, LoadStepKind, StepListener } from "../object/load-steps.js";

const LABEL: Record<LoadStepKind, string> = {
  "btf-unsupported": "BTF",
  "btf-load": "load BTF",
  "btf-refused": "BTF",
  "kernel-btf": "kernel BTF",
  "inner-map-create": "create inner map",
  "map-create": "create map",
  "pin-lookup": "find pinned map",
  "map-reuse": "reuse map",
  "map-pin": "pin map",
  "map-init": "initialise map",
  "map-freeze": "freeze map",
  "core-relocation": "CO-RE",
  reference: "relocate",
  "program-load": "load program",
  "program-loaded": "program loaded",
  "slot-fill": "fill slot",
  "slot-skip": "skip slot",
  "map-mmap": "mmap map",
  attach: "attach",
  "struct-ops-register": "register",
  "map-bind": "bind map",
  "feature-probe": "probe",
  warning: "warning",
  "tracefs-id": "tracepoint id",
  "perf-event-open": "open perf event",
  "perf-link": "link",
  "perf-enable": "enable event",
  "ring-buffer": "ring buffer",
};

const BTF_SKIPPED =
  "The kernel cannot take the object's BTF; the load goes on without it (programs then load without BTF-based checks, and bpftool shows maps as raw bytes).";

const WHY: Record<LoadStepKind, string> = {
  "btf-unsupported": BTF_SKIPPED,
  "btf-load":
    "BTF (BPF Type Format) describes the object's types: structs, map keys and values, functions. It is loaded into the kernel first because maps and programs refer to it by fd: the verifier uses it to check function signatures, and tools like bpftool use it to print map contents as C values.",
  "btf-refused": BTF_SKIPPED,
  "kernel-btf":
    "The object was compiled against some kernel's struct layouts. CO-RE (Compile Once, Run Everywhere) fixes that up here: the loader reads this kernel's own BTF and rewrites each field access to the offsets this kernel really uses.",
  "inner-map-create":
    "A map of maps holds other maps. The kernel checks every map put into it against a template given at creation, so the loader creates one inner map as that template and closes it once the outer map exists.",
  "map-create":
    "Maps are the kernel-side data structures programs and user space share. They must exist before the programs, because a program's instructions embed each map's fd.",
  "pin-lookup":
    "A map declared with LIBBPF_PIN_BY_NAME is shared through the BPF filesystem: the loader checks that the pin root is on one, then looks for a map already pinned under the map's name.",
  "map-reuse":
    "A map that already exists stands in for this one — pinned under its name, or handed over by fd — so several objects share it, contents and all; it must match the spec (type, sizes, entries, flags).",
  "map-pin": "A pinned map has a path in the BPF filesystem, so it outlives this process and other objects can share it.",
  "map-init":
    "Global variables live in single-element ARRAY maps, one per section (.data, .rodata, .bss). Their initial values, as compiled (or as set before load), are written into the map.",
  "map-freeze":
    ".rodata is frozen after its values are written: from then on not even user space can change it, so the verifier may treat its values as constants and prune code that depends on them.",
  "core-relocation":
    "Each CO-RE relocation names a field or type by its C access path; the loader looked it up in this kernel's BTF and patched the instruction with the answer.",
  reference:
    "Instructions that refer to maps, global variables, subprograms or kernel symbols are patched now that the targets exist: an ld_imm64 gets a map's fd, a call gets its relative offset.",
  "program-load":
    "BPF_PROG_LOAD hands the instructions to the verifier, which proves the program safe (bounded loops, checked memory accesses, valid helper calls) before the kernel JIT-compiles it.",
  "program-loaded": "The verifier accepted the program; the kernel returned an fd that represents it.",
  "slot-fill":
    "A program array (for tail calls) or a map of maps declared with initial slots gets them now that their programs and maps exist: each slot is written with the fd of what it holds.",
  "slot-skip": "A slot names a program that is not loaded (its autoload is off), so the slot stays empty.",
  "map-mmap":
    "Global-data maps are mapped into this process, so reading and writing a global variable from JavaScript touches the very memory the program sees — no syscall per access.",
  attach:
    "Loading does not run anything: attaching connects the program to an event. A tracepoint program gets a perf event for the tracepoint, and a bpf_link binds the program to it; closing the link detaches it.",
  "struct-ops-register":
    "A struct_ops map is a kernel struct of callbacks (a TCP congestion control, a scheduler) whose members are BPF programs. Writing its value — the struct, with each program's fd in its member — makes the kernel check it and register it under its name; a .struct_ops.link map is registered through a bpf_link instead, and closing the link unregisters it.",
  "map-bind":
    "BPF_PROG_BIND_MAP makes a program hold a map it never references, as libbpf does for .rodata: `bpftool prog show` then lists the map and prints the object's bpf_metadata_* variables.",
  "feature-probe":
    "Before using a feature that older kernels lack, a loader asks the kernel: it creates a throwaway map or program that uses the feature and keeps the answer for the rest of the process, as libbpf does.",
  "tracefs-id":
    "perf_event_open names a tracepoint by number, not by name: the kernel publishes each tracepoint's number in tracefs, in events/CATEGORY/NAME/id, so the loader reads it there first.",
  "perf-event-open":
    "perf_event_open creates a perf event for the tracepoint (pid -1: every process; one event serves every CPU). The event is what the program hangs off; it is created enabled but has no program yet.",
  "perf-link":
    "BPF_LINK_CREATE with attach type BPF_PERF_EVENT binds the program to the perf event and returns a link fd: the attachment lives as long as the link (closing it detaches the program, and a pinned link outlives the process). Kernels before 5.15 have no perf links; there ioctl(PERF_EVENT_IOC_SET_BPF) binds the program instead.",
  "perf-enable": "ioctl(PERF_EVENT_IOC_ENABLE) switches the event on: from now on each time the tracepoint fires, the program runs.",
  "ring-buffer":
    "A BPF ring buffer is read through shared memory, not syscalls: the consumer page (the reader's position) is mapped read-write; the producer page and the data pages read-only — the data twice in a row, so a record that wraps around the end reads as one contiguous piece. An epoll set on the map's fd wakes the reader when the kernel has added records.",
  warning:
    "Something libbpf would warn about too (a kconfig string truncated to its array, a map that could not be bound); the load goes on.",
};

/** "exec_start: BPF_MAP_TYPE_HASH, key pid_t (4 B), value u64 (8 B), 8192 entries". */
function describeMap(spec: MapSpec, keyType?: string, valueType?: string): string {
  const t = (name: string | undefined, size: number) => (name ? `${name} (${size} B)` : `${size} B`);
  const flags = MAP_FLAG_NAMES.filter(([bit]) => spec.flags & bit).map(([, n]) => n);
  return (
    `${spec.name}: ${BpfMapTypeNames[spec.type] ?? spec.type}, key ${t(keyType, spec.keySize)}, value ${t(valueType, spec.valueSize)}, ` +
    `${spec.maxEntries} entries${flags.length ? `, flags ${flags.join("|")}` : ""}${spec.sectionName ? ` — holds ${spec.sectionName}` : ""}`
  );
}

function describeReference(program: string, insn: number, ref: Reference, imm: number, src: number): string {
  switch (ref.kind) {
    case "map":
      return `${program}: ld_imm64 at insn ${insn} now points at map ${ref.map} (fd ${imm})`;
    case "map_value":
      return `${program}: ld_imm64 at insn ${insn} now points at ${ref.symbol ?? `offset ${ref.offset}`} inside map ${ref.map} (fd ${imm}, offset ${ref.offset})`;
    case "call":
      return `${program}: call at insn ${insn} jumps ${imm + 1} instructions to subprogram ${ref.function}`;
    case "func_addr":
      return `${program}: ld_imm64 at insn ${insn} now holds the address of subprogram ${ref.function} (a callback)`;
    case "extern":
      return `${program}: insn ${insn} uses kernel symbol ${ref.name} (${src === 2 ? `kfunc, BTF id ${imm}` : src === 3 ? `BTF id ${imm}` : "address from kallsyms"})`;
    default:
      return unreachable(ref);
  }
}

/** What one step did here, in one line. */
export function stepDetail(step: LoadStep): string {
  switch (step.kind) {
    case "btf-unsupported":
      return "this kernel cannot load BTF; continuing without it";
    case "btf-load":
      return `${step.bytes} bytes, ${step.types} types`;
    case "btf-refused":
      return `${step.error}; continuing without BTF`;
    case "kernel-btf":
      return `reading ${step.path} for CO-RE`;
    case "inner-map-create":
      return `for ${step.map}: ${describeMap(step.inner)}`;
    case "map-create":
      return describeMap(step.map, step.keyType, step.valueType);
    case "pin-lookup":
      return `${step.map} at ${step.path}`;
    case "map-reuse":
      return step.pinned !== undefined ? `${step.map} from ${step.pinned}` : `${step.map} from fd ${step.fd}`;
    case "map-pin":
      return `${step.map} at ${step.path}`;
    case "map-init":
      return `${step.map}: wrote the ${step.bytes} initial bytes of ${step.section}`;
    case "map-freeze":
      return `${step.map}: now read-only for user space too`;
    case "core-relocation": {
      const r = step.report;
      return r.poisoned
        ? `${step.program}: relocation #${r.number} failed: ${r.failure}; instruction #${r.insnIndex} poisoned`
        : `${step.program}: ${r.explanation}`;
    }
    case "reference":
      return describeReference(step.program, step.insn, step.reference, step.imm, step.src);
    case "program-load":
      return `${step.program}: ${step.insns} instructions, ${BpfProgTypeNames[step.type] ?? `type ${step.type}`} (section "${step.section}")`;
    case "program-loaded":
      return `${step.program}: the verifier accepted it; fd ${step.fd}${(step.verifierStats ?? []).map((l) => `\n    verifier: ${l}`).join("")}`;
    case "slot-fill":
      return `${step.map}[${step.slot}] = ${step.target} (fd ${step.fd})`;
    case "slot-skip":
      return `${step.map}[${step.slot}]: program ${step.program} is not loaded (autoload off)`;
    case "map-mmap":
      return `${step.map}: ${step.section} mapped ${step.writable ? "read-write" : "read-only"} into this process`;
    case "attach":
      return `${step.program} → ${step.attach}${step.target ? ` ${step.target}` : ""}`;
    case "struct-ops-register":
      return `${step.map}: struct ${step.type}${step.link ? ", through a bpf_link" : ""}`;
    case "map-bind":
      return `${step.map} bound to ${step.program}`;
    case "feature-probe":
      return step.feature;
    case "warning":
      return step.message;
    case "tracefs-id":
      return `${step.tracepoint}: tracefs ${step.path}`;
    case "perf-event-open":
      return `${step.program}: ${step.event}`;
    case "perf-link":
      return `${step.program} → ${step.event}`;
    case "perf-enable":
      return step.event;
    case "ring-buffer":
      return `${step.map}: ${step.dataBytes} data bytes, mapped twice`;
    default:
      return unreachable(step);
  }
}

/** A step kind (or reference kind) added without its text fails to compile here. */
function unreachable(x: never): never {
  throw new Error(`no text for ${JSON.stringify(x)}`);
}

/** A step kind's short name ("maps", "CO-RE", ...). */
export function stepLabel(kind: LoadStepKind): string {
  return LABEL[kind];
}

/** --explain: the why of each kind of step, then what it did. */
export function explainListener(write: (text: string) => void): StepListener {
  const seen = new Set<LoadStepKind>();
  let last: LoadStepKind | undefined;
  return (step) => {
    if (!seen.has(step.kind)) {
      seen.add(step.kind);
      write(`\n== ${LABEL[step.kind]} ==\n${wrap(WHY[step.kind])}\n`);
    } else if (step.kind !== last) {
      write(`-- ${LABEL[step.kind]}\n`);
    }
    last = step.kind;
    write(`  • ${stepDetail(step)}\n`);
  };
}

/** -v: one line per step. */
export function verboseListener(write: (text: string) => void): StepListener {
  return (step) => write(`[${LABEL[step.kind]}] ${stepDetail(step)}\n`);
}

/** Neither -v nor --explain: only what libbpf would warn about. */
export function warningListener(write: (text: string) => void): StepListener {
  return (step) => {
    if (step.kind === "warning") write(`tsbpf: warning: ${step.message}\n`);
  };
}

function wrap(text: string, width = 78): string {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join("\n");
}
