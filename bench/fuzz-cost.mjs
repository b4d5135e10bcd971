#!/usr/bin/env node
// Time spent on each hostile input: the fuzzer's committed regressions
// (fuzz/regressions/) and the hand-written shapes (fuzz/hostile.mjs, the
// 200 MB ones included unless --quick), each through the fuzzer's pipeline
// on dist/. A case slower than the fuzzer's per-case limit (2000 ms, which
// it calls a hang) is reported and makes the exit code 1. This is where the
// wall-clock bound lives: the functional tests assert outcomes and memory.
//
//   node bench/fuzz-cost.mjs [--quick]
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hostileCases, readCorpus, writeBigCase } from "../fuzz/hostile.mjs";
import { layoutOf } from "../fuzz/mutate.mjs";
import { FuzzFailure, loadDistModules, makePipeline } from "../fuzz/pipeline.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const LIMIT_MS = 2000;
const quick = process.argv.includes("--quick");

const { mods, loadKernelBtf } = await loadDistModules(join(root, "dist", "src"));
const corpus = readCorpus();
const layouts = new Map([...corpus].map(([n, b]) => [n, layoutOf(n, b)]));
const pipeline = makePipeline(mods, loadKernelBtf(), corpus);

// Regressions are mutations of a committed object; the test names which (by file name here).
const REGRESSION_OBJECTS = {
  "kconfig-extern-2gib.bpf.o": "externs.bpf.o",
  "bss-1gib.bpf.o": "minimal.bpf.o",
  "func-proto-fan-out.bpf.o": "bootstrap.bpf.o",
};
const inputs = readdirSync(join(root, "fuzz", "regressions")).map((f) => ({
  name: `regression ${f}`,
  object: REGRESSION_OBJECTS[f] ?? "random",
  bytes: () => new Uint8Array(readFileSync(join(root, "fuzz", "regressions", f))),
}));
const dir = mkdtempSync(join(tmpdir(), "tsbpf-fuzz-cost-"));
for (const c of hostileCases(corpus)) {
  if (c.build && quick) continue;
  inputs.push({
    name: c.name,
    object: c.object,
    bytes: () => {
      if (!c.build) return c.bytes;
      const path = join(dir, `${c.name}.bpf.o`);
      writeBigCase(c, path);
      const buf = readFileSync(path);
      rmSync(path);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
  });
}

const times = [];
let failed = 0;
try {
  for (const input of inputs) {
    const bytes = input.bytes();
    const t0 = performance.now();
    try {
      pipeline.run(bytes, input.object, layouts.get(input.object));
    } catch (e) {
      if (!(e instanceof FuzzFailure)) throw e;
      console.log(`FAILED ${input.name}: ${e.message}`);
      failed++;
    }
    times.push({ name: input.name, ms: performance.now() - t0 });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
times.sort((a, b) => b.ms - a.ms);
const slow = times.filter((t) => t.ms > LIMIT_MS);
console.log(`fuzz-cost: ${times.length} inputs, slowest:`);
for (const t of times.slice(0, 8)) console.log(`  ${t.ms.toFixed(1).padStart(8)} ms  ${t.name}`);
for (const t of slow) console.log(`OVER ${LIMIT_MS} ms: ${t.name} (${t.ms.toFixed(0)} ms)`);
process.exit(slow.length || failed ? 1 : 0);
