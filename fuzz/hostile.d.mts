/** Types for hostile.mjs (used by test/fuzz-regressions.test.ts). */
export interface HostileCase {
  name: string;
  /** The corpus object it is made from. */
  object: string;
  /** What was done to it, in words. */
  what: string;
  /** The object's bytes; absent for a large case, which is written with writeBigCase(). */
  bytes?: Uint8Array;
  /** A large case's file size. */
  size?: number;
  build?: (fd: number) => void;
  /** "ok": must be accepted; { step, message }: must fail there; absent: either, as long as it is typed. */
  expect?: "ok" | { step: string; message: RegExp };
}
export declare const BIG_FILE_SIZE: number;
export declare function hostileCases(corpus: Map<string, Uint8Array>): HostileCase[];
export declare function writeBigCase(c: HostileCase, path: string): void;
export declare function readCorpus(): Map<string, Uint8Array>;
