/**
 * The tracer against the real strace 6.1. A script (written to a temp dir,
 * importing the built dist/) loads, attaches and destroys an object and
 * makes a set of raw calls, while startTracer() writes what tsbpf saw to
 * T.txt; the whole run happens under
 *
 *     strace -f -o S.txt -e trace=bpf,perf_event_open,ioctl,mmap,munmap,epoll_create1,epoll_ctl,epoll_wait,eventfd2,close,mount,
 *                                 openat,read,write,fstat,access,dup,statfs,capget
 *
 * and the two must agree: every bpf() and perf_event_open() line strace saw
 * is in T.txt in the same order with identical text (addresses aside), and
 * every line of T.txt appears in S.txt in order (node makes many more mmap,
 * close, read, write and epoll calls of its own, so there T is only a
 * subsequence).
 *
 * Two modes: `strace -v` against the tracer's default (full decoding, -s 32),
 * and plain `strace -s 120` against `{ verbose: false, stringLimit: 120 }`
 * with strace's pid prefix and column alignment, compared exactly.
 *
 * Adding an object is one line in SCENARIOS.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TracerOptions } from "../src/strace/tracer.js";

interface Scenario {
  name: string;
  object: string;
  /** A ring buffer map to wait on after an exec (a real EPOLLIN event on a libuv thread). */
  ring?: string;
}

const SCENARIOS: Scenario[] = [
  { name: "minimal", object: "bpf/minimal.bpf.o" },
  { name: "bootstrap", object: "bpf/bootstrap.bpf.o", ring: "rb" },
];

interface Mode {
  name: string;
  straceArgs: string[];
  tracer: TracerOptions;
  /** Compare the column alignment too (the tracer prints strace's pid prefix). */
  exact: boolean;
}

const MODES: Mode[] = [
  { name: "strace -v", straceArgs: ["-v"], tracer: {}, exact: false },
  { name: "strace -s 120", straceArgs: ["-s", "120"], tracer: { verbose: false, stringLimit: 120, pid: "file", align: true }, exact: true },
];

const TRACED =
  "bpf,perf_event_open,ioctl,mmap,munmap,epoll_create1,epoll_ctl,epoll_wait,eventfd2,close,mount,openat,read,write,fstat,access,dup,statfs,capget";
const ROOT = resolve(".");
const dist = (p: string) => JSON.stringify(join(ROOT, "dist", p));

function straceVersion(): string | undefined {
  try {
    return execFileSync("strace", ["-V"], { encoding: "utf8" }).match(/version (\S+)/)?.[1];
  } catch {
    return undefined;
  }
}

const version = straceVersion();
const canRun = process.getuid?.() === 0 && version === "6.1";

/** The traced program: real work through tsbpf, every call reported by the tracer. */
function script(s: Scenario, tracerOpts: TracerOptions, out: string): string {
  return `
import { spawnSync } from "node:child_process";
import { unlinkSync, writeFileSync } from "node:fs";
import { startTracer } from ${dist("src/strace/tracer.js")};
import { BpfObject } from ${dist("src/object/bpf-object.js")};
import { tryBpf } from ${dist("src/syscall/bpf.js")};
import { trySyscall, trySyscallAsync } from ${dist("src/syscall/kernel.js")};

const lines = [];
const stop = startTracer((l) => lines.push(l), ${JSON.stringify(tracerOpts)});
const cs = (s) => new TextEncoder().encode(s + "\\0");
const fd = (r) => Number(r.ret);
let failed = false;
try {
  // A program the verifier refuses: PROG_LOAD, then again with a log buffer.
  try { BpfObject.open(${JSON.stringify(join(ROOT, "bpf/reject.bpf.o"))}).load(); throw new Error("reject.bpf.o loaded"); }
  catch (e) { if (!/verifier/.test(String(e))) throw e; }

  const obj = BpfObject.open(${JSON.stringify(join(ROOT, s.object))});
  obj.load();
  const prog = obj.programs[0].fd;
  obj.attach();

  tryBpf(11, { start_id: 0 });                                   // PROG_GET_NEXT_ID: next_id=0 => N
  tryBpf(15, { bpf_fd: prog, info_len: 232, info: new Uint8Array(232) });  // prog info
  tryBpf(10, { prog_fd: prog, data_size_in: 4, data_in: new Uint8Array(4), data_size_out: 64, data_out: new Uint8Array(64), repeat: 1 });

  // A small array map and the element and batch commands on it.
  const arr = fd(tryBpf(0, { map_type: 2, key_size: 4, value_size: 4, max_entries: 2, map_name: "tsbpf_trace" }));
  const key = new Uint8Array(4), val = new Uint8Array(4);
  tryBpf(2, { map_fd: arr, key, value: val, flags: 0 });
  tryBpf(2, { map_fd: arr, key, value: val, flags: 1 });
  tryBpf(1, { map_fd: arr, key, value: val, flags: 0 });
  tryBpf(4, { map_fd: arr, key: null, next_key: new Uint8Array(4) });
  tryBpf(3, { map_fd: arr, key });
  tryBpf(24, { out_batch: new Uint8Array(4), keys: new Uint8Array(16), values: new Uint8Array(16), count: 4, map_fd: arr }); // count 4 => 2
  tryBpf(15, { bpf_fd: arr, info_len: 88, info: new Uint8Array(88) }); // map info
  trySyscall({ call: "close", fd: arr });

  // Failing calls of the commands strace decodes differently.
  tryBpf(22, { map_fd: 999 });
  tryBpf(17, { name: cs("sys_enter"), prog_fd: 999 });
  tryBpf(35, { prog_fd: 999, map_fd: 998 });                     // PROG_BIND_MAP: a bare pointer
  tryBpf(34, { link_fd: 999 });
  tryBpf(28, { prog_fd: prog, target_fd: 999, attach_type: 0, target_btf_id: 5 });
  tryBpf(28, { prog_fd: prog, target_fd: -1, attach_type: 28, iter_info: new Uint8Array(128), iter_info_len: 32 });
  tryBpf(28, { prog_fd: prog, target_fd: 999, attach_type: 2, flags: 1 });
  tryBpf(6, { pathname: cs("/nonexistent/tsbpf/pin"), bpf_fd: prog });
  tryBpf(9, { target_fd: 999, attach_bpf_fd: prog, attach_type: 2 });
  trySyscall({ call: "ioctl", fd: 999, request: 0x40042408, requestName: "PERF_EVENT_IOC_SET_BPF", arg: prog });
  trySyscall({ call: "mount", source: "nodev", target: "/nonexistent/tsbpf/tracing", fstype: "tracefs", flags: 0 });
  trySyscall({ call: "close", fd: 999 });
  // Pin roots are checked with statfs, capabilities with capget.
  trySyscall({ call: "statfs", path: "/sys/fs/bpf", buf: new Uint8Array(120) });
  trySyscall({ call: "statfs", path: "/nonexistent/tsbpf", buf: new Uint8Array(120) });
  const capHeader = new Uint8Array(8);
  new DataView(capHeader.buffer).setUint32(0, 0x20080522, true);
  trySyscall({ call: "capget", header: capHeader, data: new Uint8Array(24) });

  // A ring buffer: map info, the two mmaps, epoll.
  const rb = fd(tryBpf(0, { map_type: 27, max_entries: 4096, map_name: "rb" }));
  tryBpf(15, { bpf_fd: rb, info_len: 88, info: new Uint8Array(88) });
  const cons = trySyscall({ call: "mmap", addr: 0n, length: 4096, prot: 3, flags: 1, fd: rb, offset: 0 });
  const prod = trySyscall({ call: "mmap", addr: 0n, length: 4096 * 3, prot: 1, flags: 1, fd: rb, offset: 4096 });
  const ep = fd(trySyscall({ call: "epoll_create1", flags: 0o2000000 }));
  trySyscall({ call: "epoll_ctl", epfd: ep, op: 1, fd: rb, events: 1, data: 0x100000005n });
  const events = new Uint8Array(24);
  trySyscall({ call: "epoll_wait", epfd: ep, events, maxEvents: 2, timeout: 0 });
  await trySyscallAsync({ call: "epoll_wait", epfd: ep, events, maxEvents: 2, timeout: 5 });
  const efd = fd(trySyscall({ call: "eventfd2", initval: 0, flags: 0o2004000 }));
  const one = new Uint8Array(8); one[0] = 1;
  trySyscall({ call: "write", fd: efd, buf: one });
  trySyscall({ call: "read", fd: efd, buf: new Uint8Array(8) });
  trySyscall({ call: "read", fd: efd, buf: new Uint8Array(8) });   // EAGAIN: the address is printed
  trySyscall({ call: "close", fd: efd });

  // Host files, as a load reads them.
  const at = (path, flags, mode = 0) => trySyscall({ call: "openat", dirfd: -100, path, flags, mode });
  const CLOEXEC = 0o2000000;
  at("/nonexistent/tsbpf", CLOEXEC);
  const vm = fd(at("/sys/kernel/btf/vmlinux", CLOEXEC));
  trySyscall({ call: "fstat", fd: vm, statbuf: new Uint8Array(144) });
  trySyscall({ call: "read", fd: vm, buf: new Uint8Array(64) });
  const spare = fd(trySyscall({ call: "dup", fd: vm }));
  trySyscall({ call: "close", fd: spare });
  trySyscall({ call: "close", fd: vm });
  const dev = fd(at("/dev/null", 2 | CLOEXEC));
  trySyscall({ call: "fstat", fd: dev, statbuf: new Uint8Array(144) });
  trySyscall({ call: "write", fd: dev, buf: new TextEncoder().encode("x".repeat(200)) });
  trySyscall({ call: "close", fd: dev });
  const dirFd = fd(at("/sys/kernel", 0o200000 | CLOEXEC));
  trySyscall({ call: "close", fd: dirFd });
  const created = fd(at(${JSON.stringify(join(tmpdir(), `tsbpf-strace-${process.pid}.tmp`))}, 1 | 0o100 | 0o1000 | CLOEXEC, 0o640));
  trySyscall({ call: "close", fd: created });
  unlinkSync(${JSON.stringify(join(tmpdir(), `tsbpf-strace-${process.pid}.tmp`))});
  trySyscall({ call: "read", fd: 999, buf: new Uint8Array(8) });
  trySyscall({ call: "fstat", fd: 999, statbuf: new Uint8Array(144) });
  trySyscall({ call: "access", path: "/sys/kernel/tracing", mode: 4 | 1 });
  trySyscall({ call: "access", path: "/nonexistent/tsbpf", mode: 2 });
  ${
    s.ring
      ? `// The object's own ring: an exec makes a record, epoll_wait reports it.
  const ring = obj.map(${JSON.stringify(s.ring)}).fd;
  trySyscall({ call: "epoll_ctl", epfd: ep, op: 1, fd: ring, events: 1, data: 7n });
  spawnSync("/bin/true");
  await trySyscallAsync({ call: "epoll_wait", epfd: ep, events, maxEvents: 2, timeout: 2000 });`
      : ""
  }
  trySyscall({ call: "munmap", addr: BigInt(prod.ret), length: 4096 * 3 });
  trySyscall({ call: "munmap", addr: BigInt(cons.ret), length: 4096 });
  trySyscall({ call: "close", fd: ep });
  trySyscall({ call: "close", fd: rb });

  obj.destroy();
} catch (e) {
  failed = true;
  console.error("SCRIPT-ERROR", e);
} finally {
  stop();
  writeFileSync(${JSON.stringify(out)}, lines.join("\\n") + "\\n");
}
process.exit(failed ? 1 : 0);
`;
}

interface Line {
  text: string;
  /** Joined from strace's "<unfinished ...>" and "<... resumed>" halves. */
  merged: boolean;
}

/** S.txt as one line per call, pid prefix kept, split calls joined. */
function straceLines(text: string): Line[] {
  const out: Array<Line | undefined> = [];
  const pending = new Map<string, { at: number; head: string }>();
  for (const raw of text.split("\n")) {
    const m = raw.match(/^(\d+)( +)(.*)$/);
    if (!m) continue;
    const [, pid, gap, rest] = m as unknown as [string, string, string, string];
    if (rest.endsWith(" <unfinished ...>")) {
      pending.set(pid, { at: out.length, head: pid + gap + rest.slice(0, -" <unfinished ...>".length) });
      out.push(undefined);
      continue;
    }
    const resumed = rest.match(/^<\.\.\. \w+ resumed>(.*)$/);
    if (resumed) {
      const p = pending.get(pid);
      if (p) out[p.at] = { text: p.head + resumed[1], merged: true };
      pending.delete(pid);
      continue;
    }
    out.push({ text: raw, merged: false });
  }
  return out.filter((l): l is Line => l !== undefined);
}

const ADDR = /0x[0-9a-f]+/g;
const isCall = (l: string, ...names: string[]) => names.some((n) => l.startsWith(n + "("));

const unaligned = (l: string) => l.replace(/\) +=/, ") =");

function compare(sText: string, tText: string, exact: boolean) {
  const norm = (text: string) => {
    const t = text.replace(/^\S+ +/, ""); // strace's pid (tracer: pid or "libuv")
    return (exact ? t : unaligned(t)).replace(ADDR, "0xADDR");
  };
  // A call strace split in two halves was re-joined here; its column is lost.
  const s = straceLines(sText).map((l) => ({ text: norm(l.text), merged: l.merged }));
  const t = tText
    .split("\n")
    .filter((l) => l && !l.startsWith("    # "))
    .map((l) => norm(exact ? l : "- " + l));
  const same = (a: { text: string; merged: boolean }, b: string) => a.text === b || (a.merged && unaligned(a.text) === unaligned(b));
  // (The column of these long lines is checked by the subsequence below.)
  const sCalls = s.filter((l) => isCall(l.text, "bpf", "perf_event_open")).map((l) => unaligned(l.text));
  const tCalls = t.filter((l) => isCall(l, "bpf", "perf_event_open")).map(unaligned);
  // In order, identical.
  expect(tCalls).toEqual(sCalls);
  // Every line the tracer printed, as a subsequence of strace's.
  let k = 0;
  const missing: string[] = [];
  for (const l of t) {
    if (l.includes("0x?")) continue; // an address the request does not carry
    let at = k;
    while (at < s.length && !same(s[at]!, l)) at++;
    if (at === s.length) missing.push(l);
    else k = at + 1;
  }
  expect(missing).toEqual([]);
  return { s, t };
}

describe.skipIf(!canRun)(`the tracer prints what strace ${version ?? "(missing)"} prints`, () => {
  let dir: string;
  beforeAll(() => {
    // The script imports the built files; build them (type errors elsewhere do not stop emit).
    spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
    expect(existsSync(join(ROOT, "dist/src/strace/tracer.js"))).toBe(true);
    dir = mkdtempSync(join(tmpdir(), "tsbpf-strace-"));
  }, 180_000);
  afterAll(() => {
    if (dir && !process.env.TSBPF_KEEP_TRACES) rmSync(dir, { recursive: true, force: true });
  });

  for (const s of SCENARIOS) {
    for (const mode of MODES) {
      it(`${s.object} under ${mode.name}`, () => {
        const tag = `${s.name}-${mode.straceArgs.join("")}`;
        const js = join(dir, `${tag}.mjs`);
        const S = join(dir, `${tag}.S.txt`);
        const T = join(dir, `${tag}.T.txt`);
        writeFileSync(js, script(s, mode.tracer, T));
        if (process.env.TSBPF_KEEP_TRACES) console.log(`traces of ${tag} kept in ${dir}`);
        const run = spawnSync("strace", ["-f", ...mode.straceArgs, "-e", `trace=${TRACED}`, "-o", S, process.execPath, js], {
          encoding: "utf8",
          timeout: 60_000,
        });
        expect(run.stderr).not.toContain("SCRIPT-ERROR");
        expect(run.status).toBe(0);
        const { t } = compare(readFileSync(S, "utf8"), readFileSync(T, "utf8"), mode.exact);
        // The run did what it should: these lines were printed, and matched.
        const want = [
          /^bpf\(BPF_PROG_LOAD, \{.*log_level=1, log_size=\d+, log_buf="".*\) = -1 EACCES/,
          /^bpf\(BPF_PROG_GET_NEXT_ID, \{start_id=0, next_id=0 => \d+, open_flags=0\}, 12\) = 0$/,
          /^bpf\(BPF_MAP_LOOKUP_BATCH, .* => \{batch=\{count=2\}\}, 56\) = -1 ENOENT/,
          /^bpf\(BPF_PROG_BIND_MAP, 0xADDR, 12\) = -1 EBADF/,
          /^bpf\(BPF_LINK_CREATE, \{link_create=\{.*attach_type=BPF_PERF_EVENT, flags=0, perf_event=\{bpf_cookie=0\}\}\}, 48\) = \d+$/,
          /^bpf\(BPF_PROG_TEST_RUN, .*= -1 ENOTSUPP \(Unknown error 524\)$/,
          /^perf_event_open\(\{type=PERF_TYPE_TRACEPOINT, size=PERF_ATTR_SIZE_VER7, config=\d+, /,
          /^ioctl\(\d+, PERF_EVENT_IOC_ENABLE, 0\) += 0$/,
          /^mmap\(NULL, 4096, PROT_READ\|PROT_WRITE, MAP_SHARED, \d+, 0\) += 0xADDR$/,
          /^mmap\(NULL, 12288, PROT_READ, MAP_SHARED, \d+, 0xADDR\) = 0xADDR$/,
          /^epoll_create1\(EPOLL_CLOEXEC\) += \d+$/,
          /^epoll_ctl\(\d+, EPOLL_CTL_ADD, \d+, \{events=EPOLLIN, data=\{u32=5, u64=4294967301\}\}\) = 0$/,
          /^epoll_wait\(\d+, \[\], 2, 5\) += 0$/,
          /^mount\("nodev", "\/nonexistent\/tsbpf\/tracing", "tracefs", 0, NULL\) = -1 ENOENT/,
          /^close\(999\) += -1 EBADF \(Bad file descriptor\)$/,
          /^write\(\d+, "\\1\\0\\0\\0\\0\\0\\0\\0", 8\) += 8$/,
          /^read\(\d+, 0xADDR, 8\) += -1 EAGAIN \(Resource temporarily unavailable\)$/,
          /^openat\(AT_FDCWD, "\/nonexistent\/tsbpf", O_RDONLY\|O_CLOEXEC\) = -1 ENOENT \(No such file or directory\)$/,
          /^openat\(AT_FDCWD, "\/sys\/kernel\/btf\/vmlinux", O_RDONLY\|O_CLOEXEC\) = \d+$/,
          /^read\(\d+, "\\237\\353\\1\\0.*, 64\) += 64$/,
          /^dup\(\d+\) += \d+$/,
          /^openat\(AT_FDCWD, "\/sys\/kernel", O_RDONLY\|O_CLOEXEC\|O_DIRECTORY\) = \d+$/,
          /^openat\(AT_FDCWD, ".*\.tmp", O_WRONLY\|O_CREAT\|O_TRUNC\|O_CLOEXEC, 0640\) = \d+$/,
          /^read\(999, 0xADDR, 8\) += -1 EBADF/,
          /^fstat\(999, 0xADDR\) += -1 EBADF/,
          /^access\("\/sys\/kernel\/tracing", R_OK\|X_OK\) = 0$/,
          /^access\("\/nonexistent\/tsbpf", W_OK\) = -1 ENOENT/,
          /^write\(\d+, "x+"\.\.\., 200\) = 200$/,
          /^statfs\("\/sys\/fs\/bpf", \{f_type=BPF_FS_MAGIC, f_bsize=4096, .*f_flags=ST_VALID\|ST_RELATIME\}\) = 0$/,
          /^statfs\("\/nonexistent\/tsbpf", 0xADDR\) += -1 ENOENT/,
          /^capget\(\{version=_LINUX_CAPABILITY_VERSION_3, pid=0\}, \{effective=1<<CAP_CHOWN\|.*1<<CAP_BPF.*, inheritable=0\}\) = 0$/,
        ];
        if (mode.tracer.verbose !== false)
          want.push(
            /^fstat\(\d+, \{st_dev=makedev\(0, 0x\w+\), st_ino=\d+, st_mode=S_IFREG\|0444, st_nlink=1, st_uid=0, st_gid=0, st_blksize=4096, st_blocks=0, st_size=\d+, st_atime=\d+ \/\* .* \*\/, st_atime_nsec=\d+, st_mtime=\d+/,
            /^fstat\(\d+, \{st_dev=makedev\(0, 0x\w+\), .*st_mode=S_IFCHR\|0666, .*st_rdev=makedev\(0xADDR, 0xADDR\), st_atime=/,
          );
        else want.push(/^fstat\(\d+, \{st_mode=S_IFREG\|0444, st_size=\d+, \.\.\.\}\) = 0$/);
        if (mode.tracer.verbose !== false)
          want.push(
            /^bpf\(BPF_OBJ_GET_INFO_BY_FD, \{info=\{bpf_fd=\d+, info_len=232, info=\{type=BPF_PROG_TYPE_\w+, .*xlated_prog_len=0 => \d+, .*load_time=\d+ \/\* [\d-]+T[\d:]+[+-]\d{4} \*\/,/,
          );
        if (s.ring) want.push(/^epoll_wait\(\d+, \[\{events=EPOLLIN, data=\{u32=7, u64=7\}\}\], 2, 2000\) += 1$/);
        for (const re of want)
          expect(
            t.some((l) => re.test(l)),
            String(re),
          ).toBe(true);
      }, 90_000);
    }
  }
});
