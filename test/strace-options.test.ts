/**
 * `--trace` with strace's output options, against strace 6.1 run over the
 * same load with the same options: `--trace-time=tt` (-tt),
 * `--trace-syscall-times` (-T), `--trace-strsize` (-s) and the default
 * alignment of " = " at column 40 (-a 40). strace runs without -f, so its
 * lines carry no pid prefix and must equal tsbpf's byte for byte once the
 * times themselves (which cannot be equal) are masked.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "tsbpf-strace-options-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasStrace = existsSync("/usr/bin/strace") && spawnSync("strace", ["-V"]).status === 0;
const CLI = "dist/src/cli/tsbpf.cjs";

const TT = /^(\d\d):(\d\d):(\d\d)\.(\d{6}) /;
const DURATION = / <(\d+\.\d{6})>$/;
const CALLS = /^(bpf|close|openat|read|fstat)\(/;

/** The line with its start time, duration and buffer addresses masked (the times have strace's widths). */
const masked = (l: string) =>
  l
    .replace(TT, "HH:MM:SS.uuuuuu ")
    .replace(DURATION, " <S.uuuuuu>")
    .replace(/0x[0-9a-f]{6,}/g, "0xADDR");

/** Whether `sub` appears in `seq` in order (not necessarily adjacent). */
function isSubsequence(sub: string[], seq: string[]): string | undefined {
  let i = 0;
  for (const l of sub) {
    while (i < seq.length && seq[i] !== l) i++;
    if (i === seq.length) return l;
    i++;
  }
  return undefined;
}

describe.runIf(hasStrace)("--trace with strace's -tt, -T, -s and -a", () => {
  it("equals strace -v -tt -T -s 64 line for line, padding included, times aside", () => {
    const S = join(dir, "s.strace");
    const T = join(dir, "s.trace");
    execFileSync(
      "strace",
      [
        "-v",
        "-tt",
        "-T",
        "-s",
        "64",
        "-o",
        S,
        process.execPath,
        CLI,
        "load",
        "bpf/minimal.bpf.o",
        "--no-printk",
        "--duration",
        "0.5",
      ].concat([`--trace=${T}`, "--trace-time=tt", "--trace-syscall-times", "--trace-strsize", "64"]),
      { stdio: "ignore" },
    );
    const theirs = readFileSync(S, "utf8").split("\n").filter(Boolean);
    const traced = readFileSync(T, "utf8").split("\n");
    // Calls made on libuv's threads are not the main thread's, which is all strace without -f sees.
    const ours = traced.filter((l, i) => l && !l.startsWith("    # ") && traced[i + 1] !== "    # ran on a libuv pool thread");

    for (const l of ours) {
      expect(l, l).toMatch(TT);
      expect(l, l).toMatch(DURATION);
    }
    const times = ours.map((l) => {
      const [, h, m, s, us] = l.match(TT)!.map(Number) as number[];
      return ((h! * 60 + m!) * 60 + s!) * 1e6 + us!;
    });
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const mine = ours.map(masked).filter((l) => CALLS.test(l.slice(16)));
    const strace = theirs.map(masked).filter((l) => CALLS.test(l.slice(16)));
    // Short calls are padded: the comparison covers the alignment, not only long lines.
    expect(mine.some((l) => /^.{16}close\(\d+\) {10,}= 0 </.test(l))).toBe(true);
    // -s 64: BTF blobs are cut short ("..." after the quote), as strace cuts them.
    expect(mine.some((l) => /btf="[^"]*"\.\.\., /.test(l))).toBe(true);
    expect(mine.length).toBeGreaterThan(10);
    expect(isSubsequence(mine, strace)).toBeUndefined();
  }, 60_000);

  it("-t and -ttt styles are strace's", () => {
    for (const [style, re] of [
      ["t", /^\d\d:\d\d:\d\d [a-z_0-9]+\(/],
      ["ttt", /^\d{10}\.\d{6} [a-z_0-9]+\(/],
    ] as const) {
      const T = join(dir, `style-${style}.trace`);
      execFileSync(
        process.execPath,
        [CLI, "load", "bpf/minimal.bpf.o", "--no-printk", "--duration", "0.2", `--trace=${T}`, `--trace-time=${style}`],
        {
          stdio: "ignore",
        },
      );
      const lines = readFileSync(T, "utf8")
        .split("\n")
        .filter((l) => l && !l.startsWith("    # "));
      expect(lines.length).toBeGreaterThan(5);
      for (const l of lines) expect(l, style).toMatch(re);
    }
    const ttt = readFileSync(join(dir, "style-ttt.trace"), "utf8").match(/^\d{10}/)![0];
    expect(Math.abs(Number(ttt) - Date.now() / 1000)).toBeLessThan(3600);
  });

  it("bad values are usage errors (exit 2) naming the option; the options need --trace", () => {
    for (const [args, msg] of [
      [["--trace", "--trace-strsize", "abc"], "--trace-strsize takes a whole number"],
      [["--trace", "--trace-time=ms"], '--trace-time takes t, tt or ttt, not "ms"'],
      [["--trace-syscall-times"], "--trace-syscall-times needs --trace"],
    ] as const) {
      const r = spawnSync(process.execPath, [CLI, "load", "bpf/minimal.bpf.o", "--no-printk", "--duration", "0.1", ...args], {
        encoding: "utf8",
      });
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(msg);
    }
  });
});
