/**
 * CO-RE, end to end: resolve each relocation of a program against a target
 * BTF (usually the running kernel's), patch its instruction, and report what
 * was done in words a user can act on.
 *
 * The algorithm is libbpf's (relo_core.c, bpf_core_calc_relo_insn):
 *   1. parse the access string against the local BTF;
 *   2. TYPE_ID_LOCAL needs no target: the answer is the local id;
 *   3. otherwise take the candidates (same essential name, compatible kind),
 *      match the local spec against each, compute the value per match;
 *   4. every matching candidate must agree (field bit offset, value, and
 *      poison decision), else the relocation is ambiguous and fails;
 *   5. matches narrow the local type's candidate list for later relocations;
 *   6. no match: existence checks answer 0, TYPE_SIZE/TYPE_ID_TARGET answer
 *      0 too, anything else poisons the instruction.
 */
import { RelocationError } from "../errors.js";
import type { Instruction } from "../insn/insn.js";
import type { Btf } from "../btf/btf.js";
import { CoreReloKind } from "../btf/ext.js";
import { isEnum } from "../btf/types.js";
import { type CoreReloResult, calcRelocation } from "./calc.js";
import { CoreCache } from "./candidates.js";
import { coreReloKindName, isEnumValueBased, isFieldBased, isTypeBased } from "./kinds.js";
import { type MatchOutcome, matchSpec } from "./match.js";
import { essentialName } from "./names.js";
import { CORE_POISON_IMM, patchInstruction } from "./patch.js";
import { type CoreReloRecord, type CoreSpec, formatSpec, kindWord, parseCoreSpec, specPath } from "./access-spec.js";

export interface CoreRelocationOptions {
  /**
   * Per-object state (candidate lists narrowed as relocations succeed, as
   * libbpf does per bpf_object). Pass the same cache for every program of one
   * object; without one, each call starts fresh. Target candidate lists are
   * cached per target BTF regardless.
   */
  cache?: CoreCache | undefined;
  /** Names the program in messages ("CO-RE relocation #3 in handle_exec ..."). */
  programName?: string;
  /** Names the target in messages; default "kernel BTF". */
  targetName?: string | undefined;
  /** Number of the first relocation in messages (libbpf numbers them per ELF section from 0). Default 0. */
  firstRelocationNumber?: number;
}

/** What happened to one relocation. */
export interface CoreRelocationReport {
  /** Relocation number in messages (order in the program, from firstRelocationNumber). */
  number: number;
  /** Index of the patched instruction in the array given to applyCoreRelocations. */
  insnIndex: number;
  /** The record's own instruction index (slot in its ELF section). */
  sectionInsnIndex: number;
  kind: CoreReloKind;
  /** libbpf's short name of the kind: "byte_off", "field_exists", ... */
  kindName: string;
  accessStr: string;
  /** Local BTF id of the root type. */
  localTypeId: number;
  /** "task_struct::real_parent (0:95)". */
  localSpec: string;
  /** The chosen target's spec, "task_struct::real_parent (0:95)"; undefined when nothing matched. */
  targetSpec?: string;
  /** Target BTF id of the chosen candidate, when one matched. */
  targetTypeId?: number;
  /** Candidate ids examined in the target. */
  candidates: readonly number[];
  /** The value clang compiled in (unsigned 64-bit). */
  localValue: bigint;
  /** The value patched in; undefined when the instruction was poisoned. */
  targetValue?: bigint;
  poisoned: boolean;
  /** Why the relocation failed, when poisoned. */
  failure?: string;
  /** Set when a load/store's memory size was changed (bytes). */
  resized?: { from: number; to: number };
  /** One line: what the relocation resolved to ("task_struct::pid at offset 2344 in kernel BTF"), or why it failed. */
  explanation: string;
}

/** Everything resolveCoreRelocation worked out, before any instruction is touched. */
export interface CoreResolution {
  localSpec: CoreSpec;
  /** The chosen target spec (first matching candidate). */
  targetSpec?: CoreSpec;
  result: CoreReloResult;
  candidates: readonly number[];
  /** Why each non-matching candidate was rejected (for explanations). */
  rejections: string[];
}

/**
 * Resolves one relocation record against `target` (libbpf's
 * bpf_core_calc_relo_insn). Throws RelocationError on malformed records and
 * ambiguity; an unsatisfiable relocation comes back with result.poison set.
 */
export function resolveCoreRelocation(relo: CoreReloRecord, local: Btf, target: Btf, cache: CoreCache = new CoreCache()): CoreResolution {
  const localSpec = parseCoreSpec(local, relo);

  if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
    const id = BigInt(relo.typeId);
    return {
      localSpec,
      result: {
        origVal: id,
        newVal: id,
        poison: false,
        validate: false,
        failMemszAdjust: false,
        origSize: 0,
        newSize: 0,
        origTypeId: 0,
        newTypeId: 0,
      },
      candidates: [],
      rejections: [],
    };
  }
  const localName = local.name(relo.typeId);
  if (localName === "") {
    throw new RelocationError(
      `<${coreReloKindName(relo.kind)}> relocation on anonymous type [${relo.typeId}]: CO-RE cannot look up anonymous types`,
    );
  }

  const candidates = cache.candidates(local, relo.typeId, target);
  const kept: number[] = [];
  const rejections: string[] = [];
  let chosen: { spec: CoreSpec; res: CoreReloResult } | undefined;
  for (const id of candidates) {
    const outcome: MatchOutcome = matchSpec(localSpec, target, id);
    if (!outcome.matched) {
      rejections.push(outcome.why);
      continue;
    }
    const res = calcRelocation(localSpec, outcome.spec);
    if (!chosen) {
      chosen = { spec: outcome.spec, res };
    } else if (outcome.spec.bitOffset !== chosen.spec.bitOffset) {
      throw new RelocationError(
        `field offset ambiguity: ${formatSpec(chosen.spec)} is at bit ${chosen.spec.bitOffset} but ${formatSpec(outcome.spec)} [${id}] is at bit ${outcome.spec.bitOffset}`,
      );
    } else if (res.poison !== chosen.res.poison || res.newVal !== chosen.res.newVal) {
      const say = (r: CoreReloResult): string => (r.poison ? "failure" : `success (${r.newVal})`);
      throw new RelocationError(
        `relocation decision ambiguity: candidate [${chosen.spec.rootTypeId}] gives ${say(chosen.res)} but candidate [${id}] gives ${say(res)}`,
      );
    }
    kept.push(id);
  }
  if (kept.length > 0) {
    // Later relocations against this local type only consider the candidates that matched.
    if (kept.length !== candidates.length) cache.narrow(local, relo.typeId, target, kept);
    return { localSpec, targetSpec: chosen!.spec, result: chosen!.res, candidates, rejections };
  }
  return { localSpec, result: calcRelocation(localSpec, undefined), candidates, rejections };
}

function hex(v: bigint): string {
  return v > 9n ? `${v} (0x${v.toString(16)})` : `${v}`;
}

/** Why nothing matched, in words. */
function failureReason(res: CoreResolution, local: Btf, targetName: string): string {
  const spec = res.localSpec;
  const path = specPath(spec);
  const rootName = local.name(spec.rootTypeId);
  const essential = essentialName(rootName);
  const kw = kindWord(local.type(spec.rootTypeId));
  if (res.candidates.length === 0) {
    const also = essential !== rootName ? ` (the essential name of ${rootName})` : "";
    return `${path} not found in ${targetName}: it has no ${kw} named ${essential}${also}`;
  }
  const detail = res.rejections.length > 0 ? ` (${res.rejections.join("; ")})` : "";
  return `${path} not found in ${targetName}${detail}`;
}

/** The one-line account of a resolved, patched relocation. */
function describe(res: CoreResolution, value: bigint, targetName: string): string {
  const spec = res.targetSpec ?? res.localSpec;
  const path = specPath(res.localSpec);
  const tpath = res.targetSpec ? specPath(res.targetSpec) : path;
  const kind = res.localSpec.kind;
  const found = res.targetSpec !== undefined;
  const where = `in ${targetName}`;
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      return `${tpath} at offset ${value} ${where}`;
    case CoreReloKind.FIELD_BYTE_SIZE:
      return `${tpath} is ${value} bytes ${where}`;
    case CoreReloKind.FIELD_EXISTS:
      return found ? `${tpath} exists ${where}` : `${path} does not exist ${where} (answer 0)`;
    case CoreReloKind.FIELD_SIGNED:
      return `${tpath} is ${value ? "signed" : "unsigned"} ${where}`;
    case CoreReloKind.FIELD_LSHIFT_U64:
      return `${tpath} needs a left shift of ${value} ${where}`;
    case CoreReloKind.FIELD_RSHIFT_U64:
      return `${tpath} needs a right shift of ${value} ${where}`;
    case CoreReloKind.TYPE_ID_LOCAL:
      return `${path} is type [${value}] in the program's BTF`;
    case CoreReloKind.TYPE_ID_TARGET:
      return found ? `${path} is type [${value}] (${tpath}) ${where}` : `${path} not found ${where} (type id 0)`;
    case CoreReloKind.TYPE_EXISTS:
      return found ? `${path} exists ${where} as [${spec.rootTypeId}]` : `${path} does not exist ${where} (answer 0)`;
    case CoreReloKind.TYPE_SIZE:
      return found ? `${path} is ${value} bytes ${where}` : `${path} not found ${where} (size 0)`;
    case CoreReloKind.TYPE_MATCHES:
      return found ? `${path} matches [${spec.rootTypeId}] ${where}` : `${path} matches nothing ${where} (answer 0)`;
    case CoreReloKind.ENUMVAL_EXISTS:
      return found ? `${tpath} exists ${where}` : `${path} does not exist ${where} (answer 0)`;
    case CoreReloKind.ENUMVAL_VALUE:
      return `${tpath} = ${enumDisplay(res.targetSpec, value)} ${where}`;
    default:
      return `${path} → ${value}`;
  }
}

/** Kinds whose explanation mentions the compiled-in value when the target's differs. */
function showsCompiledValue(kind: CoreReloKind): boolean {
  return kind === CoreReloKind.FIELD_BYTE_OFFSET || kind === CoreReloKind.FIELD_BYTE_SIZE || kind === CoreReloKind.TYPE_SIZE;
}

/** An enumerator value as the enum's signedness reads it. */
function enumDisplay(spec: CoreSpec | undefined, value: bigint): string {
  const t = spec ? spec.btf.type(spec.accessors[0]!.typeId) : undefined;
  if (t && isEnum(t) && t.signed) return `${t.size === 8 ? BigInt.asIntN(64, value) : BigInt.asIntN(32, value)}`;
  return hex(t && isEnum(t) && t.size <= 4 ? BigInt.asUintN(32, value) : value);
}

/**
 * Applies the CO-RE relocations of one program: every instruction of `insns`
 * carrying `coreRelo` is resolved against `target` and patched in place
 * (pass copies of the spec's instructions). Returns one report per
 * relocation, in instruction order. Throws RelocationError for malformed
 * relocations, ambiguous ones, and instructions that do not hold the value
 * clang recorded; unsatisfiable ones are poisoned and reported instead.
 */
export function applyCoreRelocations(
  insns: Instruction[],
  local: Btf,
  target: Btf,
  opts: CoreRelocationOptions = {},
): CoreRelocationReport[] {
  const cache = opts.cache ?? new CoreCache();
  const prog = opts.programName ?? "program";
  const targetName = opts.targetName ?? "kernel BTF";
  const reports: CoreRelocationReport[] = [];
  let number = opts.firstRelocationNumber ?? 0;
  for (let i = 0; i < insns.length; i++) {
    const relo = insns[i]!.coreRelo;
    if (!relo) continue;
    const n = number++;
    const what = `CO-RE relocation #${n} in ${prog}`;
    let res: CoreResolution;
    try {
      res = resolveCoreRelocation(relo, local, target, cache);
    } catch (err) {
      throw wrap(
        err,
        `${what} (<${coreReloKindName(relo.kind)}> [${relo.typeId}] ${describeRoot(local, relo)} "${relo.accessStr}", instruction #${i})`,
      );
    }
    // patchInstruction's errors already name the relocation.
    const patched = patchInstruction(insns, i, res.result, `${what} (${formatSpec(res.localSpec)})`);
    const report: CoreRelocationReport = {
      number: n,
      insnIndex: i,
      sectionInsnIndex: relo.insnIndex,
      kind: relo.kind,
      kindName: coreReloKindName(relo.kind),
      accessStr: relo.accessStr,
      localTypeId: relo.typeId,
      localSpec: formatSpec(res.localSpec),
      candidates: res.candidates,
      localValue: res.result.origVal,
      poisoned: patched.poisoned,
      explanation: "",
    };
    if (res.targetSpec) {
      report.targetSpec = formatSpec(res.targetSpec);
      report.targetTypeId = res.targetSpec.rootTypeId;
    }
    if (patched.resized) report.resized = patched.resized;
    if (patched.poisoned) {
      report.failure = patched.poisonReason ? `${specPath(res.localSpec)}: ${patched.poisonReason}` : failureReason(res, local, targetName);
      report.explanation = `${what} failed: ${report.failure}; instruction #${i} poisoned`;
    } else {
      report.targetValue = res.result.newVal;
      report.explanation = describe(res, res.result.newVal, targetName);
      if (showsCompiledValue(relo.kind) && res.result.newVal !== res.result.origVal) {
        report.explanation += ` (compiled as ${res.result.origVal})`;
      }
    }
    reports.push(report);
  }
  return reports;
}

function describeRoot(local: Btf, relo: CoreReloRecord): string {
  try {
    const t = local.type(relo.typeId);
    return `${kindWord(t)} ${t.name || "<anon>"}`;
  } catch {
    return "<bad type id>";
  }
}

function wrap(err: unknown, prefix: string): RelocationError {
  const message = err instanceof Error ? err.message : String(err);
  return new RelocationError(`${prefix}: ${message}`, { cause: err });
}

/**
 * A poisoned relocation explained: what failed, what the verifier will say
 * if the instruction is reachable, and how to fix the program. Undefined for
 * a relocation that was not poisoned.
 */
export function explainPoison(report: CoreRelocationReport): string | undefined {
  if (!report.poisoned) return undefined;
  const lines = [
    report.explanation,
    `  relocation: <${report.kindName}> ${report.localSpec}, ${report.candidates.length} candidate type(s) in the target` +
      (report.candidates.length > 0 ? ` (${report.candidates.map((c) => `[${c}]`).join(", ")})` : ""),
    `  instruction #${report.insnIndex} is now "call 0x${CORE_POISON_IMM.toString(16)}"; if the verifier reaches it, it fails with ` +
      `"invalid func unknown#${CORE_POISON_IMM}" (an unreachable one is removed as dead code)`,
  ];
  if (isFieldBased(report.kind)) {
    lines.push(
      "  fix: guard the access with bpf_core_field_exists(), or read the field through a ___flavor struct that matches this kernel",
    );
  } else if (isEnumValueBased(report.kind)) {
    lines.push("  fix: guard it with bpf_core_enum_value_exists()");
  } else if (isTypeBased(report.kind)) {
    lines.push("  fix: guard it with bpf_core_type_exists()");
  }
  return lines.join("\n");
}
