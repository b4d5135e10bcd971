/** Types for mutate.mjs (used by test/fuzz-regressions.test.ts). */
export interface CorpusEntry {
  name: string;
  bytes: Uint8Array;
  layout: unknown;
}
export interface FuzzCase {
  bytes: Uint8Array;
  /** Corpus object name, or "random". */
  object: string;
  /** What was done to it, in words. */
  steps: string[];
}
export declare function normaliseSeed(seed: number | string): number;
export declare function layoutOf(name: string, bytes: Uint8Array): unknown;
export declare function makeCorpus(files: Array<{ name: string; bytes: Uint8Array }>): CorpusEntry[];
export declare function generateCase(corpus: CorpusEntry[], seed: number, index: number): FuzzCase;
