/**
 * The generated TypeScript skeleton: in sync with its generator, typed (tsc
 * accepts correct use and rejects a misspelt field), and working.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateSkeleton } from "../src/object/skeleton-gen.js";
import { parseObject } from "../src/spec/object-spec.js";

const TSC = [
  "node_modules/typescript/bin/tsc",
  "--noEmit",
  "--strict",
  "--module",
  "nodenext",
  "--moduleResolution",
  "nodenext",
  "--target",
  "es2022",
  "--lib",
  "es2022,esnext.disposable",
  "--types",
  "node",
  "--skipLibCheck",
];

function typecheck(source: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(process.cwd(), ".tmp-skel-"));
  try {
    const file = join(dir, "use.ts");
    writeFileSync(file, source);
    const r = spawnSync(process.execPath, [...TSC, file], { encoding: "utf8" });
    return { ok: r.status === 0, output: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const USE = (field: string) => `
import { BootstrapSkeleton, type Event } from "../examples/bootstrap.skel.js";
const skel = BootstrapSkeleton.open();
skel.rodata.${field} = 5n;
const e: Event = BootstrapSkeleton.decodeEvent(new Uint8Array(168));
const pid: number = e.pid;
const m = skel.maps.exec_start;
const v: bigint | undefined = m.lookup(pid);
skel.destroy();
export { v };
`;

describe("tsbpf gen skeleton", () => {
  it("examples/bootstrap.skel.ts is what the generator makes today (npm run skeletons)", () => {
    const bytes = readFileSync("bpf/bootstrap.bpf.o");
    const fresh = generateSkeleton(parseObject(bytes, { path: "bpf/bootstrap.bpf.o" }), { bytes, importFrom: "../src/index.js" });
    expect(readFileSync("examples/bootstrap.skel.ts", "utf8")).toBe(fresh);
  });

  it("type-checks correct use and rejects a misspelt field", () => {
    const good = typecheck(USE("min_duration_ns"));
    expect(good.output).toBe("");
    expect(good.ok).toBe(true);
    const bad = typecheck(USE("min_duraton_ns"));
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/min_duraton_ns.*does not exist on type 'BootstrapRodata'/);
  });

  it("works: rodata before load, typed map access after", async () => {
    const { BootstrapSkeleton } = await import("../examples/bootstrap.skel.js");
    using skel = BootstrapSkeleton.open();
    skel.rodata.min_duration_ns = 123n;
    skel.load();
    expect(skel.rodata.min_duration_ns).toBe(123n);
    expect(() => (skel.rodata.min_duration_ns = 1n)).toThrow(/read-only once loaded/);
    skel.maps.exec_start.update(42, 7n);
    expect(skel.maps.exec_start.lookup(42)).toBe(7n);
    expect(skel.progs.handle_exec.fd).toBeGreaterThan(0);
  });

  it("the README's library example type-checks against the public API", () => {
    const readme = readFileSync("README.md", "utf8");
    const start = readme.indexOf("```ts\nimport { BpfObject, RingBuffer");
    expect(start).toBeGreaterThan(0);
    const code = readme.slice(start + 6, readme.indexOf("```", start + 6)).replace('from "tsbpf"', 'from "../src/index.js"');
    const r = typecheck(code + "\nexport {};\n");
    expect(r.output).toBe("");
    expect(r.ok).toBe(true);
  });
});
