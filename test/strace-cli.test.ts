/**
 * `tsbpf load --trace=T` under `strace -f -v -o S`: every bpf and
 * perf_event_open line strace saw is in T, in order, with the same text
 * (pointer values normalised: they differ between a pointer and its print).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "tsbpf-strace-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasStrace = existsSync("/usr/bin/strace") && spawnSync("strace", ["-V"]).status === 0;

const normalise = (l: string) => l.replace(/0x[0-9a-f]{6,}/g, "0xADDR").trim();

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
    it(`${obj}: the same bpf and perf_event_open lines, in the same order`, () => {
      const name = obj.replace(/\W/g, "_");
      const S = join(dir, `${name}.strace`);
      const T = join(dir, `${name}.trace`);
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
          "dist/src/cli/tsbpf.mjs",
          "load",
          `--trace=${T}`,
          obj,
          "--duration",
          "1",
        ],
        {
          stdio: "ignore",
        },
      );
      const theirs = straceLines(S);
      const ours = tsbpfLines(T);
      expect(theirs.length).toBeGreaterThan(10);
      expect(ours).toEqual(theirs);
    }, 60_000);
  }
});
