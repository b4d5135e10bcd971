/**
 * `tsbpf load --set NAME=VALUE` on the command line: a bad value exits 2
 * with one line naming the variable, its C type and the problem, loading
 * nothing; good ones load. Parsing per C type: set-option.unit.test.ts.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const OBJ = "bpf/set_types.bpf.o";
const tsbpf = (...args: string[]) => spawnSync(process.execPath, ["dist/src/cli/tsbpf.cjs", ...args], { encoding: "utf8" });

describe.skipIf(process.getuid?.() !== 0)("tsbpf load --set on the command line", () => {
  it("a bad value exits 2 with one line and the verb's usage, loading nothing", () => {
    const r = tsbpf("load", OBJ, "--set", "u64_value=abc", "--duration", "0.1");
    expect(r.status).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      'tsbpf: --set u64_value=abc: u64_value is const volatile unsigned long long (.rodata); "abc" is not an integer (decimal, 0x…, 0o… or 0b…, with optional _ between digits)',
    );
    expect(r.stderr).toContain("usage: tsbpf load");
    expect(r.stderr).not.toContain("loaded");
  });

  it("good values load", () => {
    const r = tsbpf(
      "load",
      OBJ,
      "--set",
      "u64_value=0xffff_ffff_ffff_ffff",
      "--set",
      'limits={"hi": 3}',
      "--set",
      "level=LEVEL_HIGH",
      "--duration",
      "0.1",
    );
    expect(r.stderr).toContain("loaded set_types: 1 program(s)");
    expect(r.status).toBe(0);
  });
});
