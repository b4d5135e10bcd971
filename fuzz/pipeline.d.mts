/** Types for pipeline.mjs (used by test/fuzz-regressions.test.ts). */
export declare class FuzzFailure extends Error {
  readonly step: string;
  readonly error: unknown;
  constructor(step: string, error: unknown, problem: string);
}

export interface PipelineModules {
  parseObject: (bytes: Uint8Array, opts?: { path?: string; name?: string }) => unknown;
  inspectObject: (spec: never) => unknown;
  ElfFile: new (bytes: Uint8Array) => unknown;
  Btf: { parse(bytes: Uint8Array, opts?: { where?: string }): unknown };
  parseBtfExt: (bytes: Uint8Array, btf: never) => unknown;
  relocateProgram: (...args: never[]) => unknown;
  CoreCache: new () => unknown;
  TsbpfError: abstract new (...args: never[]) => Error;
  ObjectFormatError: abstract new (...args: never[]) => Error;
}

export interface TypedOutcome {
  step: string;
  name: string;
  message: string;
}

export interface Pipeline {
  /** Every step on one input: the typed errors met (fine), or a thrown FuzzFailure. */
  run(bytes: Uint8Array, object: string, layout?: unknown): { errors: TypedOutcome[] };
  judge(step: string, e: unknown): TypedOutcome;
}

export declare function makePipeline(mods: PipelineModules, kernelBtf: unknown, originals?: Map<string, Uint8Array>): Pipeline;

export declare function loadDistModules(dist: string): Promise<{ mods: PipelineModules; loadKernelBtf: () => unknown }>;
