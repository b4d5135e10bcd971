/**
 * The npm package as a loader author gets it: `npm pack` once, installed
 * into a fresh project, and everything below imports only what the package
 * exports ("tsbpf" and its sub-paths). The project holds the consumer
 * scripts of test/consumers and the examples (their `../src/index.js`
 * import becomes "tsbpf"), compiled by tsc with `strict` against the
 * package's own .d.ts, then run on the real kernel: one test per item of
 * the library API (tc, pinning, test runs, map operations, perf buffers,
 * introspection, errors, kernel-free sub-paths) and per example.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lonelyNamespace, tcIn, type VethPair, vethPair } from "./helpers/netns.js";
import { waitUntil } from "./helpers/wait.js";

const ROOT = resolve(".");
const work = mkdtempSync(join(tmpdir(), "tsbpf-pack-"));
const app = join(work, "app");
/** Examples that use only the public API (the others show internals on purpose). */
const EXAMPLES = ["tc", "xdp", "uprobe", "iterator", "perf-buffer", "pinning"];
let compileOutput = "";
let readmeBlocks: string[] = [];

beforeAll(() => {
  execFileSync("npm", ["pack", "--pack-destination", work], { stdio: "ignore" });
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module", private: true }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(work, tarball)], { cwd: app, stdio: "ignore" });
  cpSync(join(ROOT, "test/consumers"), join(app, "consumers"), { recursive: true });
  mkdirSync(join(app, "examples"));
  for (const name of EXAMPLES) {
    const source = readFileSync(join(ROOT, "examples", `${name}.ts`), "utf8").replace(/from "\.\.\/src\/index\.js"/g, 'from "tsbpf"');
    if (/from "\.\.?\//.test(source)) throw new Error(`examples/${name}.ts imports something other than the package`);
    writeFileSync(join(app, "examples", `${name}.ts`), source);
  }
  // The README's code blocks that import the package, compiled with the rest (not run).
  mkdirSync(join(app, "readme"));
  const blocks = [...readFileSync(join(ROOT, "README.md"), "utf8").matchAll(/```ts\n(.*?)```/gs)].map((m) => m[1]!);
  readmeBlocks = blocks.filter((b) => b.includes('from "tsbpf"'));
  for (const [i, b] of readmeBlocks.entries()) writeFileSync(join(app, "readme", `block${i + 1}.ts`), `${b}\nexport {};\n`);
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2022", "ESNext.Disposable"],
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        typeRoots: [join(ROOT, "node_modules/@types")],
        types: ["node"],
        outDir: "out",
        rootDir: ".",
      },
      include: ["consumers/*.ts", "examples/*.ts", "readme/*.ts"],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", app], { encoding: "utf8" });
  compileOutput = tsc.stdout + tsc.stderr;
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const script = (path: string) => join(app, "out", `${path}.js`);

/** Runs a compiled consumer (optionally in a network namespace); returns its JSON report. */
/** A consumer's JSON report: its shape is what the expectations check. */
// biome-ignore lint/suspicious/noExplicitAny: JSON read back from a child process
type Report = any;

function consumer(name: string, args: string[] = [], opts: { nsenter?: string; cpu?: number } = {}): Report {
  const argv = [script(`consumers/${name}`), ...args];
  const prefix = [
    ...(opts.nsenter ? ["nsenter", `--net=/run/netns/${opts.nsenter}`] : []),
    ...(opts.cpu !== undefined ? ["taskset", "-c", String(opts.cpu)] : []),
  ];
  const r = prefix.length
    ? spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, ...argv], { cwd: app, encoding: "utf8" })
    : spawnSync(process.execPath, argv, { cwd: app, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`consumer ${name} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** Starts an example; `ready` resolves once its output matches `ready`. */
function startExample(
  name: string,
  args: string[],
  ready: RegExp,
  netns?: string,
): { child: ChildProcess; out: () => string; ready: Promise<void> } {
  const argv = [script(`examples/${name}`), ...args];
  const child = netns
    ? spawn("ip", ["netns", "exec", netns, process.execPath, ...argv], { cwd: app, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(process.execPath, argv, { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let resolveReady!: () => void;
  const isReady = new Promise<void>((r) => (resolveReady = r));
  const take = (d: Buffer) => {
    out += d;
    if (ready.test(out)) resolveReady();
  };
  child.stdout!.on("data", take);
  child.stderr!.on("data", take);
  child.on("exit", () => resolveReady());
  return { child, out: () => out, ready: isReady };
}

async function interrupt(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  // `ip netns exec` passes the signal on to the node it runs.
  child.kill("SIGINT");
  return exited;
}

/** UDP datagrams from namespace `ns` to `address:port`, one after another. */
function sendUdp(ns: string, address: string, port: number, messages: string[]): void {
  const code = `const s = require("dgram").createSocket("udp4"); const m = ${JSON.stringify(messages)}; let i = 0;
const next = () => (i === m.length ? s.close() : s.send(m[i++], ${port}, ${JSON.stringify(address)}, next)); next();`;
  execFileSync("ip", ["netns", "exec", ns, process.execPath, "-e", code]);
}

describe("npm pack", () => {
  it("installs into a fresh project, imports as 'tsbpf', loads minimal.bpf.o and sees the printk line", () => {
    writeFileSync(
      join(app, "main.mjs"),
      `
import { writeSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { BpfObject, TracePipeReader } from "tsbpf";
const pkgDir = createRequire(import.meta.url).resolve("tsbpf/package.json").replace(/package\\.json$/, "");
const lines = [];
// trace_pipe has one reader at a time: wait for another one to let go.
let reader;
for (let tries = 0; ; tries++) {
  try {
    reader = new TracePipeReader((l) => lines.push(l), 10).start();
    break;
  } catch (e) {
    if (e.code !== "EBUSY" || tries > 300) throw e;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const obj = BpfObject.open(pkgDir + "bpf/minimal.bpf.o");
obj.setVariable("my_pid", process.pid);
obj.load();
obj.attach();
const fd = openSync("/dev/null", "w");
for (let i = 0; i < 100 && !lines.some((l) => l.pid === process.pid); i++) {
  writeSync(fd, "x");
  await new Promise((r) => setTimeout(r, 20));
  reader.drain();
}
reader.stop();
obj.destroy();
console.log(lines.find((l) => l.pid === process.pid)?.message ?? "no line");
`,
    );
    const out = execFileSync(process.execPath, ["main.mjs"], { cwd: app, encoding: "utf8" });
    expect(out.trim()).toMatch(/^BPF triggered from PID \d+\.$/);
    const cli = spawnSync(join(app, "node_modules/.bin/tsbpf"), ["inspect", join(app, "node_modules/tsbpf/bpf/minimal.bpf.o")], {
      encoding: "utf8",
    });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain("handle_tp  (section tp/syscalls/sys_enter_write)");
  }, 180_000);

  it("require() and import of any entry give the same classes: one code-cached bundle per process", () => {
    const script = `
const t = require("tsbpf");
const { Btf } = require("tsbpf/btf");
Promise.all([import("tsbpf"), import("tsbpf/elf"), import("tsbpf/spec")]).then(([m, e, s]) => {
  console.log(JSON.stringify({
    load: typeof t.BpfObject.open,
    main: m.BpfObject === t.BpfObject,
    btf: Btf === m.Btf,
    elf: e.ElfFile === t.ElfFile,
    spec: s.parseObject === t.parseObject,
    resolved: [require.resolve("tsbpf"), require.resolve("tsbpf/btf")].map((p) => p.replace(/^.*node_modules\\/tsbpf\\//, "")),
  }));
});`;
    // --enable-source-maps too: stack traces then name bundle.cjs's lines, but there is still one of each class.
    for (const flags of [[], ["--enable-source-maps"]]) {
      const r = spawnSync(process.execPath, [...flags, "-e", script], {
        cwd: app,
        encoding: "utf8",
        env: { ...process.env, TSBPF_CODE_CACHE_REPORT: "1" },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        load: "function",
        main: true,
        btf: true,
        elf: true,
        spec: true,
        resolved: ["dist/lib/node/index.cjs", "dist/lib/node/btf.cjs"],
      });
      // Run once: one report line.
      expect(r.stderr.match(/code cache: accepted/g)).toHaveLength(1);
    }
  });

  it("the consumer scripts, the examples and the README's code blocks compile with strict against the installed package's types", () => {
    expect(readmeBlocks.length).toBeGreaterThanOrEqual(2);
    expect(compileOutput).toBe("");
  });
});

describe("tc through netlink (in a veth pair between two fresh network namespaces)", () => {
  let net: VethPair;
  beforeAll(() => {
    net = vethPair("tc");
  });
  afterAll(() => net?.remove());

  it("drops, rewrites and passes as the program decides, removes exactly its filters, and strace decodes the same netlink", () => {
    const trace = join(work, "tc-trace.txt");
    const straceOut = join(work, "tc-strace.txt");
    const r = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        net.b,
        "strace",
        "-f",
        "-v",
        "-o",
        straceOut,
        "-e",
        "trace=socket,bind,setsockopt,sendmsg,recvmsg",
        process.execPath,
        script("consumers/tc"),
        "tvb",
        net.a,
        "10.199.0.2",
        "10.199.0.1",
        trace,
      ],
      { cwd: app, encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(res.ingress).toEqual({ kind: "tc", target: "tvb ingress", direction: "ingress", priority: 49152, handle: 1 });
    expect(res.egress).toEqual({ target: "tvb egress", priority: 7, handle: 9 });
    expect(res.whileAttached.ingress).toMatch(/pref 49152 bpf chain 0 handle 0x1 tc_ingress direct-action/);
    expect(res.whileAttached.egress).toMatch(/pref 7 bpf chain 0 handle 0x9 tc_egress direct-action/);
    expect(res.whileAttached.qdisc).toMatch(/qdisc clsact ffff: parent ffff:fff1/);
    expect(res.conflict).toMatchObject({ name: "NetlinkError", errno: 17, code: "EEXIST" });
    expect(res.conflict.message).toContain('the kernel says: "Filter already exists"');
    // 'd' dropped, 'r' rewritten to 'R', the rest passed, in order.
    expect(res.received).toEqual(["p1", "R1", "p2", "Rx", "end"]);
    expect(res.counters.dropped).toBe("2");
    expect(res.counters.rewritten).toBe("2");
    expect(Number(res.counters.seen)).toBeGreaterThanOrEqual(7);
    expect(Number(res.egressDelta)).toBeGreaterThanOrEqual(3);
    // Destroying one link removes its filter only; the last one takes the qdisc tsbpf made.
    expect(res.afterIngressDestroyed.ingress).toBe("");
    expect(res.afterIngressDestroyed.egress).toMatch(/handle 0x9 tc_egress/);
    expect(res.afterIngressDestroyed.qdisc).toMatch(/clsact/);
    expect(res.afterDestroy).toEqual({ ingress: "", egress: "", qdisc: expect.not.stringMatching(/clsact/) });
    // A clsact qdisc tsbpf did not make stays.
    expect(res.foreignWhileAttached).toMatch(/pref 3 bpf .*tc_ingress direct-action/);
    expect(res.foreign.ingress).toBe("");
    expect(res.foreign.qdisc).toMatch(/clsact/);
    expect(tcIn(net.b, "filter", "show", "dev", "tvb", "ingress")).toBe("");
    expect(tcIn(net.b, "qdisc", "show", "dev", "tvb")).not.toMatch(/clsact/);

    // The tracer's netlink lines are strace's, character for character.
    const ours = readFileSync(trace, "utf8").trim().split("\n");
    // Of strace's lines, this process's netlink ones (node's own UDP socket is AF_INET).
    const netlink =
      /^(socket\(AF_NETLINK, |bind\(\d+, \{sa_family=AF_NETLINK|setsockopt\(\d+, SOL_NETLINK|(send|recv)msg\(\d+, \{msg_name=\{sa_family=AF_NETLINK)/;
    const strace = readFileSync(straceOut, "utf8")
      .split("\n")
      .filter((l) => l.startsWith(`${res.pid} `))
      .map((l) => l.slice(String(res.pid).length).trimStart())
      .filter((l) => netlink.test(l));
    expect(ours.length).toBeGreaterThan(20);
    expect(ours).toEqual(strace);
  }, 120_000);

  it("examples/tc counts, drops and rewrites, and leaves nothing attached", async () => {
    const ex = startExample("tc", ["tvb"], /attached tc_egress/, net.b);
    await ex.ready;
    expect(ex.out()).toMatch(/attached tc_ingress to tvb ingress \(priority \d+, handle \d+\)/);
    sendUdp(net.a, "10.199.0.2", 7777, ["d1", "r1", "p1", "d2"]);
    expect(await interrupt(ex.child)).toBe(0);
    const m = /ingress: (\d+) packets, (\d+) dropped, (\d+) rewritten; egress: (\d+) packets/.exec(ex.out());
    expect(m, ex.out()).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(4);
    expect([m![2], m![3]]).toEqual(["2", "1"]);
    expect(tcIn(net.b, "filter", "show", "dev", "tvb", "ingress")).toBe("");
    expect(tcIn(net.b, "filter", "show", "dev", "tvb", "egress")).toBe("");
    expect(tcIn(net.b, "qdisc", "show", "dev", "tvb")).not.toMatch(/clsact/);
  }, 60_000);

  it("examples/xdp counts the packets an interface receives, per protocol", async () => {
    const ex = startExample("xdp", ["tvb"], /counting packets on tvb/, net.b);
    await ex.ready;
    sendUdp(net.a, "10.199.0.2", 9, ["a", "b", "c"]);
    expect(await interrupt(ex.child)).toBe(0);
    const udp = /^UDP: (\d+)$/m.exec(ex.out());
    expect(udp, ex.out()).not.toBeNull();
    expect(Number(udp![1])).toBeGreaterThanOrEqual(3);
  }, 60_000);
});

describe("pinning (in a BPF filesystem of the test's own)", () => {
  const fs = join(work, "bpffs");
  beforeAll(() => {
    mkdirSync(fs);
    execFileSync("mount", ["-t", "bpf", "bpf", fs]);
  });
  afterAll(() => spawnSync("umount", [fs]));

  it("pins and opens programs, maps and links by path and by id, with read-only and write-only map fds", () => {
    const res = consumer("pinning", [fs]);
    expect(res.pinned).toEqual([true, true, true]);
    for (const ids of [res.progIds, res.mapIds, res.linkIds]) expect(new Set(Object.values(ids)).size).toBe(1);
    expect(res.openedProgram).toEqual({ name: "count_exec", section: "tracepoint", pinnedPath: `${fs}/prog` });
    expect(res.openedLink).toEqual({ kind: "perf_event", program: "count_exec", target: "sched_process_exec" });
    expect(res.linkInfo).toMatchObject({
      kind: "perf_event",
      eventType: "tracepoint",
      name: "sched_process_exec",
      progId: res.progIds.own,
    });
    expect(res.count).toBe("2");
    expect(res.readOnlyWrite).toMatchObject({ name: "SyscallError", errno: 1, code: "EPERM" });
    expect(res.readOnlyWrite.message).toMatch(/read-only/);
    expect(res.readOnlyIsSyscallError).toBe(true);
    expect(res.writeOnlyRead).toMatchObject({ name: "SyscallError", code: "EPERM" });
    expect(res.afterWriteOnlyUpdate).toBe("0");
    expect(res.bothFlags).toMatchObject({ name: "UnsupportedError", code: "EOPNOTSUPP" });
    expect(res.notPinned).toMatchObject({ name: "SyscallError", errno: 2, code: "ENOENT" });
    expect(res.afterUnpin).toEqual([false, false, false]);
    expect(res.unpinTwice).toMatchObject({ name: "StateError" });
  });

  it("examples/pinning: the pinned link outlives the process that made it, and unpin removes it", () => {
    const run = (...args: string[]) =>
      execFileSync(process.execPath, [script("examples/pinning"), ...args], { cwd: app, encoding: "utf8" });
    const pinned = /pinned link (\d+)/.exec(run("pin", fs, String(process.pid)));
    expect(pinned).not.toBeNull();
    const id = pinned![1]!;
    // The pinning process is gone; its program still counts this process's children:
    // three /bin/true, and the `show` process itself.
    for (let i = 0; i < 3; i++) spawnSync("/bin/true");
    expect(run("show", fs)).toMatch(
      new RegExp(`^link ${id} \\(perf_event\\) holds program count_exec \\(id \\d+\\); execs counted: 4$`, "m"),
    );
    expect(JSON.parse(execFileSync("bpftool", ["link", "show", "id", id, "-j"], { encoding: "utf8" })).prog_id).toBeGreaterThan(0);
    expect(run("unpin", fs).trim()).toBe(`unpinned link ${id}`);
    expect(readdirSync(fs).filter((f) => !f.endsWith(".debug"))).toEqual([]);
    expect(spawnSync("bpftool", ["link", "show", "id", id]).status).not.toBe(0);
  });
});

describe("BPF_PROG_TEST_RUN, map operations, perf buffers, introspection, errors", () => {
  it("testRun: data and larger output, ctx in/out, repeat, flags/cpu, live XDP frames with batch size, SYSCALL context", () => {
    const res = consumer("testrun");
    // tc_mark adds 1 to skb->mark and 16 bytes to the packet, on each of the 3 repeats.
    // A socket filter sees the packet past its Ethernet header.
    expect(res.socket).toEqual({ retval: 50, dataOut: 64, ctxOut: 0 });
    expect(res.xdp).toEqual({ retval: 2, dataOut: 96, head: true, tail: Array(32).fill(0xab) });
    expect(res.xdpTooSmall).toMatchObject({ name: "SyscallError", code: "ENOSPC" });
    expect(res.live).toEqual({ retval: 0, dataOut: 0, frames: "10" });
    expect(res.rawTp).toEqual([
      { cpu: 1, retval: 42, ranOn: 1, firstArg: "1234" },
      { cpu: 0, retval: 42, ranOn: 0, firstArg: "1234" },
    ]);
    expect(res.rawTpWithRepeat).toMatchObject({ name: "SyscallError", code: "EINVAL" });
    expect(res.syscall).toEqual({ retval: 7, out: "42", inputUntouched: "0" });
    expect(res.tc).toEqual({ retval: 0, dataOut: 64 + 3 * 16, ctxOut: expect.any(Number), mark: 44, durationIsNumber: true });
  });

  it("setters before load: a custom section typed, max_entries 0 sized, value widened, flags, log level, reuseFd, fromSpec", () => {
    const res = consumer("edit");
    expect(res.untyped).toMatchObject({ name: "UnsupportedError" });
    expect(res.untyped.message).toMatch(/program custom_bump: section "tsbpf_custom\/bump" is not a known program type.*setType/);
    expect(res.unsized.message).toMatch(/map sized_later has max_entries 0: .*setMaxEntries/);
    expect(res.stateAfterRefusal).toBe("opened");
    // SOCKET_FILTER is 1; each test run bumps the shared counter.
    expect(res.loaded).toMatchObject({ customType: 1, bumps: [1, 2], fillLog: true, customLog: null });
    // BPF_F_NO_PREALLOC (1) and BPF_F_ANY_ALIGNMENT (2), as sent and as the kernel reports the map.
    expect(res.loaded.sized).toEqual({ maxEntries: 6, flags: 1, keys: 6, fill: 6 });
    expect(res.loaded).toMatchObject({ progFlags: 2, mapFlags: 1 });
    expect(res.loaded.wide).toEqual({ valueSize: 64, length: 64, first: String(0x5157) });
    expect(res.loaded.editAfterLoad).toMatchObject({ name: "StateError" });
    expect(res.shared).toEqual({ sameId: true, ownFd: true, bump: 3 });
    expect(res.reuseRefused.message).toMatch(/cannot stand in for map counter: type 1 ≠ 2, max_entries 6 ≠ 1, map_flags 0x1 ≠ 0x0$/);
    expect(res.specs).toMatchObject({ maxEntries: 3, fill: 3, copyMaxEntries: 5, originalUnchanged: 3 });
    expect(res.specs.specEditAfterLoad).toMatchObject({ name: "StateError" });
  });

  it("map operations: queue, stack, bloom filter, hash, spin lock, freeze; raw and typed", () => {
    const res = consumer("mapops");
    expect(res.rawQueue).toEqual({ peek: 1, pops: [1, 2, null] });
    expect(res.queueLookup).toMatchObject({ name: "StateError" });
    expect(res.queue.full).toMatchObject({ name: "SyscallError", code: "E2BIG" });
    expect(res.queue.drained).toEqual([11, 12, 13, 14, null]);
    expect(res.stack).toEqual({ peek: 2, pops: [2, 1, null] });
    expect(res.bloom).toEqual({ present: [true, true, true], rawContains: true, absent: false });
    expect(res.bloomPop).toMatchObject({ name: "StateError" });
    expect(res.hash).toEqual({ keys: [1, 2], afterLast: null, taken: "100", gone: null, takenAgain: null, rawNext: expect.any(Number) });
    expect(res.lock).toEqual({ value: { lock: { val: 0 }, count: "7" }, pushedByProgram: 9 });
    expect(res.frozenWrite).toMatchObject({ name: "SyscallError", code: "EPERM" });
    expect(res.frozenWrite.message).toMatch(/frozen/);
    expect(res.frozenRead).toBe("200");
  });

  it("perf buffer: consume, consumeRaw, limit and stop, both poller modes, the iterator, lost samples", () => {
    // On one CPU, so that every sample lands in the same ring, in order.
    const res = consumer("perf", [], { cpu: 0 });
    expect(res.limited).toBe(2);
    // The kernel pads a raw sample so that its record is 8-aligned: 64 bytes come as 68.
    expect(res.raw).toEqual([2, 68, 3, 68]);
    expect(res.stopped).toBe(2);
    expect(res.views).toEqual([0, 1, 4]);
    expect(res.rest).toBe(1);
    expect(res.polled).toEqual({ loop: [5, 6, 7, 8], threadpool: [9, 10, 11, 12] });
    expect(res.iterated).toEqual([13, 14, 15]);
    // A one-page ring keeps what fits; the kernel reports the rest with the next sample.
    expect(res.kept).toBeGreaterThan(10);
    expect(res.kept).toBeLessThan(200);
    expect(res.afterLoss).toBe(1);
    expect(res.lost).toBe(String(200 - res.kept));
    expect(res.lostCalls).toEqual([{ lost: String(200 - res.kept), cpu: 0 }]);
  });

  it("examples/perf-buffer prints the execs it sees", async () => {
    const ex = startExample("perf-buffer", [], /listening for execs/);
    await ex.ready;
    const child = spawnSync("/bin/true");
    expect(child.status).toBe(0);
    const line = new RegExp(`^exec pid \\d+ ppid ${process.pid} true$`, "m");
    // Until it is printed (a busy machine may take a while), then Ctrl-C.
    await waitUntil(() => line.test(ex.out()));
    expect(await interrupt(ex.child)).toBe(0);
    expect(ex.out()).toMatch(line);
    expect(ex.out()).toMatch(/^lost 0 in all$/m);
  }, 60_000);

  it("progInfo, mapInfo and linkInfo of every link kind agree with bpftool", () => {
    // Only its network namespace (for lo), not `ip netns exec`'s fresh /sys: the cgroup v2 root stays visible.
    const ns = lonelyNamespace("links");
    let res: Report;
    try {
      res = consumer("introspection", [], { nsenter: ns.name });
    } finally {
      ns.remove();
    }
    expect(res.netns).not.toBe(readlinkSync("/proc/self/ns/net"));
    const p = res.program;
    expect(p.info.name).toBe("xdp_count_drop");
    expect(p.viaId).toBe("xdp_count_drop");
    expect(p.sameAsFd).toBe(true);
    expect(p.info.xlatedProgLen).toBe(p.bpftool.bytes_xlated);
    expect(p.info.jitedProgLen).toBe(p.bpftool.bytes_jited);
    expect(p.info.xlated).toBe(p.info.xlatedProgLen);
    expect(p.info.jited).toBe(p.info.jitedProgLen);
    expect(p.info.btfId).toBe(p.bpftool.btf_id);
    expect(p.info.tag).toBe(p.bpftool.tag);
    expect(p.info.mapIds).toEqual(p.bpftool.map_ids);
    expect(p.mapNames).toEqual(["testrun.bss"]);
    expect(p.info.runCnt).toBe("3");
    expect(BigInt(p.info.runTimeNs)).toBeGreaterThan(0n);
    expect(p.info.verifiedInsns).toBeGreaterThan(0);
    expect(p.info.funcInfo).toHaveLength(p.info.nrFuncInfo);
    expect(p.info.funcInfo[0]).toMatchObject({ insnOff: 0 });
    expect(p.info.lineInfo).toHaveLength(p.info.nrLineInfo);
    expect(p.info.lineInfo.length).toBeGreaterThan(0);
    expect(p.info.lineInfo[0].line).toBeGreaterThan(0);
    expect(p.info.gplCompatible).toBe(true);

    expect(res.maps.bloom).toMatchObject({ name: "bloom", mapExtra: "3", btfKeyTypeId: 0 });
    expect(res.maps.bloom.btfValueTypeId).toBeGreaterThan(0);
    expect(res.maps.hash).toMatchObject({ name: "hash", keySize: 4, valueSize: 8, btfId: res.maps.bpftoolHash.btf_id });
    expect(res.maps.hash.btfKeyTypeId).toBeGreaterThan(0);

    const links = res.links;
    for (const [name, { info, bpftool }] of Object.entries<Report>(links)) {
      expect({ name, id: info.id, progId: info.progId }).toEqual({ name, id: bpftool.id, progId: bpftool.prog_id });
    }
    expect(links.raw_tracepoint.info).toMatchObject({ kind: "raw_tracepoint", tpName: links.raw_tracepoint.bpftool.tp_name });
    expect(links.raw_tracepoint.info.tpName).toBe("sys_enter");
    // tp_btf programs attach through RAW_TRACEPOINT_OPEN: the kernel reports a raw_tracepoint link.
    expect(links.tp_btf.info).toMatchObject({ kind: "raw_tracepoint", tpName: "sched_process_exec" });
    expect(links.cgroup.info).toMatchObject({ kind: "cgroup", cgroupId: String(links.cgroup.bpftool.cgroup_id), attachType: 1 });
    expect(links.cgroup.bpftool.attach_type).toBe("cgroup_inet_egress");
    expect(links.iter.info).toMatchObject({ kind: "iter", targetName: links.iter.bpftool.target_name, tid: 0, pid: 0 });
    expect(links.xdp.info).toMatchObject({ kind: "xdp", ifindex: 1 });
    expect(links.tcx.info).toMatchObject({ kind: "tcx", ifindex: 1, attachType: 46 });
    expect(links.tracepoint.info).toMatchObject({ kind: "perf_event", eventType: "tracepoint", name: "sched_process_exec" });
    expect(links.uprobe.info).toMatchObject({ kind: "perf_event", eventType: "uprobe", name: expect.stringMatching(/libc\.so\.6$/) });
    // bpftool perf: the same uprobe (file and offset) and tracepoint, from BPF_TASK_FD_QUERY.
    const uprobe = res.perfEvents.find((e: Report) => e.prog_id === links.uprobe.info.progId);
    expect(uprobe).toMatchObject({ fd_type: "uprobe", filename: links.uprobe.info.name, offset: links.uprobe.info.offset });
    const tp = res.perfEvents.find((e: Report) => e.prog_id === links.tracepoint.info.progId);
    expect(tp).toMatchObject({ fd_type: "tracepoint", tracepoint: "sched_process_exec" });
  });

  it("every error carries errno and code: syscall errors their call's, the others their class's", () => {
    const { results: r, verifierCause } = consumer("errors");
    expect(r.notFound).toMatchObject({ name: "NotFoundError", errno: 2, code: "ENOENT", classes: ["TsbpfError", "NotFoundError"] });
    expect(r.state).toMatchObject({ name: "StateError", errno: 22, code: "EINVAL" });
    expect(r.format).toMatchObject({ name: "ObjectFormatError", errno: 8, code: "ENOEXEC" });
    expect(r.relocation).toMatchObject({ name: "RelocationError", errno: 22, code: "EINVAL", classes: ["TsbpfError", "RelocationError"] });
    expect(r.relocation.message).toMatch(/does not start a function/);
    expect(r.unsupported).toMatchObject({ name: "UnsupportedError", errno: 95, code: "EOPNOTSUPP" });
    expect(r.syscall).toMatchObject({ name: "SyscallError", errno: 2, code: "ENOENT", classes: ["TsbpfError", "SyscallError"] });
    expect(r.verifier).toMatchObject({ name: "VerifierError", errno: 13, code: "EACCES", classes: ["TsbpfError", "VerifierError"] });
    expect(verifierCause).toMatchObject({ name: "SyscallError", errno: 13, code: "EACCES" });
    // Caused by a failed read of /sys/class/net: that errno, not the class's.
    expect(r.missingInterface).toMatchObject({ name: "UnsupportedError", errno: 2, code: "ENOENT" });
  });
});

describe("kernel-free sub-paths (tsbpf/elf, btf, core, spec, insn, disasm)", () => {
  const offline = join(work, "offline");
  beforeAll(() => {
    // A project with the package but no koffi, and a resolve hook that refuses the kernel side.
    mkdirSync(join(offline, "node_modules"), { recursive: true });
    cpSync(join(app, "node_modules/tsbpf"), join(offline, "node_modules/tsbpf"), { recursive: true });
    cpSync(join(app, "out/consumers"), join(offline, "consumers"), { recursive: true });
    writeFileSync(join(offline, "package.json"), JSON.stringify({ name: "offline", type: "module", private: true }));
    writeFileSync(
      join(offline, "hooks.mjs"),
      // The package's entry points are bundles (dist/lib): a file holds the kernel side when its
      // source map lists a source from it.
      `import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
const KERNEL = /\\/src\\/(syscall|maps|programs|object|strace|cli)\\//;
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (KERNEL.test(r.url) || /\\/koffi\\//.test(r.url)) throw new Error("kernel side loaded: " + r.url);
  if (r.url.startsWith("file:") && r.url.endsWith(".js")) {
    let sources = [];
    try {
      sources = JSON.parse(readFileSync(fileURLToPath(r.url) + ".map", "utf8")).sources;
    } catch {}
    const held = sources.find((s) => KERNEL.test(s));
    if (held) throw new Error("kernel side loaded: " + r.url + " holds " + held);
  }
  return r;
}
`,
    );
    writeFileSync(join(offline, "deny-kernel.mjs"), `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`);
  });

  // --no-addons: Node without native addons resolves the package's "import" condition, the ES
  // module files (dist/lib/*.js), as bundlers do; by default Node takes "node-addons", the
  // code-cached bundle (dist/lib/node/*.js), which holds both halves (see the last test here).
  const node = (...args: string[]) =>
    spawnSync(process.execPath, ["--no-addons", "--import", "./deny-kernel.mjs", ...args], { cwd: offline, encoding: "utf8" });

  it("koffi cannot be resolved there, and the hook refuses the main entry (which has the kernel side)", () => {
    const koffi = node("--input-type=module", "-e", 'await import("koffi")');
    expect(koffi.status).not.toBe(0);
    expect(koffi.stderr).toMatch(/Cannot find package 'koffi'/);
    const main = node("--input-type=module", "-e", 'await import("tsbpf")');
    expect(main.status).not.toBe(0);
    expect(main.stderr).toMatch(/kernel side loaded: .*\/dist\/lib\/.* holds \.\.\/\.\.\/src\/(syscall|maps|programs|object|strace)\//);
  });

  it("parses, relocates (CO-RE against the kernel's BTF file), dumps and disassembles without the kernel side", () => {
    const r = node("consumers/offline.js", join(offline, "node_modules/tsbpf/bpf/core.bpf.o"), "/sys/kernel/btf/vmlinux");
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim());
    expect(res.sections).toBeGreaterThan(5);
    expect(res.programs.length).toBeGreaterThan(0);
    expect(res.programs.some((p: { core: number }) => p.core > 0)).toBe(true);
    expect(res.dumpC).toBe(true);
    expect(res.disassembly).toBeGreaterThan(10);
  });

  it("by default Node gets the sub-paths from the code-cached bundle, which works without koffi too", () => {
    const r = spawnSync(
      process.execPath,
      ["consumers/offline.js", join(offline, "node_modules/tsbpf/bpf/core.bpf.o"), "/sys/kernel/btf/vmlinux"],
      {
        cwd: offline,
        encoding: "utf8",
        env: { ...process.env, TSBPF_CODE_CACHE_REPORT: "1" },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    // The bundle ran, compiled from the cache the build wrote for this Node.
    expect(r.stderr).toContain("code cache: accepted");
    const res = JSON.parse(r.stdout.trim());
    expect(res.programs.some((p: { core: number }) => p.core > 0)).toBe(true);
    expect(res.disassembly).toBeGreaterThan(10);
    const resolved = spawnSync(process.execPath, ["--input-type=module", "-e", 'console.log(import.meta.resolve("tsbpf/elf"))'], {
      cwd: offline,
      encoding: "utf8",
    });
    expect(resolved.stdout.trim()).toMatch(/\/node_modules\/tsbpf\/dist\/lib\/node\/elf\.js$/);
  });

  it("the bundle is strict code, as the ES modules are: a write to a frozen object throws", () => {
    const poison = `import { poisonInstruction } from "tsbpf/core";
try { poisonInstruction(Object.freeze({ opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 1 })); console.log("written"); } catch (e) { console.log(e.constructor.name); }`;
    for (const flags of [[], ["--no-addons"]]) {
      const r = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", poison], { cwd: offline, encoding: "utf8" });
      expect(r.stdout.trim(), flags.join(" ") || "bundle").toBe("TypeError");
    }
  });
});

describe("examples/uprobe and examples/iterator", () => {
  it("uprobe by symbol: counts the calls of a function of a binary and sums their argument", async () => {
    const dir = join(work, "uprobe");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "target.c"),
      `#include <stdlib.h>
__attribute__((noinline)) int tsbpf_target(long x) { return (int)x * 3 + 1; }
int main(int argc, char **argv) { int n = atoi(argv[1]); volatile int s = 0; for (int i = 1; i <= n; i++) s += tsbpf_target(i); return 0; }
`,
    );
    execFileSync("gcc", ["-O1", "-o", join(dir, "target"), join(dir, "target.c")]);
    const out = execFileSync(process.execPath, [script("examples/uprobe"), join(dir, "target"), "tsbpf_target", join(dir, "target"), "5"], {
      cwd: app,
      encoding: "utf8",
    });
    expect(out).toMatch(/^probing .*target:tsbpf_target/m);
    expect(out).toMatch(/^tsbpf_target: 5 calls, argument sum 15 \(pid \d+, exit 0\)$/m);
  });

  it("iterator: lists processes, this one among them with its parent", () => {
    const child = spawnSync(process.execPath, [script("examples/iterator")], { cwd: app, encoding: "utf8" });
    expect(child.status, child.stderr).toBe(0);
    const lines = child.stdout.trim().split("\n");
    expect(lines[0]).toBe("PID PPID COMM");
    expect(lines).toContain(`${child.pid} ${process.pid} node`);
    expect(lines).toContain("2 0 kthreadd");
  });
});
