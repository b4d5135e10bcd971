/**
 * The typed load steps (onStep) against the syscalls they stand for
 * (observeSyscalls): every step that stands for a syscall comes just before
 * it, and every syscall of the load is preceded by the step that explains
 * it. Then the CLI's -v / --explain text: the same order against --trace,
 * and no doubled labels.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BpfCmdNames, BpfProgType } from "../src/abi/uapi-enums.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { loadKernelBtf } from "../src/object/kernel-btf.js";
import type { LoadStep, LoadStepKind } from "../src/object/load-steps.js";
import { observeSyscalls } from "../src/syscall/kernel.js";
import { removePins, testPinDir } from "./helpers/pins.js";

type Call = { call: string; path?: string };
type Entry = { step: LoadStep } | Call;

/** A syscall as this test names it: "BPF_MAP_CREATE", "mmap", "openat" (with its path). */
function callOf(req: Parameters<Parameters<typeof observeSyscalls>[0]>[0]): Call {
  if (req.call === "bpf") return { call: BpfCmdNames[req.cmd] ?? `bpf ${req.cmd}` };
  if (req.call === "openat" || req.call === "access") return { call: req.call, path: req.path };
  return { call: req.call };
}

/** Which steps may explain each syscall of a load. */
const EXPLAINED_BY: Record<string, LoadStepKind[]> = {
  BPF_BTF_LOAD: ["btf-load", "feature-probe"],
  BPF_MAP_CREATE: ["map-create", "inner-map-create", "feature-probe"],
  BPF_MAP_UPDATE_ELEM: ["map-init", "slot-fill"],
  BPF_MAP_FREEZE: ["map-freeze"],
  statfs: ["pin-lookup"],
  mount: ["pin-lookup"],
  BPF_OBJ_PIN: ["map-pin"],
  BPF_OBJ_GET: ["map-reuse"],
  BPF_OBJ_GET_INFO_BY_FD: ["map-reuse"],
  BPF_MAP_GET_FD_BY_ID: ["map-reuse"],
  BPF_PROG_LOAD: ["program-load", "feature-probe"],
  BPF_PROG_BIND_MAP: ["map-bind", "feature-probe"],
  mmap: ["map-mmap", "kernel-btf", "ring-buffer"],
  perf_event_open: ["attach", "perf-event-open"],
  BPF_LINK_CREATE: ["attach", "perf-link"],
  BPF_RAW_TRACEPOINT_OPEN: ["attach"],
  ioctl: ["attach", "perf-enable"],
  epoll_create1: ["ring-buffer"],
  epoll_ctl: ["ring-buffer"],
};

/**
 * The files a step reads on its way to its syscall: possible CPUs for a
 * per-CPU sized map, a pin path looked for, a reused map's fdinfo (its
 * kind), the kernel's BTF, a tracepoint's id in tracefs.
 * Before the first step, the load reads host facts (the kernel version).
 */
const FILES_OF: Partial<Record<LoadStepKind | "preamble", RegExp>> = {
  "map-create": /^\/sys\/devices\/system\/cpu\/possible$/,
  "pin-lookup": /^\/sys\/fs\/bpf\//,
  "map-reuse": /^\/proc\/self\/fdinfo\/\d+$/,
  "kernel-btf": /^\/sys\/kernel\/btf\/vmlinux$/,
  attach: /^\/sys\/kernel\/(debug\/)?tracing\//,
  "tracefs-id": /^\/sys\/kernel\/(debug\/)?tracing(\/|$)/,
  preamble: /^\/proc\/version_signature$/,
};

/** Calls on a file already opened (or on a template being dropped): they follow whatever opened it. */
const ON_OPEN_FILES = new Set(["read", "fstat", "close"]);

/** The syscall each step stands for: the first one after it (after the files it reads). */
const FIRST_CALL: Partial<Record<LoadStepKind, string[]>> = {
  "btf-load": ["BPF_BTF_LOAD"],
  "map-create": ["BPF_MAP_CREATE"],
  "inner-map-create": ["BPF_MAP_CREATE"],
  "pin-lookup": ["statfs"],
  "map-pin": ["BPF_OBJ_PIN"],
  "map-reuse": ["BPF_OBJ_GET", "BPF_OBJ_GET_INFO_BY_FD"],
  "map-init": ["BPF_MAP_UPDATE_ELEM"],
  "map-freeze": ["BPF_MAP_FREEZE"],
  "program-load": ["BPF_PROG_LOAD"],
  "map-bind": ["BPF_PROG_BIND_MAP"],
  "feature-probe": ["BPF_MAP_CREATE", "BPF_PROG_LOAD", "BPF_BTF_LOAD"],
  "slot-fill": ["BPF_MAP_UPDATE_ELEM"],
  "map-mmap": ["mmap"],
  attach: ["perf_event_open", "BPF_LINK_CREATE", "BPF_RAW_TRACEPOINT_OPEN"],
  "perf-event-open": ["perf_event_open"],
  "perf-link": ["BPF_LINK_CREATE"],
  "perf-enable": ["ioctl"],
  "ring-buffer": ["epoll_create1", "mmap"],
};

/** Steps that narrate a step's syscalls one by one: they may follow it before its first call. */
const SUB_STEPS: Partial<Record<LoadStepKind, LoadStepKind[]>> = {
  attach: ["tracefs-id", "perf-event-open"],
};

/** Steps and syscalls of `run` (a load, perhaps an attach), interleaved as they happened; teardown is not narrated. */
function record(run: (onStep: (s: LoadStep) => void) => BpfObject): Entry[] {
  const log: Entry[] = [];
  const stop = observeSyscalls((req) => log.push(callOf(req)));
  let obj: BpfObject | undefined;
  try {
    obj = run((step) => log.push({ step }));
  } finally {
    stop();
    obj?.destroy();
  }
  return log;
}

const show = (e: Entry | undefined) => (!e ? "nothing" : "step" in e ? `step ${e.step.kind}` : `${e.call}${e.path ? ` ${e.path}` : ""}`);

/** Every way the order can be wrong, as readable lines (empty: right). */
function misorderings(log: Entry[]): string[] {
  const out: string[] = [];
  let last: LoadStep | undefined;
  const readsFile = (kind: LoadStepKind | "preamble", e: Call) => e.path !== undefined && !!FILES_OF[kind]?.test(e.path);
  log.forEach((e, i) => {
    if ("step" in e) {
      last = e.step;
      const want = FIRST_CALL[e.step.kind];
      if (!want) return;
      let j = i + 1;
      for (let n = log[j]; n && "call" in n && (readsFile(e.step.kind, n) || ON_OPEN_FILES.has(n.call)); n = log[++j]);
      const next = log[j];
      if (next && "step" in next && SUB_STEPS[e.step.kind]?.includes(next.step.kind)) return;
      if (!(next && "call" in next && want.includes(next.call)))
        out.push(`step ${e.step.kind} is followed by ${show(next)}, not ${want.join("/")}`);
      return;
    }
    if (ON_OPEN_FILES.has(e.call)) return;
    const kind = last?.kind ?? "preamble";
    if (e.path !== undefined) {
      if (!readsFile(kind, e)) out.push(`${show(e)} after ${last ? `step ${last.kind}` : "no step"}`);
      return;
    }
    if (!last) {
      // Before the first step: the BTF feature probes (each a BTF_LOAD and its close).
      if (e.call !== "BPF_BTF_LOAD") out.push(`${e.call} before any step`);
      return;
    }
    const explainedBy = EXPLAINED_BY[e.call];
    if (!explainedBy) out.push(`${e.call} is not a syscall a load makes (after step ${last.kind})`);
    else if (!explainedBy.includes(last.kind)) out.push(`${e.call} comes after step ${last.kind}, not ${explainedBy.join("/")}`);
  });
  return out;
}

const kinds = (log: Entry[]) => new Set(log.flatMap((e) => ("step" in e ? [e.step.kind] : [])));

// A pin directory of this run's on the BPF filesystem (tsbpf mounts bpffs over nothing else).
const pinRoot = testPinDir();
beforeAll(() => {
  loadKernelBtf(); // parsed once per process: later loads make no mmap of it
});
afterAll(() => removePins(pinRoot));

describe("load steps come just before the syscalls they stand for", () => {
  it.each([
    ["bpf/globals.bpf.o", ["map-init", "map-freeze", "map-mmap", "program-load", "program-loaded"]],
    ["bpf/maps.bpf.o", ["inner-map-create", "slot-fill", "reference"]],
    ["bpf/bootstrap.bpf.o", ["core-relocation", "kernel-btf", "attach", "tracefs-id", "perf-event-open", "perf-link", "perf-enable"]],
  ] as const)("%s (load and attach)", (path, expected) => {
    const log = record((onStep) => {
      const obj = BpfObject.open(path, { onStep });
      obj.load();
      obj.attach();
      return obj;
    });
    for (const k of ["btf-load", "map-create", ...expected]) expect(kinds(log), k).toContain(k);
    expect(misorderings(log)).toEqual([]);
  });

  it("pinning: map-pin before OBJ_PIN on the first load, map-reuse before OBJ_GET on the next", () => {
    const loadPinning = (onStep: (s: LoadStep) => void) => {
      const obj = BpfObject.open("bpf/pinning.bpf.o", { pinRoot, onStep });
      obj.load();
      return obj;
    };
    const first = record(loadPinning);
    const second = record(loadPinning);
    expect(kinds(first)).toContain("map-pin");
    expect(kinds(second)).toContain("map-reuse");
    expect(kinds(second)).not.toContain("map-create");
    expect(misorderings(first)).toEqual([]);
    expect(misorderings(second)).toEqual([]);
  });

  it("reuseFd: map-reuse before the map is looked up and opened by id", () => {
    using a = BpfObject.open("bpf/edit.bpf.o");
    a.setAutoload("custom_bump", false);
    a.editMap("sized_later").setMaxEntries(4);
    a.load();
    const log = record((onStep) => {
      const b = BpfObject.open("bpf/edit.bpf.o", { onStep });
      b.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER);
      b.editMap("sized_later").setMaxEntries(4);
      b.editMap("counter").reuseFd(a.map("counter").fd);
      b.load();
      return b;
    });
    expect(log.filter((e) => "step" in e && e.step.kind === "map-reuse")).toHaveLength(1);
    expect(misorderings(log)).toEqual([]);
  });

  it("the check catches a step emitted after its syscall, and a file read no step accounts for", () => {
    const swapped: Entry[] = [
      { step: { kind: "map-create", map: { name: "m" } as never } },
      { call: "BPF_MAP_CREATE" },
      { call: "BPF_MAP_UPDATE_ELEM" },
      { step: { kind: "map-init", map: "m", section: ".data", bytes: 4 } },
      { call: "openat", path: "/proc/version_signature" },
    ];
    expect(misorderings(swapped)).toEqual([
      "BPF_MAP_UPDATE_ELEM comes after step map-create, not map-init/slot-fill",
      "step map-init is followed by openat /proc/version_signature, not BPF_MAP_UPDATE_ELEM",
      "openat /proc/version_signature after step map-init",
    ]);
  });
});

describe("tsbpf load -v / --explain", () => {
  // --no-printk: the order of steps is the point here, and another process may hold trace_pipe.
  const tsbpf = (...args: string[]) =>
    spawnSync(process.execPath, ["dist/src/cli/tsbpf.cjs", "load", ...args, "--no-printk", "--duration", "0.1"], {
      encoding: "utf8",
      timeout: 60_000,
    });

  it.each([
    "bpf/minimal.bpf.o",
    "bpf/bootstrap.bpf.o",
  ])("-v with --trace (%s): each narrated step's line comes right before its syscall's line", (path) => {
    const r = tsbpf(path, "-v", "--trace");
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split("\n");
    const ring = path.includes("bootstrap");
    const next: Record<string, string> = {
      "[load BTF]": "bpf(BPF_BTF_LOAD,",
      "[create map]": "bpf(BPF_MAP_CREATE,",
      "[initialise map]": "bpf(BPF_MAP_UPDATE_ELEM,",
      "[freeze map]": "bpf(BPF_MAP_FREEZE,",
      "[load program]": "bpf(BPF_PROG_LOAD,",
      "[mmap map]": "mmap(",
      // Attaching a tracepoint: its own steps follow, each right before its call.
      "[attach]": "[tracepoint id]",
      // (with the lookup of where tracefs is mounted first, the first time)
      "[tracepoint id]": '(access\\("/sys/kernel/tracing/events"|openat\\(AT_FDCWD, "/sys/kernel/tracing/events/)',
      "[open perf event]": "perf_event_open(",
      "[link]": "bpf(BPF_LINK_CREATE,",
      "[enable event]": "ioctl(",
      ...(ring ? { "[ring buffer]": "epoll_create1(" } : {}),
    };
    let checked = 0;
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      const label = Object.keys(next).find((l) => line.startsWith(`${l} `));
      if (!label) return;
      const want = label === "[tracepoint id]" ? next[label]! : next[label]!.replace(/[()[\]]/g, "\\$&");
      expect(lines[i + 1], `after ${line}`).toMatch(new RegExp(`^${want}`));
      seen.add(label);
      checked++;
    });
    expect([...seen].sort()).toEqual(Object.keys(next).sort());
    expect(checked).toBeGreaterThanOrEqual(Object.keys(next).length);
  });

  it("CO-RE lines carry their label once", () => {
    const verbose = tsbpf("bpf/bootstrap.bpf.o", "-v");
    expect(verbose.status, verbose.stderr).toBe(0);
    expect(verbose.stderr).toMatch(/^\[CO-RE\] handle_exit: task_struct::real_parent at offset \d+ in kernel BTF$/m);
    expect(verbose.stderr).not.toContain("CO-RE:");
    const explain = tsbpf("bpf/bootstrap.bpf.o", "--explain");
    expect(explain.status, explain.stderr).toBe(0);
    expect(explain.stderr).toMatch(/^== CO-RE ==$/m);
    expect(explain.stderr).toMatch(/^ {2}• handle_exit: task_struct::real_parent at offset \d+ in kernel BTF$/m);
    expect(explain.stderr).not.toContain("CO-RE:");
  });
});
