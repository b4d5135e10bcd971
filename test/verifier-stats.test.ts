/**
 * The verifier's own account of a load: `-v` / `--explain` show each
 * program's statistics (asked for with BPF_LOG_STATS), whose instruction
 * count is the kernel's verified_insns for the loaded program (the same
 * number bpftool prog show prints as "verified_insns"); `--verifier-log=2`
 * prints the full log, the verifier's state at each instruction.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import type { LoadStep } from "../src/object/load-steps.js";
import { progInfo } from "../src/syscall/obj-info.js";

const CLI = "dist/src/cli/tsbpf.cjs";
const STATS = /^processed (\d+) insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read \d+$/;

describe("verifier statistics and log", () => {
  it("the program-loaded step carries the statistics; processed = the kernel's verified_insns", () => {
    const steps: LoadStep[] = [];
    using obj = BpfObject.open("bpf/bootstrap.bpf.o", { verifierStats: true, onStep: (s) => steps.push(s) });
    obj.load();
    const loaded = steps.filter((s) => s.kind === "program-loaded");
    expect(loaded.map((s) => s.program).sort()).toEqual(["handle_exec", "handle_exit"]);
    for (const s of loaded) {
      const line = s.verifierStats?.find((l) => STATS.test(l));
      expect(line, s.program).toBeDefined();
      expect(Number(line!.match(STATS)![1])).toBe(progInfo(obj.program(s.program).fd).verifiedInsns);
      // Asked only for statistics: that is not the program's verifier log.
      expect(obj.program(s.program).verifierLog).toBeUndefined();
    }
  });

  it("without verifierStats the step has none (and the load asks for no log)", () => {
    const steps: LoadStep[] = [];
    using obj = BpfObject.open("bpf/minimal.bpf.o", { onStep: (s) => steps.push(s) });
    obj.load();
    const loaded = steps.find((s) => s.kind === "program-loaded");
    expect(loaded && "verifierStats" in loaded).toBe(false);
  });

  it("tsbpf load -v prints them; --verifier-log=2 prints the state at each instruction", () => {
    const v = spawnSync(process.execPath, [CLI, "load", "bpf/minimal.bpf.o", "-v", "--no-printk", "--duration", "0.1"], {
      encoding: "utf8",
    });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/\n {4}verifier: processed \d+ insns \(limit 1000000\) max_states_per_insn/);
    const log = spawnSync(process.execPath, [CLI, "load", "bpf/minimal.bpf.o", "--verifier-log=2", "--no-printk", "--duration", "0.1"], {
      encoding: "utf8",
    });
    expect(log.status, log.stderr).toBe(0);
    expect(log.stderr).toContain("tsbpf: verifier log of handle_tp:\n");
    expect(log.stderr).toMatch(/\n0: R1=ctx\(\)/);
    expect(log.stderr).toMatch(/\nprocessed \d+ insns/);
    const bad = spawnSync(process.execPath, [CLI, "load", "bpf/minimal.bpf.o", "--verifier-log=3"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--verifier-log takes 1 or 2 (the verifier\'s log level), not "3"');
  });
});
