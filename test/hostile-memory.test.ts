/**
 * What the hand-written hostile shapes (fuzz/hostile.mjs) cost: each runs
 * through the fuzzer's pipeline on dist/ in a child process, whose peak RSS
 * (VmHWM) is then its own. The small shapes together stay within a small
 * object's budget; each 200 MB file (made sparse on the fly, read whole as
 * BpfObject.open reads a file) costs the file and a constant, not a copy
 * per section. Their outcomes are checked on src/ by fuzz-regressions.test.ts.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIG_FILE_SIZE, type HostileCase, hostileCases } from "../fuzz/hostile.mjs";

const ROOT = join(import.meta.dirname, "..");
const MB = 1024 * 1024;
const corpus = new Map(
  readdirSync(join(ROOT, "bpf"))
    .filter((n) => n.endsWith(".bpf.o"))
    .map((n) => [n, new Uint8Array(readFileSync(join(ROOT, "bpf", n)))] as const),
);
const HOSTILE: HostileCase[] = hostileCases(corpus);

describe("hostile shapes cost what their input costs", () => {
  /** `node fuzz/hostile.mjs --check ...` on dist/: the outcome of each case and the child's peak RSS. */
  function check(args: string[]): { results: Array<{ name: string; errors?: unknown[]; failure?: string }>; peak: number } {
    const r = spawnSync(process.execPath, [join(ROOT, "fuzz", "hostile.mjs"), "--check", ...args], {
      encoding: "utf8",
      maxBuffer: 64 * MB,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const last = lines.pop() as { peakRss: number };
    return { results: lines, peak: last.peakRss };
  }

  it("the small shapes together cost no more than a small object's parse (child peak RSS ≤ 160 MB)", () => {
    const { results, peak } = check([]);
    expect(results.map((r) => r.name)).toEqual(HOSTILE.filter((c) => c.bytes).map((c) => c.name));
    expect(results.filter((r) => r.failure)).toEqual([]);
    console.log(`hostile shapes: ${results.length} cases, child peak RSS ${(peak / MB).toFixed(0)} MB`);
    expect(peak).toBeLessThanOrEqual(160 * MB);
  });

  it.each(
    HOSTILE.filter((c) => c.build).map((c) => [c.name, c] as const),
  )("%s (200 MB): succeeds, peak RSS ≤ the file + 160 MB", (name, c) => {
    const { results, peak } = check(["--big", name]);
    expect(results).toEqual([{ name, errors: [] }]);
    expect(c.expect).toBe("ok");
    console.log(`${name}: child peak RSS ${(peak / MB).toFixed(0)} MB for a ${BIG_FILE_SIZE / MB} MB file`);
    expect(peak).toBeLessThanOrEqual(BIG_FILE_SIZE + 160 * MB);
  });
});
