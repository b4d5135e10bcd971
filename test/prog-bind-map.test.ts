/**
 * BPF_PROG_BIND_MAP, as libbpf does it: after each program loads, the
 * object's .rodata maps are bound to it (when the kernel supports the
 * command, probed once), so every program lists .rodata among its maps and
 * `bpftool prog show` prints the object's bpf_metadata_* variables.
 * bpf/metadata.bpf.o: count_calls never reads .rodata, read_version does.
 * Oracle: `bpftool prog show` of the same object loaded by libbpf.
 */
import { isBpfCmd } from "../src/syscall/requests.js";
import { describe, expect, it } from "vitest";
import { BpfCmd } from "../src/abi/uapi-enums.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { resetFeatureCache } from "../src/object/kernel-features.js";
import { EINVAL } from "../src/syscall/errno.js";
import { FakeKernel } from "../src/syscall/fake-kernel.js";
import { observeSyscalls, setKernelBackend } from "../src/syscall/kernel.js";
import { realKernel } from "../src/syscall/libc.js";
import { progInfo } from "../src/syscall/obj-info.js";
import { HAVE_BPFTOOL, boundMapNames, bpftool, bpftoolLoadAll, normalisedXlated } from "./helpers/oracle.js";

const OBJ = "bpf/metadata.bpf.o";
const PROGRAMS = ["count_calls", "read_version"];

/** `bpftool prog show` without what differs between two loads (ids, load time); map ids become names. */
function shown(progFd: number): string {
  const info = progInfo(progFd);
  return bpftool("prog", "show", "id", String(info.id))
    .replace(/^\d+: /, "")
    .replace(/\n\s*loaded_at .*/, "")
    .replace(/map_ids [\d,]+/, `maps ${boundMapNames(progFd).join(",")}`)
    .replace(/btf_id \d+/, "btf_id N");
}

describe("BPF_PROG_BIND_MAP of .rodata", () => {
  it("binds .rodata to every program, one PROG_BIND_MAP per program", () => {
    const binds: number[] = [];
    const stop = observeSyscalls((req, res) => {
      if (isBpfCmd(req, BpfCmd.PROG_BIND_MAP) && res.ret !== -1) binds.push(Number(req.values.prog_fd));
    });
    using obj = BpfObject.open(OBJ);
    try {
      obj.load();
    } finally {
      stop();
    }
    for (const name of PROGRAMS) {
      expect(boundMapNames(obj.program(name).fd), name).toEqual(["metadata.bss", "metadata.rodata"]);
      expect(
        binds.filter((fd) => fd === obj.program(name).fd),
        name,
      ).toHaveLength(1);
    }
  });

  it("a kernel without PROG_BIND_MAP: probed once, nothing bound, the load goes on", () => {
    const fake = new FakeKernel(realKernel).failWhen((r) => r.call === "bpf" && r.cmd === BpfCmd.PROG_BIND_MAP, EINVAL);
    resetFeatureCache();
    setKernelBackend(fake);
    try {
      using obj = BpfObject.open(OBJ);
      obj.load();
      expect(fake.calls.filter((c) => c.call === "bpf" && c.cmd === BpfCmd.PROG_BIND_MAP)).toHaveLength(1); // the probe
      expect(boundMapNames(obj.program("count_calls").fd)).toEqual(["metadata.bss"]);
      expect(boundMapNames(obj.program("read_version").fd)).toEqual(["metadata.bss", "metadata.rodata"]);
    } finally {
      setKernelBackend(realKernel);
      resetFeatureCache();
    }
  });

  it.runIf(HAVE_BPFTOOL)("bpftool prog show prints the same maps and metadata lines as for libbpf's load", () => {
    const libbpf = bpftoolLoadAll(OBJ);
    try {
      using obj = BpfObject.open(OBJ);
      obj.load();
      for (const name of PROGRAMS) {
        const theirs = shown(libbpf.progs.get(name)!);
        expect(theirs).toContain('\tmetadata:\n\t\tname = "tsbpf metadata fixture"\n\t\tversion = 3');
        expect(theirs).toContain("maps metadata.bss,metadata.rodata");
        expect(shown(obj.program(name).fd), name).toBe(theirs);
        expect(normalisedXlated(obj.program(name).fd), name).toEqual(normalisedXlated(libbpf.progs.get(name)!));
      }
    } finally {
      libbpf.close();
    }
  });
});
