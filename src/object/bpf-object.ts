/**
 * The lifecycle of a BPF object, as a skeleton gives it to a user:
 *   open (parse, pure) → edit the spec (types, sizes, .rodata/.data values)
 *   → load (maps, programs) → attach (links) → destroy.
 * A parsed spec can also be loaded directly (fromSpec), as cilium's
 * NewCollection(spec) does; the object is then the loaded collection.
 * A failure at any step releases everything the step created, so nothing is
 * left in the kernel; destroy() (or `using`) releases the rest.
 */
import { readFileSync } from "node:fs";
import { NotFoundError, StateError } from "../errors.js";
import type { BpfMap } from "../maps/bpf-map.js";
import { TypedMap } from "../maps/typed-map.js";
import { makeDecoder } from "../btf/value-decoder.js";
import { makeEncoder } from "../btf/value-encoder.js";
import type { MapSpec } from "../spec/map-spec.js";
import { BPF_F_MMAPABLE } from "../abi/uapi-flags.js";
import { DEFAULT_PIN_ROOT } from "../maps/pinning.js";
import { createMap } from "./create-map.js";
import { bindMapReferences, explainUnresolvedKfunc } from "../spec/bind-references.js";
import { BpfProgram } from "../programs/bpf-program.js";
import { encodeInstructions } from "../insn/insn.js";
import { type Link, destroyLinks } from "../programs/link.js";
import { loadProgram } from "../programs/prog-load.js";
import { runningKernelVersion } from "../syscall/kernel-version.js";
import { closeFd } from "../syscall/bpf.js";
import { Btf } from "../btf/btf.js";
import { CoreCache, type CoreRelocationReport, explainPoison } from "../core/index.js";
import { KERNEL_BTF_PATH, loadKernelBtf } from "./kernel-btf.js";
import { funcInfoBlob, lineInfoBlob } from "../spec/ext-info.js";
import { hasCoreRelocations, relocateProgram } from "../spec/relocate.js";
import { BtfLoadError, loadBtf } from "./btf-load.js";
import { btfFeatures } from "./kernel-features.js";
import { bindReadOnlyData } from "./bind-rodata.js";
import { resolveAttachBtfId } from "../programs/attach-btf-id.js";
import { describeFailure } from "../programs/verifier-context.js";
import { fillKconfig, resolveKsyms } from "./resolve-externs.js";
import { BpfProgType } from "../abi/uapi-enums.js";
import type { Instruction } from "../insn/insn.js";
import { type GlobalVariable, type ObjectSpec, type ParseOptions, type ProgramSpec, parseObject } from "../spec/object-spec.js";
import type { MapEditor, ProgramEditor } from "../spec/spec-edit.js";
import { encodeValue } from "../spec/variable-value.js";
import { unknownSectionError } from "../spec/section-types.js";
import { parseFileCached } from "./spec-cache.js";
import type { LoadStep, StepListener } from "./load-steps.js";
import { StructOpsPlan } from "./struct-ops.js";
import { loadedAttachType, objectUsdtManager } from "./usdt-support.js";
import { registerStructOps } from "../programs/attach/struct-ops.js";

export type ObjectState = "opened" | "loaded" | "destroyed";

/** How a spec is loaded. */
export interface LoadOptions {
  /** Where maps with LIBBPF_PIN_BY_NAME are pinned (default /sys/fs/bpf). */
  pinRoot?: string;
  /** BTF to CO-RE-relocate against: a path, or a parsed Btf (default: the running kernel's). */
  targetBtf?: string | Btf;
  /** Called with each step of the load and attach, just before its syscalls (see load-steps.ts). */
  onStep?: StepListener;
  /**
   * Ask the verifier for its statistics (BPF_LOG_STATS) when loading
   * programs that have no log level of their own; the "program-loaded"
   * step then carries them ("processed N insns (limit 1000000) …").
   */
  verifierStats?: boolean;
}

/** log_level bit 2: the verifier's statistics only (instructions processed, states, time). */
const BPF_LOG_STATS = 4;

/** The statistics lines of a verifier log (the last lines, whatever the level). */
function verifierStatsOf(log: string | undefined): string[] {
  return (log ?? "").split("\n").filter((l) => /^(verification time|stack depth|processed) /.test(l));
}

export interface OpenOptions extends ParseOptions, LoadOptions {}

export class BpfObject {
  private stateValue: ObjectState = "opened";
  private readonly mapsByName = new Map<string, BpfMap>();
  private readonly programsByName = new Map<string, BpfProgram>();
  private readonly linksList: Link[] = [];
  private readonly coreReports = new Map<string, CoreRelocationReport[]>();
  private btfFd: number | undefined;
  private structOps: StructOpsPlan | undefined;

  private constructor(
    /** What load() builds the kernel objects from; editable until then (editProgram, editMap, setVariable). */
    readonly spec: ObjectSpec,
    private readonly opts: LoadOptions,
  ) {}

  /**
   * Parses an object from a path or from its bytes. No syscalls. Reopening
   * an unchanged file reuses its parse (see spec-cache.ts).
   */
  static open(source: string | Uint8Array, opts: OpenOptions = {}): BpfObject {
    const spec =
      typeof source === "string"
        ? parseFileCached(readFileSync(source), { ...opts, path: opts.path ?? source })
        : parseObject(source, opts);
    return new BpfObject(spec, opts);
  }

  /**
   * An object to load from a parsed (and perhaps edited) spec: parseObject →
   * edit → fromSpec → load, as cilium's NewCollection(spec). Loading seals
   * the spec; several objects may load one spec.
   */
  static fromSpec(spec: ObjectSpec, opts: LoadOptions = {}): BpfObject {
    return new BpfObject(spec, opts);
  }

  private step(step: LoadStep): void {
    this.opts.onStep?.(step);
  }

  get state(): ObjectState {
    return this.stateValue;
  }

  get name(): string {
    return this.spec.name;
  }

  // ---- editing and global variables -------------------------------------

  private requireOpened(what: string): void {
    if (this.stateValue !== "opened") throw new StateError(`${what} must be set before load() (object ${this.name} is ${this.stateValue})`);
  }

  /** Edits program `name` before load (type, expected attach type, target, flags, autoload, log level). */
  editProgram(name: string): ProgramEditor {
    this.requireOpened("a program's load parameters");
    return this.spec.editProgram(name);
  }

  /** Edits map `name` before load (max entries, key/value size, flags, inner map, reuse an existing map). */
  editMap(name: string): MapEditor {
    this.requireOpened("a map's parameters");
    return this.spec.editMap(name);
  }

  /** Whether load() loads program `name` (libbpf's autoload); all programs load by default. */
  setAutoload(name: string, autoload: boolean): void {
    this.editProgram(name).setAutoload(autoload);
  }

  /** The global variable `name` (in .bss, .data, .rodata, ...). */
  variableSpec(name: string): GlobalVariable {
    return this.spec.variable(name);
  }

  /**
   * The bytes of a global variable. Before load: the initial value, which may
   * be changed (this is how .rodata constants are set). After load: a live
   * view of the map through its mmap for .bss/.data (writes reach the
   * program), and a read-only copy for frozen .rodata.
   */
  variable(name: string): Uint8Array {
    const v = this.spec.variable(name);
    if (this.stateValue === "opened") return this.spec.sealed ? this.spec.initialValue(name).slice() : this.spec.variableBytes(name);
    if (this.stateValue === "destroyed") throw new StateError(`object ${this.name} is destroyed`);
    const map = this.map(v.map);
    if (map.mapped?.writable) return map.mapped.bytes.subarray(v.offset, v.offset + v.size);
    if (map.mapped) return map.mapped.bytes.slice(v.offset, v.offset + v.size);
    const value = map.lookup(new Uint8Array(4))!;
    return value.slice(v.offset, v.offset + v.size);
  }

  /** A global variable decoded through its BTF type (numbers, bigints, strings, objects). */
  readVariable(name: string): unknown {
    const bytes = this.variable(name);
    const typeId = this.spec.variableTypeId(name);
    return typeId === undefined ? bytes : makeDecoder(this.spec.btf!.btf, typeId)(bytes);
  }

  /** Sets a global variable from a JS value, encoded through its BTF type. */
  writeVariable(name: string, value: unknown): void {
    const typeId = this.spec.variableTypeId(name);
    if (typeId === undefined) {
      this.setVariable(name, value as Uint8Array | number | bigint | string);
      return;
    }
    this.setVariable(name, makeEncoder(this.spec.btf!.btf, typeId)(value));
  }

  /** Sets a global variable from bytes or a number (little-endian, the variable's size). */
  setVariable(name: string, value: Uint8Array | number | bigint | string): void {
    if (this.stateValue === "opened") {
      this.spec.setVariable(name, value);
      return;
    }
    const v = this.spec.variable(name);
    if (this.spec.map(v.map).freeze) {
      throw new StateError(`${name} is in ${v.section}, which is read-only once loaded; set it before load()`);
    }
    const target = this.variable(name);
    if (!this.map(v.map).mapped?.writable) {
      throw new StateError(`${name} is in ${v.section}, which is not mmapable; it cannot be written after load`);
    }
    target.set(encodeValue(name, value, v.size));
  }

  // ---- load -----------------------------------------------------------------

  /** Creates the maps, writes initial data, loads every program; then the spec is sealed. */
  load(): void {
    if (this.stateValue !== "opened") throw new StateError(`object ${this.name} is already ${this.stateValue}`);
    const programs = this.spec.programs.filter((p) => p.autoload);
    // Before anything exists in the kernel: a program still without a type cannot load.
    const untyped = programs.find((p) => p.section.def.progType === BpfProgType.UNSPEC);
    if (untyped) throw unknownSectionError(untyped.sectionName, untyped.name);
    try {
      // Host facts first (read once per process, like the feature probes), so that every later
      // syscall of the load follows the step it belongs to.
      const kernelVersion = runningKernelVersion();
      this.btfFd = this.loadObjectBtf();
      const ksyms = resolveKsyms(this.spec.externs, () => this.kernelBtf(), this.spec.btf?.btf);
      this.structOps = this.planStructOps(programs);
      for (const spec of this.spec.maps) {
        this.createMap(spec.data?.kind === "kconfig" ? this.withKconfigValues(spec) : (this.structOps?.kernelMapSpec(spec) ?? spec));
      }
      const usdt = objectUsdtManager(this.spec, (m) => this.mapsByName.get(m));
      const needsKernelBtf = programs.some((p) => hasCoreRelocations(p) || p.section.def.attachBtf);
      const target = needsKernelBtf ? this.targetBtf() : undefined;
      const cache = new CoreCache();
      for (const p of programs) {
        const relocated = relocateProgram(p, this.spec.btf?.btf, target, cache);
        this.coreReports.set(p.name, relocated.core);
        for (const report of relocated.core) this.step({ kind: "core-relocation", program: p.name, report });
        const insns = bindMapReferences(p.name, relocated.insns, (m) => this.mapsByName.get(m)?.fd, ksyms);
        if (this.opts.onStep) this.describeBindings(p.name, insns);
        const bytes = encodeInstructions(insns);
        const { def } = p.section;
        const withBtf = this.btfFd !== undefined;
        const structOps = this.structOps?.programAttach(p.name);
        const attachBtfId = structOps?.attachBtfId ?? (def.attachBtf ? resolveAttachBtfId(this.kernelBtf(), p.section, p.name) : undefined);
        const expectedAttachType = structOps?.expectedAttachType ?? loadedAttachType(def);
        const funcInfo = withBtf ? funcInfoBlob(insns) : undefined;
        const lineInfo = withBtf ? lineInfoBlob(insns) : undefined;
        this.step({ kind: "program-load", program: p.name, type: def.progType, section: p.sectionName, insns: insns.length });
        const { fd, log } = loadProgram(
          {
            name: p.name,
            type: def.progType,
            expectedAttachType,
            insns: bytes,
            license: p.license,
            kernelVersion: p.kernelVersion ?? kernelVersion,
            ...(p.flags ? { flags: p.flags } : {}),
            ...(p.logLevel || this.opts.verifierStats ? { logLevel: p.logLevel || BPF_LOG_STATS } : {}),
            ...(this.btfFd !== undefined ? { btfFd: this.btfFd } : {}),
            ...(funcInfo ? { funcInfo } : {}),
            ...(lineInfo ? { lineInfo } : {}),
            ...(attachBtfId !== undefined ? { attachBtfId } : {}),
          },
          (verifierLog) =>
            [explainPoisoned(relocated.core), explainUnresolvedKfunc(verifierLog, ksyms), describeFailure(verifierLog, insns)]
              .filter(Boolean)
              .join("\n") || undefined,
          def.attach === "trampoline" ? TRAMPOLINE_REFUSED : undefined,
        );
        // A log asked for only for its statistics is not the program's verifier log.
        const programLog = p.logLevel ? log : undefined;
        this.programsByName.set(p.name, new BpfProgram(p, fd, bytes, programLog, { expectedAttachType, ...(usdt ? { usdt } : {}) }));
        const stats = verifierStatsOf(log);
        this.step({ kind: "program-loaded", program: p.name, fd, ...(stats.length ? { verifierStats: stats } : {}) });
        bindReadOnlyData(p.name, fd, this.mapsByName.values(), (s) => this.step(s));
      }
      this.fillInitialSlots();
      for (const map of this.mapsByName.values()) this.mapData(map);
      this.stateValue = "loaded";
      this.spec.seal();
    } catch (e) {
      this.releaseAll();
      this.stateValue = "destroyed";
      throw e;
    }
  }

  /** The kernel-side layout of the struct_ops maps, when the object has any. */
  private planStructOps(programs: readonly ProgramSpec[]): StructOpsPlan | undefined {
    if (!this.spec.maps.some((m) => m.structOps)) return undefined;
    return StructOpsPlan.prepare(this.spec.maps, programs, this.spec.btf!.btf, this.kernelBtf());
  }

  /** CO-RE reports of a loaded program: what each relocation resolved to. */
  coreRelocations(program: string): readonly CoreRelocationReport[] {
    return this.coreReports.get(program) ?? [];
  }

  /** The running kernel's BTF (attach targets always refer to it, whatever CO-RE targets). */
  private kernelBtf(): Btf {
    return loadKernelBtf();
  }

  private targetBtf(): Btf {
    const t = this.opts.targetBtf;
    if (t instanceof Btf) return t;
    this.step({ kind: "kernel-btf", path: t ?? KERNEL_BTF_PATH });
    return loadKernelBtf(t);
  }

  /** The .kconfig map with this kernel's values: a load-time copy, the spec's bytes stay as parsed. */
  private withKconfigValues(spec: MapSpec): MapSpec {
    const data = spec.data!.copy();
    fillKconfig(data.initial, this.spec.externs, this.spec.btf!.btf, (message) => this.step({ kind: "warning", message }));
    return { ...spec, data };
  }

  /** BPF_BTF_LOAD of the object's BTF, sanitised for this kernel. Like libbpf, a refusal only costs the BTF. */
  private loadObjectBtf(): number | undefined {
    const objBtf = this.spec.btf;
    if (!objBtf) return undefined;
    const features = btfFeatures((s) => this.step(s));
    if (!features.btf) {
      this.step({ kind: "btf-unsupported" });
      return undefined;
    }
    const bytes = objBtf.kernelBytes(features);
    this.step({ kind: "btf-load", bytes: bytes.byteLength, types: objBtf.btf.typeCount - 1 });
    try {
      return loadBtf(bytes);
    } catch (e) {
      if (!(e instanceof BtfLoadError)) throw e;
      this.step({ kind: "btf-refused", error: e.message });
      return undefined;
    }
  }

  private createMap(spec: MapSpec): void {
    const map = createMap(spec, {
      btfFd: this.btfFd,
      btf: this.spec.btf?.btf,
      pinRoot: this.opts.pinRoot ?? DEFAULT_PIN_ROOT,
      onStep: this.opts.onStep,
    });
    this.mapsByName.set(spec.name, map);
  }

  /** `.values = { ... }` initialisers: prog array slots get program fds, map-in-map slots map fds. */
  private fillInitialSlots(): void {
    for (const map of this.mapsByName.values()) {
      for (const [slot, name] of map.spec.initSlots ?? []) {
        if (this.spec.programs.some((p) => p.name === name && !p.autoload)) {
          this.step({ kind: "slot-skip", map: map.name, slot, program: name });
          continue;
        }
        const fd = this.programsByName.get(name)?.fd ?? this.mapsByName.get(name)?.fd;
        if (fd === undefined)
          throw new NotFoundError(`map ${map.name} slot ${slot} names ${name}, which is neither a program nor a map of this object`);
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, slot, true);
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, fd, true);
        this.step({ kind: "slot-fill", map: map.name, slot, target: name, fd });
        map.update(key, value);
      }
    }
  }

  /** mmaps the global-data maps that allow it: .bss/.data read-write, .rodata read-only. */
  private mapData(map: BpfMap): void {
    const spec = map.spec;
    if (!spec.data || !(spec.flags & BPF_F_MMAPABLE)) return;
    this.step({ kind: "map-mmap", map: spec.name, section: spec.sectionName!, writable: !spec.freeze });
    map.mmap(!spec.freeze);
  }

  /** One step per bound reference, for --explain. */
  private describeBindings(program: string, insns: readonly Instruction[]): void {
    insns.forEach((insn, i) => {
      if (insn.reference) this.step({ kind: "reference", program, insn: i, reference: insn.reference, imm: insn.imm, src: insn.src });
    });
  }

  // ---- attach ---------------------------------------------------------------

  /**
   * Attaches every program whose section says where (tp/…, raw_tp/…), and
   * registers every struct_ops map (as a libbpf skeleton's attach does).
   */
  attach(): Link[] {
    if (this.stateValue !== "loaded") throw new StateError(`object ${this.name} must be loaded before attach (it is ${this.stateValue})`);
    const created: Link[] = [];
    try {
      for (const prog of this.programsByName.values()) {
        if (!prog.autoAttachable) continue;
        const { def, target } = prog.spec.section;
        this.step({ kind: "attach", program: prog.name, attach: def.attach, target });
        created.push(prog.attach(this.opts.onStep ? { onStep: (s) => this.step(s) } : {}));
      }
      for (const name of this.structOps?.mapNames ?? []) created.push(this.structOpsLink(name));
    } catch (e) {
      for (const l of created) l.destroy();
      throw e;
    }
    this.linksList.push(...created);
    return created;
  }

  /**
   * Registers struct_ops map `name` with the kernel: its value, with the
   * program fds, is written to the map (SEC(".struct_ops")), and for
   * SEC(".struct_ops.link") a bpf_link is made from it. Destroying the
   * link unregisters it. attach() does this for every struct_ops map.
   */
  registerStructOps(name: string): Link {
    const link = this.structOpsLink(name);
    this.linksList.push(link);
    return link;
  }

  private structOpsLink(name: string): Link {
    const map = this.map(name);
    const ops = map.spec.structOps;
    const value = this.structOps?.value(map.name, (p) => this.programsByName.get(p)?.fd);
    if (!value || !ops) throw new NotFoundError(`map ${name} of object ${this.name} is not a struct_ops map`);
    this.step({ kind: "struct-ops-register", map: map.name, type: ops.typeName, link: ops.link });
    return registerStructOps(map, value, ops.link);
  }

  get links(): readonly Link[] {
    return this.linksList;
  }

  // ---- access ----------------------------------------------------------------

  /** A loaded map by kernel name ("minimal.bss") or section name (".bss"). */
  map(name: string): BpfMap {
    this.requireLoaded();
    return this.mapsByName.get(this.spec.map(name).name)!;
  }

  /**
   * A loaded map with JS keys and values, encoded through its BTF types:
   * `obj.typedMap<number, bigint>("exec_start").lookup(pid)`.
   */
  typedMap<K = unknown, V = unknown>(name: string): TypedMap<K, V> {
    const map = this.map(name);
    if (!this.spec.btf) throw new StateError(`object ${this.name} has no BTF: map ${name} can only be used raw`);
    return new TypedMap<K, V>(map, this.spec.btf.btf);
  }

  program(name: string): BpfProgram {
    this.requireLoaded();
    const p = this.programsByName.get(name);
    if (!p) throw new NotFoundError(`object ${this.name} has no program ${name} (it has: ${[...this.programsByName.keys()].join(", ")})`);
    return p;
  }

  get programs(): BpfProgram[] {
    this.requireLoaded();
    return [...this.programsByName.values()];
  }

  get maps(): BpfMap[] {
    this.requireLoaded();
    return [...this.mapsByName.values()];
  }

  private requireLoaded(): void {
    if (this.stateValue !== "loaded") throw new StateError(`object ${this.name} is ${this.stateValue}, not loaded`);
  }

  // ---- teardown -------------------------------------------------------------

  private releaseAll(): void {
    for (const l of this.linksList.splice(0)) l.destroy();
    for (const p of this.programsByName.values()) p.close();
    for (const m of this.mapsByName.values()) m.close();
    this.programsByName.clear();
    this.mapsByName.clear();
    if (this.btfFd !== undefined) closeFd(this.btfFd);
    this.btfFd = undefined;
  }

  /**
   * Detaches every link and closes every program and map, and with the maps
   * the ring and perf buffers made from them (a ring's mapping would keep
   * its map alive in the kernel); a poller running on such a ring drops it.
   * Safe to call twice.
   */
  destroy(): void {
    if (this.stateValue === "destroyed") return;
    this.releaseAll();
    this.stateValue = "destroyed";
  }

  /**
   * destroy(), with the links detached concurrently off the event loop. Each
   * detach waits in the kernel for RCU grace periods (~30-80 ms per link);
   * waited for together they overlap (see destroyLinks), and the event loop
   * stays free meanwhile.
   */
  async destroyAsync(): Promise<void> {
    if (this.stateValue === "destroyed") return;
    try {
      await destroyLinks(this.linksList.splice(0));
    } finally {
      this.destroy();
    }
  }

  [Symbol.dispose](): void {
    this.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroyAsync();
  }
}

/** Why a trampoline program (fentry/fexit/fmod_ret/lsm) fails with EPERM and no log. */
const TRAMPOLINE_REFUSED =
  "the kernel refused a BPF trampoline program (fentry/fexit/fmod_ret/lsm) with EPERM and an empty verifier log: " +
  "this kernel does not allow trampoline attachment (some sandboxed or locked-down kernels refuse it even to root). " +
  "Use tp_btf/ or raw_tp/ programs for the same events instead.";

/** The words for every poisoned CO-RE relocation, for the verifier error. */
function explainPoisoned(reports: readonly CoreRelocationReport[]): string | undefined {
  const lines = reports.map((r) => (r.poisoned ? explainPoison(r) : undefined)).filter((x): x is string => !!x);
  return lines.length ? lines.join("\n") : undefined;
}
