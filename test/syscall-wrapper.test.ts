/**
 * LINUX_HAS_SYSCALL_WRAPPER and the function a ksyscall program probes come
 * from one decision, made from the running kernel's kallsyms
 * (__<arch>_sys_* present): libbpf's kprobe-based probe cannot run on a
 * kernel without kprobes, and would call the wrappers absent.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { hasSyscallWrapper, ksyscallFunction, setKallsymsPath, syscallWrapperPrefix } from "../src/programs/attach/syscall-wrapper.js";
import { HAVE_BPFTOOL, boundMapNames, bpftoolLoadAll, normalisedXlated } from "./helpers/oracle.js";

const OBJ = "bpf/syscall_wrapper.bpf.o";
const prefix = syscallWrapperPrefix()!;
/** The answer, read independently: any __x64_sys_* symbol in kallsyms. */
const kernelHasWrappers = new RegExp(`^[0-9a-f]+ \\w ${prefix}\\w+$`, "m").test(readFileSync("/proc/kallsyms", "utf8"));

function hasWrapperAsLoaded(): bigint {
  using obj = BpfObject.open(OBJ);
  obj.load();
  expect(obj.program("read_wrapper").testRun().retval).toBe(0);
  const b = obj.variable("has_wrapper");
  return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
}

afterEach(() => {
  setKallsymsPath("/proc/kallsyms");
});

describe("syscall wrappers: one decision from kallsyms", () => {
  it("the running kernel: the kconfig extern and the ksyscall target agree with kallsyms", () => {
    expect(prefix).toBe(process.arch === "x64" ? "__x64_sys_" : prefix);
    expect(hasSyscallWrapper()).toBe(kernelHasWrappers);
    expect(ksyscallFunction("openat")).toBe(kernelHasWrappers ? `${prefix}openat` : "__se_sys_openat");
    expect(hasWrapperAsLoaded()).toBe(kernelHasWrappers ? 1n : 0n);
  });

  it("a kernel without wrappers (kallsyms without __<arch>_sys_*): 0 and __se_sys_", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-kallsyms-"));
    try {
      const path = join(dir, "kallsyms");
      writeFileSync(path, "ffffffff81000000 T _stext\nffffffff81234560 T __se_sys_openat\nffffffff81234570 T __se_sys_bpf\n");
      setKallsymsPath(path);
      expect(hasSyscallWrapper()).toBe(false);
      expect(ksyscallFunction("openat")).toBe("__se_sys_openat");
      expect(hasWrapperAsLoaded()).toBe(0n);
      // And one with them, past the first read chunk (64 KiB) and split across chunks.
      writeFileSync(path, `${"ffffffff81000000 T filler_symbol_name\n".repeat(1724)}ffffffff814f39b0 T ${prefix}bpf\n`);
      setKallsymsPath(path);
      expect(hasSyscallWrapper()).toBe(true);
      expect(ksyscallFunction("openat")).toBe(`${prefix}openat`);
      expect(hasWrapperAsLoaded()).toBe(1n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(HAVE_BPFTOOL)("the same instructions as libbpf's load of the object", () => {
    const libbpf = bpftoolLoadAll(OBJ);
    try {
      using obj = BpfObject.open(OBJ);
      obj.load();
      for (const name of ["read_wrapper", "on_openat"]) {
        const theirs = normalisedXlated(libbpf.progs.get(name)!);
        expect(theirs.length).toBeGreaterThan(3);
        expect(normalisedXlated(obj.program(name).fd), name).toEqual(theirs);
        expect(boundMapNames(obj.program(name).fd), name).toEqual(boundMapNames(libbpf.progs.get(name)!));
      }
    } finally {
      libbpf.close();
    }
  });
});
