/**
 * The hint a failed syscall carries names the true reason: a huge map is too
 * large (not "kernel too old"), an invalid name is the name (not the type,
 * sizes, flags or the verifier), a directory or a program at a map's pin
 * path is said to be one, and capabilities are blamed only when missing.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TsbpfError } from "../src/errors.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { pinMap } from "../src/maps/pinning.js";
import { BpfCmd, BpfMapType, BpfProgType } from "../src/abi/uapi-enums.js";
import { loadProgram } from "../src/programs/prog-load.js";
import { bpf } from "../src/syscall/bpf.js";
import { cString } from "../src/syscall/c-string.js";
import { FakeKernel } from "../src/syscall/fake-kernel.js";
import { withKernelBackend } from "../src/syscall/kernel.js";
import { realKernel } from "../src/syscall/libc.js";
import { EPERM } from "../src/syscall/errno.js";
import { SyscallError } from "../src/syscall/syscall-error.js";
import { BpfMap } from "../src/maps/bpf-map.js";
import { removePins, testPinDir } from "./helpers/pins.js";
import { thrownBy } from "./helpers/thrown.js";

/** A small array map spec, for the calls made directly. */
const ARRAY = {
  name: "hint_array",
  type: BpfMapType.ARRAY,
  keySize: 4,
  valueSize: 4,
  maxEntries: 1,
  flags: 0,
  freeze: false,
  btfKeyTypeId: 0,
  btfValueTypeId: 0,
};

const root = testPinDir();
afterAll(() => removePins(root));

function loadError(path: string, edit: (obj: BpfObject) => void, opts: { pinRoot?: string } = {}): Error {
  const obj = BpfObject.open(path, opts);
  edit(obj);
  const e = thrownBy(() => obj.load());
  expect(e).toBeInstanceOf(TsbpfError);
  expect(obj.state).toBe("destroyed");
  return e as Error;
}

describe("error hints name the true reason", () => {
  it("E2BIG for a huge hash map: the map is too large, not the kernel too old", () => {
    const e = loadError("bpf/maps.bpf.o", (o) => {
      o.editMap("hash").setMaxEntries(0xffffffff);
    });
    expect(e).toBeInstanceOf(SyscallError);
    expect((e as SyscallError).code).toBe("E2BIG");
    expect(e.message).toContain("creating map hash");
    expect(e.message).toContain("the map is larger than the kernel allows for its type (max_entries 4294967295, key 4 B, value 16 B)");
    expect(e.message).not.toMatch(/too old/);
  });

  it("an invalid map name is the name, not the type, sizes or flags", () => {
    const e = thrownBy(() => BpfMap.create({ ...ARRAY, name: "bad-name" }));
    expect((e as SyscallError).code).toBe("EINVAL");
    expect((e as Error).message).toContain('the name "bad-name" has characters the kernel refuses in object names');
    expect((e as Error).message).not.toMatch(/type, sizes or flags/);
  });

  it("an invalid program name is the name, not a verifier rejection", () => {
    // r0 = 0; exit: a program the verifier accepts, under a name the kernel refuses.
    const insns = Uint8Array.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    const e = thrownBy(() =>
      loadProgram({ name: "bad name", type: BpfProgType.XDP, expectedAttachType: 0, insns, license: "GPL", kernelVersion: 0 }),
    );
    expect(e).toBeInstanceOf(SyscallError);
    expect((e as Error).name).toBe("SyscallError");
    expect((e as Error).message).toContain("loading program bad name");
    expect((e as Error).message).toContain('the name "bad name" has characters the kernel refuses in object names');
    expect((e as Error).message).not.toMatch(/verifier/);
  });

  it("a directory at a map's pin path is a directory, not a missing CAP_BPF", () => {
    const dir = mkdtempSync(join(root, "dir-"));
    mkdirSync(join(dir, "shared_counter"));
    const e = loadError("bpf/pinning.bpf.o", () => {}, { pinRoot: dir });
    expect(e.message).toContain(`opening pinned map ${dir}/shared_counter`);
    expect(e.message).toContain(`${dir}/shared_counter is a directory, not a pinned BPF object`);
    expect(e.message).not.toMatch(/CAP_BPF/);
  });

  it("a program pinned where a map is expected is said to be a program", () => {
    const dir = mkdtempSync(join(root, "prog-"));
    {
      using minimal = BpfObject.open("bpf/minimal.bpf.o");
      minimal.load();
      bpf(BpfCmd.OBJ_PIN, { pathname: cString(join(dir, "shared_counter")), bpf_fd: minimal.programs[0]!.fd, file_flags: 0 });
    }
    const e = loadError("bpf/pinning.bpf.o", () => {}, { pinRoot: dir });
    expect(e.message).toBe(
      `${dir}/shared_counter holds a program, not a map; unpin it (rm ${dir}/shared_counter) or choose another pin root`,
    );
    expect(e.message).not.toMatch(/key_size|value_size|max_entries/);
  });

  it("pinning outside bpffs is outside bpffs, not a missing CAP_BPF", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-pin-"));
    try {
      using map = BpfMap.create({
        name: "hint_pin",
        type: BpfMapType.ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
        flags: 0,
        freeze: false,
        btfKeyTypeId: 0,
        btfValueTypeId: 0,
      });
      const e = thrownBy(() => pinMap(map.fd, join(dir, "m")));
      expect((e as SyscallError).code).toBe("EPERM");
      expect((e as Error).message).toContain(`${dir} is not on a BPF filesystem`);
      expect((e as Error).message).not.toMatch(/CAP_BPF/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an EPERM with every capability present does not blame capabilities", async () => {
    const fake = new FakeKernel(realKernel).failWhen((r) => r.call === "bpf" && r.cmd === BpfCmd.MAP_CREATE, EPERM);
    const e = await withKernelBackend(fake, () =>
      thrownBy(() =>
        BpfMap.create({
          name: "hint_eperm",
          type: BpfMapType.ARRAY,
          keySize: 4,
          valueSize: 4,
          maxEntries: 1,
          flags: 0,
          freeze: false,
          btfKeyTypeId: 0,
          btfValueTypeId: 0,
        }),
      ),
    );
    expect((e as Error).message).toContain("and this process has CAP_BPF: the refusal comes from elsewhere");
    // The capability check itself went through the syscall door.
    expect(fake.calls.some((c) => c.call === "capget")).toBe(true);
  });
});
