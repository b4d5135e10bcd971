/** `tsbpf/core`, kernel-free. CO-RE: relocate a program's field, type and enum accesses to a target BTF (libbpf's relo_core.c semantics). */
export { applyCoreRelocations, explainPoison, resolveCoreRelocation } from "./relocate.js";
export type { CoreRelocationOptions, CoreRelocationReport, CoreResolution } from "./relocate.js";
export { CoreCache, findCandidates } from "./candidates.js";
export { calcRelocation } from "./calc.js";
export type { CoreReloResult } from "./calc.js";
export { fieldsAreCompatible, typesAreCompatible, typesMatch } from "./compat.js";
export { coreReloKindName, isEnumValueBased, isExistenceCheck, isFieldBased, isTypeBased } from "./kinds.js";
export { matchSpec } from "./match.js";
export type { MatchOutcome } from "./match.js";
export { essentialName, essentialNameLength } from "./names.js";
export { CORE_POISON_IMM, isPoisonedInstruction, patchInstruction, poisonInstruction } from "./patch.js";
export type { PatchOutcome } from "./patch.js";
export { CORE_SPEC_MAX_LEN, formatSpec, parseAccessString, parseCoreSpec, specPath } from "./access-spec.js";
export type { CoreAccessor, CoreReloRecord, CoreSpec } from "./access-spec.js";
export { RelocationError, TsbpfError } from "../errors.js";
