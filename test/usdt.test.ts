/**
 * USDT on the real kernel: bpf/usdt.bpf.o (libbpf's <bpf/usdt.bpf.h> on the
 * BPF side) attached to the probes of gcc-built programs
 * (helpers/usdt-demo.ts): 0 to 6 arguments of every size and sign, in
 * registers, on the stack and as constants, in a PIE executable and a
 * shared library, with and without semaphores. Each hit records
 * bpf_usdt_arg_cnt() and every bpf_usdt_arg(); each value is checked
 * exactly. Both attach paths run: one uprobe_multi link per probe (what
 * this kernel gets by default) and one perf-event uprobe per site.
 * libbpf (bpftool prog loadall) loads the same instructions.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BtfKind, type EnumType } from "../src/btf/types.js";
import { NotFoundError, UnsupportedError } from "../src/errors.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { hasUprobeMulti, setUprobeMultiFeature } from "../src/object/usdt-support.js";
import { skipBecause } from "./helpers/kernel-facts.js";
import { BpfProgram } from "../src/programs/bpf-program.js";
import type { Link } from "../src/programs/link.js";
import { runningKernelVersion } from "../src/syscall/kernel-version.js";
import { kernelObjects, remainingKernelObjects } from "./helpers/kernel.js";
import { HAVE_BPFTOOL, libbpfXlated, normalisedXlated } from "./helpers/oracle.js";
import { thrownBy } from "./helpers/thrown.js";
import { EXPECTED_ARGS, type UsdtDemo, buildUsdtDemo } from "./helpers/usdt-demo.js";

const OBJ = "bpf/usdt.bpf.o";
const NO_UPROBE_MULTI = "this kernel has no uprobe_multi links (6.6+; tsbpf's probe of BPF_TRACE_UPROBE_MULTI said no)";
const ENOENT = -2;
const EXE_PROBES = ["p0", "p1", "p2", "p3", "p6", "pconst", "psem"];
const LIB_PROBES = ["lp2", "lsem"];

let demo: UsdtDemo;
beforeAll(() => {
  demo = buildUsdtDemo();
});
afterAll(() => demo.remove());
afterEach(() => setUprobeMultiFeature(undefined));

interface Hit {
  hits: bigint;
  pid: number;
  arg_cnt: number;
  arg_ret: number[];
  arg: bigint[];
}

/** Opens usdt.bpf.o with only on_usdt (attached by hand) loaded. */
function openManual(): BpfObject {
  const obj = BpfObject.open(OBJ);
  obj.setAutoload("on_auto_exe", false);
  obj.setAutoload("on_auto_lib", false);
  return obj;
}

function hit(obj: BpfObject, slot: number): Hit {
  return obj.typedMap<number, Hit>("hits").lookup(slot)!;
}

/** The slot's hit holds exactly `args` (bpf_usdt_arg: 0 and the value for each, -ENOENT past the count). */
function expectArgs(h: Hit, args: bigint[], what: string): void {
  expect(h.arg_cnt, what).toBe(args.length);
  expect(h.arg_ret, what).toEqual(Array.from({ length: 12 }, (_, i) => (i < args.length ? 0 : ENOENT)));
  expect(h.arg.slice(0, args.length).map(BigInt), what).toEqual(args);
}

/** Attaches on_usdt to each probe, the probe's index as USDT cookie (= its slot in hits). */
function attachEach(obj: BpfObject, binary: string, provider: string, probes: string[], first = 0, pid?: number): Link[] {
  const prog = obj.program("on_usdt");
  return probes.map((name, i) => prog.attach({ binary, provider, name, cookie: BigInt(first + i), ...(pid !== undefined ? { pid } : {}) }));
}

function run(binary: string): string {
  return execFileSync(binary, { encoding: "utf8" });
}

/** fn() polled until it returns `expected` or 5 s pass; its last result. */
async function eventually<T>(fn: () => T, expected: T): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = fn();
    if (v === expected || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("USDT: every argument read exactly", () => {
  const paths = [
    ["uprobe_multi link", true],
    ["perf-event uprobes", false],
  ] as const;
  for (const [path, multi] of paths) {
    describe(path, () => {
      it("-O2 executable (registers, constants) and its library, semaphores counted", async (ctx) => {
        if (multi && !hasUprobeMulti()) skipBecause(ctx, NO_UPROBE_MULTI);
        setUprobeMultiFeature(multi);
        const before = kernelObjects();
        const obj = openManual();
        try {
          obj.load();
          const links = [
            ...attachEach(obj, demo.exe, "tsbpf", EXE_PROBES),
            ...attachEach(obj, demo.lib, "tsbpf_lib", LIB_PROBES, EXE_PROBES.length),
          ];
          expect(links.map((l) => l.kind)).toEqual(Array(9).fill("usdt"));
          expect(links.every((l) => (l.fd !== undefined) === multi)).toBe(true);
          expect(links[0]!.target).toBe(`${demo.exe}:tsbpf:p0 (1 site)`);
          // Attached: the kernel has counted up both semaphores, so the guarded probes fire too.
          expect(run(demo.exe)).toBe("psem=1 lsem=1\n");
          [...EXE_PROBES, ...LIB_PROBES].forEach((name, slot) => {
            const h = hit(obj, slot);
            expect(h.hits, name).toBe(1n);
            expectArgs(h, EXPECTED_ARGS[name]!, name);
          });
          for (const l of links) l.destroy();
          // A perf-event uprobe goes (and its semaphore count with it) once the link's
          // deferred release has run, an RCU grace period after the close.
          expect(await eventually(() => run(demo.exe), "psem=0 lsem=0\n")).toBe("psem=0 lsem=0\n");
          // Detached: a further run is seen by no probe.
          const counts = () => EXE_PROBES.concat(LIB_PROBES).map((_, slot) => hit(obj, slot).hits);
          const settled = counts();
          run(demo.exe);
          expect(counts()).toEqual(settled);
        } finally {
          await obj.destroyAsync();
        }
        expect(await remainingKernelObjects(before)).toEqual({ prog: [], map: [], link: [], btf: [] });
      });
    });
  }

  it("-O0 executable: arguments in stack slots (8@-8(%rbp), ...)", () => {
    using obj = openManual();
    obj.load();
    attachEach(obj, demo.exeO0, "tsbpf", EXE_PROBES);
    expect(run(demo.exeO0)).toBe("psem=1 lsem=0\n");
    EXE_PROBES.forEach((name, slot) => {
      expect(hit(obj, slot).hits, name).toBe(1n);
      expectArgs(hit(obj, slot), EXPECTED_ARGS[name]!, name);
    });
  });

  it("usdt programs are loaded for uprobe_multi where the kernel has it, as libbpf does", () => {
    using obj = openManual();
    obj.load();
    const link = obj.program("on_usdt").attach({ binary: demo.exe, provider: "tsbpf", name: "p1" });
    // A perf-event uprobe has no link fd of its own here; a uprobe_multi link does.
    expect(link.fd !== undefined).toBe(hasUprobeMulti());
    // uprobe_multi links came in Linux 6.6; their pid filtering, which libbpf's probe checks too, was fixed by 6.10.
    if (runningKernelVersion() >= (6 << 16) + (10 << 8)) expect(hasUprobeMulti()).toBe(true);
  });

  it("pid: only that process's hits count", async () => {
    using obj = openManual();
    obj.load();
    const child: ChildProcessWithoutNullStreams = spawn(demo.exe, ["wait"]);
    try {
      const ready = await new Promise<string>((resolve) => child.stdout.once("data", (d) => resolve(String(d))));
      const pid = Number(ready.match(/^ready (\d+)/)![1]);
      attachEach(obj, demo.exe, "tsbpf", ["p3"], 0, pid);
      run(demo.exe); // another process: not counted
      expect(hit(obj, 0).hits).toBe(0n);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.write("x");
      await exited;
      const h = hit(obj, 0);
      expect(h.hits).toBe(1n);
      expect(h.pid).toBe(pid);
      expectArgs(h, EXPECTED_ARGS.p3!, "p3");
    } finally {
      child.kill();
    }
  });

  it("spec ids come back on detach: attaching again reuses them", () => {
    using obj = openManual();
    obj.load();
    for (let round = 0; round < 3; round++) {
      const links = attachEach(obj, demo.exe, "tsbpf", EXE_PROBES);
      for (const l of links) l.destroy();
    }
    // 7 probes attached three times over use spec ids 0..6 only: slot 7 of the specs map was never written.
    const specs = obj.map("__bpf_usdt_specs");
    const key = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
    expect(specs.lookup(key(6))!.some((b) => b !== 0)).toBe(true);
    expect(specs.lookup(key(7))!.every((b) => b === 0)).toBe(true);
  });
});

describe("USDT: attaching by section name", () => {
  it("usdt/BINARY:PROVIDER:NAME finds the binary in $PATH and the library in LD_LIBRARY_PATH", () => {
    const saved = { PATH: process.env.PATH, LD: process.env.LD_LIBRARY_PATH };
    process.env.PATH = `${demo.dir}:${process.env.PATH}`;
    process.env.LD_LIBRARY_PATH = demo.dir;
    try {
      using obj = BpfObject.open(OBJ);
      obj.load();
      const links = obj.attach();
      expect(links.map((l) => `${l.program} ${l.target}`)).toEqual([
        `on_auto_exe ${demo.exe}:tsbpf:p3 (1 site)`,
        `on_auto_lib ${demo.lib}:tsbpf_lib:lp2 (1 site)`,
      ]);
      run(demo.exe);
      const slots = (obj.spec.btf!.btf.typeByName("auto_slot", BtfKind.Enum) as EnumType).values.map((v) => Number(v.value));
      expectArgs(hit(obj, slots[0]!), EXPECTED_ARGS.p3!, "on_auto_exe");
      expectArgs(hit(obj, slots[1]!), EXPECTED_ARGS.lp2!, "on_auto_lib");
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.LD === undefined) delete process.env.LD_LIBRARY_PATH;
      else process.env.LD_LIBRARY_PATH = saved.LD;
    }
  });

  it("tsbpf load attaches them and streams their records", async () => {
    const env = { ...process.env, PATH: `${demo.dir}:${process.env.PATH}`, LD_LIBRARY_PATH: demo.dir };
    const cli = spawn(process.execPath, ["dist/src/cli/tsbpf.cjs", "load", OBJ, "--json", "--duration", "20"], { env });
    let stdout = "";
    let stderr = "";
    cli.stdout.on("data", (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => cli.once("exit", resolve));
    await new Promise<void>((resolve) =>
      cli.stderr.on("data", (d) => {
        stderr += d;
        if (stderr.includes("running")) resolve();
      }),
    );
    run(demo.exe);
    for (let i = 0; i < 100 && (stdout.match(/"type":"record"/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    cli.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(stderr).toContain(`on_auto_exe → usdt ${demo.exe}:tsbpf:p3 (1 site), on_auto_lib → usdt ${demo.lib}:tsbpf_lib:lp2 (1 site)`);
    const records = stdout
      .split("\n")
      .filter((l) => l.includes('"type":"record"'))
      .map((l) => JSON.parse(l));
    expect(records).toEqual([
      { type: "record", map: "events", slot: 30, arg_cnt: 3, arg0: "65000", arg1: "-100000", arg2: "4000000000" },
      { type: "record", map: "events", slot: 31, arg_cnt: 2, arg0: "-77", arg1: "1234567890123", arg2: "0" },
    ]);
  });

  it("tsbpf inspect shows the usdt programs", () => {
    const out = execFileSync(process.execPath, ["dist/src/cli/tsbpf.cjs", "inspect", OBJ], { encoding: "utf8" });
    expect(out).toMatch(/on_auto_exe\s+\(section usdt\/tsbpf_usdt_demo:tsbpf:p3\)\n\s+type BPF_PROG_TYPE_KPROBE\n\s+attach: usdt/);
  });
});

describe("USDT: clear errors", () => {
  it("an unknown probe lists the binary's probes; a binary without probes says so", () => {
    using obj = openManual();
    obj.load();
    const prog = obj.program("on_usdt");
    const e = thrownBy(() => prog.attach({ binary: demo.exe, provider: "tsbpf", name: "nope" }));
    expect(e).toBeInstanceOf(NotFoundError);
    expect((e as Error).message).toBe(
      `${demo.exe} has no USDT probe tsbpf:nope (it has: tsbpf:p0, tsbpf:p1, tsbpf:p2, tsbpf:p3, tsbpf:p6, tsbpf:pconst, tsbpf:psem)`,
    );
    const e2 = thrownBy(() => prog.attach({ binary: "/bin/true", provider: "a", name: "b" }));
    expect((e2 as Error).message).toMatch(/has no USDT probes \(no \.note\.stapsdt section\)/);
    expect((thrownBy(() => prog.attach({ binary: demo.exe, provider: "tsbpf" })) as Error).message).toMatch(/name missing/);
    expect((thrownBy(() => prog.attach()) as Error).message).toMatch(/section usdt names no probe; pass \{ binary, provider, name \}/);
  });

  it("a usdt program in an object without usdt.bpf.h's maps", () => {
    using obj = openManual();
    obj.load();
    const spec = obj.program("on_usdt").spec;
    // The same program without its object's USDT state.
    const bare = new BpfProgram(spec, obj.program("on_usdt").fd, new Uint8Array());
    const e = thrownBy(() => bare.attach({ binary: demo.exe, provider: "tsbpf", name: "p1" }));
    expect(e).toBeInstanceOf(UnsupportedError);
    expect((e as Error).message).toMatch(/include it in the BPF source/);
  });
});

describe.runIf(HAVE_BPFTOOL)("USDT: tsbpf vs libbpf (bpftool prog loadall)", () => {
  it("loads the same instructions for every usdt program", () => {
    const theirs = libbpfXlated(OBJ);
    expect([...theirs.keys()].sort()).toEqual(["on_auto_exe", "on_auto_lib", "on_usdt"]);
    // bpf_usdt_arg() and friends are inlined as static subprograms, with the cookie branch kept.
    expect(theirs.get("on_usdt")!.length).toBeGreaterThan(100);
    // bpftool's libbpf (1.1) predates uprobe_multi and loads usdt programs as plain kprobe programs.
    setUprobeMultiFeature(false);
    using obj = BpfObject.open(OBJ);
    obj.load();
    for (const [name, insns] of theirs) expect(normalisedXlated(obj.program(name).fd), name).toEqual(insns);
  });

  it("loaded for uprobe_multi (as libbpf 1.3+ does), only bpf_get_attach_cookie's implementation differs", (ctx) => {
    if (!hasUprobeMulti()) skipBecause(ctx, NO_UPROBE_MULTI);
    const theirs = libbpfXlated(OBJ);
    setUprobeMultiFeature(true);
    using obj = BpfObject.open(OBJ);
    obj.load();
    for (const [name, insns] of theirs) {
      const ours = normalisedXlated(obj.program(name).fd);
      expect(ours.length, name).toBe(insns.length);
      const differing = ours.filter((x, i) => x !== insns[i]);
      // The kernel binds the helper to the uprobe_multi variant: a call (opcode 0x85) to another address.
      expect(differing.length, name).toBeGreaterThan(0);
      expect(
        differing.every((x) => x.startsWith("85000000")),
        name,
      ).toBe(true);
    }
  });
});
