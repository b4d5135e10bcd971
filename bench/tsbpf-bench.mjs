// The tsbpf side of `npm run bench`: the same measurements as
// bench/libbpf-bench.c, with tsbpf (from dist/). Every subcommand prints one
// JSON object on stdout. Run from the driver (bench/run.mjs), one fresh
// process per measurement, exactly like the C side.
//
//   node bench/tsbpf-bench.mjs load <obj> <iters> [attach]
//   node bench/tsbpf-bench.mjs drain <obj> <rounds> [raw|decoded|decoded_number|both]
//   node bench/tsbpf-bench.mjs stream <obj> <records> <spin-binary>
//   node bench/tsbpf-bench.mjs rss <obj>
//   node bench/tsbpf-bench.mjs dumpc            vmlinux BTF → C header on stdout
import { writeSync } from "node:fs";
import { performance } from "node:perf_hooks";

const dist = new URL("../dist/src/", import.meta.url);
const [cmd, ...args] = process.argv.slice(2);
// Only what a command needs is imported (dumpc is timed as a whole process); everything else
// comes from the package's entry point, resolved as a user's `import … from "tsbpf"` is (the
// package refers to itself by name: Node's export conditions pick the code-cached bundle).
const needsObject = cmd !== "dumpc";
const lib = needsObject ? await import("tsbpf") : {};
const { BpfObject, destroyLinks, RingBuffer, RingBufferPoller, makeDecoder } = lib;
// TSBPF_BENCH_KEEP_INDEX=DIR: the kernel BTF index kept in DIR, as the CLI keeps it (opt-in for a library).
if (needsObject && process.env.TSBPF_BENCH_KEEP_INDEX) lib.cacheKernelBtfIndex(process.env.TSBPF_BENCH_KEEP_INDEX);

const now = () => performance.now() * 1000; // µs

function median(v) {
  if (!v.length) return 0;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function out(o) {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

/** Closes links concurrently when the loader offers it (grace periods overlap), else one by one. */
async function detach(links) {
  if (typeof destroyLinks === "function") await destroyLinks(links);
  else for (const l of links) l.destroy();
}

async function cmdLoad(path, iters, attach) {
  let cold = 0;
  const warm = [];
  const att = [];
  const det = [];
  for (let i = 0; i < iters; i++) {
    const t0 = now();
    const obj = BpfObject.open(path);
    obj.load();
    const t1 = now();
    if (i === 0) cold = t1 - t0;
    else warm.push(t1 - t0);
    if (attach) {
      const t2 = now();
      const links = obj.attach();
      const t3 = now();
      await detach(links);
      const t4 = now();
      att.push(t3 - t2);
      det.push(t4 - t3);
    }
    obj.destroy();
  }
  out({ cold_us: cold, warm_us: median(warm), ...(attach ? { attach_us: median(att), detach_us: median(det) } : {}), iters });
}

/** getpid(2) without libc's or Node's caching: the producer's trigger. */
async function rawGetpid() {
  // The bench's own trigger, not a tsbpf syscall: koffi directly.
  const k = (await import("koffi")).default;
  const lib = k.load("libc.so.6");
  const syscall = lib.func("long syscall(long)");
  return () => syscall(39); // SYS_getpid on x86-64
}

function u64(obj, name) {
  const b = obj.variable(name);
  return Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
}

const REC_SIZE = 64;

async function cmdDrain(path, rounds, only = "both") {
  const getpid = await rawGetpid();
  const obj = BpfObject.open(path);
  obj.load();
  const links = obj.attach();
  const ring = new RingBuffer(obj.map("rb"));
  // "decoded_number": the decoder's int64: "number" option (u64 fields as
  // numbers, exact below 2^53): no BigInt per field.
  const decode = makeDecoder(obj.spec.btf.btf, "bench_rec", only === "decoded_number" ? { int64: "number" } : {});
  const cap = Math.floor(ring.size / (8 + REC_SIZE)) - 64; // room for stray getpid()s, as in the C side
  let bad = 0;
  let next = 0;
  // Raw: consumeRaw hands over offsets into one array over the ring, no view
  // per record; the callback reads the sequence number's low 32 bits at the
  // record start and checks ordering, as the C one (on_record) does.
  const words = ring.words;
  const raw = (_data, offset) => {
    const s = words[offset >>> 2] | 0;
    if (s !== next) bad++;
    next = (s + 1) | 0;
  };
  let kept;
  // Decoded: a plain object per record, as an application would keep it,
  // decoded straight from the ring (decode.at) with no view per record.
  const decoded = (data, offset) => {
    const o = decode.at(data, offset);
    const s = Number(o.seq) | 0;
    if (s !== (next | 0)) bad++;
    next = (s + 1) | 0;
    kept = o;
  };
  obj.variable("target_tgid").set(new Uint8Array(new Uint32Array([process.pid]).buffer));
  const result = {};
  let total = 0;
  // One mode per process measures each callback shape alone: after a raw
  // drain, consume()'s shared loop has seen two callbacks and inlines neither.
  const modes = [
    ["raw", raw],
    ["decoded", decoded],
    ["decoded_number", decoded],
  ].filter(([m]) => (only === "both" && m !== "decoded_number") || only === m);
  for (const [mode, cb] of modes) {
    const rates = [];
    let first;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < cap; i++) getpid();
      const t0 = now();
      const n = ring.consumeRaw(cb);
      const t1 = now();
      total += n;
      const rate = n / ((t1 - t0) / 1e6);
      if (first === undefined) first = rate;
      rates.push(rate);
    }
    result[`${mode}_per_s`] = Math.round(median(rates));
    result[`${mode}_first_per_s`] = Math.round(first);
  }
  obj.variable("target_tgid").fill(0);
  void kept;
  out({ ...result, records_per_round: cap, received: total, dropped: u64(obj, "dropped"), out_of_order: bad });
  ring.close();
  await detach(links);
  obj.destroy();
}

async function cmdStream(path, records, spinBinary) {
  const obj = BpfObject.open(path);
  obj.load();
  const links = obj.attach();
  const ring = new RingBuffer(obj.map("rb"));
  const poller = new RingBufferPoller();
  let received = 0;
  let next = 0;
  let bad = 0;
  let tLast = 0;
  poller.add(ring, (d) => {
    const s = d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24);
    if (s !== (next | 0)) bad++;
    next = (s + 1) | 0;
    if (++received === records) tLast = now();
  });
  const { spawn } = await import("node:child_process"); // only here: dumpc is timed as a whole process
  const child = spawn(spinBinary, ["spin", String(records)], { stdio: ["pipe", "ignore", "inherit"] });
  await new Promise((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  let exited = false;
  child.once("exit", () => (exited = true));
  const tgid = obj.variable("target_tgid");
  tgid.set(new Uint8Array(new Uint32Array([child.pid]).buffer));
  const t0 = now();
  child.stdin.write("g");
  while (received + u64(obj, "dropped") < records) {
    const n = await poller.poll(100);
    if (exited && n === 0 && poller.consume() === 0 && received + u64(obj, "dropped") < records) break;
  }
  const t1 = tLast || now();
  child.stdin.end();
  if (!exited) await new Promise((r) => child.once("exit", r));
  out({
    records_per_s: Math.round(received / ((t1 - t0) / 1e6)),
    received,
    dropped: u64(obj, "dropped"),
    produced: u64(obj, "seq"),
    out_of_order: bad,
    wait: poller.waitMode,
  });
  poller.close();
  ring.close();
  await detach(links);
  obj.destroy();
}

async function cmdRss(path) {
  const obj = BpfObject.open(path);
  obj.load();
  const links = obj.attach();
  out({ rss_kb: Math.round(process.memoryUsage().rss / 1024) });
  await detach(links);
  obj.destroy();
}

async function cmdDumpC() {
  const { loadKernelBtf } = await import(new URL("object/kernel-btf.js", dist).href);
  const dump = await import(new URL("btf/dump-c/index.js", dist).href);
  const btf = loadKernelBtf();
  if (typeof dump.dumpCBytes === "function") {
    const bytes = dump.dumpCBytes(btf);
    for (let off = 0; off < bytes.byteLength; ) off += writeSync(1, bytes, off);
  } else {
    process.stdout.write(dump.dumpC(btf));
  }
}

switch (cmd) {
  case "load":
    await cmdLoad(args[0], Number(args[1] ?? 10), args[2] === "attach");
    break;
  case "drain":
    await cmdDrain(args[0], Number(args[1] ?? 5), args[2]);
    break;
  case "stream":
    await cmdStream(args[0], Number(args[1] ?? 1_000_000), args[2]);
    break;
  case "rss":
    await cmdRss(args[0]);
    break;
  case "dumpc":
    await cmdDumpC();
    break;
  default:
    process.stderr.write(`usage: tsbpf-bench.mjs load|drain|stream|rss|dumpc ...\n`);
    process.exitCode = 2;
}
