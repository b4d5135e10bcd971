/**
 * Memory is bounded by what the kernel really needs, not by what a small
 * file claims. bpf/big_bss.bpf.o is a 2 KB object whose .bss is 256 MiB:
 * - loading it (in a child process, so that its peak RSS, VmHWM, is its
 *   own) peaks at no more than 1.2 × 256 MiB + 80 MB: the map's pages are
 *   mapped into the process once (the mmap of .bss), the zeros are never
 *   allocated or copied in user space;
 * - parsing and inspecting it allocate nothing in proportion to the .bss;
 * - the largest zero-filled section accepted is an option (default 1 GiB).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_ZERO_FILL_SIZE } from "../src/elf/elf-file.js";
import { ObjectFormatError } from "../src/errors.js";
import { inspectObject } from "../src/spec/inspect.js";
import { parseObject } from "../src/spec/object-spec.js";
import { thrownBy } from "./helpers/thrown.js";

const OBJ = "bpf/big_bss.bpf.o";
const BSS = 256 * 1024 * 1024 + 4; // `big` and `hits`
const MB = 1024 * 1024;
const DIST = resolve("dist/src");

const LOAD_CHILD = `
import { readFileSync } from "node:fs";
import { BpfObject } from ${JSON.stringify(join(DIST, "object/bpf-object.js"))};
const obj = BpfObject.open(${JSON.stringify(resolve(OBJ))});
obj.load();
const first = obj.program("touch_end").testRun(new Uint8Array(64)).retval;
const second = obj.program("touch_end").testRun(new Uint8Array(64)).retval;
const hits = obj.readVariable("hits");
obj.destroy();
const status = readFileSync("/proc/self/status", "utf8");
const kb = (f) => Number(new RegExp("^" + f + ":\\\\s+(\\\\d+) kB", "m").exec(status)[1]);
console.log(JSON.stringify({ first, second, hits, peak: kb("VmHWM") * 1024 }));
`;

describe("memory bounded by the kernel's needs, not the file's claims", () => {
  it(`the fixture is small and its .bss is ${BSS} bytes`, () => {
    expect(readFileSync(OBJ).byteLength).toBeLessThan(8192);
    const spec = parseObject(new Uint8Array(readFileSync(OBJ)), { path: OBJ });
    expect(spec.elf.section(".bss")!.size).toBe(BSS);
  });

  it("loading a 256 MiB .bss: peak RSS of the loading process ≤ 1.2 × 256 MiB + 80 MB", () => {
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", LOAD_CHILD], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const r = JSON.parse(run.stdout) as { first: number; second: number; hits: number; peak: number };
    // The program writes the array's last byte: the map really is that large.
    expect([r.first, r.second, r.hits]).toEqual([1, 2, 2]);
    const bound = 1.2 * 256 * MB + 80 * MB;
    console.log(`big_bss.bpf.o load: peak RSS ${(r.peak / MB).toFixed(0)} MB (bound ${(bound / MB).toFixed(0)} MB)`);
    expect(r.peak).toBeLessThanOrEqual(bound);
  });

  it("parsing and inspecting allocate nothing in proportion to the .bss", () => {
    const bytes = new Uint8Array(readFileSync(OBJ));
    const before = process.memoryUsage().arrayBuffers;
    const spec = parseObject(bytes, { path: OBJ });
    const report = inspectObject(spec);
    const json = JSON.stringify(report);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(MB);
    expect(json.length).toBeLessThan(64 * 1024);
    expect(report.maps.find((m) => m.name === "big_bss.bss")).toMatchObject({ valueSize: BSS });
    expect(report.variables.find((v) => v.name === "big")).toMatchObject({ size: 256 * MB, initial: `""` });
  });

  it("the largest zero-filled section is an option; over it, a typed error naming the section", () => {
    expect(DEFAULT_MAX_ZERO_FILL_SIZE).toBe(1 << 30);
    const bytes = new Uint8Array(readFileSync(OBJ));
    const e = thrownBy(() => parseObject(bytes, { path: OBJ, maxZeroFillSize: 64 * MB }));
    expect(e).toBeInstanceOf(ObjectFormatError);
    expect((e as ObjectFormatError).where).toBe("section .bss");
    expect((e as Error).message).toMatch(/SHT_NOBITS size 268435460 is larger than the 67108864-byte limit \(the maxZeroFillSize option\)/);
    expect(parseObject(bytes, { path: OBJ, maxZeroFillSize: BSS }).maps.length).toBe(1);
  });
});
