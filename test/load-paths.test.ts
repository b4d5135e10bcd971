/**
 * Shortcuts on the load path must not change what a load does: a reopened
 * file reuses its parse only while its bytes are unchanged, each object has
 * its own copy of what callers change, and a PROG_LOAD interrupted by
 * signals is retried, then reported as an interruption, not a rejection.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { VerifierError } from "../src/programs/prog-load.js";
import { FakeKernel } from "../src/syscall/fake-kernel.js";
import { setKernelBackend } from "../src/syscall/kernel.js";
import { realKernel } from "../src/syscall/libc.js";
import { EAGAIN } from "../src/syscall/errno.js";
import { SyscallError } from "../src/syscall/syscall-error.js";
import { BpfCmd } from "../src/abi/uapi-enums.js";
import { NO_NEW_OBJECTS, kernelObjects, openFdCount, remainingKernelObjects } from "./helpers/kernel.js";
import { thrownBy } from "./helpers/thrown.js";

const dir = mkdtempSync(join(tmpdir(), "tsbpf-load-paths-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => setKernelBackend(realKernel));

describe("reopening a file", () => {
  it("parses afresh when the file changed, with the same path", () => {
    const path = join(dir, "obj.bpf.o");
    copyFileSync("bpf/minimal.bpf.o", path);
    expect(BpfObject.open(path).spec.programs.map((p) => p.name)).toEqual(["handle_tp"]);
    copyFileSync("bpf/globals.bpf.o", path);
    const reopened = BpfObject.open(path);
    const fresh = BpfObject.open(readFileSync("bpf/globals.bpf.o"), { name: "obj" });
    expect(reopened.spec.programs.map((p) => p.name)).toEqual(fresh.spec.programs.map((p) => p.name));
    expect(reopened.spec.maps.map((m) => m.name)).toEqual(fresh.spec.maps.map((m) => m.name));
  });

  it("gives each object its own initial values and specs", () => {
    const a = BpfObject.open("bpf/minimal.bpf.o");
    a.setVariable("my_pid", 1234);
    a.editProgram("handle_tp").setAttachTarget("changed/by_a");
    a.editMap(".bss").setFlags(0);
    const b = BpfObject.open("bpf/minimal.bpf.o");
    expect([...b.variable("my_pid")]).toEqual([0, 0, 0, 0]);
    expect(b.spec.program("handle_tp").section.target).toBe("syscalls/sys_enter_write");
    expect(b.spec.map(".bss").flags).not.toBe(0);
    expect([...a.variable("my_pid")]).toEqual([0xd2, 0x04, 0, 0]);
  });

  it("a reopened object loads and runs like the first", () => {
    for (let i = 0; i < 3; i++) {
      const obj = BpfObject.open("bpf/globals.bpf.o");
      obj.load();
      expect(obj.programs.length).toBeGreaterThan(0);
      obj.destroy();
    }
  });
});

describe("PROG_LOAD interrupted by signals", () => {
  it("is retried, and when it never finishes the error says so", () => {
    const fake = new FakeKernel(realKernel).failWhen((r) => r.call === "bpf" && r.cmd === BpfCmd.PROG_LOAD, EAGAIN);
    setKernelBackend(fake);
    const obj = BpfObject.open("bpf/minimal.bpf.o");
    const err = thrownBy(() => obj.load());
    expect(err).toBeInstanceOf(SyscallError);
    expect(err).not.toBeInstanceOf(VerifierError);
    expect((err as Error).message).toMatch(/interrupted by a signal 5 times/);
    // 5 attempts without a log, then 5 with one.
    expect(fake.calls.filter((r) => r.call === "bpf" && r.cmd === BpfCmd.PROG_LOAD).length).toBe(10);
  });

  it("succeeds when a retry gets through", () => {
    const fake = new FakeKernel(realKernel).failWhen((r) => r.call === "bpf" && r.cmd === BpfCmd.PROG_LOAD, EAGAIN, true);
    setKernelBackend(fake);
    const obj = BpfObject.open("bpf/minimal.bpf.o");
    obj.load();
    expect(obj.program("handle_tp").fd).toBeGreaterThan(0);
    obj.destroy();
  });
});

describe("destroyAsync", () => {
  it("detaches the links concurrently and leaves nothing behind", async () => {
    const fdsBefore = openFdCount();
    const before = kernelObjects();
    const obj = BpfObject.open("bpf/bootstrap.bpf.o");
    obj.load();
    expect(obj.attach().length).toBe(2);
    const done = obj.destroyAsync();
    expect(obj.state).toBe("loaded"); // the links are still detaching
    await done;
    expect(obj.state).toBe("destroyed");
    expect(await remainingKernelObjects(before)).toEqual(NO_NEW_OBJECTS);
    expect(openFdCount()).toBe(fdsBefore);
    await obj.destroyAsync(); // a second call does nothing
  });
});
