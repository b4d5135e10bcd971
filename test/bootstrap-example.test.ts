/**
 * `npm start` (examples/bootstrap.ts) on the real kernel: EXEC and EXIT lines
 * for commands run meanwhile, in the C original's columns, with the right
 * pid, ppid, filename and exit code; -d hides short-lived processes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { waitUntil } from "./helpers/wait.js";

function start(args: string[]): { child: ChildProcess; output: () => string; ready: Promise<void> } {
  const child = spawn(process.execPath, ["dist/examples/bootstrap.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  child.stdout!.on("data", (d) => {
    out += d;
    if (out.includes("FILENAME/EXIT CODE")) resolveReady();
  });
  child.stderr!.on("data", (d) => (out += d));
  child.on("exit", (code) => rejectReady(new Error(`the example exited (${code}) before its header:\n${out}`)));
  return { child, output: () => out, ready };
}

async function run(cmd: string): Promise<number> {
  // By absolute path: the EXEC line's filename is what execve was given, which a PATH lookup would make vary.
  const c = spawn("/bin/sh", ["-c", cmd], { stdio: "ignore" });
  await new Promise((r) => c.on("exit", r));
  return c.pid!;
}

/** The line of `event` for process `pid` (matched on the PID column, not PPID). */
function lineFor(out: string, event: "EXEC" | "EXIT", pid: number): string | undefined {
  return out.split("\n").find((l) => {
    const f = l.split(/\s+/);
    return f[1] === event && f[3] === String(pid);
  });
}

/** Ctrl-C once `seen()` (the last record a test waits for is printed), or after 10 s: a busy machine may take a while. */
async function stop(child: ChildProcess, seen: () => boolean): Promise<number | null> {
  const exited = new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on("exit", (code) => r(code))));
  await waitUntil(() => seen() || child.exitCode !== null);
  child.kill("SIGINT");
  return exited;
}

describe("examples/bootstrap (npm start)", () => {
  it("prints EXEC and EXIT lines with pid, ppid, filename and exit code", async () => {
    const b = start([]);
    await b.ready;
    const pid = await run("exit 3");
    expect(await stop(b.child, () => lineFor(b.output(), "EXIT", pid) !== undefined)).toBe(0);
    const out = b.output();
    expect(out.split("\n")[0]).toBe("TIME     EVENT COMM             PID     PPID    FILENAME/EXIT CODE");
    const exec = lineFor(out, "EXEC", pid);
    expect(exec, out).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d EXEC  sh {15}${pid} +${process.pid} +/bin/sh$`));
    const exit = lineFor(out, "EXIT", pid);
    expect(exit, out).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d EXIT  sh {15}${pid} +${process.pid} +\\[3\\]( \\(\\d+ms\\))?$`));
  });

  // -d 1000, not less: under software emulation (the older-kernel VMs) a bare `exit` can take 100 ms.
  it("-d 1000 hides processes that lived less than 1000 ms", async () => {
    const b = start(["-d", "1000"]);
    await b.ready;
    const quick = await run("exit 3");
    const slow = await run("sleep 1.2; exit 5");
    // Records come in order: the quick one's would be printed before the slow one's.
    expect(await stop(b.child, () => lineFor(b.output(), "EXIT", slow) !== undefined)).toBe(0);
    const out = b.output();
    const lines = out.split("\n");
    expect(lineFor(out, "EXIT", quick)).toBeUndefined();
    const exit = lineFor(out, "EXIT", slow);
    expect(exit).toMatch(/\[5\] \((\d+)ms\)$/);
    expect(Number(exit!.match(/\((\d+)ms\)$/)![1])).toBeGreaterThanOrEqual(1000);
    expect(lines.some((l) => l.includes(" EXEC "))).toBe(false); // with -d, exec events are not reported
  });
});
