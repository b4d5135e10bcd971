/**
 * After relocation, tsbpf loads the same instructions as libbpf: the same
 * object is loaded by `bpftool prog loadall` (libbpf, as an oracle) and by
 * tsbpf, and the kernel's translated instructions are compared, with map ids
 * replaced by map names, and so are the maps bound to each program.
 */
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { HAVE_BPFTOOL, boundMapNames, bpftoolLoadAll, normalisedXlated } from "./helpers/oracle.js";

describe.runIf(HAVE_BPFTOOL)("tsbpf vs libbpf (bpftool prog loadall)", () => {
  it("loads the same handle_exec and handle_exit instructions as libbpf", () => {
    const libbpf = bpftoolLoadAll("bpf/bootstrap.bpf.o");
    try {
      const theirs = new Map([...libbpf.progs].map(([name, fd]) => [name, normalisedXlated(fd)]));
      expect([...theirs.keys()].sort()).toEqual(["handle_exec", "handle_exit"]);
      // The comparison has teeth: real instruction streams that reference the maps by name.
      expect(theirs.get("handle_exec")!.length).toBeGreaterThan(50);
      expect(theirs.get("handle_exec")!.join("\n")).toContain("map=exec_start");
      expect(theirs.get("handle_exit")!.join("\n")).toContain("map=bootstra.rodata");
      using obj = BpfObject.open("bpf/bootstrap.bpf.o");
      obj.load();
      for (const name of ["handle_exec", "handle_exit"]) {
        expect(normalisedXlated(obj.program(name).fd), name).toEqual(theirs.get(name));
        expect(boundMapNames(obj.program(name).fd), name).toEqual(boundMapNames(libbpf.progs.get(name)!));
      }
    } finally {
      libbpf.close();
    }
  });
});
