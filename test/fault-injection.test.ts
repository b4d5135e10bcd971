/**
 * Error paths through the syscall choke point: the fake kernel wraps the
 * real one and fails chosen calls. After every failure, nothing tsbpf
 * created may remain: not an fd in this process, not a program, map, link
 * or BTF object in the kernel.
 */
import { afterEach, describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { resetFeatureCache } from "../src/object/kernel-features.js";
import { FakeKernel } from "../src/syscall/fake-kernel.js";
import { kernelBackend, setKernelBackend } from "../src/syscall/kernel.js";
import { realKernel } from "../src/syscall/libc.js";
import { EPERM, EINVAL, ENOMEM } from "../src/syscall/errno.js";
import { SyscallError } from "../src/syscall/syscall-error.js";
import { TsbpfError } from "../src/errors.js";
import { BpfCmd, BpfMapType } from "../src/abi/uapi-enums.js";
import { RingBuffer } from "../src/maps/ringbuf.js";
import { RingBufferPoller } from "../src/maps/ring-poller.js";
import { Btf } from "../src/btf/btf.js";
import { BtfKind } from "../src/btf/types.js";
import type { BpfRequest } from "../src/syscall/requests.js";
import { NO_NEW_OBJECTS, kernelObjects, openFdCount, remainingKernelObjects, settle } from "./helpers/kernel.js";
import { isBpfCmd } from "../src/syscall/requests.js";
import { thrownBy } from "./helpers/thrown.js";

afterEach(() => {
  setKernelBackend(realKernel);
  resetFeatureCache();
});

/**
 * Load + attach, and for objects with a ring buffer the reader set-up too
 * (mmaps, epoll): the whole start of a program like bootstrap. Returns what
 * must be released; releasing is the caller's job, as for a user.
 */
function start(obj: BpfObject, opened: Array<{ close(): void }> = []): Array<{ close(): void }> {
  obj.load();
  obj.attach();
  const rb = obj.spec.maps.find((m) => m.type === BpfMapType.RINGBUF);
  if (rb) {
    const poller = new RingBufferPoller({ wait: "threadpool" });
    opened.push(poller);
    const ring = new RingBuffer(obj.map(rb.name));
    opened.push(ring);
    poller.add(ring, () => {});
  }
  return opened;
}

/** Runs the full start of `path` with the nth syscall failing; returns the error. */
function loadWithFailure(path: string, n: number, errno: number): unknown {
  const fake = new FakeKernel(realKernel).failNth(n, errno);
  setKernelBackend(fake);
  const obj = BpfObject.open(path);
  const opened: Array<{ close(): void }> = [];
  try {
    start(obj, opened);
    return undefined;
  } catch (e) {
    return e;
  } finally {
    // A failed load releases everything itself; after a failed attach or
    // reader set-up the object stays loaded (the caller may retry), so
    // release it as a user would.
    for (const o of opened.reverse()) o.close();
    obj.destroy();
    setKernelBackend(realKernel);
  }
}

function countCalls(path: string): number {
  const fake = new FakeKernel(realKernel);
  setKernelBackend(fake);
  try {
    const obj = BpfObject.open(path);
    const opened = start(obj);
    const n = fake.calls.length;
    for (const o of opened.reverse()) o.close();
    obj.destroy();
    return n;
  } finally {
    setKernelBackend(realKernel);
  }
}

describe("fault injection on every syscall of a load + attach + ring buffer set-up", () => {
  for (const path of ["bpf/minimal.bpf.o", "bpf/bootstrap.bpf.o"]) {
    it(`${path}: failing call 1..N each ends in a typed error and leaks nothing`, async () => {
      resetFeatureCache();
      // The first start also reads what the process caches (kernel BTF, tracefs's place, the kernel
      // version); counted then, the later runs would fail calls of the teardown instead.
      countCalls(path);
      resetFeatureCache();
      const total = countCalls(path);
      expect(total).toBeGreaterThan(5);
      const before = kernelObjects();
      const fds = openFdCount();
      let failures = 0;
      for (let n = 1; n <= total; n++) {
        resetFeatureCache(); // so the probes are among the calls that fail
        const err = loadWithFailure(path, n, n % 2 ? EPERM : ENOMEM);
        // A failed feature probe is not an error: the load goes on without the feature.
        if (err !== undefined) {
          failures++;
          expect(err, `call ${n}`).toBeInstanceOf(TsbpfError);
        }
        expect(openFdCount(), `fds after failing call ${n}`).toBe(fds);
      }
      // Probe failures are tolerated (the feature is treated as missing); every real step fails the load.
      expect(failures).toBeGreaterThanOrEqual(6);
      await settle(100);
      expect(await remainingKernelObjects(before)).toEqual(NO_NEW_OBJECTS);
    });
  }
});

describe("typed errors from the choke point", () => {
  it("EPERM on MAP_CREATE names the command, the errno and the capability", () => {
    setKernelBackend(new FakeKernel(realKernel).failWhen((r) => r.call === "bpf" && r.cmd === BpfCmd.MAP_CREATE, EPERM));
    const fds = openFdCount();
    const obj = BpfObject.open("bpf/minimal.bpf.o");
    const err = thrownBy(() => obj.load());
    expect(err).toBeInstanceOf(SyscallError);
    const se = err as SyscallError;
    expect(se.code).toBe("EPERM");
    expect(se.message).toContain("bpf(BPF_MAP_CREATE)");
    expect(se.message).toContain("CAP_BPF");
    expect(se.message).toContain("minimal.bss");
    expect(obj.state).toBe("destroyed");
    expect(openFdCount()).toBe(fds);
  });

  it("a kernel without perf links falls back to PERF_EVENT_IOC_SET_BPF", () => {
    const fake = new FakeKernel(realKernel).failWhen((r) => r.call === "bpf" && r.cmd === BpfCmd.LINK_CREATE, EINVAL);
    setKernelBackend(fake);
    using obj = BpfObject.open("bpf/minimal.bpf.o");
    obj.load();
    const [link] = obj.attach();
    expect(link!.fd).toBeUndefined();
    expect(fake.calls.some((c) => c.call === "ioctl" && c.requestName === "PERF_EVENT_IOC_SET_BPF")).toBe(true);
    expect(kernelBackend()).toBe(fake);
  });
});

describe("BTF sanitisation for older kernels (probes answered by the fake kernel)", () => {
  it("a kernel without DATASEC/VAR, FLOAT, DECL_TAG, TYPE_TAG and ENUM64 gets BTF it can load", () => {
    const missing = new Set([BtfKind.Datasec, BtfKind.Var, BtfKind.Float, BtfKind.DeclTag, BtfKind.TypeTag, BtfKind.Enum64]);
    const kindsOf = (r: BpfRequest<BpfCmd.BTF_LOAD>) => {
      const blob = r.values.btf as Uint8Array;
      const btf = Btf.parse(blob);
      const kinds = new Set<BtfKind>();
      for (let id = 1; id < btf.typeCount; id++) kinds.add(btf.kind(id));
      return kinds;
    };
    // An "old kernel": any BTF blob using a missing kind is refused.
    const fake = new FakeKernel(realKernel).failWhen(
      (r) => isBpfCmd(r, BpfCmd.BTF_LOAD) && [...kindsOf(r)].some((k) => missing.has(k)),
      EINVAL,
    );
    setKernelBackend(fake);
    using obj = BpfObject.open("bpf/bootstrap.bpf.o");
    obj.load(); // the real kernel accepts the sanitised BTF and the programs load with it
    const loads = fake.calls.filter((c) => isBpfCmd(c, BpfCmd.BTF_LOAD));
    const objectBtf = loads[loads.length - 1]!;
    const kinds = kindsOf(objectBtf);
    for (const k of missing) expect(kinds.has(k), BtfKind[k]).toBe(false);
    expect(kinds.has(BtfKind.Struct)).toBe(true);
    // The sanitised DATASEC became a struct named with '_' for '.', e.g. _rodata.
    const btf = Btf.parse(objectBtf.values.btf as Uint8Array);
    expect(btf.idsByName("_rodata").length).toBe(1);
    // The object's programs (feature probes load unnamed programs without BTF).
    const progLoads = fake.calls.filter((c) => isBpfCmd(c, BpfCmd.PROG_LOAD)).filter((c) => c.values.prog_name);
    expect(progLoads.map((p) => p.values.prog_name).sort()).toEqual(["handle_exec", "handle_exit"]);
    expect(progLoads.every((p) => Number(p.values.prog_btf_fd) > 0)).toBe(true);
  });
});
