#!/usr/bin/env node
// `npm run bench`: builds the libbpf comparator (bench/libbpf-bench.c, with
// Debian's libbpf-dev), then runs it and tsbpf back to back on the same
// objects, one fresh process per measurement on each side. Prints one JSON
// line per metric, {"metric","tsbpf","libbpf","unit","ratio","target","met"},
// then a table. ratio = tsbpf / libbpf (for times lower is better, for rates
// higher is better).
//
//   npm run bench                 full run (~1-2 min)
//   npm run bench -- --quick      a few iterations of everything (CI smoke, < 60 s)
//   npm run bench -- --only load,ringbuf   just some groups
//
// Needs root (it loads programs), a built dist/ (npm run build), cc,
// libbpf-dev and bpftool. Benchmarks are not tests: "met" is informative,
// the exit code only says whether every measurement ran.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const onlyArg = argv[argv.indexOf("--only") + 1];
const only = argv.includes("--only") && onlyArg ? new Set(onlyArg.split(",")) : undefined;
const want = (group) => !only || only.has(group);

const N = quick
  ? { processes: 1, load: 4, minimal: 5, many: 3, attach: 2, drain: 2, stream: 100_000, dump: 1, cli: 2, rss: 1 }
  : { processes: 7, load: 20, minimal: 30, many: 8, attach: 6, drain: 9, stream: 300_000, dump: 5, cli: 15, rss: 7 };

const BIN = join(here, "build", "libbpf-bench");
const TS = join(here, "tsbpf-bench.mjs");
const obj = (name) => join(root, "bpf", name);
const BOOTSTRAP = obj("bootstrap.bpf.o");
const MINIMAL = obj("minimal.bpf.o");
const RING = obj("bench_ringbuf.bpf.o");
const MANY = obj("bench_many.bpf.o");
const VMLINUX = "/sys/kernel/btf/vmlinux";

function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

function build() {
  log("building bench/build/libbpf-bench");
  execFileSync("make", ["-s", "-C", here], { stdio: ["ignore", "inherit", "inherit"] });
  if (!existsSync(join(root, "dist", "lib", "index.js"))) {
    throw new Error("dist/ is missing: run npm run build first");
  }
}

/** Runs a command that prints one JSON line; returns it parsed. */
function json(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}`);
  const line = r.stdout.trim().split("\n").pop();
  return JSON.parse(line);
}

const tsbpf = (...args) => json(process.execPath, [TS, ...args]);
/** The kernel BTF index kept between processes (as the CLI does), in a directory of this run's own. */
const keptIndexDir = mkdtempSync(join(tmpdir(), "tsbpf-bench-index-"));
process.on("exit", () => rmSync(keptIndexDir, { recursive: true, force: true }));
const tsbpfKept = (...args) => json(process.execPath, [TS, ...args], { ...process.env, TSBPF_BENCH_KEEP_INDEX: keptIndexDir });
const libbpf = (...args) => json(BIN, args);

/** The fields of a drain result that belong to one mode. */
function pick(result, mode) {
  return Object.fromEntries(Object.entries(result).filter(([k]) => k === `${mode}_per_s` || k === `${mode}_first_per_s`));
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * One result from several processes' results: each figure's median over the
 * processes, except that losses (dropped, out of order) add up: one process
 * losing records is a loss.
 */
function overProcesses(runs) {
  const out = {};
  for (const key of Object.keys(runs[0])) {
    const values = runs.map((r) => r[key]);
    // A text (the stream's wait mode): every distinct value, so that a process that differed shows.
    if (typeof values[0] !== "number") out[key] = [...new Set(values)].join("/");
    else out[key] = key === "dropped" || key === "out_of_order" ? values.reduce((a, b) => a + b, 0) : median(values);
  }
  return out;
}

/**
 * Runs each of `sides` (a function starting one process and returning its
 * result) in N.processes fresh processes, the sides alternating, and gives
 * each side's results over its processes.
 */
function interleaved(...sides) {
  const runs = sides.map(() => []);
  for (let p = 0; p < N.processes; p++) {
    for (const [i, run] of sides.entries()) runs[i].push(run());
  }
  return runs.map(overProcesses);
}

/** Wall time of a whole process, ms; `until` ends the clock early on a line of its stderr. */
function wall(cmd, args, until) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let done = false;
    let err = "";
    const finish = () => {
      if (done) return;
      done = true;
      resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      if (until) child.kill("SIGINT"); // let it detach and close on its own
    };
    child.stderr.on("data", (d) => {
      err += d;
      if (until?.test(err)) finish();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (!done && (code !== 0 || until)) reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${err.slice(-500)}`));
      else finish();
    });
  }).then(async (ms) => ms);
}

async function wallMedian(n, cmd, args, until) {
  const times = [];
  for (let i = 0; i < n; i++) {
    times.push(await wall(cmd, args, until));
    if (until) await new Promise((r) => setTimeout(r, 250)); // the previous one detaches (RCU grace periods)
  }
  return median(times);
}

const results = [];

/**
 * Records a metric. `better` is "lower" (times) or "higher" (rates);
 * `target` is the goal: { ratio: x } (tsbpf/libbpf) or { abs: y } (tsbpf alone).
 */
function metric(name, ts, lb, unit, better, target, note) {
  const ratio = lb ? ts / lb : null;
  let met = null;
  if (target?.ratio !== undefined && ratio !== null) met = better === "lower" ? ratio <= target.ratio : ratio >= target.ratio;
  if (target?.abs !== undefined) met = better === "lower" ? ts <= target.abs : ts >= target.abs;
  if (target?.zero !== undefined) met = ts === 0 && (lb ?? 0) === 0;
  const round = (x) => (x === null || x === undefined ? null : Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000);
  const goal = target
    ? target.zero !== undefined
      ? "= 0"
      : target.ratio !== undefined
        ? `ratio ${better === "lower" ? "≤" : "≥"} ${target.ratio}`
        : `${better === "lower" ? "≤" : "≥"} ${target.abs} ${unit}`
    : "";
  const row = {
    metric: name,
    tsbpf: round(ts),
    libbpf: round(lb),
    unit,
    ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
    target: goal,
    met,
  };
  if (note) row.note = note;
  results.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

const failures = [];

/** Runs one group of measurements; a failure is reported and the run goes on. */
async function group(name, fn) {
  if (!want(name)) return;
  try {
    await fn();
  } catch (e) {
    failures.push(name);
    log(`${name} FAILED: ${e.message ?? e}`);
  }
}

async function main() {
  build();
  const started = Date.now();

  await group("load", async () => {
    // A cold load happens once per process, so it is sampled over several
    // processes, the two sides alternating; warm figures are each process's
    // median, and the medians of those are reported.
    // A third column: tsbpf with the kernel BTF index kept by an earlier process (the first
    // run writes it), as the CLI and any tool that opts in get.
    const sides = (obj, iters) => {
      tsbpfKept("load", obj, "1");
      const [l, t, k] = interleaved(
        () => libbpf("load", obj, String(iters)),
        () => tsbpf("load", obj, String(iters)),
        () => tsbpfKept("load", obj, String(iters)),
      );
      return { l, t, k };
    };
    log(`load.bootstrap: ${N.processes} processes a side, ${N.load} open+load each`);
    const { l, t, k } = sides(BOOTSTRAP, N.load);
    metric("load.bootstrap.cold", t.cold_us / 1000, l.cold_us / 1000, "ms", "lower", { ratio: 0.8 }, `median of ${N.processes} processes`);
    metric(
      "load.bootstrap.cold.kept",
      k.cold_us / 1000,
      l.cold_us / 1000,
      "ms",
      "lower",
      undefined,
      "kernel BTF index kept (cacheKernelBtfIndex)",
    );
    metric("load.bootstrap.warm", t.warm_us / 1000, l.warm_us / 1000, "ms", "lower", { ratio: 0.5 });
    log(`load.minimal: ${N.processes} processes a side, ${N.minimal} open+load each`);
    const { l: lm, t: tm } = sides(MINIMAL, N.minimal);
    metric("load.minimal", tm.warm_us / 1000, lm.warm_us / 1000, "ms", "lower", { ratio: 1.2 }, "warm median");
    metric("load.minimal.cold", tm.cold_us / 1000, lm.cold_us / 1000, "ms", "lower", { ratio: 3.0 }, "first load in the process");
    log(`load.many: ${N.processes} processes a side, ${N.many} open+load each of bpf/bench_many.bpf.o`);
    const { l: ly, t: ty, k: ky } = sides(MANY, N.many);
    const many = "20 programs, 4 maps, subprograms, CO-RE";
    metric("load.many.cold", ty.cold_us / 1000, ly.cold_us / 1000, "ms", "lower", { ratio: 1.0 }, many);
    metric("load.many.cold.kept", ky.cold_us / 1000, ly.cold_us / 1000, "ms", "lower", undefined, "kernel BTF index kept");
    metric("load.many.warm", ty.warm_us / 1000, ly.warm_us / 1000, "ms", "lower", { ratio: 0.5 }, many);
  });

  await group("attach", async () => {
    log(`attach/detach.bootstrap: ${N.processes} processes a side, ${N.attach} rounds each (each detach waits for RCU grace periods)`);
    const [l, t] = interleaved(
      () => libbpf("load", BOOTSTRAP, String(N.attach), "attach"),
      () => tsbpf("load", BOOTSTRAP, String(N.attach), "attach"),
    );
    metric("attach.bootstrap", t.attach_us / 1000, l.attach_us / 1000, "ms", "lower", { ratio: 1.0 }, "2 tracepoints");
    metric("detach.bootstrap", t.detach_us / 1000, l.detach_us / 1000, "ms", "lower", { ratio: 0.55 }, "2 links");
  });

  await group("ringbuf", async () => {
    log(`ringbuf.drain: ${N.processes} processes a side and mode, ${N.drain} fills of the 16 MiB ring each`);
    // Each tsbpf mode in a process of its own, as each C measurement is; each process's
    // median of its fills, then the median over the processes.
    const [l, tRaw, tDecoded, tNumber] = interleaved(
      () => libbpf("drain", RING, String(N.drain)),
      ...["raw", "decoded", "decoded_number"].map((mode) => () => tsbpf("drain", RING, String(N.drain), mode)),
    );
    const runs = [tRaw, tDecoded, tNumber];
    const t = {
      ...tRaw,
      ...pick(tDecoded, "decoded"),
      ...pick(tNumber, "decoded_number"),
      dropped: runs.reduce((n, r) => n + r.dropped, 0),
      out_of_order: runs.reduce((n, r) => n + r.out_of_order, 0),
    };
    const M = 1e6;
    metric(
      "ringbuf.drain.raw",
      t.raw_per_s / M,
      l.records_per_s / M,
      "M records/s",
      "higher",
      { ratio: 0.5 },
      `medians of fills (${l.records_per_round} records each), then of processes`,
    );
    metric(
      "ringbuf.drain.raw.first",
      t.raw_first_per_s / M,
      l.first_per_s / M,
      "M records/s",
      "higher",
      undefined,
      "first fill: includes faulting in the fresh mapping",
    );
    metric(
      "ringbuf.drain.decoded",
      t.decoded_per_s / M,
      l.records_per_s / M,
      "M objects/s",
      "higher",
      { abs: 10 },
      "libbpf column: raw C struct access",
    );
    metric(
      "ringbuf.drain.decoded.number",
      t.decoded_number_per_s / M,
      l.records_per_s / M,
      "M objects/s",
      "higher",
      undefined,
      'decoder option int64: "number" (no BigInt per u64 field)',
    );
    metric(
      "ringbuf.drain.dropped",
      t.dropped + t.out_of_order,
      l.dropped + l.out_of_order,
      "records",
      "lower",
      { zero: true },
      "dropped + out of order",
    );
    log(`ringbuf.stream: ${N.processes} processes a side, ${N.stream} records each from a live getpid() producer`);
    const [ls, ts] = interleaved(
      () => libbpf("stream", RING, String(N.stream)),
      () => tsbpf("stream", RING, String(N.stream), BIN),
    );
    metric("ringbuf.stream", ts.records_per_s / M, ls.records_per_s / M, "M records/s", "higher", { ratio: 0.95 }, `wait=${ts.wait}`);
    metric("ringbuf.stream.dropped", ts.dropped + ts.out_of_order, ls.dropped + ls.out_of_order, "records", "lower", { zero: true });
  });

  await group("dump", async () => {
    log(`btf.dump.c: ${N.dump} whole processes each`);
    const lb = await wallMedian(N.dump, "bpftool", ["btf", "dump", "file", VMLINUX, "format", "c"]);
    const tb = await wallMedian(N.dump, process.execPath, [TS, "dumpc"]);
    metric("btf.dump.c", tb, lb, "ms", "lower", { ratio: 2.0 }, "vmlinux → C, libbpf column: bpftool");
  });

  await group("cli", async () => {
    // node -e 0 is Node's own start, the floor under any JavaScript CLI: it
    // is measured in the same run, interleaved with the CLI, and subtracted.
    log(`cli.load: ${N.cli} processes a side, spawn → attached, interleaved with node -e 0`);
    const attached = /attached/;
    const lb = await wallMedian(N.cli, BIN, ["cli", BOOTSTRAP], attached);
    const cli = [];
    const node = [];
    for (let i = 0; i < N.cli; i++) {
      node.push(await wall(process.execPath, ["-e", "0"]));
      cli.push(
        await wall(process.execPath, [join(root, "dist", "src", "cli", "tsbpf.cjs"), "load", BOOTSTRAP, "--duration", "30"], attached),
      );
      await new Promise((r) => setTimeout(r, 250)); // the previous one detaches (RCU grace periods)
    }
    const tb = median(cli);
    const ns = median(node);
    metric("node.start", ns, null, "ms", "lower", undefined, "node -e 0, same run");
    metric("cli.load", tb, lb, "ms", "lower", undefined, "tsbpf load bpf/bootstrap.bpf.o until attached");
    metric("cli.load-node", tb - ns, null, "ms", "lower", { abs: 50 }, "cli.load − node.start (medians)");
  });

  await group("rss", async () => {
    const nodeRss = [];
    const ts = [];
    const rssScript = "process.stdout.write(JSON.stringify({rss_kb:Math.round(process.memoryUsage().rss/1024)}))";
    for (let i = 0; i < N.rss; i++) {
      ts.push(tsbpf("rss", BOOTSTRAP).rss_kb);
      nodeRss.push(json(process.execPath, ["-e", rssScript]).rss_kb);
    }
    const l = libbpf("rss", BOOTSTRAP);
    metric("rss.node", median(nodeRss) / 1024, null, "MB", "lower", undefined, "node -e 0, same run");
    metric("rss.bootstrap", median(ts) / 1024, l.rss_kb / 1024, "MB", "lower", { abs: 50 }, `after open+load+attach, median of ${N.rss}`);
  });

  printTable();
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (failures.length) {
    log(`failed groups: ${failures.join(", ")}`);
    process.exitCode = 1;
  }
}

function printTable() {
  const fmt = (x) => (x === null || x === undefined ? "-" : String(x));
  const rows = [["metric", "tsbpf", "libbpf", "unit", "ratio", "target", "met"]];
  for (const r of results)
    rows.push([r.metric, fmt(r.tsbpf), fmt(r.libbpf), r.unit, fmt(r.ratio), r.target || "-", r.met === null ? "-" : r.met ? "yes" : "NO"]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 || i === 3 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  process.stderr.write(`\n${line(rows[0])}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
  for (const r of rows.slice(1)) process.stderr.write(`${line(r)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack ?? e}\n`);
  process.exitCode = 1;
});
