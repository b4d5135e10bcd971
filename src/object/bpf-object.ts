/**
 * The lifecycle of a BPF object, as a skeleton gives it to a user:
 *   open (parse, pure) → set .rodata/.data values → load (maps, programs)
 *   → attach (links) → destroy.
 * A failure at any step releases everything the step created, so nothing is
 * left in the kernel; destroy() (or `using`) releases the rest.
 */
import { readFileSync } from "node:fs";
import { NotFoundError, StateError, TsbpfError } from "../errors.js";
import { BpfMap } from "../maps/bpf-map.js";
import { TypedMap } from "../maps/typed-map.js";
import { makeDecoder } from "../btf/value-decoder.js";
import { makeEncoder, writeLittleEndian } from "../btf/value-encoder.js";
import { BtfKind } from "../btf/types.js";
import { BPF_F_MMAPABLE, type MapSpec, PinningType } from "../spec/map-spec.js";
import { DEFAULT_PIN_ROOT, checkPinnedCompatible, ensureBpffs, openPinned, pinMap, pinPath } from "../maps/pinning.js";
import { bindMapReferences, explainUnresolvedKfunc } from "../spec/bind-references.js";
import { BpfProgram } from "../programs/bpf-program.js";
import { encodeInstructions } from "../insn/insn.js";
import { type Link, destroyLinks } from "../programs/link.js";
import { loadProgram } from "../programs/prog-load.js";
import { runningKernelVersion } from "../syscall/kernel-version.js";
import { bpf, closeFd } from "../syscall/bpf.js";
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
import { BpfCmd, BpfMapTypeNames } from "../abi/uapi-enums.js";
import { cTypeName } from "../btf/type-name.js";
import { MAP_FLAG_NAMES } from "../abi/map-flags.js";
import type { Instruction } from "../insn/insn.js";
import { type GlobalVariable, type ObjectSpec, type ParseOptions, parseObject } from "../spec/object-spec.js";
import { parseFileCached } from "./spec-cache.js";

export type ObjectState = "opened" | "loaded" | "destroyed";

/** A narration hook: --explain and -v print these steps. */
export type StepListener = (step: string, detail?: string) => void;

export interface OpenOptions extends ParseOptions {
  /** Where maps with LIBBPF_PIN_BY_NAME are pinned (default /sys/fs/bpf). */
  pinRoot?: string;
  /** BTF to CO-RE-relocate against: a path, or a parsed Btf (default: the running kernel's). */
  targetBtf?: string | Btf;
  /** Called for every step of the load, for explain/verbose output. */
  onStep?: StepListener;
}

export class BpfObject {
  private stateValue: ObjectState = "opened";
  private readonly mapsByName = new Map<string, BpfMap>();
  private readonly programsByName = new Map<string, BpfProgram>();
  private readonly linksList: Link[] = [];
  private readonly onStep: StepListener;
  private readonly coreReports = new Map<string, CoreRelocationReport[]>();
  private btfFd: number | undefined;
  private readonly notAutoloaded = new Set<string>();

  private constructor(
    readonly spec: ObjectSpec,
    private readonly opts: OpenOptions,
  ) {
    this.onStep = opts.onStep ?? (() => {});
  }

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

  get state(): ObjectState {
    return this.stateValue;
  }

  get name(): string {
    return this.spec.name;
  }

  // ---- global variables -------------------------------------------------

  /** The global variable `name` (in .bss, .data, .rodata, ...). */
  variableSpec(name: string): GlobalVariable {
    const v = this.spec.variables.find((x) => x.name === name);
    if (!v) {
      const known = this.spec.variables.map((x) => x.name).join(", ") || "none";
      throw new NotFoundError(`object ${this.name} has no global variable ${name} (it has: ${known})`);
    }
    return v;
  }

  /**
   * The bytes of a global variable. Before load: the initial value, which may
   * be changed (this is how .rodata constants are set). After load: a live
   * view of the map through its mmap for .bss/.data (writes reach the
   * program), and a read-only copy for frozen .rodata.
   */
  variable(name: string): Uint8Array {
    const v = this.variableSpec(name);
    const spec = this.mapSpec(v.map);
    if (this.stateValue === "opened") return spec.data!.initial.subarray(v.offset, v.offset + v.size);
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
    const typeId = this.variableTypeId(name);
    return typeId === undefined ? bytes : makeDecoder(this.spec.btf!.btf, typeId)(bytes);
  }

  /** Sets a global variable from a JS value, encoded through its BTF type. */
  writeVariable(name: string, value: unknown): void {
    const typeId = this.variableTypeId(name);
    if (typeId === undefined) {
      this.setVariable(name, value as Uint8Array | number | bigint | string);
      return;
    }
    this.setVariable(name, makeEncoder(this.spec.btf!.btf, typeId)(value));
  }

  private variableTypeId(name: string): number | undefined {
    this.variableSpec(name);
    const btf = this.spec.btf?.btf;
    if (!btf) return undefined;
    for (const id of btf.idsByName(name)) {
      const t = btf.type(id);
      if (t.kind === BtfKind.Var) return t.type;
    }
    return undefined;
  }

  /** Sets a global variable from bytes or a number (little-endian, the variable's size). */
  setVariable(name: string, value: Uint8Array | number | bigint | string): void {
    const v = this.variableSpec(name);
    const spec = this.mapSpec(v.map);
    if (this.stateValue !== "opened" && spec.freeze) {
      throw new StateError(`${name} is in ${v.section}, which is read-only once loaded; set it before load()`);
    }
    const target = this.variable(name);
    if (this.stateValue !== "opened" && !this.map(v.map).mapped?.writable) {
      throw new StateError(`${name} is in ${v.section}, which is not mmapable; it cannot be written after load`);
    }
    target.set(encodeValue(name, value, v.size));
  }

  /** Whether load() loads program `name` (libbpf's autoload); all programs load by default. */
  setAutoload(name: string, autoload: boolean): void {
    if (this.stateValue !== "opened") throw new StateError(`autoload must be set before load()`);
    if (!this.spec.programs.some((p) => p.name === name)) {
      throw new NotFoundError(`object ${this.name} has no program ${name} (it has: ${this.spec.programs.map((p) => p.name).join(", ")})`);
    }
    if (autoload) this.notAutoloaded.delete(name);
    else this.notAutoloaded.add(name);
  }

  // ---- load -----------------------------------------------------------------

  /** Creates the maps, writes initial data, loads every program. */
  load(): void {
    if (this.stateValue !== "opened") throw new StateError(`object ${this.name} is already ${this.stateValue}`);
    try {
      this.btfFd = this.loadObjectBtf();
      const kconfig = this.spec.maps.find((m) => m.data?.kind === "kconfig");
      if (kconfig) fillKconfig(kconfig.data!.initial, this.spec.externs, this.spec.btf!.btf, (m) => this.onStep("warning", m));
      const ksyms = resolveKsyms(this.spec.externs, () => this.kernelBtf());
      for (const spec of this.spec.maps) this.createMap(spec);
      const needsKernelBtf = this.spec.programs.some((p) => hasCoreRelocations(p) || p.section.def.attachBtf);
      const target = needsKernelBtf ? this.targetBtf() : undefined;
      const cache = new CoreCache();
      const kernelVersion = runningKernelVersion();
      for (const p of this.spec.programs) {
        if (this.notAutoloaded.has(p.name)) continue;
        const relocated = relocateProgram(p, this.spec.btf?.btf, target, cache);
        this.coreReports.set(p.name, relocated.core);
        for (const r of relocated.core) this.onStep("CO-RE", r.explanation);
        const insns = bindMapReferences(p.name, relocated.insns, (m) => this.mapsByName.get(m)?.fd, ksyms);
        if (this.opts.onStep) this.describeBindings(p.name, insns);
        const bytes = encodeInstructions(insns);
        this.onStep("load program", `${p.name}: ${insns.length} instructions, type from section "${p.sectionName}"`);
        const withBtf = this.btfFd !== undefined;
        const attachBtfId = p.section.def.attachBtf ? resolveAttachBtfId(this.kernelBtf(), p.section, p.name) : undefined;
        const funcInfo = withBtf ? funcInfoBlob(insns) : undefined;
        const lineInfo = withBtf ? lineInfoBlob(insns) : undefined;
        const fd = loadProgram(
          {
            name: p.name,
            type: p.section.def.progType,
            expectedAttachType: p.section.def.expectedAttachType,
            insns: bytes,
            license: p.license,
            kernelVersion: p.kernelVersion ?? kernelVersion,
            ...(p.section.def.sleepable ? { flags: BPF_F_SLEEPABLE } : {}),
            ...(this.btfFd !== undefined ? { btfFd: this.btfFd } : {}),
            ...(funcInfo ? { funcInfo } : {}),
            ...(lineInfo ? { lineInfo } : {}),
            ...(attachBtfId !== undefined ? { attachBtfId } : {}),
          },
          (log) =>
            [explainPoisoned(relocated.core), explainUnresolvedKfunc(log, ksyms), describeFailure(log, insns)].filter(Boolean).join("\n") ||
            undefined,
          p.section.def.attach === "trampoline" ? TRAMPOLINE_REFUSED : undefined,
        );
        this.programsByName.set(p.name, new BpfProgram(p, fd, bytes));
        bindReadOnlyData(p.name, fd, this.mapsByName.values(), (m) => this.onStep("warning", m));
        this.onStep("program loaded", `${p.name}: the verifier accepted it; fd ${fd}`);
      }
      this.fillInitialSlots();
      for (const map of this.mapsByName.values()) this.mapData(map);
      this.stateValue = "loaded";
    } catch (e) {
      this.releaseAll();
      this.stateValue = "destroyed";
      throw e;
    }
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
    this.onStep("kernel BTF", `reading ${t ?? KERNEL_BTF_PATH} for CO-RE`);
    return loadKernelBtf(t);
  }

  /** BPF_BTF_LOAD of the object's BTF, sanitised for this kernel. Like libbpf, a refusal only costs the BTF. */
  private loadObjectBtf(): number | undefined {
    const objBtf = this.spec.btf;
    if (!objBtf) return undefined;
    const features = btfFeatures();
    if (!features.btf) {
      this.onStep("BTF", "this kernel cannot load BTF; continuing without it");
      return undefined;
    }
    const bytes = objBtf.kernelBytes(features);
    this.onStep("load BTF", `${bytes.byteLength} bytes, ${objBtf.btf.typeCount - 1} types`);
    try {
      return loadBtf(bytes);
    } catch (e) {
      if (!(e instanceof BtfLoadError)) throw e;
      this.onStep("BTF", `${e.message}; continuing without BTF`);
      return undefined;
    }
  }

  private createMap(spec: MapSpec): void {
    if (this.opts.onStep) this.onStep("create map", describeMapSpec(spec, this.spec.btf?.btf));
    const pinned = spec.pinning === PinningType.ByName ? this.reusePinned(spec) : undefined;
    if (pinned) {
      this.mapsByName.set(spec.name, pinned);
      return; // a reused map keeps its contents: no initial values
    }
    // Map-in-map: the kernel needs a template of the inner map at creation.
    const inner = spec.innerMap ? BpfMap.create(spec.innerMap, this.btfFd !== undefined ? { btfFd: this.btfFd } : {}) : undefined;
    let map: BpfMap;
    try {
      map = BpfMap.create(spec, { ...(this.btfFd !== undefined ? { btfFd: this.btfFd } : {}), ...(inner ? { innerMapFd: inner.fd } : {}) });
    } finally {
      inner?.close();
    }
    this.mapsByName.set(spec.name, map);
    if (spec.pinning === PinningType.ByName) {
      const path = pinPath(this.pinRoot, spec);
      this.onStep("pin map", `${spec.name} at ${path}`);
      pinMap(map.fd, path);
    }
    if (spec.data) {
      // Initial contents (zeros for .bss too, as libbpf writes them).
      bpf(
        BpfCmd.MAP_UPDATE_ELEM,
        { map_fd: map.fd, key: new Uint8Array(4), value: spec.data.initial, flags: 0 },
        `initialising ${spec.name}`,
      );
      this.onStep("initialise map", `${spec.name}: wrote the ${spec.valueSize} initial bytes of ${spec.sectionName}`);
      if (spec.freeze) {
        map.freeze();
        this.onStep("freeze map", `${spec.name}: now read-only for user space too`);
      }
    }
  }

  private get pinRoot(): string {
    return this.opts.pinRoot ?? DEFAULT_PIN_ROOT;
  }

  /** A compatible map already pinned under this name, if any. */
  private reusePinned(spec: MapSpec): BpfMap | undefined {
    ensureBpffs(this.pinRoot);
    const path = pinPath(this.pinRoot, spec);
    const fd = openPinned(path);
    if (fd === undefined) return undefined;
    checkPinnedCompatible(fd, spec, path);
    this.onStep("reuse pinned map", `${spec.name} from ${path}`);
    return BpfMap.fromFd(spec, fd);
  }

  /** `.values = { ... }` initialisers: prog array slots get program fds, map-in-map slots map fds. */
  private fillInitialSlots(): void {
    for (const map of this.mapsByName.values()) {
      for (const [slot, name] of map.spec.initSlots ?? []) {
        if (this.notAutoloaded.has(name)) {
          this.onStep("skip slot", `${map.name}[${slot}]: program ${name} is not loaded (autoload off)`);
          continue;
        }
        const fd = this.programsByName.get(name)?.fd ?? this.mapsByName.get(name)?.fd;
        if (fd === undefined)
          throw new NotFoundError(`map ${map.name} slot ${slot} names ${name}, which is neither a program nor a map of this object`);
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, slot, true);
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, fd, true);
        map.update(key, value);
      }
    }
  }

  /** mmaps the global-data maps that allow it: .bss/.data read-write, .rodata read-only. */
  private mapData(map: BpfMap): void {
    const spec = map.spec;
    if (!spec.data || !(spec.flags & BPF_F_MMAPABLE)) return;
    map.mmap(!spec.freeze);
    this.onStep("mmap map", `${spec.name}: ${spec.sectionName} mapped ${spec.freeze ? "read-only" : "read-write"} into this process`);
  }

  /** One step per bound reference, for --explain. */
  private describeBindings(program: string, insns: readonly Instruction[]): void {
    insns.forEach((insn, i) => {
      const ref = insn.reference;
      if (ref?.kind === "map") this.onStep("relocate", `${program}: ld_imm64 at insn ${i} now points at map ${ref.map} (fd ${insn.imm})`);
      else if (ref?.kind === "map_value") {
        this.onStep(
          "relocate",
          `${program}: ld_imm64 at insn ${i} now points at ${ref.symbol ?? "offset " + ref.offset} inside map ${ref.map} (fd ${insn.imm}, offset ${ref.offset})`,
        );
      } else if (ref?.kind === "call")
        this.onStep("relocate", `${program}: call at insn ${i} jumps ${insn.imm + 1} instructions to subprogram ${ref.function}`);
      else if (ref?.kind === "extern")
        this.onStep(
          "relocate",
          `${program}: insn ${i} uses kernel symbol ${ref.name} (${insn.src === 2 ? `kfunc, BTF id ${insn.imm}` : insn.src === 3 ? `BTF id ${insn.imm}` : "address from kallsyms"})`,
        );
    });
  }

  // ---- attach ---------------------------------------------------------------

  /** Attaches every program whose section says where (tp/…, raw_tp/…). */
  attach(): Link[] {
    if (this.stateValue !== "loaded") throw new StateError(`object ${this.name} must be loaded before attach (it is ${this.stateValue})`);
    const created: Link[] = [];
    try {
      for (const prog of this.programsByName.values()) {
        if (!prog.autoAttachable) continue;
        const link = prog.attach();
        created.push(link);
        this.onStep("attach", `${prog.name} → ${link.kind} ${link.target}${link.fd !== undefined ? ` (link fd ${link.fd})` : ""}`);
      }
    } catch (e) {
      for (const l of created) l.destroy();
      throw e;
    }
    this.linksList.push(...created);
    return created;
  }

  get links(): readonly Link[] {
    return this.linksList;
  }

  // ---- access ----------------------------------------------------------------

  private mapSpec(name: string): MapSpec {
    const spec = this.spec.maps.find((m) => m.name === name || m.sectionName === name);
    if (!spec) throw new NotFoundError(`object ${this.name} has no map ${name}`);
    return spec;
  }

  /** A loaded map by kernel name ("minimal.bss") or section name (".bss"). */
  map(name: string): BpfMap {
    this.requireLoaded();
    const spec = this.mapSpec(name);
    return this.mapsByName.get(spec.name)!;
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

  /** Detaches every link and closes every program and map. Safe to call twice. */
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

/** "exec_start: BPF_MAP_TYPE_HASH, key pid_t (4 B), value u64 (8 B), 8192 entries". */
function describeMapSpec(spec: MapSpec, btf: Btf | undefined): string {
  const t = (id: number, size: number) => (btf && id ? `${cTypeName(btf, id)} (${size} B)` : `${size} B`);
  const flags = MAP_FLAG_NAMES.filter(([bit]) => spec.flags & bit).map(([, n]) => n);
  return (
    `${spec.name}: ${BpfMapTypeNames[spec.type] ?? spec.type}, key ${t(spec.btfKeyTypeId, spec.keySize)}, value ${t(spec.btfValueTypeId, spec.valueSize)}, ` +
    `${spec.maxEntries} entries${flags.length ? `, flags ${flags.join("|")}` : ""}${spec.sectionName ? ` — holds ${spec.sectionName}` : ""}`
  );
}

/** BPF_F_SLEEPABLE: ".s" sections (fentry.s, uprobe.s, syscall, ...). */
const BPF_F_SLEEPABLE = 1 << 4;

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

/** Little-endian bytes of `value` for a variable of `size` bytes. */
export function encodeValue(name: string, value: Uint8Array | number | bigint | string, size: number): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.byteLength !== size) throw new TsbpfError(`${name} is ${size} bytes; got ${value.byteLength}`);
    return value;
  }
  const out = new Uint8Array(size);
  if (typeof value === "string") {
    const s = new TextEncoder().encode(value);
    if (s.byteLength > size) throw new TsbpfError(`${name} holds ${size} bytes; "${value}" is ${s.byteLength}`);
    out.set(s);
    return out;
  }
  const v = BigInt(value);
  const bits = BigInt(size * 8);
  if (size > 8 || v >= 1n << bits || v < -(1n << (bits - 1n))) {
    throw new TsbpfError(`${value} does not fit ${name} (${size} bytes)`);
  }
  writeLittleEndian(out, 0, size, v);
  return out;
}
