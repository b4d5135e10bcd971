/**
 * `tsbpf load` without the capabilities BPF needs: root with CAP_BPF,
 * CAP_PERFMON and CAP_SYS_ADMIN dropped from its bounding set (util-linux
 * setpriv; the exec'd process then lacks them). The command must fail with a
 * non-zero exit and one line on stderr naming the missing capability — not
 * a stack trace, and not a verifier rejection — unless --verbose asks for
 * the stack.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const CLI = join(ROOT, "dist", "src", "cli", "tsbpf.cjs");

function hasSetpriv(): boolean {
  try {
    execFileSync("setpriv", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const canRun = process.getuid?.() === 0 && hasSetpriv();

/** `tsbpf ...args` as root without the capabilities in `drop` (e.g. ["bpf", "perfmon"]). */
function tsbpfWithout(drop: string[], ...args: string[]) {
  return spawnSync(
    "setpriv",
    [
      "--inh-caps=-all",
      "--ambient-caps=-all",
      `--bounding-set=${drop.map((c) => `-${c}`).join(",")}`,
      "--reuid=0",
      process.execPath,
      CLI,
      ...args,
    ],
    { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
  );
}

const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

describe.skipIf(!canRun)("tsbpf load without privileges", () => {
  it("the dropped capabilities are really gone in the child", () => {
    const r = spawnSync(
      "setpriv",
      [
        "--inh-caps=-all",
        "--ambient-caps=-all",
        "--bounding-set=-bpf,-perfmon,-sys_admin",
        "--reuid=0",
        "grep",
        "^CapEff",
        "/proc/self/status",
      ],
      { encoding: "utf8" },
    );
    const eff = BigInt(`0x${r.stdout.split(/\s+/)[1]}`);
    for (const cap of [21n, 38n, 39n]) expect((eff >> cap) & 1n, `capability ${cap}`).toBe(0n);
  });

  it("without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN: exit 1, one line naming CAP_BPF, no stack trace", () => {
    const r = tsbpfWithout(["bpf", "perfmon", "sys_admin"], "load", "bpf/minimal.bpf.o", "--duration", "1");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr), r.stderr).toHaveLength(1);
    const [line] = lines(r.stderr);
    expect(line).toMatch(/^tsbpf: SyscallError: /);
    expect(line).toContain("EPERM");
    expect(line).toContain("lacks CAP_BPF");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("with CAP_BPF but without CAP_PERFMON: the program load is refused for CAP_PERFMON, not by the verifier", () => {
    const r = tsbpfWithout(["perfmon", "sys_admin"], "load", "bpf/minimal.bpf.o", "--duration", "1");
    expect(r.status, r.stderr).toBe(1);
    expect(lines(r.stderr), r.stderr).toHaveLength(1);
    const [line] = lines(r.stderr);
    expect(line).toContain("bpf(BPF_PROG_LOAD) failed: EPERM");
    expect(line).toContain("lacks CAP_PERFMON");
    expect(line).not.toMatch(/verifier/i);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("with --verbose the same message comes with its stack trace", () => {
    const r = tsbpfWithout(["bpf", "perfmon", "sys_admin"], "load", "bpf/minimal.bpf.o", "--duration", "1", "--verbose");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^tsbpf: SyscallError: .*lacks CAP_BPF/m);
    expect(r.stderr).toMatch(/^\s+at /m);
  });
});
