/**
 * An EPERM is blamed on a capability only when the process lacks it
 * (effective set). bpf/arena.bpf.o declares a BPF arena map, which some
 * kernels refuse with EPERM even to root (this VM's does): the error says
 * what the kernel refused and that CAP_BPF is there. Without CAP_BPF
 * (setpriv), the same load names the missing capability.
 */
import { isBpfCmd } from "../src/syscall/requests.js";
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfCmd, BpfMapType } from "../src/abi/uapi-enums.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { EPERM } from "../src/syscall/errno.js";
import { FakeKernel } from "../src/syscall/fake-kernel.js";
import { setKernelBackend } from "../src/syscall/kernel.js";
import { realKernel } from "../src/syscall/libc.js";
import { SyscallError } from "../src/syscall/syscall-error.js";
import { HAVE_BPFTOOL } from "./helpers/oracle.js";
import { thrownBy } from "./helpers/thrown.js";

const OBJ = "bpf/arena.bpf.o";
const REFUSED = "the kernel refused to create a BPF_MAP_TYPE_ARENA map, and this process has CAP_BPF: the refusal comes from elsewhere";

function expectRefusalExplained(err: unknown): void {
  expect(err).toBeInstanceOf(SyscallError);
  const e = err as SyscallError;
  expect(e.code).toBe("EPERM");
  expect(e.message).toContain("creating map arena: bpf(BPF_MAP_CREATE) failed: EPERM");
  expect(e.hint).toContain(REFUSED);
  expect(e.message).not.toMatch(/run as root|lacks|needs CAP_BPF/);
}

const hasSetpriv = (() => {
  try {
    execFileSync("setpriv", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("EPERM with the capabilities present", () => {
  it("an arena map refused with EPERM (fake kernel): says what was refused, blames no capability", () => {
    setKernelBackend(
      new FakeKernel(realKernel).failWhen((r) => isBpfCmd(r, BpfCmd.MAP_CREATE) && r.values.map_type === BpfMapType.ARENA, EPERM),
    );
    try {
      expectRefusalExplained(thrownBy(() => BpfObject.open(OBJ).load()));
    } finally {
      setKernelBackend(realKernel);
    }
  });

  it.runIf(HAVE_BPFTOOL)("the real kernel: tsbpf and libbpf agree on creating the arena; a refusal is explained", () => {
    const dir = "/sys/fs/bpf/tsbpf-test-arena";
    let libbpf: ReturnType<typeof spawnSync>;
    try {
      libbpf = spawnSync("bpftool", ["prog", "loadall", OBJ, dir], { encoding: "utf8" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const err = thrownBy(() => {
      using obj = BpfObject.open(OBJ);
      obj.load();
    });
    if (libbpf.status === 0) {
      expect(err).toBeUndefined();
    } else {
      expect(libbpf.stderr).toContain("map 'arena': failed to create: Operation not permitted");
      expectRefusalExplained(err);
    }
  });

  it.runIf(hasSetpriv && process.getuid?.() === 0)("without CAP_BPF (setpriv), the same load names the missing capability", () => {
    const r = spawnSync(
      "setpriv",
      [
        "--inh-caps=-all",
        "--ambient-caps=-all",
        "--bounding-set=-bpf,-sys_admin",
        "--reuid=0",
        process.execPath,
        "dist/src/cli/tsbpf.cjs",
        "load",
        OBJ,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tsbpf: SyscallError: .*bpf\(BPF_MAP_CREATE\) failed: EPERM .*this process lacks CAP_BPF/m);
    expect(r.stderr).not.toContain(REFUSED);
  });
});
