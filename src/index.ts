/**
 * tsbpf — a pure-TypeScript eBPF loader.
 *
 * Two layers, usable separately:
 *  - the object half (no kernel): {@link parseObject}, {@link ElfFile},
 *    {@link Btf}, CO-RE with {@link relocateProgram} against any BTF file,
 *    {@link inspectObject};
 *  - the kernel half: {@link BpfObject} (open → set globals → load → attach
 *    → destroy), maps ({@link BpfMap}), ring buffers, links, introspection.
 *
 * @packageDocumentation
 */

// Errors
export { TsbpfError, ObjectFormatError, RelocationError, UnsupportedError, NotFoundError, StateError } from "./errors.js";
export { SyscallError } from "./syscall/syscall-error.js";
export { NetlinkError } from "./syscall/netlink.js";
export { VerifierError, ProgramRefusedError } from "./programs/prog-load.js";
export { BtfLoadError } from "./object/btf-load.js";

// Object half: pure
export { ElfFile } from "./elf/elf-file.js";
export type { ElfSection, ElfSymbol, ElfRelocation } from "./elf/elf-file.js";
export { Btf } from "./btf/btf.js";
export { BtfBuilder, encodeBtf } from "./btf/encode.js";
export { parseBtfExt, CoreReloKind } from "./btf/ext.js";
export type { BtfExt, FuncInfo, LineInfo, CoreRelo } from "./btf/ext.js";
export { loadKernelBtf, loadKernelModuleBtf, KERNEL_BTF_PATH } from "./object/kernel-btf.js";
export { cacheKernelBtfIndex, defaultCacheDir } from "./object/kernel-btf-index-cache.js";
export { dumpRaw } from "./btf/dump-raw.js";
export { dumpC, dumpCBytes } from "./btf/dump-c/index.js";
export type { DumpCOptions } from "./btf/dump-c/index.js";
export { cTypeName } from "./btf/type-name.js";
export * from "./btf/types.js";
export { CoreCache, applyCoreRelocations, explainPoison } from "./core/index.js";
export type { CoreRelocationReport } from "./core/index.js";
export { ObjectSpec, parseObject, objectNameFromPath } from "./spec/object-spec.js";
export type { ProgramSpec, GlobalVariable, ParseOptions } from "./spec/object-spec.js";
export type { ProgramEditor, MapEditor } from "./spec/spec-edit.js";
export { encodeValue } from "./spec/variable-value.js";
export { inspectObject } from "./spec/inspect.js";
export type { InspectReport } from "./spec/inspect.js";
export { relocateProgram, hasCoreRelocations } from "./spec/relocate.js";
export type { RelocatedProgram } from "./spec/relocate.js";
export { decodeInstructions, encodeInstructions } from "./insn/insn.js";
export type { Instruction, Reference } from "./insn/insn.js";
export { SECTION_DEFS, findSectionDef, BPF_F_SLEEPABLE } from "./spec/section-types.js";
export type { SectionDef, AttachKind } from "./spec/section-types.js";
export type { MapSpec } from "./spec/map-spec.js";
export type { StructOpsSpec } from "./spec/struct-ops.js";
export { readStapsdtNotes, parseUsdtArgs } from "./elf/stapsdt.js";
// The report page's data, built without a kernel (tsbpf report draws it).
export { objectView, coreReports } from "./report/object-view.js";
export type { ObjectView, ProgramView, RowView, CoreRowView, SectionView } from "./report/object-view.js";
export { btfSubset } from "./report/btf-subset.js";
export { renderReportPage } from "./report/page.js";
export type { ReportData, LoadView, SyscallView } from "./report/report-data.js";
export type { StapsdtNote, UsdtArg, UsdtArgLocation } from "./elf/stapsdt.js";

// Kernel half
export { BpfObject } from "./object/bpf-object.js";
export type { OpenOptions, LoadOptions, ObjectState } from "./object/bpf-object.js";
export type { LoadStep, LoadStepKind, StepListener } from "./object/load-steps.js";
export { BpfProgram, BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES } from "./programs/bpf-program.js";
export type { TestRunResult, TestRunOptions, OpenProgramOptions } from "./programs/bpf-program.js";
export { BpfMap, BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK } from "./maps/bpf-map.js";
export type { MapMapping } from "./maps/bpf-map.js";
export { BPF_F_RDONLY, BPF_F_WRONLY } from "./syscall/pin.js";
export type { OpenFlags } from "./syscall/pin.js";
export { TypedMap } from "./maps/typed-map.js";
export { makeDecoder } from "./btf/value-decoder.js";
export type { Decoder, DecoderOptions } from "./btf/value-decoder.js";
export { makeEncoder } from "./btf/value-encoder.js";
export { RingBuffer } from "./maps/ringbuf.js";
export type { RecordCallback, RawRecordCallback, RecordSource, RecordSourceGroup } from "./maps/ringbuf.js";
export { RingBufferPoller } from "./maps/ring-poller.js";
export type { PollerOptions, RingRecord, RecordTransform, RecordsOptions, WaitMode } from "./maps/ring-poller.js";
export { PerfBuffer, PerfRing } from "./maps/perf-buffer.js";
export type { PerfBufferOptions, LostCallback } from "./maps/perf-buffer.js";
export { generateSkeleton } from "./object/skeleton-gen.js";
export type { SkeletonOptions } from "./object/skeleton-gen.js";
export { Link, destroyLinks } from "./programs/link.js";
export type { LinkFds } from "./programs/link.js";
export { IterLink } from "./programs/attach/iter.js";
export { TcLink } from "./programs/attach/tc.js";
export type { TcDirection } from "./programs/attach/tc.js";
export type { AttachOptions } from "./programs/attach/options.js";
export { TracePipeReader, parseTraceLine } from "./programs/trace-pipe.js";
export type { TraceLine } from "./programs/trace-pipe.js";
export { listObjectIds } from "./syscall/object-ids.js";
export { progInfo, mapInfo, fdById, enableStats } from "./syscall/obj-info.js";
export type { ProgInfo, ProgInfoOptions, ProgFuncInfo, ProgLineInfo, MapInfo, StatsHandle } from "./syscall/obj-info.js";
export { linkInfo } from "./syscall/link-info.js";
export type { LinkInfo, PerfEventLinkType } from "./syscall/link-info.js";
export { btfFeatures } from "./object/kernel-features.js";

// The syscall choke point: observers (tracing) and a fake kernel (tests)
export { observeSyscalls, setKernelBackend, withKernelBackend } from "./syscall/kernel.js";
export type { SyscallObserver } from "./syscall/kernel.js";
export { FakeKernel } from "./syscall/fake-kernel.js";
export { startTracer } from "./strace/tracer.js";
export { formatSyscall } from "./strace/format.js";
export { isBpfCmd } from "./syscall/requests.js";
export type { SyscallRequest, SyscallResult, KernelBackend, BpfRequest } from "./syscall/requests.js";
export { BpfCmd, BpfMapType, BpfProgType, BpfAttachType } from "./abi/uapi-enums.js";
// Flags for the editors' setFlags: a map's map_flags, a program's prog_flags (BPF_F_SLEEPABLE is above).
export {
  BPF_F_NO_PREALLOC,
  BPF_F_NO_COMMON_LRU,
  BPF_F_NUMA_NODE,
  BPF_F_ZERO_SEED,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY_PROG,
  BPF_F_MMAPABLE,
  BPF_F_INNER_MAP,
  BPF_F_STRICT_ALIGNMENT,
  BPF_F_ANY_ALIGNMENT,
  BPF_F_TEST_RND_HI32,
  BPF_F_XDP_HAS_FRAGS,
} from "./abi/uapi-flags.js";
