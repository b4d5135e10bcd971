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
import { BPF_F_MMAPABLE, type MapSpec } from "../maps/map-spec.js";
import { bindMapReferences } from "../programs/bind-references.js";
import { BpfProgram } from "../programs/bpf-program.js";
import { encodeInstructions } from "../programs/insn.js";
import type { Link } from "../programs/link.js";
import { loadProgram } from "../programs/prog-load.js";
import { runningKernelVersion } from "../syscall/kernel-version.js";
import { bpf } from "../syscall/bpf.js";
import { BpfCmd } from "../syscall/uapi-enums.js";
import { type GlobalVariable, type ObjectSpec, type ParseOptions, parseObject } from "./object-spec.js";

export type ObjectState = "opened" | "loaded" | "destroyed";

/** A narration hook: --explain and -v print these steps. */
export type StepListener = (step: string, detail?: string) => void;

export interface OpenOptions extends ParseOptions {
  /** Called for every step of the load, for explain/verbose output. */
  onStep?: StepListener;
}

export class BpfObject {
  private stateValue: ObjectState = "opened";
  private readonly mapsByName = new Map<string, BpfMap>();
  private readonly programsByName = new Map<string, BpfProgram>();
  private readonly linksList: Link[] = [];
  private readonly onStep: StepListener;

  private constructor(
    readonly spec: ObjectSpec,
    opts: OpenOptions,
  ) {
    this.onStep = opts.onStep ?? (() => {});
  }

  /** Parses an object from a path or from its bytes. No syscalls. */
  static open(source: string | Uint8Array, opts: OpenOptions = {}): BpfObject {
    const bytes = typeof source === "string" ? readFileSync(source) : source;
    const spec = parseObject(bytes, { ...opts, ...(typeof source === "string" && !opts.path ? { path: source } : {}) });
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

  // ---- load -----------------------------------------------------------------

  /** Creates the maps, writes initial data, loads every program. */
  load(): void {
    if (this.stateValue !== "opened") throw new StateError(`object ${this.name} is already ${this.stateValue}`);
    try {
      for (const spec of this.spec.maps) this.createMap(spec);
      const kernelVersion = runningKernelVersion();
      for (const p of this.spec.programs) {
        const insns = bindMapReferences(p.name, p.insns, (m) => this.mapsByName.get(m)?.fd);
        const bytes = encodeInstructions(insns);
        this.onStep("load program", `${p.name}: ${insns.length} instructions, type from section "${p.sectionName}"`);
        const fd = loadProgram({
          name: p.name,
          type: p.section.def.progType,
          expectedAttachType: p.section.def.expectedAttachType,
          insns: bytes,
          license: p.license,
          kernelVersion: p.kernelVersion ?? kernelVersion,
        });
        this.programsByName.set(p.name, new BpfProgram(p, fd, bytes));
      }
      for (const map of this.mapsByName.values()) this.mapData(map);
      this.stateValue = "loaded";
    } catch (e) {
      this.releaseAll();
      this.stateValue = "destroyed";
      throw e;
    }
  }

  private createMap(spec: MapSpec): void {
    this.onStep("create map", `${spec.name}: ${spec.valueSize}-byte values, ${spec.maxEntries} entries`);
    const map = BpfMap.create(spec);
    this.mapsByName.set(spec.name, map);
    if (spec.data) {
      // Initial contents (zeros for .bss too, as libbpf writes them).
      bpf(BpfCmd.MAP_UPDATE_ELEM, { map_fd: map.fd, key: new Uint8Array(4), value: spec.data.initial, flags: 0 }, `initialising ${spec.name}`);
      if (spec.freeze) map.freeze();
    }
  }

  /** mmaps the global-data maps that allow it: .bss/.data read-write, .rodata read-only. */
  private mapData(map: BpfMap): void {
    const spec = map.spec;
    if (!spec.data || !(spec.flags & BPF_F_MMAPABLE)) return;
    map.mmap(!spec.freeze);
  }

  // ---- attach ---------------------------------------------------------------

  /** Attaches every program whose section says where (tp/…, raw_tp/…). */
  attach(): Link[] {
    if (this.stateValue !== "loaded") throw new StateError(`object ${this.name} must be loaded before attach (it is ${this.stateValue})`);
    const created: Link[] = [];
    try {
      for (const prog of this.programsByName.values()) {
        if (!prog.autoAttachable) continue;
        this.onStep("attach", `${prog.name} → ${prog.spec.sectionName}`);
        created.push(prog.attach());
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
  }

  /** Detaches every link and closes every program and map. Safe to call twice. */
  destroy(): void {
    if (this.stateValue === "destroyed") return;
    this.releaseAll();
    this.stateValue = "destroyed";
  }

  [Symbol.dispose](): void {
    this.destroy();
  }
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
  let v = BigInt(value);
  const bits = BigInt(size * 8);
  if (size > 8 || v >= 1n << bits || v < -(1n << (bits - 1n))) {
    throw new TsbpfError(`${value} does not fit ${name} (${size} bytes)`);
  }
  v = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
