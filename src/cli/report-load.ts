/**
 * A load recorded for `tsbpf report`: every syscall from open to cleanup
 * with its start, duration and strace line (the --trace printer's own
 * text), grouped by the phase the load steps say it belongs to, each with
 * the narration (--explain's text) of the steps that led to it; then, per
 * program, the instructions PROG_LOAD sent, the kernel's translation
 * (bpftool's xlated text) and the verifier's statistics.
 */
import type { Btf } from "../btf/btf.js";
import { annotationContext, instructionRows } from "../disasm/disasm.js";
import { decodeInstructions, type Instruction } from "../insn/insn.js";
import { BpfObject } from "../object/bpf-object.js";
import type { LoadStep, LoadStepKind } from "../object/load-steps.js";
import { type ObjectView, rowsOf } from "../report/object-view.js";
import type { LoadView, Phase, SyscallView } from "../report/report-data.js";
import { inspectObject } from "../spec/inspect.js";
import { ANNOTATION_PREFIX, startTracer } from "../strace/tracer.js";
import { observeSyscalls } from "../syscall/kernel.js";
import { isBpfCmd } from "../syscall/requests.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { stepDetail, stepLabel } from "./explain.js";
import { dumpXlated } from "./prog-dump.js";
import { applySetOption } from "./set-option.js";

const PHASE_OF: Partial<Record<LoadStepKind, Phase>> = {
  "feature-probe": "probes",
  "btf-unsupported": "btf",
  "btf-load": "btf",
  "btf-refused": "btf",
  "kernel-btf": "btf",
  "inner-map-create": "maps",
  "map-create": "maps",
  "pin-lookup": "maps",
  "map-reuse": "maps",
  "map-pin": "maps",
  "map-init": "maps",
  "map-freeze": "maps",
  "slot-fill": "maps",
  "slot-skip": "maps",
  "map-mmap": "maps",
  "core-relocation": "programs",
  reference: "programs",
  "program-load": "programs",
  "program-loaded": "programs",
  "map-bind": "programs",
  attach: "attach",
  "struct-ops-register": "attach",
  "tracefs-id": "attach",
  "perf-event-open": "attach",
  "perf-link": "attach",
  "perf-enable": "attach",
  "ring-buffer": "attach",
};

/** "processed 23 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 1" */
function verifierNumbers(lines: readonly string[]): { processed: number; states: number; peakStates: number } {
  const all = lines.join(" ");
  const n = (re: RegExp) => Number(re.exec(all)?.[1] ?? 0);
  return { processed: n(/processed (\d+) insns/), states: n(/total_states (\d+)/), peakStates: n(/peak_states (\d+)/) };
}

/**
 * Opens `bytes`, applies --set, loads and attaches while recording, then
 * destroys everything; fills the loaded columns of `view` in place.
 */
export function recordLoad(
  bytes: Uint8Array,
  path: string,
  view: ObjectView,
  opts: { set: readonly string[]; targetBtf?: Btf | undefined },
): { load: LoadView; set: Record<string, string> } {
  const syscalls: SyscallView[] = [];
  let phase: Phase = "setup";
  let pending: string[] = [];
  let currentProgram: string | undefined;
  const sent = new Map<string, Uint8Array>();
  const stats = new Map<string, string[]>();
  const onStep = (step: LoadStep) => {
    phase = PHASE_OF[step.kind] ?? phase;
    pending.push(`${stepLabel(step.kind)}: ${stepDetail(step)}`);
    if (step.kind === "program-load") currentProgram = step.program;
    if (step.kind === "program-loaded") {
      stats.set(step.program, step.verifierStats ?? []);
      currentProgram = undefined;
    }
    if (step.kind === "feature-probe") currentProgram = undefined;
  };
  // Opening and --set are pure (no syscalls): their errors are the usual ones, before anything is recorded.
  const obj = BpfObject.open(bytes, { path, verifierStats: true, onStep, ...(opts.targetBtf ? { targetBtf: opts.targetBtf } : {}) });
  const set = setValues(obj, opts.set);
  const load: LoadView = { syscalls, attached: [], readBack: 0 };
  let lastLine = "";
  const stopTracer = startTracer(
    (l) => {
      if (!l.startsWith(ANNOTATION_PREFIX)) lastLine = l;
    },
    { align: true },
  );
  let origin: bigint | undefined;
  let readingBack = false;
  const stopObserving = observeSyscalls((req, result, elapsedNs) => {
    if (readingBack) {
      load.readBack++;
      return;
    }
    const startNs = process.hrtime.bigint() - elapsedNs;
    origin ??= startNs;
    if (isBpfCmd(req, BpfCmd.PROG_LOAD) && result.ret >= 0 && currentProgram && req.values.insns instanceof Uint8Array) {
      sent.set(currentProgram, req.values.insns.slice());
    }
    syscalls.push({
      start: Number(startNs - origin) / 1000,
      duration: Number(elapsedNs) / 1000,
      phase,
      line: lastLine,
      failed: result.ret < 0,
      steps: pending,
    });
    pending = [];
  });
  try {
    obj.load();
    // What the page shows of the kernel's side (xlated, kallsyms, BTF by id) is read here, not part of the load.
    readingBack = true;
    for (const p of view.programs) {
      const program = obj.programs.find((q) => q.name === p.name);
      if (!program) continue;
      const spec = obj.spec.programs.find((q) => q.name === p.name)!;
      const bytesSent = sent.get(p.name);
      if (bytesSent) {
        // The bytes the kernel got, with the compiled instructions' metadata (names, source lines) kept.
        const raw = decodeInstructions(bytesSent, `PROG_LOAD of ${p.name}`);
        const insns: Instruction[] = raw.map((r, i) => ({ ...spec.insns[i], ...r }));
        const reports = obj.coreRelocations(p.name);
        const coreIndex = new Map<number, number>();
        for (const r of reports) {
          const row = view.core.findIndex((c) => c.program === p.name && c.insn === r.insnIndex);
          if (row >= 0) coreIndex.set(r.insnIndex, row);
        }
        const ctx = { ...annotationContext(obj.spec), coreAnswers: new Map(reports.map((r) => [r.insnIndex, r])) };
        p.loaded = rowsOf(insns, instructionRows(insns, ctx), coreIndex);
      }
      p.xlated = dumpXlated(program.fd, { linum: false, opcodes: false }).replace(/\n$/, "").split("\n");
      const lines = stats.get(p.name) ?? [];
      p.verifier = { ...verifierNumbers(lines), lines };
    }
    readingBack = false;
    for (const link of obj.attach()) load.attached.push(`${link.program} → ${link.kind} ${link.target}`.trim());
  } catch (e) {
    load.error = (e as Error).message;
  } finally {
    readingBack = false;
    phase = "cleanup";
    pending.push("cleanup: every link, program and map closed");
    obj.destroy();
    stopObserving();
    stopTracer();
  }
  return { load, set };
}

/** Applies --set to `obj` and returns each given global's value as inspect prints it. */
export function setValues(obj: BpfObject, assignments: readonly string[]): Record<string, string> {
  const given = applySetOption(obj, assignments);
  const set: Record<string, string> = {};
  for (const v of inspectObject(obj.spec).variables) if (given.has(v.name)) set[v.name] = v.initial;
  return set;
}
