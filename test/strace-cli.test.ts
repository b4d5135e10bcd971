/**
 * `tsbpf load --trace=T` under `strace -f -v -o S`: every bpf and
 * perf_event_open line strace saw is in T, in order, with the same text
 * (pointer values normalised: they differ between a pointer and its print).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { TRACE_PIPE_BUSY, whileTracePipeBusy } from "./helpers/trace-pipe.js";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "tsbpf-strace-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasStrace = existsSync("/usr/bin/strace") && spawnSync("strace", ["-V"]).status === 0;

// strace -f -o puts the pid before each call, which moves its " = " column; the padding itself
// is compared exactly by strace-options.test.ts (no -f there).
const normalise = (l: string) =>
  l
    .replace(/0x[0-9a-f]{6,}/g, "0xADDR")
    .replace(/\) +=/, ") =")
    .trim();

function straceLines(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/^\d+\s+/, "")) // -f -o: each line starts with the pid
    .filter((l) => /^(bpf|perf_event_open)\(/.test(l))
    .map(normalise);
}

function tsbpfLines(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => /^(bpf|perf_event_open)\(/.test(l))
    .map(normalise);
}

describe.runIf(hasStrace)("tsbpf load --trace vs strace", () => {
  for (const obj of ["bpf/minimal.bpf.o", "bpf/bootstrap.bpf.o"]) {
    it(`${obj}: the same bpf and perf_event_open lines, in the same order`, async () => {
      const name = obj.replace(/\W/g, "_");
      const S = join(dir, `${name}.strace`);
      const T = join(dir, `${name}.trace`);
      // minimal prints: its load waits for trace_pipe while another reader holds it.
      await whileTracePipeBusy(
        () =>
          execFileSync(
            "strace",
            [
              "-f",
              "-v",
              "-e",
              "trace=bpf,perf_event_open",
              "-o",
              S,
              process.execPath,
              "dist/src/cli/tsbpf.cjs",
              "load",
              `--trace=${T}`,
              obj,
              "--duration",
              "1",
            ],
            {
              stdio: ["ignore", "ignore", "pipe"],
            },
          ),
        (e) => e instanceof Error && TRACE_PIPE_BUSY.test(String((e as { stderr?: unknown }).stderr ?? "")),
      );
      const theirs = straceLines(S);
      const ours = tsbpfLines(T);
      expect(theirs.length).toBeGreaterThan(10);
      expect(ours).toEqual(theirs);
    }, 60_000);
  }
});

/** One line per call of strace -f -o output: split calls joined, and only the traced process's threads. */
function mainProcessCalls(text: string): string[] {
  const processOf = new Map<string, string>();
  const pending = new Map<string, number>();
  const out: Array<{ tid: string; text: string }> = [];
  for (const raw of text.split("\n")) {
    const m = raw.match(/^(\d+) +(.*)$/);
    if (!m) continue;
    const [, tid, rest] = m as unknown as [string, string, string];
    if (!processOf.has(tid)) processOf.set(tid, processOf.size === 0 ? "main" : tid);
    const resumed = rest.match(/^<\.\.\. \w+ resumed>(.*)$/);
    if (resumed) {
      const at = pending.get(tid);
      if (at !== undefined) out[at]!.text += resumed[1];
      pending.delete(tid);
    } else if (rest.endsWith(" <unfinished ...>")) {
      pending.set(tid, out.length);
      out.push({ tid, text: rest.slice(0, -" <unfinished ...>".length) });
    } else out.push({ tid, text: rest });
  }
  // A thread (CLONE_THREAD) belongs to its creator's process; a child process is its own.
  for (const l of out) {
    const clone = l.text.match(/^clone3?\(.*\) += (\d+)$/);
    if (clone) processOf.set(clone[1]!, /CLONE_THREAD/.test(l.text) ? processOf.get(l.tid)! : clone[1]!);
  }
  return out.filter((l) => processOf.get(l.tid) === "main").map((l) => normalise(l.text.replace(/\) +=/, ") =")));
}

/** The fd a call returned, for the calls that make one. */
function fdsMade(line: string): number[] {
  const pair = line.match(/^(?:pipe2?|socketpair)\(.*\[(\d+), (\d+)\].*\) = 0$/);
  if (pair) return [Number(pair[1]), Number(pair[2])];
  const one = line.match(
    /^(?:openat|open|bpf|perf_event_open|epoll_create1|eventfd2|dup|dup2|dup3|socket|accept4?|memfd_create|pidfd_open)\(.* = (\d+)$/,
  );
  return one ? [Number(one[1])] : [];
}

describe.runIf(hasStrace)("tsbpf load --trace: every file and fd call of the load, none made up", () => {
  it("bpf/bootstrap.bpf.o: host file reads shown, every close of a load's fd shown, no phantom lines", () => {
    const S = join(dir, "full.strace");
    const T = join(dir, "full.trace");
    execFileSync(
      "strace",
      ["-f", "-v", "-o", S, process.execPath, "dist/src/cli/tsbpf.cjs", "load", `--trace=${T}`, "bpf/bootstrap.bpf.o", "--duration", "1"],
      {
        stdio: "ignore",
      },
    );
    const theirs = mainProcessCalls(readFileSync(S, "utf8"));
    const ours = readFileSync(T, "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("    # "))
      .map(normalise);

    // The host files the load reads are in the trace: kernel BTF (opened, sized, mapped, closed), tracefs ids.
    const vmlinux = ours.find((l) => l.startsWith('openat(AT_FDCWD, "/sys/kernel/btf/vmlinux", O_RDONLY|O_CLOEXEC) = '));
    expect(vmlinux).toBeDefined();
    const btfFd = fdsMade(vmlinux!)[0]!;
    expect(ours).toContain(`close(${btfFd}) = 0`);
    expect(ours.some((l) => l.startsWith(`fstat(${btfFd}, {st_dev=makedev(`) && / st_size=\d+, /.test(l))).toBe(true);
    expect(ours.some((l) => l.startsWith(`mmap(NULL, `) && l.includes(`, PROT_READ, MAP_PRIVATE, ${btfFd}, 0) = 0xADDR`))).toBe(true);
    for (const event of ["sched_process_exec", "sched_process_exit"]) {
      const open = ours.find((l) =>
        l.startsWith(`openat(AT_FDCWD, "/sys/kernel/tracing/events/sched/${event}/id", O_RDONLY|O_CLOEXEC) = `),
      );
      expect(open, event).toBeDefined();
      const fd = fdsMade(open!)[0]!;
      expect(ours.some((l) => new RegExp(`^read\\(${fd}, "\\d+\\\\n", 32\\) = \\d$`).test(l))).toBe(true);
      expect(ours).toContain(`close(${fd}) = 0`);
    }

    // No phantom lines: each line of the trace is a call strace saw (in whatever thread made it).
    const unmatched = new Map<string, number>();
    for (const l of theirs) unmatched.set(l, (unmatched.get(l) ?? 0) + 1);
    const phantom: string[] = [];
    for (const l of ours) {
      const n = unmatched.get(l) ?? 0;
      if (n === 0) phantom.push(l);
      else unmatched.set(l, n - 1);
    }
    expect(phantom).toEqual([]);

    // Within the load (from the trace's first line to its last), every close strace saw of an fd
    // made by a call in the trace is in the trace too; so is every sysfs/procfs file opened (the
    // tracer's own /proc/self reads aside).
    const first = theirs.indexOf(ours[0]!);
    const last = theirs.lastIndexOf(ours[ours.length - 1]!);
    expect(first).toBeGreaterThanOrEqual(0);
    const window = theirs.slice(first, last + 1);
    const ourSet = new Set(ours);
    const madeBy = new Map<number, string>();
    const missing: string[] = [];
    let closes = 0;
    for (const l of window) {
      for (const fd of fdsMade(l)) madeBy.set(fd, l);
      const close = l.match(/^close\((\d+)\) = /);
      if (close) {
        const fd = Number(close[1]);
        const maker = madeBy.get(fd);
        madeBy.delete(fd);
        if (maker !== undefined && ourSet.has(maker)) {
          closes++;
          if (!ourSet.has(l)) missing.push(`${l} (of ${maker})`);
        }
      }
      if (/^openat\(AT_FDCWD, "\/(sys|proc)\//.test(l) && !l.includes('"/proc/self/') && !ourSet.has(l)) missing.push(l);
    }
    expect(missing).toEqual([]);
    expect(closes).toBeGreaterThan(15);
  }, 60_000);
});
