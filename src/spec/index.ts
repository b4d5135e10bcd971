/**
 * `tsbpf/spec`: a `.bpf.o` parsed into programs (linked, with symbolic
 * references), maps and globals, relocated against any BTF — everything
 * before the kernel, with no FFI and no host reads.
 */
export { parseObject, objectNameFromPath } from "./object-spec.js";
export type { ObjectSpec, ProgramSpec, GlobalVariable, ParseOptions } from "./object-spec.js";
export { relocateProgram, hasCoreRelocations } from "./relocate.js";
export type { RelocatedProgram } from "./relocate.js";
export { inspectObject } from "./inspect.js";
export type { InspectReport } from "./inspect.js";
export { SECTION_DEFS, findSectionDef, classifySection } from "./section-types.js";
export type { SectionDef, SectionMatch, AttachKind } from "./section-types.js";
export { isPerCpu, PinningType } from "./map-spec.js";
export type { MapSpec, DataSectionKind } from "./map-spec.js";
export type { ExternSpec, ExternKind } from "./externs.js";
export { ObjectBtf } from "./object-btf.js";
export { TsbpfError, ObjectFormatError, RelocationError, UnsupportedError, NotFoundError, StateError } from "../errors.js";
