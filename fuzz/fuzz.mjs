#!/usr/bin/env node
/**
 * The tsbpf fuzzer: mutated versions of every bpf/*.bpf.o (and random bytes)
 * through parseObject, inspectObject, Btf.parse, parseBtfExt and CO-RE
 * relocation against the kernel's BTF, from dist/ (build first:
 * `npx tsc -p tsconfig.json`). Pure: nothing is loaded into the kernel.
 *
 *   npm run fuzz -- --cases 200000 --seed 12345     a run (exit 1 on any failure)
 *   npm run fuzz -- --seed 12345 --case 678         re-run one case, with its stack
 *   npm run fuzz -- --seed 12345 --case 678 --minimize
 *                                                   ... and reduce it to the byte patches that matter
 *   npm run fuzz -- --input fuzz/failures/x.bin --object minimal.bpf.o
 *
 * Every case must end in success or a TsbpfError naming the place at fault;
 * an untyped error, a case running longer than --timeout ms (a hang) or a
 * worker running out of memory is a failure: its seed, case index and a
 * reproduction command are printed and its bytes saved under fuzz/failures/.
 * Cases run in worker threads watched from the main thread, so a hang is
 * caught and the run goes on. Case i of seed s is always the same bytes.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { randomInt } from "node:crypto";
import { generateCase, layoutOf, makeCorpus, normaliseSeed } from "./mutate.mjs";
import { FuzzFailure, loadDistModules, makePipeline } from "./pipeline.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const DIST = join(ROOT, "dist", "src");
const FAILURES = join(HERE, "failures");
const SELF = fileURLToPath(import.meta.url);

function readCorpus() {
  const dir = join(ROOT, "bpf");
  const names = readdirSync(dir)
    .filter((n) => n.endsWith(".bpf.o"))
    .sort();
  return makeCorpus(names.map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) })));
}

function loadModules() {
  return loadDistModules(DIST);
}

async function makeRunner(corpus) {
  const { mods, loadKernelBtf } = await loadModules();
  const kernelBtf = loadKernelBtf();
  const originals = new Map(corpus.map((c) => [c.name, c.bytes]));
  const pipeline = makePipeline(mods, kernelBtf, originals);
  const layouts = new Map(corpus.map((c) => [c.name, c.layout]));
  return { pipeline, layouts };
}

// ---- worker ------------------------------------------------------------------

const SLOT_WORDS = 3;

async function workerMain() {
  const { seed, slot, shared } = workerData;
  const words = new Int32Array(shared);
  const base = slot * SLOT_WORDS;
  const corpus = readCorpus();
  const { pipeline, layouts } = await makeRunner(corpus);
  parentPort.on("message", ({ from, to }) => {
    const slowest = { ms: 0, index: -1 };
    for (let i = from; i < to; i++) {
      Atomics.store(words, base, i + 1);
      const t0 = performance.now();
      let c;
      try {
        c = generateCase(corpus, seed, i);
      } catch (e) {
        throw new Error(`fuzz harness bug: generating case ${i} of seed ${seed} failed: ${e.stack}`);
      }
      try {
        const { errors } = pipeline.run(c.bytes, c.object, layouts.get(c.object));
        Atomics.add(words, base + (errors.length ? 2 : 1), 1);
      } catch (e) {
        const f = e instanceof FuzzFailure ? e : new FuzzFailure("harness", e, `${e?.name}: ${e?.message}`);
        parentPort.postMessage({
          type: "fail",
          index: i,
          object: c.object,
          steps: c.steps,
          problem: f.message,
          stack: String(f.error?.stack ?? f.error),
          bytes: c.bytes,
        });
      }
      const ms = performance.now() - t0;
      if (ms > slowest.ms) Object.assign(slowest, { ms, index: i });
    }
    Atomics.store(words, base, 0);
    parentPort.postMessage({ type: "done", slowest });
  });
  parentPort.postMessage({ type: "ready" });
}

// ---- main ----------------------------------------------------------------------

function parseCli(argv) {
  const o = { cases: 10000, seed: undefined, jobs: Math.max(1, Math.min(availableParallelism(), 8)), timeout: 2000, chunk: 250 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--cases") o.cases = Number(val());
    else if (a === "--seed") o.seed = normaliseSeed(val());
    else if (a === "--jobs") o.jobs = Number(val());
    else if (a === "--timeout") o.timeout = Number(val());
    else if (a === "--chunk") o.chunk = Number(val());
    else if (a === "--case") o.case = Number(val());
    else if (a === "--minimize") o.minimize = true;
    else if (a === "--input") o.input = val();
    else if (a === "--object") o.object = val();
    else if (a === "--first") o.first = Number(val());
    else if (a === "--help" || a === "-h") o.help = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const k of ["cases", "jobs", "timeout", "chunk"]) {
    if (!Number.isSafeInteger(o[k]) || o[k] <= 0) throw new Error(`--${k} needs a positive integer`);
  }
  return o;
}

const USAGE = `usage: npm run fuzz -- [--cases N] [--seed S] [--jobs J] [--timeout MS]
       npm run fuzz -- --seed S --case I [--minimize]
       npm run fuzz -- --input FILE [--object NAME.bpf.o]
`;

const reproCommand = (seed, index) => `npm run fuzz -- --seed ${seed} --case ${index}`;

function saveFailure(seed, index, bytes, text) {
  mkdirSync(FAILURES, { recursive: true });
  const base = join(FAILURES, `seed-${seed}-case-${index}`);
  writeFileSync(`${base}.bin`, bytes);
  writeFileSync(`${base}.txt`, text);
  return relative(process.cwd(), `${base}.bin`);
}

async function runMany(o) {
  const seed = o.seed ?? randomInt(0, 2 ** 47);
  const corpus = readCorpus();
  const jobs = Math.min(o.jobs, Math.ceil(o.cases / o.chunk));
  process.stderr.write(
    `fuzz: seed ${seed}, ${o.cases} cases over ${corpus.length} objects (${corpus.map((c) => c.name).join(" ")}) + random bytes, ` +
      `${jobs} worker(s), ${o.timeout} ms per case\n`,
  );
  const start = o.first ?? 0;
  const end = start + o.cases;
  // Per worker slot: [case running + 1 (0: idle), cases ok, cases with typed errors]. Written by the
  // slot's worker, read here; a replacement worker keeps counting in the same slot.
  const shared = new SharedArrayBuffer(4 * SLOT_WORDS * jobs);
  const words = new Int32Array(shared);
  const slowest = { ms: 0, index: -1 };
  const signatures = new Map();
  let failed = 0;
  let next = start;
  let fatal;
  const t0 = performance.now();
  let lastReport = t0;
  const counted = () => {
    let ok = 0;
    let typed = 0;
    for (let s = 0; s < jobs; s++) {
      ok += Atomics.load(words, s * SLOT_WORDS + 1);
      typed += Atomics.load(words, s * SLOT_WORDS + 2);
    }
    return { ok, typed };
  };

  const fail = (index, object, steps, problem, stack, bytes) => {
    failed++;
    const sig = problem.replace(/\d+/g, "N");
    const seen = signatures.get(sig) ?? 0;
    signatures.set(sig, seen + 1);
    const text = `seed ${seed} case ${index} (${object})\nmutations:\n${steps.map((s) => `  ${s}\n`).join("")}failure: ${problem}\n${stack}\n`;
    let saved = "(not saved: more than 5 of this kind)";
    if (seen < 5) saved = saveFailure(seed, index, bytes, text);
    if (seen < 20) {
      process.stderr.write(
        `\nfuzz: FAILURE seed ${seed} case ${index} (${object}: ${steps.join("; ")})\n  ${problem}\n` +
          (stack ? `  ${stack.split("\n").slice(1, 4).join("\n  ")}\n` : "") +
          `  reproduce: ${reproCommand(seed, index)}\n  input: ${saved}\n`,
      );
    }
  };

  await new Promise((resolveAll) => {
    const states = [];
    let live = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      resolveAll();
    };
    const chunkAfter = () => {
      if (next >= end) return undefined;
      const from = next;
      next = Math.min(end, next + o.chunk);
      return { from, to: next };
    };
    /** Starts a worker in `slot`, on `chunk` (or the next chunk once ready). */
    const spawn = (slot, chunk) => {
      const w = new Worker(SELF, { workerData: { seed, slot, shared }, resourceLimits: { maxOldGenerationSizeMb: 1536 } });
      const st = { w, slot, chunk, ready: false, over: false, seen: 0, since: 0 };
      states[slot] = st;
      live++;
      const give = (c) => {
        st.chunk = c;
        if (c) w.postMessage(c);
        else {
          st.over = true;
          void w.terminate();
        }
      };
      /** The worker is gone or going: replace it if it had work left. */
      const retire = (replaceFrom) => {
        if (st.retired) return;
        st.retired = true;
        st.over = true;
        live--;
        words[slot * SLOT_WORDS] = 0;
        if (st.chunk && replaceFrom < st.chunk.to) spawn(slot, { from: replaceFrom, to: st.chunk.to });
        else if (st.chunk) spawn(slot, chunkAfter());
        if (live === 0) finish();
      };
      w.on("message", (m) => {
        if (m.type === "ready") {
          st.ready = true;
          give(st.chunk ?? chunkAfter());
        } else if (m.type === "fail") {
          fail(m.index, m.object, m.steps, m.problem, m.stack, m.bytes);
        } else if (m.type === "done") {
          if (m.slowest.ms > slowest.ms) Object.assign(slowest, m.slowest);
          const now = performance.now();
          if (now - lastReport > 2000) {
            lastReport = now;
            const { ok, typed } = counted();
            const n = ok + typed + failed;
            process.stderr.write(`fuzz: ${n}/${o.cases} cases, ${Math.round((n / (now - t0)) * 1000)}/s, ${failed} failure(s)\n`);
          }
          give(chunkAfter());
        }
      });
      // A worker dying mid-chunk (out of memory, or a crash outside a case): the case it
      // was on is a failure, and a fresh worker takes the rest of the chunk.
      w.on("error", (e) => {
        if (st.retired) return;
        if (!st.ready) {
          fatal = e;
          st.chunk = undefined;
          retire(0);
          return;
        }
        const cur = words[slot * SLOT_WORDS] - 1;
        if (cur >= 0) {
          const c = generateCase(corpus, seed, cur);
          const why = e.code === "ERR_WORKER_OUT_OF_MEMORY" ? `out of memory: ${e.message}` : `worker died: ${e.message}`;
          fail(cur, c.object, c.steps, why, String(e.stack ?? ""), c.bytes);
        }
        retire(cur + 1);
      });
      w.on("exit", (code) => {
        if (st.retired) return;
        if (st.over && !st.chunk) {
          // Terminated after its last chunk.
          live--;
          if (live === 0) finish();
          return;
        }
        const cur = words[slot * SLOT_WORDS] - 1;
        if (cur >= 0) {
          const c = generateCase(corpus, seed, cur);
          fail(cur, c.object, c.steps, `worker exited with code ${code}`, "", c.bytes);
        }
        retire(cur >= 0 ? cur + 1 : (st.chunk?.from ?? 0));
      });
      st.hang = (cur) => {
        const c = generateCase(corpus, seed, cur);
        fail(cur, c.object, c.steps, `hang: case still running after ${o.timeout} ms`, "", c.bytes);
        void w.terminate();
        retire(cur + 1);
      };
    };
    const watchdog = setInterval(
      () => {
        const now = performance.now();
        for (const st of states) {
          if (!st || st.over) continue;
          const cur = Atomics.load(words, st.slot * SLOT_WORDS);
          if (cur === 0) st.seen = 0;
          else if (cur !== st.seen) {
            st.seen = cur;
            st.since = now;
          } else if (now - st.since > o.timeout) st.hang(cur - 1);
        }
      },
      Math.max(20, Math.min(250, o.timeout / 4)),
    );
    for (let slot = 0; slot < jobs; slot++) spawn(slot, undefined);
  });
  if (fatal) throw new Error(`a worker could not start: ${fatal.stack ?? fatal}`);

  const secs = (performance.now() - t0) / 1000;
  const { ok, typed } = counted();
  const total = ok + typed + failed;
  if (total !== o.cases) throw new Error(`internal: ${total} cases accounted for, expected ${o.cases}`);
  if (signatures.size) {
    process.stderr.write(`fuzz: failure kinds:\n`);
    for (const [sig, n] of signatures) process.stderr.write(`  ${n} × ${sig}\n`);
  }
  process.stderr.write(
    `fuzz: ${o.cases} cases in ${secs.toFixed(1)} s (${Math.round(o.cases / secs)}/s); slowest: case ${slowest.index}, ${slowest.ms.toFixed(0)} ms\n`,
  );
  process.stdout.write(`fuzz: ${o.cases} cases, seed ${seed}, ${failed} failures (${ok} ok, ${typed} typed errors)\n`);
  return failed ? 1 : 0;
}

/** Runs one input in this thread; returns what each step did, as text. */
async function runOne(bytes, object, steps, label) {
  const corpus = readCorpus();
  const { pipeline, layouts } = await makeRunner(corpus);
  let text = `${label} (${object}, ${bytes.length} bytes)\n`;
  for (const s of steps) text += `  mutation: ${s}\n`;
  const t0 = performance.now();
  try {
    const { errors } = pipeline.run(bytes, object, layouts.get(object));
    const ms = (performance.now() - t0).toFixed(1);
    if (!errors.length) text += `ok: every step succeeded (${ms} ms)\n`;
    for (const e of errors) text += `typed error in ${e.step}: ${e.name}: ${e.message}\n`;
    return { failed: false, text };
  } catch (e) {
    text += `FAILURE: ${e.message}\n${e.error?.stack ?? e.stack}\n`;
    return { failed: true, text, problem: e.message };
  }
}

/** runOne in a worker thread, so that a hang is reported (after `timeout` ms) instead of hanging. */
function runOneWatched(bytes, object, steps, label, timeout) {
  const w = new Worker(SELF, { workerData: { mode: "one", bytes, object, steps, label } });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      void w.terminate();
      const problem = `hang: case still running after ${timeout} ms`;
      resolve({
        failed: true,
        hang: true,
        problem,
        text: `${label} (${object}, ${bytes.length} bytes)\n${steps.map((x) => `  mutation: ${x}\n`).join("")}FAILURE: ${problem}\n`,
      });
    }, timeout);
    w.on("message", (m) => {
      clearTimeout(timer);
      void w.terminate();
      resolve(m);
    });
    w.on("error", (e) => {
      clearTimeout(timer);
      resolve({ failed: true, problem: `worker died: ${e.message}`, text: `FAILURE: worker died: ${e.stack}\n` });
    });
  });
}

/**
 * Reduces a failing mutated object to the fewest byte patches (and the
 * shortest length) that still fail the same way: the form stored in
 * test/fuzz-regressions.test.ts.
 */
function minimize(pipeline, layouts, original, bytes, object, problem) {
  const sig = problem.replace(/\d+/g, "N");
  const stillFails = (candidate) => {
    try {
      pipeline.run(candidate, object, layouts.get(object));
      return false;
    } catch (e) {
      return e instanceof FuzzFailure && e.message.replace(/\d+/g, "N") === sig;
    }
  };
  const build = (len, diffs) => {
    const out = original.slice(0, Math.min(len, original.length));
    const full = new Uint8Array(len);
    full.set(out);
    for (const d of diffs) if (d < len) full[d] = bytes[d];
    return full;
  };
  let len = bytes.length;
  let diffs = [];
  for (let i = 0; i < bytes.length; i++) if (i >= original.length || bytes[i] !== original[i]) diffs.push(i);
  // ddmin over the differing bytes.
  let n = 2;
  while (diffs.length >= 2) {
    const size = Math.ceil(diffs.length / n);
    let reduced = false;
    for (let k = 0; k < diffs.length; k += size) {
      const without = diffs.slice(0, k).concat(diffs.slice(k + size));
      if (stillFails(build(len, without))) {
        diffs = without;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= diffs.length) break;
      n = Math.min(diffs.length, n * 2);
    }
  }
  if (diffs.length === 1 && stillFails(build(len, []))) diffs = [];
  // Then the length: back to the original's if the cut does not matter.
  if (
    len !== original.length &&
    stillFails(
      build(
        original.length,
        diffs.filter((d) => d < original.length),
      ),
    )
  ) {
    len = original.length;
    diffs = diffs.filter((d) => d < len);
  }
  // Group adjacent bytes into patches: [offset, "hex"].
  const patches = [];
  for (const d of diffs) {
    const last = patches[patches.length - 1];
    const hex = (bytes[d] ?? 0).toString(16).padStart(2, "0");
    if (last && last[0] + last[1].length / 2 === d) last[1] += hex;
    else patches.push([d, hex]);
  }
  return { object, ...(len !== original.length ? { length: len } : {}), patches };
}

async function main() {
  const o = parseCli(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (o.input !== undefined) {
    const bytes = new Uint8Array(readFileSync(o.input));
    const object = o.object ?? basename(o.input);
    const r = await runOneWatched(bytes, object, [], o.input, o.timeout);
    process.stdout.write(r.text);
    return r.failed ? 1 : 0;
  }
  if (o.case !== undefined) {
    if (o.seed === undefined) throw new Error("--case needs --seed");
    const corpus = readCorpus();
    const c = generateCase(corpus, o.seed, o.case);
    const r = await runOneWatched(c.bytes, c.object, c.steps, `seed ${o.seed} case ${o.case}`, o.timeout);
    process.stdout.write(r.text);
    if (r.failed) {
      const saved = saveFailure(o.seed, o.case, c.bytes, r.text);
      process.stdout.write(`input saved to ${saved}\n`);
      if (o.minimize && r.hang) process.stdout.write("--minimize: not for hangs (each try would hang); reduce by hand\n");
      else if (o.minimize && c.object !== "random") {
        const { pipeline, layouts } = await makeRunner(corpus);
        const original = corpus.find((x) => x.name === c.object).bytes;
        const m = minimize(pipeline, layouts, original, c.bytes, c.object, r.problem);
        process.stdout.write(`minimal: ${JSON.stringify(m)}\n`);
      }
    }
    return r.failed ? 1 : 0;
  }
  return runMany(o);
}

if (isMainThread) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`fuzz: ${e.message}\n${USAGE}`);
      process.exitCode = 2;
    },
  );
} else if (workerData?.mode === "one") {
  const { bytes, object, steps, label } = workerData;
  runOne(bytes, object, steps, label).then((r) => parentPort.postMessage(r));
} else {
  workerMain().catch((e) => {
    // Setting up the worker failed (no build, no kernel BTF): let the main thread report it.
    throw e;
  });
}

export { layoutOf };
