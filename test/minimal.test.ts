import { spawn } from "node:child_process";
import { readFileSync, writeSync, openSync, closeSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import type { TraceLine } from "../src/programs/trace-pipe.js";
import { NO_NEW_OBJECTS, kernelObjects, newKernelObjects, openFdCount, remainingKernelObjects, settle } from "./helpers/kernel.js";
import { TRACE_PIPE_BUSY, startTracePipeReader, whileTracePipeBusy } from "./helpers/trace-pipe.js";

const MINIMAL = "bpf/minimal.bpf.o";

describe("minimal.bpf.o on the real kernel", () => {
  it("prints its printk line for our own writes, and leaves nothing behind", async () => {
    const before = kernelObjects();
    const fdsBefore = openFdCount();
    const lines: TraceLine[] = [];
    const reader = await startTracePipeReader((l) => lines.push(l), 10);
    const obj = BpfObject.open(MINIMAL);
    try {
      obj.setVariable("my_pid", process.pid);
      obj.load();
      // The leak check below has teeth: this process's objects are recorded.
      expect(newKernelObjects(before)).toMatchObject({ prog: [expect.any(Number)], btf: [expect.any(Number)] });
      expect(newKernelObjects(before).map.length).toBeGreaterThanOrEqual(2);
      expect(obj.map(".bss").mapped?.writable).toBe(true);
      // my_pid reads back through the mmap of minimal.bss.
      expect(new DataView(obj.variable("my_pid").buffer, obj.variable("my_pid").byteOffset).getInt32(0, true)).toBe(process.pid);
      const links = obj.attach();
      expect(links.map((l) => l.target)).toEqual(["syscalls/sys_enter_write"]);
      const devnull = openSync("/dev/null", "w");
      const expected = `BPF triggered from PID ${process.pid}.`;
      for (let i = 0; i < 100 && !lines.some((l) => l.message === expected); i++) {
        writeSync(devnull, "x");
        await settle(20);
        reader.drain();
      }
      closeSync(devnull);
      expect(lines.find((l) => l.message === expected)?.pid).toBe(process.pid);
    } finally {
      reader.stop();
      obj.destroy();
    }
    await settle();
    expect(await remainingKernelObjects(before)).toEqual(NO_NEW_OBJECTS);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it("writing my_pid after load through the mmap retargets the program", async () => {
    const lines: TraceLine[] = [];
    const reader = await startTracePipeReader((l) => lines.push(l), 10);
    using obj = BpfObject.open(MINIMAL);
    obj.load(); // my_pid is 0: nothing matches yet
    obj.attach();
    obj.setVariable("my_pid", process.pid);
    const devnull = openSync("/dev/null", "w");
    for (let i = 0; i < 100 && !lines.some((l) => l.pid === process.pid); i++) {
      writeSync(devnull, "x");
      await settle(20);
      reader.drain();
    }
    closeSync(devnull);
    reader.stop();
    expect(lines.some((l) => l.message === `BPF triggered from PID ${process.pid}.`)).toBe(true);
  });

  it("`tsbpf load bpf/minimal.bpf.o --duration 2` prints the lines and never maps libbpf", async () => {
    // trace_pipe has one reader at a time: a run refused because another
    // reader held it is run again once it is free.
    const run = await whileTracePipeBusy(runMinimalCli, (r) => (r as MinimalRun).code === 1 && TRACE_PIPE_BUSY.test((r as MinimalRun).err));
    expect(run.err).toContain("attached handle_tp → tracepoint syscalls/sys_enter_write");
    expect(run.maps).toMatch(/koffi|libc\.so/); // it is the right process and it has native code mapped
    expect(run.maps).not.toMatch(/libbpf/);
    expect(run.code).toBe(0);
    expect(run.out).toContain(`BPF triggered from PID ${run.pid}.`);
  });
});

/** One `tsbpf load bpf/minimal.bpf.o --duration 2`, with its /proc/PID/maps read while the program is attached. */
interface MinimalRun {
  pid: number;
  code: number | null;
  out: string;
  err: string;
  maps: string;
}

async function runMinimalCli(): Promise<MinimalRun> {
  const child = spawn(process.execPath, ["dist/src/cli/tsbpf.cjs", "load", MINIMAL, "--duration", "2"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let maps = "";
  // "close": after the exit and every byte of stdout/stderr (a refusal is the last thing the child writes).
  const exited = new Promise<number | null>((r) => child.on("close", r));
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => {
    err += d;
    // Look at the process while the program is attached: it says so on stderr, then runs for 2 s.
    if (!maps && err.includes("running for 2 s")) {
      try {
        maps = readFileSync(`/proc/${child.pid}/maps`, "utf8");
      } catch {
        maps = "(the process had already exited)";
      }
    }
  });
  const code = await exited;
  return { pid: child.pid!, code, out, err, maps };
}
