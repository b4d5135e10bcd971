/**
 * uprobes, kprobes and perf_event programs. uprobes and perf events run on
 * the real kernel (tiny C programs built here with gcc are the probed
 * binaries); symbol → file offset resolution is checked against objdump and
 * llvm-readelf; kprobes (this kernel has none) are checked for their clear
 * error, and for the perf_event_attr they would send, with a fake sysfs and
 * the fake kernel.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { count, openWith } from "./helpers/attach-object.js";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AmbiguousSymbolError, SymbolNotFoundError } from "../src/elf/find-function.js";
import { HostBinary, resolveBinaryPath } from "../src/programs/attach/host-binary.js";
import { NotFoundError, UnsupportedError } from "../src/errors.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { attachProgram } from "../src/programs/attach/index.js";
import { attachKprobe, parseKprobeTarget } from "../src/programs/attach/kprobe.js";
import type { AttachTarget } from "../src/programs/attach/options.js";
import { DEFAULT_SAMPLE_FREQ } from "../src/programs/attach/perf-event.js";
import { onlineCpus, parseCpuRanges, parseFormatBit, setEventSourceRoot } from "../src/programs/attach/pmu.js";
import { setKallsymsPath } from "../src/programs/attach/syscall-wrapper.js";
import { parseUprobeTarget } from "../src/programs/attach/uprobe.js";
import { FakeKernel } from "../src/syscall/fake-kernel.js";
import { observeSyscalls, setKernelBackend } from "../src/syscall/kernel.js";
import koffi from "koffi";
import { realKernel } from "../src/syscall/libc.js";
import { type PerfEventOpenRequest, type SyscallRequest, isBpfCmd } from "../src/syscall/requests.js";
import type { PerfEventAttr } from "../src/abi/perf-event-attr.js";
import { SyscallError } from "../src/syscall/syscall-error.js";
import { BpfCmd } from "../src/abi/uapi-enums.js";
import { closeFd } from "../src/syscall/bpf.js";
import { fdById, progInfo } from "../src/syscall/obj-info.js";
import { kernelObjects, newKernelObjects, openFdCount, settle } from "./helpers/kernel.js";
import { skipBecause } from "./helpers/kernel-facts.js";
import { thrownBy } from "./helpers/thrown.js";

const UPROBE_PMU = "/sys/bus/event_source/devices/uprobe";
const KPROBE_PMU = "/sys/bus/event_source/devices/kprobe";
const HAVE_KPROBES = existsSync(KPROBE_PMU);

/**
 * Programs named `names` that exist now and did not before. Other people's
 * tests may load programs concurrently, so only ours are counted; with no
 * program left, neither are its links (a link holds its program).
 */
function ourNewPrograms(before: ReturnType<typeof kernelObjects>, names: string[]): string[] {
  const out: string[] = [];
  for (const id of newKernelObjects(before).prog!) {
    let fd = -1;
    try {
      fd = fdById("prog", id);
      const name = progInfo(fd).name;
      if (names.includes(name)) out.push(`${name} (id ${id})`);
    } catch {
      // gone in the meantime
    } finally {
      closeFd(fd);
    }
  }
  return out;
}

/** The string at a user pointer (config1), read while the request is in flight. */
const cstringAt = (addr: bigint): string => koffi.decode(addr, "char", -1) as string;

// ---- binaries built for the tests -------------------------------------------------

let dir: string;
const bin = (name: string) => join(dir, name);

const TARGET_C = `#include <stdlib.h>
__attribute__((noinline, noipa)) int tsbpf_target(int x) { return x * 3 + 1; }
__attribute__((noinline, noipa)) static int tsbpf_static_helper(int x) { return x ^ 5; }
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1;
  volatile int s = 0;
  for (int i = 0; i < n; i++) s += tsbpf_target(i);
  return tsbpf_static_helper(s) == -1;
}
`;

/** Waits for a byte on stdin, then calls getpid() through libc n times. */
const GETPID_C = `#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  char c;
  if (read(0, &c, 1) != 1) return 2;
  for (int i = 0; i < n; i++) getpid();
  return 0;
}
`;

const COOKIE_BPF_C = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
__u64 last_cookie;
__u64 hits;
SEC("uprobe") int read_cookie(struct pt_regs *ctx) { last_cookie = bpf_get_attach_cookie(ctx); __sync_fetch_and_add(&hits, 1); return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

function gcc(src: string, out: string, ...flags: string[]): void {
  execFileSync("gcc", ["-O2", ...flags, "-o", out, src]);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-probes-"));
  writeFileSync(bin("target.c"), TARGET_C);
  writeFileSync(bin("getpid.c"), GETPID_C);
  gcc(bin("target.c"), bin("target"));
  gcc(bin("target.c"), bin("target-nopie"), "-no-pie");
  gcc(bin("target.c"), bin("target-stripped"), "-rdynamic");
  execFileSync("strip", [bin("target-stripped")]);
  gcc(bin("getpid.c"), bin("getpid"));
  // A shared library found by name through LD_LIBRARY_PATH.
  mkdirSync(bin("lib"));
  writeFileSync(bin("lib/demo.c"), "int __attribute__((noinline)) demo_fn(int x) { return x + 1; }\nint demo_var = 3;\n");
  execFileSync("gcc", ["-O2", "-shared", "-fPIC", "-o", bin("lib/libtsbpfdemo.so.1"), bin("lib/demo.c")]);
  // Warm up lazily opened things (koffi, kernel BTF) so fd counts compare like with like.
  const obj = openWith("on_uprobe");
  obj.load();
  obj.destroy();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// ---- oracles ------------------------------------------------------------------------

/** objdump -F prints each function's file offset: `<name> (File Offset: 0x11b0):`. */
function objdumpFileOffset(path: string, func: string): number {
  const text = execFileSync("objdump", ["-d", "-F", `--disassemble=${func}`, path], { encoding: "utf8" });
  const m = text.match(new RegExp(`<${func}> \\(File Offset: 0x([0-9a-f]+)\\):`));
  if (!m) throw new Error(`objdump printed no file offset for ${func} in ${path}`);
  return Number.parseInt(m[1]!, 16);
}

/** File offset computed from llvm-readelf's PT_LOAD table and symbol value (`name` as readelf prints it). */
function readelfFileOffset(path: string, printedName: string, dynamic: boolean): number {
  const text = execFileSync("llvm-readelf-19", ["-W", "-l", dynamic ? "--dyn-syms" : "-s", path], { encoding: "utf8" });
  const loads = [...text.matchAll(/^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/gm)].map((m) => ({
    offset: Number.parseInt(m[1]!, 16),
    vaddr: Number.parseInt(m[2]!, 16),
    filesz: Number.parseInt(m[3]!, 16),
  }));
  const sym = text.split("\n").find((l) => l.trim().split(/\s+/)[7] === printedName);
  if (!sym) throw new Error(`llvm-readelf printed no symbol ${printedName} for ${path}`);
  const value = Number.parseInt(sym.trim().split(/\s+/)[1]!, 16);
  const load = loads.find((l) => value >= l.vaddr && value < l.vaddr + l.filesz)!;
  return value - load.vaddr + load.offset;
}

// ---- pure parts -----------------------------------------------------------------------

describe("parsers", () => {
  it("uprobe section targets: PATH:FUNC[+OFF]", () => {
    expect(parseUprobeTarget("/bin/bash:readline")).toEqual({ binary: "/bin/bash", func: "readline", offset: 0 });
    expect(parseUprobeTarget("libc.so.6:malloc+0x10")).toEqual({ binary: "libc.so.6", func: "malloc", offset: 16 });
    expect(parseUprobeTarget("./a.out:f+12")).toEqual({ binary: "./a.out", func: "f", offset: 12 });
    expect(parseUprobeTarget("libc.so.6:memcpy@GLIBC_2.2.5")).toEqual({ binary: "libc.so.6", func: "memcpy@GLIBC_2.2.5", offset: 0 });
    expect(() => parseUprobeTarget("/bin/bash")).toThrow(/no ":function"/);
    expect(() => parseUprobeTarget(":f")).toThrow(/names no binary/);
  });

  it("kprobe section targets: FUNC[+OFF]", () => {
    expect(parseKprobeTarget("do_sys_openat2")).toEqual({ func: "do_sys_openat2", offset: 0 });
    expect(parseKprobeTarget("tcp_v4_connect+0x1f")).toEqual({ func: "tcp_v4_connect", offset: 0x1f });
    expect(parseKprobeTarget("foo.isra.0+8")).toEqual({ func: "foo.isra.0", offset: 8 });
    expect(() => parseKprobeTarget("foo bar")).toThrow(/not FUNCTION or FUNCTION\+OFFSET/);
  });

  it("CPU lists and PMU format bits", () => {
    expect(parseCpuRanges("0-3,5,7-8\n")).toEqual([0, 1, 2, 3, 5, 7, 8]);
    expect(parseCpuRanges("0\n")).toEqual([0]);
    expect(onlineCpus().length).toBeGreaterThan(0);
    expect(parseFormatBit("config:0\n")).toBe(0);
    expect(parseFormatBit("config:32-63")).toBe(32);
    expect(() => parseFormatBit("config1:0-63")).toThrow(/expected "config:N"/);
  });
});

describe("host symbols → file offsets", () => {
  it("PIE, non-PIE and stripped (.dynsym only) executables agree with objdump / llvm-readelf", () => {
    for (const f of ["target", "target-nopie"]) {
      const b = HostBinary.open(bin(f));
      for (const fn of ["tsbpf_target", "main", "tsbpf_static_helper"]) {
        expect(b.resolveFunction(fn).offset, `${f}:${fn}`).toBe(objdumpFileOffset(bin(f), fn));
        expect(b.resolveFunction(fn).offset, `${f}:${fn}`).toBe(readelfFileOffset(bin(f), fn, false));
      }
    }
    const stripped = HostBinary.open(bin("target-stripped"));
    expect(stripped.elf.sections.some((s) => s.name === ".symtab")).toBe(false);
    const r = stripped.resolveFunction("tsbpf_target");
    expect(r.symbol.table).toBe(".dynsym");
    expect(r.offset).toBe(readelfFileOffset(bin("target-stripped"), "tsbpf_target", true));
    // The non-PIE executable really has vaddr != file offset.
    expect(HostBinary.open(bin("target-nopie")).resolveFunction("main").address).toBeGreaterThan(0x400000);
  });

  it("libc by bare name: the library directories, then .dynsym with symbol versions", () => {
    const libc = resolveBinaryPath("libc.so.6");
    expect(libc).toMatch(/^\/(usr\/)?lib(64)?\/(x86_64-linux-gnu\/|aarch64-linux-gnu\/)?libc\.so\.6$/);
    // The same file the running process maps.
    const mapped = readFileSync("/proc/self/maps", "utf8")
      .split("\n")
      .map((l) => l.split(/\s+/)[5])
      .find((p) => p?.endsWith("/libc.so.6"));
    if (mapped) expect(realpathSync(libc)).toBe(realpathSync(mapped));
    const b = HostBinary.open(libc);
    for (const fn of ["getpid", "malloc", "puts"]) {
      const printed = execFileSync("llvm-readelf-19", ["-W", "--dyn-syms", libc], { encoding: "utf8" })
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[7])
        .find((n) => n?.startsWith(`${fn}@@`))!;
      expect(b.resolveFunction(fn).offset, fn).toBe(readelfFileOffset(libc, printed, true));
      expect(b.resolveFunction(`${fn}@@${printed.split("@@")[1]}`).offset).toBe(b.resolveFunction(fn).offset);
    }
  });

  it("versions: the default version wins; IFUNC resolvers are flagged", () => {
    const b = HostBinary.open(resolveBinaryPath("libc.so.6"));
    const versions = b.symbols.filter((s) => s.name === "memcpy" && s.table === ".dynsym" && s.sectionIndex !== 0);
    if (versions.length < 2) return; // a libc without the old memcpy@GLIBC_2.2.5
    const dflt = b.resolveFunction("memcpy");
    expect(dflt.symbol.hiddenVersion).toBe(false);
    const old = versions.find((s) => s.hiddenVersion)!;
    const r = b.resolveFunction(`memcpy@${old.version}`);
    expect(r.address).toBe(old.value);
    expect(r.offset).toBe(readelfFileOffset(b.path, `memcpy@${old.version}`, true));
    const ifunc = b.symbols.find((s) => s.name === "strlen" && s.type === 10);
    if (ifunc) expect(b.resolveFunction("strlen").ifunc).toBe(true);
  });

  it("program names through $PATH, libraries through LD_LIBRARY_PATH", () => {
    expect(realpathSync(resolveBinaryPath("true"))).toBe(realpathSync(execFileSync("which", ["true"], { encoding: "utf8" }).trim()));
    expect(resolveBinaryPath("libtsbpfdemo.so.1", { LD_LIBRARY_PATH: bin("lib") })).toBe(bin("lib/libtsbpfdemo.so.1"));
    const demo = HostBinary.open(bin("lib/libtsbpfdemo.so.1"));
    expect(demo.resolveFunction("demo_fn").offset).toBe(objdumpFileOffset(bin("lib/libtsbpfdemo.so.1"), "demo_fn"));
  });

  it("clear errors: missing binary, missing symbol (with similar names), imported symbol, not a function", () => {
    expect(() => resolveBinaryPath("/no/such/binary")).toThrow(NotFoundError);
    expect(() => resolveBinaryPath("libnosuchthing.so.9")).toThrow(/cannot find library libnosuchthing\.so\.9: not in .*x86_64-linux-gnu/);
    expect(() => resolveBinaryPath("no-such-program-xyz")).toThrow(/cannot find program no-such-program-xyz/);

    const b = HostBinary.open(bin("target"));
    const err = thrownBy(() => b.resolveFunction("tsbpf_targt"));
    expect(err).toBeInstanceOf(SymbolNotFoundError);
    expect((err as SymbolNotFoundError).similar).toContain("tsbpf_target");
    expect((err as Error).message).toMatch(/no function tsbpf_targt in .*target; similar names: tsbpf_target/);

    // getpid is called by the program but defined in libc: say so.
    expect(() => HostBinary.open(bin("getpid")).resolveFunction("getpid")).toThrow(
      /getpid does not define getpid: it imports it from libc\.so\.6 \(version GLIBC_2\.2\.5\); probe it there/,
    );
    expect(() => b.resolveFunction("zzzz")).toThrow(/^no function zzzz in \S+$/);
    const demo = HostBinary.open(bin("lib/libtsbpfdemo.so.1"));
    expect(() => demo.resolveFunction("demo_var")).toThrow(/demo_var in .* is not a function \(it is a variable/);
    const stripped = HostBinary.open(bin("target-stripped"));
    expect(() => stripped.resolveFunction("tsbpf_static_helper")).toThrow(/no \.symtab, only exported \.dynsym symbols: stripped\?/);
  });

  it("ambiguity between equal-precedence symbols at different addresses is an error", () => {
    const b = HostBinary.open(bin("target"));
    const real = b.symbols.find((s) => s.name === "tsbpf_target")!;
    const fake = { ...real, value: b.symbols.find((s) => s.name === "main" && s.sectionIndex !== 0)!.value };
    const clone = Object.create(b) as HostBinary;
    Object.defineProperty(clone, "symbols", { value: [...b.symbols, fake] });
    expect(() => clone.resolveFunction("tsbpf_target")).toThrow(AmbiguousSymbolError);
  });
});

// ---- uprobes on the real kernel ----------------------------------------------------------

function target(obj: BpfObject, name: string, overrides: Partial<AttachTarget> = {}): AttachTarget {
  const prog = obj.program(name);
  return {
    progFd: prog.fd,
    program: prog.name,
    sectionName: prog.spec.sectionName,
    target: prog.spec.section.target,
    expectedAttachType: prog.spec.section.def.expectedAttachType,
    retprobe: !!prog.spec.section.def.retprobe,
    ...overrides,
  };
}

describe("uprobes on the real kernel", () => {
  it("uprobe and uretprobe on a function of a freshly built program count every call; the attr is what libbpf sends", async () => {
    const N = 25;
    const before = kernelObjects();
    const fds = openFdCount();
    const seen: { req: PerfEventOpenRequest; path: string }[] = [];
    const stop = observeSyscalls((req) => {
      if (req.call === "perf_event_open") seen.push({ req, path: cstringAt(req.fields.config1 as bigint) });
    });
    {
      using obj = openWith("on_uprobe", "on_uretprobe");
      obj.load();
      const loaded = openFdCount();
      const l1 = obj.program("on_uprobe").attach({ binary: bin("target"), func: "tsbpf_target" });
      const l2 = obj.program("on_uretprobe").attach({ binary: bin("target"), func: "tsbpf_target" });
      stop();
      expect(l1.kind).toBe("uprobe");
      expect(l2.kind).toBe("uretprobe");
      expect(l1.target).toBe(`${bin("target")}:tsbpf_target`);
      expect(l1.fd).toBeGreaterThan(0); // a perf link on this kernel
      expect(openFdCount()).toBe(loaded + 4 /* 2 × (perf fd + link fd) */);

      const type = Number(readFileSync(`${UPROBE_PMU}/type`, "utf8"));
      const retBit = parseFormatBit(readFileSync(`${UPROBE_PMU}/format/retprobe`, "utf8"));
      const offset = objdumpFileOffset(bin("target"), "tsbpf_target");
      expect(seen.map((s) => ({ ...s.req.fields, path: s.path, pid: s.req.pid, cpu: s.req.cpu }))).toEqual([
        expect.objectContaining({ type, size: 128, config: 0n, config2: BigInt(offset), path: bin("target"), pid: -1, cpu: 0 }),
        expect.objectContaining({
          type,
          size: 128,
          config: 1n << BigInt(retBit),
          config2: BigInt(offset),
          path: bin("target"),
          pid: -1,
          cpu: 0,
        }),
      ]);
      // config1/config2 really sit at offsets 56/64 of the attr bytes.
      const attr = new DataView(seen[0]!.req.attr.buffer, seen[0]!.req.attr.byteOffset);
      expect(attr.getBigUint64(56, true)).toBe(seen[0]!.req.fields.config1);
      expect(attr.getBigUint64(64, true)).toBe(BigInt(offset));

      expect(spawnSync(bin("target"), [String(N)]).status).toBe(0);
      expect(count(obj, "SLOT_UPROBE")).toBe(BigInt(N));
      expect(count(obj, "SLOT_URETPROBE")).toBe(BigInt(N));
      expect(ourNewPrograms(before, ["on_uprobe", "on_uretprobe"])).toHaveLength(2); // the check below can see them

      l1.destroy();
      l2.destroy();
      spawnSync(bin("target"), [String(N)]);
      expect(count(obj, "SLOT_UPROBE")).toBe(BigInt(N));
      expect(count(obj, "SLOT_URETPROBE")).toBe(BigInt(N));
    }
    await settle(100);
    expect(ourNewPrograms(before, ["on_uprobe", "on_uretprobe"])).toEqual([]);
    expect(openFdCount()).toBe(fds);
  });

  it("auto-attach from the section name uprobe/PATH:FUNC (and uretprobe/PATH:FUNC)", () => {
    const fds = openFdCount();
    {
      using obj = openWith("on_uprobe", "on_uretprobe");
      for (const name of ["on_uprobe", "on_uretprobe"]) {
        obj.editProgram(name).setAttachTarget(`${bin("target")}:tsbpf_target`);
      }
      obj.load();
      expect(obj.program("on_uprobe").autoAttachable).toBe(true);
      const links = obj.attach();
      expect(links.map((l) => l.kind).sort()).toEqual(["uprobe", "uretprobe"]);
      spawnSync(bin("target"), ["7"]);
      expect(count(obj, "SLOT_UPROBE")).toBe(7n);
      expect(count(obj, "SLOT_URETPROBE")).toBe(7n);
    }
    expect(openFdCount()).toBe(fds);
  });

  it("+offset inside the function, non-PIE and stripped binaries, and a raw file offset", () => {
    const fds = openFdCount();
    {
      using obj = openWith("on_uprobe");
      obj.load();
      const t = target(obj, "on_uprobe", { target: `${bin("target-nopie")}:tsbpf_target+0x0` });
      const links = [
        attachProgram("uprobe", t, {}),
        attachProgram("uprobe", target(obj, "on_uprobe"), { binary: bin("target-stripped"), func: "tsbpf_target" }),
        attachProgram("uprobe", target(obj, "on_uprobe"), {
          binary: bin("target"),
          offset: objdumpFileOffset(bin("target"), "tsbpf_target"),
        }),
      ];
      spawnSync(bin("target-nopie"), ["3"]);
      spawnSync(bin("target-stripped"), ["4"]);
      spawnSync(bin("target"), ["5"]);
      expect(count(obj, "SLOT_UPROBE")).toBe(12n);
      for (const l of links) l.destroy();
      expect(() =>
        attachProgram("uprobe", target(obj, "on_uprobe"), { binary: bin("target"), func: "tsbpf_target", offset: 4096 }),
      ).toThrow(/offset 4096 is outside tsbpf_target .* \(the function is \d+ bytes\)/);
    }
    expect(openFdCount()).toBe(fds);
  });

  it("libc by bare name, only in one process (pid filter): getpid called by a child", async () => {
    const N = 13;
    const fds = openFdCount();
    {
      using obj = openWith("on_uprobe");
      obj.load();
      const child = spawn(bin("getpid"), [String(N)], { stdio: ["pipe", "ignore", "ignore"] });
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      const link = obj.program("on_uprobe").attach({ binary: "libc.so.6", func: "getpid", pid: child.pid! });
      expect(link.target).toMatch(new RegExp(`libc\\.so\\.6:getpid pid ${child.pid}$`));
      // This process calls getpid too: it must not count.
      for (let i = 0; i < 5; i++) process.kill(process.pid, 0), spawnSync("/bin/true");
      child.stdin!.end("x");
      expect(await exited).toBe(0);
      expect(count(obj, "SLOT_UPROBE")).toBe(BigInt(N));
      link.destroy();
    }
    expect(openFdCount()).toBe(fds);
  });

  it("a cookie reaches bpf_get_attach_cookie()", () => {
    const src = bin("cookie.bpf.c");
    writeFileSync(src, COOKIE_BPF_C);
    execFileSync("clang-19", [
      "-g",
      "-O2",
      "-target",
      "bpf",
      "-D__TARGET_ARCH_x86",
      "-I",
      join(process.cwd(), "bpf"),
      "-c",
      src,
      "-o",
      bin("cookie.bpf.o"),
    ]);
    const fds = openFdCount();
    {
      using obj = BpfObject.open(bin("cookie.bpf.o"));
      obj.load();
      const link = obj.program("read_cookie").attach({ binary: bin("target"), func: "tsbpf_target", cookie: 0xfeedf00d12345678n });
      spawnSync(bin("target"), ["2"]);
      const v = (name: string) => new DataView(obj.variable(name).buffer, obj.variable(name).byteOffset).getBigUint64(0, true);
      expect(v("hits")).toBe(2n);
      expect(v("last_cookie")).toBe(0xfeedf00d12345678n);
      link.destroy();
    }
    expect(openFdCount()).toBe(fds);
  });

  it("clear errors before anything is opened", () => {
    const fds = openFdCount();
    {
      using obj = openWith("on_uprobe", "on_uretprobe");
      obj.load();
      const p = obj.program("on_uprobe");
      expect(() => p.attach()).toThrow(/section uprobe names no function to probe; pass \{ binary, func \}/);
      expect(() => p.attach({ func: "x" })).toThrow(/give func but no binary/);
      expect(() => p.attach({ binary: bin("target") })).toThrow(/needs func .* or offset/);
      expect(() => p.attach({ binary: bin("nope"), func: "f" })).toThrow(/binary .*nope does not exist/);
      expect(() => p.attach({ binary: bin("target"), func: "tsbpf_targett" })).toThrow(/similar names: tsbpf_target/);
      expect(() => p.attach({ binary: bin("getpid"), func: "getpid" })).toThrow(/imports it from libc\.so\.6/);
      expect(() => p.attach({ binary: "libc.so.6", func: "strlen" })).toThrow(/GNU indirect function/);
      expect(() => p.attach({ binary: bin("target"), func: "tsbpf_target", pid: 0x3fffffff })).toThrow(SyscallError);
      const rt = target(obj, "on_uretprobe", { target: `${bin("target")}:tsbpf_target+4` });
      expect(() => attachProgram("uprobe", rt, {})).toThrow(/uretprobes take no \+offset/);
    }
    expect(openFdCount()).toBe(fds);
  });
});

// ---- perf_event programs ---------------------------------------------------------------------

function busy(ms: number): void {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  if (x < 0) throw new Error("unreachable");
}

describe("perf_event programs", () => {
  it("software cpu-clock on every online CPU: samples while attached, none after destroy", async () => {
    const cpus = onlineCpus();
    const before = kernelObjects();
    const fds = openFdCount();
    {
      using obj = openWith("on_perf_event");
      obj.load();
      const base = openFdCount();
      const seen: PerfEventOpenRequest[] = [];
      const stop = observeSyscalls((req) => req.call === "perf_event_open" && seen.push(req));
      const link = obj.program("on_perf_event").attach({ perfEvent: { type: 1, config: 0, sampleFreq: 4000 } });
      stop();
      expect(link.kind).toBe("perf_event");
      expect(link.target).toBe(`cpu-clock@4000Hz on cpus ${cpus.length > 1 ? `${cpus[0]}-${cpus.at(-1)}` : cpus[0]}`);
      expect(openFdCount()).toBe(base + 2 * cpus.length);
      expect(seen.map((r) => r.cpu)).toEqual(cpus);
      expect(seen.every((r) => r.pid === -1 && r.fields.sample_freq === 4000n && r.fields.freq === 1 && r.fields.disabled === 1)).toBe(
        true,
      );
      busy(200);
      const during = count(obj, "SLOT_PERF_EVENT");
      expect(during).toBeGreaterThan(0n);
      link.destroy();
      expect(openFdCount()).toBe(base);
      const after = count(obj, "SLOT_PERF_EVENT");
      busy(100);
      await settle(20);
      expect(count(obj, "SLOT_PERF_EVENT")).toBe(after);
    }
    await settle(100);
    expect(ourNewPrograms(before, ["on_perf_event"])).toEqual([]);
    expect(openFdCount()).toBe(fds);
  });

  it("defaults to cpu-clock at 99 Hz; samplePeriod works; both at once is an error", () => {
    const fds = openFdCount();
    {
      using obj = openWith("on_perf_event");
      obj.load();
      const p = obj.program("on_perf_event");
      const l1 = p.attach();
      expect(l1.target).toMatch(new RegExp(`^cpu-clock@${DEFAULT_SAMPLE_FREQ}Hz on cpus `));
      l1.destroy();
      // cpu-clock counts nanoseconds: a sample every 100 µs of CPU time.
      const l2 = p.attach({ perfEvent: { type: 1, config: 0, samplePeriod: 100_000, cpus: [0] } });
      const start = count(obj, "SLOT_PERF_EVENT");
      busy(50);
      expect(count(obj, "SLOT_PERF_EVENT")).toBeGreaterThan(start);
      l2.destroy();
      expect(() => p.attach({ perfEvent: { type: 1, config: 0, samplePeriod: 1, sampleFreq: 1 } })).toThrow(/not both/);
      // With a pid: one event following that process on any CPU.
      const l3 = p.attach({ pid: process.pid, perfEvent: { type: 1, config: 1, sampleFreq: 1000 } });
      expect(l3.target).toBe(`task-clock@1000Hz on any cpu pid ${process.pid}`);
      l3.destroy();
    }
    expect(openFdCount()).toBe(fds);
  });

  it("hardware events fail clearly where there is no hardware PMU", () => {
    const fds = openFdCount();
    {
      using obj = openWith("on_perf_event");
      obj.load();
      let link: { destroy(): void } | undefined;
      try {
        link = obj.program("on_perf_event").attach({ perfEvent: { type: 0, config: 0, sampleFreq: 99 } });
      } catch (e) {
        expect(e).toBeInstanceOf(UnsupportedError);
        expect((e as Error).message).toMatch(/hardware perf event cycles@99Hz cpu \d+ is not available here .* use a software event/);
      }
      link?.destroy(); // a machine with a PMU attaches fine
    }
    expect(openFdCount()).toBe(fds);
  });

  it("if CPU k fails, CPUs 0..k-1 are released", () => {
    const fds = openFdCount();
    const obj = openWith("on_perf_event");
    obj.load();
    const fake = new FakeKernel(realKernel);
    let opens = 0;
    fake.on(
      (r) => r.call === "perf_event_open" && ++opens === 3,
      () => ({ ret: -1, errno: 24 /* EMFILE */ }),
    );
    const prev = setKernelBackend(fake);
    try {
      expect(() => obj.program("on_perf_event").attach({ perfEvent: { type: 1, config: 0, sampleFreq: 100, cpus: [0, 0, 0] } })).toThrow(
        /opening perf event cpu-clock@100Hz cpu 0 for on_perf_event: perf_event_open failed: EMFILE/,
      );
    } finally {
      setKernelBackend(prev);
    }
    // Two perf events and two links were made, then closed again.
    const closes = fake.calls.filter((c) => c.call === "close").length;
    expect(closes).toBe(4);
    obj.destroy();
    expect(openFdCount()).toBe(fds);
  });
});

// ---- kprobes ------------------------------------------------------------------------------------

describe("kprobes", () => {
  it("kprobe, kretprobe and ksyscall fire where the kernel has kprobes", async (ctx) => {
    if (!HAVE_KPROBES) skipBecause(ctx, `this kernel was built without kprobes (CONFIG_KPROBES is off: no ${KPROBE_PMU})`);
    const fds = openFdCount();
    {
      using obj = openWith("on_kprobe");
      obj.load();
      const kprobe = obj.program("on_kprobe").attach();
      readFileSync("/proc/self/comm"); // an openat
      expect(count(obj, "SLOT_KPROBE")).toBeGreaterThan(0n);
      kprobe.destroy();
      // The kretprobe and the ksyscall probe, each alone.
      for (const t of [
        target(obj, "on_kprobe", { retprobe: true }),
        target(obj, "on_kprobe", { sectionName: "ksyscall/openat", target: "openat" }),
      ]) {
        const link = attachProgram(t.sectionName.startsWith("ksyscall") ? "ksyscall" : "kprobe", t, {});
        const at = count(obj, "SLOT_KPROBE");
        readFileSync("/proc/self/comm");
        expect(count(obj, "SLOT_KPROBE"), t.sectionName).toBeGreaterThan(at);
        link.destroy();
      }
    }
    await settle(10);
    expect(openFdCount()).toBe(fds);
  });

  it("a kernel without kprobes (no kprobe PMU): a typed, clear error (and nothing left open)", () => {
    const root = mkdtempSync(join(tmpdir(), "tsbpf-empty-sysfs-"));
    const prev = setEventSourceRoot(root);
    const fds = openFdCount();
    try {
      using obj = openWith("on_kprobe");
      obj.load();
      const err = thrownBy(() => obj.program("on_kprobe").attach());
      expect(err).toBeInstanceOf(UnsupportedError);
      expect((err as Error).message).toBe(
        "on_kprobe (section kprobe/do_sys_openat2): this kernel was built without kprobes (CONFIG_KPROBES is off): " +
          `${root}/kprobe does not exist; use a tracepoint (tp/...), raw_tp or fentry instead`,
      );
      // ksyscall and kretprobe go the same way.
      const t = target(obj, "on_kprobe", { sectionName: "ksyscall/openat", target: "openat" });
      expect(() => attachProgram("ksyscall", t, {})).toThrow(/built without kprobes/);
      expect(() => attachProgram("kprobe", target(obj, "on_kprobe", { retprobe: true }), {})).toThrow(/built without kprobes/);
    } finally {
      setEventSourceRoot(prev);
      rmSync(root, { recursive: true, force: true });
    }
    expect(openFdCount()).toBe(fds);
  });

  /** A fake sysfs with a kprobe PMU, and a kernel that answers perf_event_open / LINK_CREATE for it. */
  function fakeKprobeKernel(opts: { type: number; retprobe: string; wrappers: boolean; refuse?: (name: string) => number | undefined }) {
    const root = mkdtempSync(join(tmpdir(), "tsbpf-fake-sysfs-"));
    mkdirSync(join(root, "kprobe", "format"), { recursive: true });
    writeFileSync(join(root, "kprobe", "type"), `${opts.type}\n`);
    writeFileSync(join(root, "kprobe", "format", "retprobe"), `${opts.retprobe}\n`);
    // The syscall-wrapper decision reads kallsyms: with wrappers, __x64_sys_* symbols are listed.
    const syscallEntry = opts.wrappers ? "__x64_sys_bpf" : "__se_sys_bpf";
    writeFileSync(join(root, "kallsyms"), `ffffffff81000000 T _stext\nffffffff814f39b0 T ${syscallEntry}\n`);
    const prevKallsyms = setKallsymsPath(join(root, "kallsyms"));
    const fake = new FakeKernel(realKernel);
    const opened: { fields: PerfEventAttr; name: string; pid: number; cpu: number; attr: Uint8Array }[] = [];
    let next = 50_000;
    const fakeFds = new Set<number>();
    fake.on(
      (r) => r.call === "perf_event_open" && r.fields.type === opts.type,
      (r) => {
        const req = r as PerfEventOpenRequest;
        const name = cstringAt(req.fields.config1 as bigint); // readable only during the call
        opened.push({ fields: req.fields, name, pid: req.pid, cpu: req.cpu, attr: req.attr.slice() });
        const errno = opts.refuse?.(name);
        if (errno) return { ret: -1, errno };
        fakeFds.add(next);
        return next++;
      },
    );
    const isFake = (r: SyscallRequest) =>
      (r.call === "close" && fakeFds.has(r.fd)) ||
      (r.call === "ioctl" && fakeFds.has(r.fd)) ||
      (isBpfCmd(r, BpfCmd.LINK_CREATE) && fakeFds.has(Number(r.values.target_fd)));
    fake.on(isFake, (r) => (r.call === "bpf" ? (fakeFds.add(next), next++) : 0));
    const prevRoot = setEventSourceRoot(root);
    const prevKernel = setKernelBackend(fake);
    return {
      fake,
      opened,
      restore: () => {
        setKernelBackend(prevKernel);
        setEventSourceRoot(prevRoot);
        setKallsymsPath(prevKallsyms);
        rmSync(root, { recursive: true, force: true });
      },
    };
  }

  it("the perf_event_attr a kprobe, kretprobe and ksyscall would send (fake sysfs + fake kernel)", () => {
    const fds = openFdCount();
    using obj = openWith("on_kprobe");
    obj.load();
    const k = fakeKprobeKernel({ type: 6, retprobe: "config:0", wrappers: true });
    try {
      const l1 = obj.program("on_kprobe").attach();
      const l2 = attachKprobe(target(obj, "on_kprobe", { target: "do_sys_openat2+0x10" }), {});
      const l3 = attachKprobe(
        target(obj, "on_kprobe", { sectionName: "kretprobe/tcp_v4_connect", target: "tcp_v4_connect", retprobe: true }),
        {},
      );
      const l4 = attachProgram("ksyscall", target(obj, "on_kprobe", { sectionName: "ksyscall/openat", target: "openat" }), { cookie: 7n });
      expect([l1, l2, l3, l4].map((l) => `${l.kind} ${l.target}`)).toEqual([
        "kprobe do_sys_openat2",
        "kprobe do_sys_openat2+0x10",
        "kretprobe tcp_v4_connect",
        "ksyscall __x64_sys_openat",
      ]);
      const o = k.opened;
      expect(
        o.map((e) => ({
          name: e.name,
          type: e.fields.type,
          size: e.fields.size,
          config: e.fields.config,
          config2: e.fields.config2,
          pid: e.pid,
          cpu: e.cpu,
        })),
      ).toEqual([
        { name: "do_sys_openat2", type: 6, size: 128, config: 0n, config2: 0n, pid: -1, cpu: 0 },
        { name: "do_sys_openat2", type: 6, size: 128, config: 0n, config2: 0x10n, pid: -1, cpu: 0 },
        { name: "tcp_v4_connect", type: 6, size: 128, config: 1n, config2: 0n, pid: -1, cpu: 0 },
        // No probe kprobe: the syscall-wrapper decision comes from kallsyms.
        { name: "__x64_sys_openat", type: 6, size: 128, config: 0n, config2: 0n, pid: -1, cpu: 0 },
      ]);
      // The bytes themselves: type at 0, size at 4, config at 8, config1 (pointer) at 56, config2 at 64.
      const a = new DataView(o[1]!.attr.buffer);
      expect([
        a.getUint32(0, true),
        a.getUint32(4, true),
        a.getBigUint64(8, true),
        a.getBigUint64(56, true),
        a.getBigUint64(64, true),
      ]).toEqual([6, 128, 0n, o[1]!.fields.config1, 0x10n]);
      // LINK_CREATE(BPF_PERF_EVENT) on each fake perf fd, the cookie passed through.
      const links = k.fake.calls.filter((c) => isBpfCmd(c, BpfCmd.LINK_CREATE));
      expect(links.map((c) => c.values.perf_event?.bpf_cookie)).toEqual([0n, 0n, 0n, 7n]);
      for (const l of [l1, l2, l3, l4]) l.destroy();
    } finally {
      k.restore();
    }
    obj.destroy();
    expect(openFdCount()).toBe(fds);
  });

  it("retprobe bit from the format file; __se_sys_ without wrappers; ENOENT names the function", () => {
    using obj = openWith("on_kprobe");
    obj.load();
    const k = fakeKprobeKernel({
      type: 9,
      retprobe: "config:5",
      wrappers: false,
      refuse: (n) => (n === "no_such_fn" ? 2 : undefined),
    });
    try {
      const l1 = attachKprobe(target(obj, "on_kprobe"), { retprobe: true });
      const l2 = attachProgram(
        "ksyscall",
        target(obj, "on_kprobe", { sectionName: "kretsyscall/close", target: "close", retprobe: true }),
        {},
      );
      expect(l2.target).toBe("__se_sys_close");
      expect(k.opened.map((e) => [e.name, e.fields.type, e.fields.config])).toEqual([
        ["do_sys_openat2", 9, 1n << 5n],
        ["__se_sys_close", 9, 1n << 5n],
      ]);
      expect(() => attachKprobe(target(obj, "on_kprobe", { target: "no_such_fn" }), {})).toThrow(
        /on_kprobe: cannot kprobe no_such_fn: ENOENT — no kernel function no_such_fn that can be probed/,
      );
      expect(() => attachKprobe(target(obj, "on_kprobe", { target: "f+8" }), { retprobe: true })).toThrow(/kretprobes take no offset/);
      expect(() => attachKprobe(target(obj, "on_kprobe", { sectionName: "kprobe", target: "" }), {})).toThrow(
        /names no kernel function; pass \{ func \}/,
      );
      l1.destroy();
      l2.destroy();
    } finally {
      k.restore();
    }
  });

  it.runIf(existsSync(UPROBE_PMU))("uprobe errors when the PMU is missing name it", () => {
    const root = mkdtempSync(join(tmpdir(), "tsbpf-empty-sysfs-"));
    const prev = setEventSourceRoot(root);
    try {
      using obj = openWith("on_uprobe");
      obj.load();
      expect(() => obj.program("on_uprobe").attach({ binary: bin("target"), func: "tsbpf_target" })).toThrow(
        /built without uprobes \(CONFIG_UPROBE_EVENTS is off\): .*\/uprobe does not exist/,
      );
    } finally {
      setEventSourceRoot(prev);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
