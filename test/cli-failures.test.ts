/**
 * How the tsbpf command fails: one line and exit 1 for a missing or
 * unreadable input (a stack trace only with -v), a refusal to run when
 * trace_pipe is held by another reader (instead of losing the object's
 * printk output), a reader of stdout that goes away (`| head`): no
 * stack trace, everything detached, exit 141 from every verb; and a stdout
 * that fails otherwise (a full disk): one line, everything detached, exit 1.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readlinkSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { mapInfo } from "../src/syscall/obj-info.js";

const CLI = "dist/src/cli/tsbpf.cjs";
const tsbpf = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
const root = process.getuid?.() === 0;

describe("input files that cannot be read", () => {
  it("a missing file: one line naming it, exit 1, no stack trace", () => {
    for (const verb of [["inspect"], ["disasm"], ["load"], ["gen", "skeleton"], ["btf", "dump"]]) {
      const r = tsbpf(...verb, "missing.o");
      expect(r.status, verb.join(" ")).toBe(1);
      expect(r.stderr, verb.join(" ")).toBe("tsbpf: cannot open missing.o: No such file or directory (ENOENT)\n");
    }
  });

  it("a directory: one line naming it, exit 1", () => {
    const r = tsbpf("inspect", "bpf");
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("tsbpf: cannot read bpf: Is a directory (EISDIR)\n");
  });

  it("-v adds the stack frames, and prints the message once", () => {
    const r = tsbpf("inspect", "missing.o", "-v");
    expect(r.status).toBe(1);
    expect(r.stderr.match(/No such file or directory/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/\n {4}at /);
  });

  it.skipIf(!root)("-v prints a verifier rejection once, not twice", () => {
    const plain = tsbpf("load", "bpf/reject.bpf.o", "--duration", "1");
    const verbose = tsbpf("load", "bpf/reject.bpf.o", "--duration", "1", "-v");
    expect(plain.status).toBe(1);
    expect(verbose.status).toBe(1);
    const count = (s: string) => s.match(/invalid access to packet/g)?.length ?? 0;
    expect(count(plain.stderr)).toBeGreaterThan(0);
    expect(count(verbose.stderr)).toBe(count(plain.stderr));
    expect(verbose.stderr.match(/VerifierError: program unchecked_read was rejected/g)).toHaveLength(1);
  });
});

/**
 * A process of ours holding trace_pipe open. While another reader holds it,
 * cat exits at once (EBUSY): that reader may let go at any moment, so cat is
 * started again until it is ours that holds it.
 */
async function holdTracePipe(): Promise<ChildProcess> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const cat = spawn("cat", ["/sys/kernel/tracing/trace_pipe"], { stdio: ["ignore", "ignore", "ignore"] });
    const holds = () => {
      try {
        return readdirSync(`/proc/${cat.pid}/fd`).some((fd) => readlinkSync(`/proc/${cat.pid}/fd/${fd}`).endsWith("trace_pipe"));
      } catch {
        return false;
      }
    };
    while (!holds() && cat.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    if (holds()) return cat;
    if (Date.now() > deadline) throw new Error("trace_pipe stayed held by another reader for 30 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!root)("trace_pipe held by another reader", () => {
  it("load of an object that calls bpf_printk refuses, in one line, before loading anything", async () => {
    const cat = await holdTracePipe();
    try {
      const r = tsbpf("load", "bpf/minimal.bpf.o", "--duration", "1");
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /^tsbpf: TracePipeUnavailableError: cannot read bpf_printk output: \/sys\/kernel(\/debug)?\/tracing\/trace_pipe is held by another reader \(EBUSY\); .* or pass --no-printk\n$/,
      );
      expect(r.stderr).not.toContain("loaded");
      // --no-printk runs without it.
      const quiet = tsbpf("load", "bpf/minimal.bpf.o", "--duration", "0.5", "--no-printk");
      expect(quiet.stderr).toContain("loaded minimal");
      expect(quiet.status).toBe(0);
    } finally {
      cat.kill();
    }
  });
});

/** Runs tsbpf with stdout a pipe whose reading end is closed at once: every write gets EPIPE. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.destroy();
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr })));
}

describe("a reader of stdout that goes away", () => {
  it("list, show, inspect, disasm, btf dump: quiet exit 141", async () => {
    const runs = [
      ["inspect", "bpf/bootstrap.bpf.o"],
      ["disasm", "bpf/bootstrap.bpf.o"],
      ["btf", "dump", "/sys/kernel/btf/vmlinux", "--format", "c"],
      ...(root
        ? [
            ["map", "list", "--json"],
            ["prog", "show"],
          ]
        : []),
    ];
    for (const args of runs) {
      const r = await withClosedStdout(args);
      expect(r.stderr, args.join(" ")).toBe("");
      expect(r.code, args.join(" ")).toBe(141);
    }
  });

  it.skipIf(!root)("map dump: quiet exit 141", async () => {
    using obj = BpfObject.open("bpf/globals.bpf.o");
    obj.load();
    const id = mapInfo(obj.map(".bss").fd).id;
    const r = await withClosedStdout(["map", "dump", "id", String(id)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(141);
  });

  it.skipIf(!root)("load … | head -3: detaches, cleans up and exits 141", async () => {
    const child = spawn(process.execPath, [CLI, "load", "bpf/bootstrap.bpf.o"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    let lines = 0;
    // Like head -3: read three lines, then close the pipe.
    child.stdout!.on("data", (d: Buffer) => {
      lines += d.toString().split("\n").length - 1;
      if (lines >= 3) child.stdout!.destroy();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    // Exec and exit records keep coming until tsbpf notices the closed pipe.
    while (child.exitCode === null) {
      await new Promise((r) => spawn("true").on("exit", r));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await exited).toBe(141);
    expect(stderr).toContain("tsbpf: detached and closed everything");
    expect(stderr).not.toContain("    at ");
    expect(stderr).not.toContain("EPIPE");
  });
});

/** Runs tsbpf with stdout /dev/full: every write gets ENOSPC. */
function withFullStdout(args: string[], whileRunning?: () => Promise<unknown>): Promise<{ code: number | null; stderr: string }> {
  const full = openSync("/dev/full", "w");
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", full, "pipe"] });
  closeSync(full);
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const closed = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stderr })));
  void (async () => {
    while (whileRunning && child.exitCode === null) await whileRunning();
  })();
  return closed;
}

const ENOSPC_LINE = "tsbpf: cannot write to stdout: No space left on device (ENOSPC)\n";

describe("a stdout that fails (a full disk: /dev/full)", () => {
  it("inspect: that one line, exit 1", async () => {
    const r = await withFullStdout(["inspect", "bpf/bootstrap.bpf.o"]);
    expect(r.stderr).toBe(ENOSPC_LINE);
    expect(r.code).toBe(1);
  });

  it.skipIf(!root)(
    "load: a record that cannot be written ends the run with that one line; it detaches, cleans up and exits 1",
    async () => {
      // Exec and exit records keep coming until tsbpf writes one.
      const r = await withFullStdout(["load", "bpf/bootstrap.bpf.o"], async () => {
        await new Promise((done) => spawn("true").on("exit", done));
        await new Promise((done) => setTimeout(done, 20));
      });
      expect(r.stderr.split(ENOSPC_LINE)).toHaveLength(2);
      expect(r.stderr).toContain("tsbpf: stdout failed: detaching and closing");
      expect(r.stderr).toContain("tsbpf: detached and closed everything");
      expect(r.stderr).not.toContain("    at ");
      expect(r.code).toBe(1);
    },
  );
});
