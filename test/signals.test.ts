/**
 * `tsbpf load` and signals: SIGINT or SIGTERM at any point — while the load
 * runs, right after spawn, while streaming — ends in exit code 0 with
 * everything detached; a second SIGINT while stopping ends in 130 at once.
 * Either way nothing the command created remains in the kernel: every
 * program, map, link and BTF id the child held (read from its
 * /proc/<pid>/fdinfo while it runs) is gone afterwards, and no new object
 * is left that nothing alive keeps (a process's fd, a pin, or an object
 * using it): other BPF users on the machine keep theirs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Ids, type ObjectKind as Kind, KINDS, emptyIds, idsHeldBy, kernelIds, reachableIds } from "./helpers/kernel.js";
import { TRACE_PIPE_BUSY, whileTracePipeBusy } from "./helpers/trace-pipe.js";

const ROOT = join(import.meta.dirname, "..");
const CLI = join(ROOT, "dist", "src", "cli", "tsbpf.cjs");
const SIGNUM: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Blocks for ~ms without yielding (for tight polling between two kill()s). */
function spin(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

interface Run {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every BPF object id seen in the child's fd table while it ran. */
  held: Ids;
  before: Ids;
  started: number;
}

const running: ChildProcess[] = [];
/** Every run started, for retriedWhileTracePipeBusy. */
const runs: Run[] = [];

/**
 * minimal.bpf.o prints, and trace_pipe has one reader at a time: while
 * another reader holds it, `tsbpf load` refuses (exit 1). That attempt is
 * not what a test here is about: it is run again once trace_pipe is free.
 */
function retriedWhileTracePipeBusy<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return (...args: A) => {
    let first = 0;
    return whileTracePipeBusy(
      () => {
        first = runs.length;
        return body(...args);
      },
      (outcome) => outcome instanceof Error && runs.slice(first).some((r) => TRACE_PIPE_BUSY.test(r.stderr())),
    );
  };
}
afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function start(object: string, ...extra: string[]): Run {
  const before = kernelIds();
  const child = spawn(process.execPath, [CLI, "load", join(ROOT, "bpf", object), ...extra], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  child.stdout!.on("data", () => {});
  const held = emptyIds();
  const pid = child.pid!;
  const poll = setInterval(() => idsHeldBy(pid, held), 5);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal });
    }),
  );
  const run: Run = { child, pid, stderr: () => err, exited, held, before, started: performance.now() };
  runs.push(run);
  return run;
}

async function waitForStderr(run: Run, re: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!re.test(run.stderr())) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) throw new Error(`child exited before ${re}:\n${run.stderr()}`);
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${run.stderr()}`);
    await sleep(2);
  }
}

function status(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
}

/** True while `sig` is pending (sent, not yet taken by a handler) in a /proc/<pid>/status text. */
function pendingIn(text: string | undefined, sig: NodeJS.Signals): boolean {
  if (!text) return false;
  const bit = 1n << BigInt(SIGNUM[sig]! - 1);
  return [...text.matchAll(/^(?:SigPnd|ShdPnd):\s+([0-9a-f]+)$/gm)].some((m) => (BigInt(`0x${m[1]}`) & bit) !== 0n);
}

/** Waits (blocking, polling /proc) until `sig` sent to `pid` has been taken by its handler. */
function waitTaken(pid: number, sig: NodeJS.Signals): void {
  const deadline = performance.now() + 5000;
  while (pendingIn(status(pid), sig) && performance.now() < deadline) spin(0.05);
}

/**
 * Two SIGINTs that stay two: a standard signal sent while the same one is
 * still pending merges with it, so the second goes once the first is taken.
 */
function twoSigints(run: Run): void {
  run.child.kill("SIGINT");
  waitTaken(run.pid, "SIGINT");
  run.child.kill("SIGINT");
}

/**
 * Ctrl-C pressed again and again until the process is gone: the first asks
 * for a stop, the next (sent as soon as the previous one was taken, so
 * within the cleanup however short it is) must end the process with 130.
 * Returns how many were sent.
 */
function sigintUntilGone(run: Run): number {
  run.child.kill("SIGINT");
  let sent = 1;
  const deadline = performance.now() + 10_000;
  for (;;) {
    const text = status(run.pid);
    // Gone, or a zombie waiting for us to reap it.
    if (!text || /^State:\s+Z/m.test(text) || performance.now() > deadline) return sent;
    if (!pendingIn(text, "SIGINT")) {
      run.child.kill("SIGINT");
      sent++;
    }
  }
}

/** Nothing the child created survives it (objects are freed asynchronously: retry a while). */
async function expectNothingLeft(run: Run): Promise<void> {
  const left: Record<Kind, number[]> = { prog: [], map: [], link: [], btf: [] };
  const unheld: Record<Kind, number[]> = { prog: [], map: [], link: [], btf: [] };
  for (let attempt = 0; attempt < 100; attempt++) {
    const now = kernelIds();
    // Other BPF users (a load loop, other test runs) hold theirs: only unreachable objects count.
    const live = reachableIds();
    for (const k of KINDS) {
      left[k] = [...run.held[k]].filter((id) => now[k].has(id));
      unheld[k] = [...now[k]].filter((id) => !run.before[k].has(id) && !live[k].has(id));
    }
    if (KINDS.every((k) => left[k].length === 0 && unheld[k].length === 0)) break;
    await sleep(50);
  }
  expect(left, "ids the child held still exist").toEqual({ prog: [], map: [], link: [], btf: [] });
  expect(unheld, "new objects no live process holds").toEqual({ prog: [], map: [], link: [], btf: [] });
}

async function expectCleanExit(run: Run): Promise<void> {
  const { code, signal } = await run.exited;
  expect({ code, signal }, run.stderr()).toEqual({ code: 0, signal: null });
  expect(run.stderr()).toContain("tsbpf: detached and closed everything");
  expect(run.stderr()).not.toMatch(/^\s+at /m);
  await expectNothingLeft(run);
}

const OBJECTS = [
  // minimal: one tracepoint program, .bss/.rodata maps. bootstrap: CO-RE against the
  // kernel's BTF (the slow part of its load), a ring buffer, two programs.
  { object: "minimal.bpf.o", duringLoad: /^\[load program\]/m, expectPrograms: 1 },
  { object: "bootstrap.bpf.o", duringLoad: /^\[kernel BTF\]/m, expectPrograms: 2 },
];

describe.each(OBJECTS)("tsbpf load $object", ({ object, duringLoad, expectPrograms }) => {
  describe.each(["SIGINT", "SIGTERM"] as const)("%s", (sig) => {
    it(
      'while streaming (after "running"): exit 0, everything detached',
      retriedWhileTracePipeBusy(async () => {
        const run = start(object);
        await waitForStderr(run, /tsbpf: running/);
        idsHeldBy(run.pid, run.held); // remembered for the leak check at exit
        // Held now (not ever: the load's feature probes held throwaway programs for a moment).
        expect(idsHeldBy(run.pid).prog.size).toBe(expectPrograms);
        run.child.kill(sig);
        await expectCleanExit(run);
      }),
    );

    it(
      "during the load (at a --verbose step line): exit 0 once the load returns, everything detached",
      retriedWhileTracePipeBusy(async () => {
        const run = start(object, "--verbose");
        await waitForStderr(run, duringLoad);
        run.child.kill(sig);
        await expectCleanExit(run);
      }),
    );

    it.each([50, 150, 300, 600])(
      "right after spawn (%i ms): exit 0, or killed before tsbpf ran at all; nothing left",
      retriedWhileTracePipeBusy(async (ms) => {
        const run = start(object, "--verbose");
        await sleep(Math.max(0, ms - (performance.now() - run.started)));
        run.child.kill(sig);
        const { code, signal } = await run.exited;
        if (signal !== null) {
          // Only possible before tsbpf's code ran: Node still starting or loading modules, so no
          // handler yet (and no kernel object either). Once tsbpf runs, the signal is caught.
          expect(signal).toBe(sig);
          expect(run.stderr(), "killed by the signal after tsbpf had started loading").toBe("");
        } else {
          expect(code, run.stderr()).toBe(0);
          expect(run.stderr()).toContain("tsbpf: detached and closed everything");
        }
        await expectNothingLeft(run);
      }),
    );
  });

  it(
    "SIGINT pressed again while stopping: exit 130 at once, nothing left",
    retriedWhileTracePipeBusy(async () => {
      // The second SIGINT goes as soon as the first was taken, and more follow until the process
      // is gone. Cleaning up can still win the race (minimal's takes a few ms): the process then
      // has printed that it detached everything, and exits 0, or dies of a SIGINT that came as
      // it exited. Either way nothing is left; and some attempt must see the 130.
      const outcomes: string[] = [];
      for (let attempt = 0; attempt < 10 && !outcomes.includes("130"); attempt++) {
        const run = start(object);
        await waitForStderr(run, /tsbpf: running/);
        idsHeldBy(run.pid, run.held); // remembered for the leak check at exit
        // Held now (not ever: the load's feature probes held throwaway programs for a moment).
        expect(idsHeldBy(run.pid).prog.size).toBe(expectPrograms);
        expect(sigintUntilGone(run)).toBeGreaterThanOrEqual(2);
        const { code, signal } = await run.exited;
        const detached = run.stderr().includes("tsbpf: detached and closed everything");
        if (code === 130) expect(detached, run.stderr()).toBe(false);
        else {
          expect(detached, `exit ${code}, signal ${signal}, before cleaning up:\n${run.stderr()}`).toBe(true);
          expect(code === 0 || signal === "SIGINT", `exit ${code}, signal ${signal}`).toBe(true);
        }
        expect(run.stderr()).not.toMatch(/^\s+at /m);
        await expectNothingLeft(run);
        outcomes.push(code === 130 ? "130" : `${code ?? signal} after cleaning up`);
      }
      expect(outcomes).toContain("130");
    }),
  );
});

describe("tsbpf load bootstrap.bpf.o, two SIGINTs during the load", () => {
  // Its load reads the kernel's BTF for CO-RE after the "[kernel BTF]" step: both signals are
  // taken while it runs, and acted on, in order, once it returns.
  it(
    "exit 130 as soon as the load returns, nothing left",
    retriedWhileTracePipeBusy(async () => {
      const run = start("bootstrap.bpf.o", "--verbose");
      await waitForStderr(run, /^\[kernel BTF\]/m);
      twoSigints(run);
      const { code, signal } = await run.exited;
      expect({ code, signal }, run.stderr()).toEqual({ code: 130, signal: null });
      await expectNothingLeft(run);
    }),
  );
});

describe("tsbpf load minimal.bpf.o, SIGTERM while stopping", () => {
  it(
    "SIGINT, then SIGTERM while it cleans up: the cleanup finishes, exit 0",
    retriedWhileTracePipeBusy(async () => {
      // The SIGTERM must be taken by the process before it exits for this to show anything;
      // cleaning up can be quicker than the test (then it is taken, or not, during exit): retry.
      const outcomes: string[] = [];
      for (let attempt = 0; attempt < 10 && !outcomes.includes("0"); attempt++) {
        const run = start("minimal.bpf.o");
        await waitForStderr(run, /tsbpf: running/);
        run.child.kill("SIGINT");
        // Not waitTaken(): a signal taken by one thread can reach node's handlers after one taken
        // later by another, so the SIGTERM goes only once the command says it acted on the SIGINT.
        await waitForStderr(run, /^tsbpf: SIGINT: detaching/m);
        run.child.kill("SIGTERM");
        let takenAlive = false;
        for (const deadline = performance.now() + 5000; performance.now() < deadline; spin(0.05)) {
          const text = status(run.pid);
          if (!text || /^State:\s+Z/m.test(text)) break;
          if (!pendingIn(text, "SIGTERM")) {
            takenAlive = true;
            break;
          }
        }
        const { code, signal } = await run.exited;
        const detached = run.stderr().includes("tsbpf: detached and closed everything");
        expect(detached, `exit ${code}, signal ${signal}:\n${run.stderr()}`).toBe(true);
        if (signal !== null) expect(signal, "only a SIGTERM that came as it exited may end it").toBe("SIGTERM");
        else expect(code).toBe(0);
        await expectNothingLeft(run);
        outcomes.push(code === 0 && takenAlive ? "0" : `${code ?? signal}${takenAlive ? "" : " (SIGTERM not taken before exit)"}`);
      }
      expect(outcomes).toContain("0");
    }),
  );
});
