/**
 * Two processes loading an object with a LIBBPF_PIN_BY_NAME map at the same
 * moment: both find the pin path free, both create the map, one pins first.
 * The other must reuse the pinned map (OBJ_PIN's EEXIST), not fail. 50 pairs,
 * each pair released at once through its stdin after parsing, under its own
 * pin directory; every load succeeds and both halves of a pair share one map.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removePins, testPinDir } from "./helpers/pins.js";

const PAIRS = 50;
/** Pairs running at once (2 CPUs shared with other work: enough to overlap, not to thrash). */
const CONCURRENT_PAIRS = 10;
const DIST = resolve("dist/src");

// Parses first, then waits for a line on stdin, then loads: the two loads of a pair start together.
const CHILD = `
import { BpfObject } from ${JSON.stringify(join(DIST, "object/bpf-object.js"))};
import { mapInfo } from ${JSON.stringify(join(DIST, "syscall/obj-info.js"))};
const obj = BpfObject.open(${JSON.stringify(resolve("bpf/pinning.bpf.o"))}, { pinRoot: process.argv[1] });
process.stdout.write("ready\\n");
process.stdin.once("data", () => {
  try {
    obj.load();
    process.stdout.write("map " + mapInfo(obj.map("shared_counter").fd).id + "\\n");
    obj.destroy();
    process.exit(0);
  } catch (e) {
    process.stdout.write("error " + e.message + "\\n");
    process.exit(1);
  }
});
`;

const root = testPinDir();
afterAll(() => removePins(root));

function child(dir: string): { proc: ChildProcess; out: () => string; ready: Promise<void>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ["--input-type=module", "-e", CHILD, dir], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  proc.stdout!.on("data", (d) => {
    out += d;
    if (out.includes("ready\n")) onReady();
  });
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  return { proc, out: () => out, ready, exited };
}

async function pair(i: number): Promise<{ i: number; outs: string[]; codes: Array<number | null> }> {
  const dir = mkdtempSync(join(root, `pair${i}-`));
  const kids = [child(dir), child(dir)];
  await Promise.all(kids.map((k) => k.ready));
  for (const k of kids) k.proc.stdin!.write("go\n");
  const codes = await Promise.all(kids.map((k) => k.exited));
  return { i, outs: kids.map((k) => k.out().replace("ready\n", "").trim()), codes };
}

describe("pin-by-name race", () => {
  it(`${PAIRS} concurrent pairs of loads: no failure, each pair shares one pinned map`, async () => {
    const results: Awaited<ReturnType<typeof pair>>[] = [];
    for (let next = 0; next < PAIRS; ) {
      const batch = [];
      for (let k = 0; k < CONCURRENT_PAIRS && next < PAIRS; k++) batch.push(pair(next++));
      results.push(...(await Promise.all(batch)));
    }
    const failures = results.filter((r) => r.codes.some((c) => c !== 0));
    expect(
      failures.map((f) => `pair ${f.i}: ${f.outs.join(" | ")}`),
      "failed loads",
    ).toEqual([]);
    for (const r of results) {
      const ids = r.outs.map((o) => /^map (\d+)$/.exec(o)?.[1]);
      expect(ids[0], `pair ${r.i}: ${r.outs.join(" | ")}`).toBeDefined();
      expect(ids[1], `pair ${r.i}`).toBe(ids[0]);
    }
  }, 300_000);
});
