/**
 * The host files a load reads go through the syscall choke point: what
 * they read equals what node's own fs reads, a kernel that refuses the
 * mmap of vmlinux BTF gets it read instead, failures are typed, and a fake
 * kernel without a passthrough still reads the host's files.
 */
import { readFileSync, readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { loadKernelBtf } from "../src/object/kernel-btf.js";
import { FakeKernel } from "../src/syscall/fake-kernel.js";
import {
  fstatFd,
  openFile,
  pathAccessible,
  readHostBytes,
  readHostFile,
  readHostText,
  readHostValue,
  readHostValueIfOpenable,
  R_OK,
  withOpenFile,
} from "../src/syscall/host-files.js";
import { setKernelBackend } from "../src/syscall/kernel.js";
import { realKernel } from "../src/syscall/libc.js";
import { EACCES, EINVAL, errnoNumber } from "../src/syscall/errno.js";
import { SyscallError } from "../src/syscall/syscall-error.js";
import { UnsupportedError } from "../src/errors.js";
import { thrownBy } from "./helpers/thrown.js";

afterEach(() => setKernelBackend(realKernel));

const fds = () => readdirSync("/proc/self/fd").length;

describe("host files through the choke point", () => {
  it("read what node reads: a sysfs binary file, a procfs text, a one-value attribute", () => {
    const before = fds();
    // (Buffer.equals: a deep toEqual of 5 MB takes minutes.)
    expect(Buffer.from(readHostFile("/sys/kernel/btf/vmlinux")).equals(readFileSync("/sys/kernel/btf/vmlinux"))).toBe(true);
    expect(readHostText("/proc/self/mountinfo", 64)).toBe(readFileSync("/proc/self/mountinfo", "utf8"));
    expect(readHostValue("/sys/devices/system/cpu/possible")).toBe(readFileSync("/sys/devices/system/cpu/possible", "utf8"));
    expect(readHostBytes("/proc/self/cmdline")).toEqual(new Uint8Array(readFileSync("/proc/self/cmdline")));
    expect(pathAccessible("/sys/kernel/btf/vmlinux", R_OK)).toBe(true);
    expect(pathAccessible("/nonexistent/tsbpf")).toBe(false);
    expect(withOpenFile("/sys/kernel/btf/vmlinux", (fd) => Number(fstatFd(fd).size))).toBe(
      readFileSync("/sys/kernel/btf/vmlinux").byteLength,
    );
    expect(fds()).toBe(before);
  });

  it("a missing file is a SyscallError naming the path and ENOENT", () => {
    const err = thrownBy(() => openFile("/nonexistent/tsbpf"));
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as SyscallError).code).toBe("ENOENT");
    expect((err as Error).message).toBe('openat("/nonexistent/tsbpf") failed: ENOENT (No such file or directory)');
  });

  it("every call of a kernel BTF read is a request: openat, fstat, mmap, close", () => {
    const fake = new FakeKernel(realKernel);
    setKernelBackend(fake);
    // A path of its own, so the process's cache of /sys/kernel/btf/vmlinux does not answer.
    const btf = loadKernelBtf("/sys/kernel/btf/./vmlinux");
    expect(fake.calls.map((c) => c.call)).toEqual(["openat", "fstat", "mmap", "close"]);
    expect(btf.typeCount).toBeGreaterThan(10_000);
  });

  it("a kernel that refuses the mmap (before 6.16) gets the same BTF read with read(2)", () => {
    const fake = new FakeKernel(realKernel).failWhen((r) => r.call === "mmap", EINVAL);
    setKernelBackend(fake);
    const before = fds();
    const read = loadKernelBtf("/sys/kernel/btf/././vmlinux");
    setKernelBackend(realKernel);
    expect(fds()).toBe(before);
    const calls = fake.calls.map((c) => c.call);
    expect(calls.slice(0, 3)).toEqual(["openat", "fstat", "mmap"]);
    expect(calls.at(-1)).toBe("close");
    // sysfs hands out a binary file a page per read(2).
    expect(calls.filter((c) => c === "read").length).toBeGreaterThan(100);
    const mapped = loadKernelBtf();
    expect(read.typeCount).toBe(mapped.typeCount);
    for (const id of [1, 1000, mapped.typeCount >> 1, mapped.typeCount - 1]) expect(read.type(id)).toEqual(mapped.type(id));
  });

  it("a refused open is a typed error, and a missing BTF file says what is missing", () => {
    setKernelBackend(new FakeKernel(realKernel).failWhen((r) => r.call === "openat", EACCES));
    expect(thrownBy(() => loadKernelBtf("/sys/kernel/btf/./././vmlinux"))).toBeInstanceOf(SyscallError);
    setKernelBackend(realKernel);
    const err = thrownBy(() => loadKernelBtf("/nonexistent/vmlinux"));
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toMatch(/^no kernel BTF at \/nonexistent\/vmlinux/);
  });

  it("a fake kernel without a passthrough still reads the host's files (it fakes BPF, not the file system)", () => {
    const fake = new FakeKernel();
    setKernelBackend(fake);
    const before = fds();
    expect(readHostValue("/sys/devices/system/cpu/possible")).toBe(readFileSync("/sys/devices/system/cpu/possible", "utf8"));
    expect(fds()).toBe(before);
    expect(fake.calls.map((c) => c.call)).toEqual(["openat", "read", "close"]);
  });

  it("a value that may be absent: undefined for a missing file, with the calls strace shows and no fd kept", () => {
    const fake = new FakeKernel(realKernel);
    setKernelBackend(fake);
    const before = fds();
    expect(readHostValueIfOpenable("/nonexistent/tsbpf")).toBeUndefined();
    expect(readHostValueIfOpenable("/sys/devices/system/cpu/possible")).toBe(readFileSync("/sys/devices/system/cpu/possible", "utf8"));
    expect(fake.calls.map((c) => c.call)).toEqual(["openat", "openat", "read", "close"]);
    // Opened but unreadable is an error (not an absence), and the fd is closed all the same.
    setKernelBackend(new FakeKernel(realKernel).failWhen((r) => r.call === "read", errnoNumber("EIO")));
    expect((thrownBy(() => readHostValueIfOpenable("/sys/devices/system/cpu/possible")) as SyscallError).code).toBe("EIO");
    expect(fds()).toBe(before);
  });
});
