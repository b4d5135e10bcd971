/**
 * Inputs the fuzzer (fuzz/fuzz.mjs, `npm run fuzz`) found failing, kept as
 * regressions: each file in fuzz/regressions/ is the failing object reduced
 * to the byte patches that matter (`npm run fuzz -- --seed S --case I
 * --minimize`). They go through the fuzzer's own pipeline (fuzz/pipeline.mjs:
 * parseObject, inspectObject, Btf.parse, parseBtfExt, CO-RE against the
 * kernel's BTF), here on src/, and must end in a typed error naming the
 * place (or succeed).
 *
 * Then the hand-written hostile shapes of fuzz/hostile.mjs, made from the
 * committed objects on every run: each ends in a typed error naming the
 * place (the one given, where the case says) or succeeds. Their cost (peak
 * RSS, the 200 MB ones included) is bounded by test/hostile-memory.test.ts.
 *
 * No wall-clock bounds here (bench/fuzz-cost.mjs times every case); a hang
 * still fails by the test timeout.
 *
 * The files are what count: a seed and case number regenerate the same bytes
 * only with the version of fuzz/mutate.mjs that found them.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Btf } from "../src/btf/btf.js";
import { CoreCache } from "../src/core/index.js";
import { parseBtfExt } from "../src/btf/ext.js";
import { loadKernelBtf } from "../src/object/kernel-btf.js";
import { ElfFile } from "../src/elf/elf-file.js";
import { ObjectFormatError, TsbpfError } from "../src/errors.js";
import { inspectObject } from "../src/spec/inspect.js";
import { parseObject } from "../src/spec/object-spec.js";
import { relocateProgram } from "../src/spec/relocate.js";
import { BIG_FILE_SIZE, type HostileCase, hostileCases } from "../fuzz/hostile.mjs";
import { generateCase, makeCorpus } from "../fuzz/mutate.mjs";
import { FuzzFailure, makePipeline, type PipelineModules } from "../fuzz/pipeline.mjs";

const ROOT = join(import.meta.dirname, "..");

const corpus = makeCorpus(
  readdirSync(join(ROOT, "bpf"))
    .filter((n) => n.endsWith(".bpf.o"))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(ROOT, "bpf", name))) })),
);
const layouts = new Map(corpus.map((c) => [c.name, c.layout]));
const mods = {
  parseObject,
  inspectObject,
  ElfFile,
  Btf,
  parseBtfExt,
  relocateProgram,
  CoreCache,
  TsbpfError,
  ObjectFormatError,
} as unknown as PipelineModules;
const pipeline = makePipeline(mods, loadKernelBtf(), new Map(corpus.map((c) => [c.name, c.bytes])));

/** Runs the pipeline; a FuzzFailure (untyped error, typed error naming nothing) fails the test with its stack. */
function run(bytes: Uint8Array, object: string) {
  try {
    return pipeline.run(bytes, object, layouts.get(object));
  } catch (e) {
    if (e instanceof FuzzFailure) expect.fail(`${e.message}\n${(e.error as Error)?.stack ?? e.error}`);
    throw e;
  }
}

interface Regression {
  file: string;
  /** The committed object it is a mutation of. */
  object: string;
  found: string;
  /** What went wrong before the fix, and where the fix is. */
  was: string;
  /** The typed error it must end in now, or "ok" when it is a valid object after all. */
  expected: { step: string; message: RegExp } | "ok";
}

const REGRESSIONS: Regression[] = [
  {
    file: "kconfig-extern-2gib.bpf.o",
    object: "externs.bpf.o",
    found: "fuzzer, seed 20251122 case 110363 (first harness version); minimised to u32 0x7fffffff at byte 5980, an INT's size",
    was:
      "a .kconfig extern whose BTF type claims 2^31 bytes: collectExterns allocated the .kconfig map's " +
      "initial value with new Uint8Array(> 2^32) → RangeError (src/object/externs.ts now caps the map)",
    expected: {
      step: "parseObject",
      message: /section \.BTF at offset \d+: type \[\d+\] of \.kconfig extern CONFIG_\w+ is 2147483647 bytes/,
    },
  },
  {
    file: "bss-1gib.bpf.o",
    object: "minimal.bpf.o",
    found: "fuzzer, seed 3 case 34001 (first harness version): a 384 MiB .bss took 1.35 s; here .bss sh_size is 2^30",
    was:
      "a 2 KB object whose .bss claims 1 GiB: the zeros were allocated, then copied as the map's initial " +
      "value (2 GiB, 5 s) — a hang by the fuzzer's measure. Zero-filled sections are no longer materialised " +
      "(src/spec/map-spec.ts InitialData): 1 GiB, the default maxZeroFillSize, now parses and inspects for nothing",
    expected: "ok",
  },
  {
    file: "func-proto-fan-out.bpf.o",
    object: "bootstrap.bpf.o",
    found:
      "crafted (VAR min_duration_ns → PTR [22] → FUNC_PROTO [330], whose 4 params → PTR [22]), then by the " +
      "fuzzer once it had the btfCycle mutator: seed 99 case 14681 (globals.bpf.o) hung",
    was:
      "inspectObject names the variable's type: cTypeName recursed into every parameter at each of 16 " +
      "levels, 4^16 calls → a hang, then RangeError: Invalid string length (src/btf/type-name.ts now " +
      "stops after 1000 types)",
    expected: "ok",
  },
];

describe("fuzz regressions", () => {
  it.each(REGRESSIONS)("$file ($object): a typed error naming the place, or success", (r) => {
    const bytes = new Uint8Array(readFileSync(join(ROOT, "fuzz", "regressions", r.file)));
    const { errors } = run(bytes, r.object);
    if (r.expected === "ok") expect(errors).toEqual([]);
    else
      expect(errors.find((e) => e.step === (r.expected as { step: string }).step)?.message, JSON.stringify(errors, null, 2)).toMatch(
        r.expected.message,
      );
  });
});

describe("fuzz harness", () => {
  it("generates the same case from the same seed and index", () => {
    const a = generateCase(corpus, 12345, 678);
    const b = generateCase(corpus, 12345, 678);
    expect(a.steps).toEqual(b.steps);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(generateCase(corpus, 12345, 679).steps).not.toEqual(a.steps);
  });

  it("runs the first 400 cases of seed 1 on src/ without a failure", () => {
    let typed = 0;
    for (let i = 0; i < 400; i++) {
      const c = generateCase(corpus, 1, i);
      const { errors } = run(c.bytes, c.object);
      if (errors.length) typed++;
    }
    // Most mutations break something; some leave a loadable object.
    expect(typed).toBeGreaterThan(100);
    expect(typed).toBeLessThan(400);
  });
});

const HOSTILE: HostileCase[] = hostileCases(new Map(corpus.map((c) => [c.name, c.bytes])));
const small = HOSTILE.filter((c) => c.bytes);

describe("hostile shapes (fuzz/hostile.mjs)", () => {
  it("cover the listed shapes: 60 or more, 200 MB files among them", () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(60);
    for (const prefix of ["elf-", "sec-", "sym-", "rel-", "btf-", "core-", "ext-", "bss-", "map-", "name-", "big-"]) {
      expect(
        HOSTILE.some((c) => c.name.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    expect(HOSTILE.filter((c) => c.size === BIG_FILE_SIZE).length).toBe(3);
  });

  it.each(small.map((c) => [c.name, c] as const))("%s: a typed error naming the place, or success", (_name, c) => {
    const { errors } = run(c.bytes!, c.object);
    if (c.expect === "ok") expect(errors, c.what).toEqual([]);
    else if (c.expect) {
      const step = c.expect.step;
      expect(errors.find((e) => e.step === step)?.message, `${c.what}: ${JSON.stringify(errors, null, 2)}`).toMatch(c.expect.message);
    }
  });
});
