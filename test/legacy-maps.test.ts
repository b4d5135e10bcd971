/**
 * No object loads with fewer maps than it declares. bpf/legacy_maps.bpf.o
 * declares its map the pre-BTF way (struct bpf_map_def in section "maps"):
 * libbpf 1.0+ refuses it, and tsbpf refuses it at parse time, naming the
 * section, the map and the replacement, in `inspect` too.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ElfFile } from "../src/elf/elf-file.js";
import { ObjectFormatError, UnsupportedError } from "../src/errors.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { parseObject } from "../src/spec/object-spec.js";
import { kernelObjects, newKernelObjects } from "./helpers/kernel.js";
import { thrownBy } from "./helpers/thrown.js";

const OBJ = "bpf/legacy_maps.bpf.o";
const tsbpf = (...args: string[]) => spawnSync(process.execPath, ["dist/src/cli/tsbpf.cjs", ...args], { encoding: "utf8" });
const haveBpftool = existsSync("/usr/sbin/bpftool") || existsSync("/usr/bin/bpftool");

describe("legacy maps section", () => {
  it("parse fails with an UnsupportedError naming the section, the map and .maps", () => {
    const err = thrownBy(() => parseObject(readFileSync(OBJ), { path: OBJ }));
    expect(err).toBeInstanceOf(UnsupportedError);
    const msg = (err as Error).message;
    expect(msg).toContain('section "maps" holds legacy map definitions (struct bpf_map_def: "packets")');
    expect(msg).toContain("libbpf 1.0+");
    expect(msg).toContain('BTF-defined maps in section ".maps"');
  });

  it("tsbpf inspect exits 1 with the message on one line", () => {
    const r = tsbpf("inspect", OBJ);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n").filter((l) => l.trim());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tsbpf: UnsupportedError: section "maps" holds legacy map definitions .*"packets".*\.maps/);
  });

  it("nothing reaches the kernel", () => {
    const before = kernelObjects();
    expect(thrownBy(() => BpfObject.open(OBJ).load())).toBeInstanceOf(UnsupportedError);
    expect(newKernelObjects(before)).toEqual({ prog: [], map: [], link: [], btf: [] });
  });

  it.runIf(haveBpftool)("libbpf (bpftool prog loadall) refuses the same object", () => {
    const dir = "/sys/fs/bpf/tsbpf-test-legacy-maps";
    try {
      const r = spawnSync("bpftool", ["prog", "loadall", OBJ, dir], { encoding: "utf8" });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("legacy map definitions in 'maps' section are not supported by libbpf v1.0+");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a .maps symbol without its BTF description is an error, not a missing map", () => {
    // Rename the BTF VAR of map "lpm" (its string in .BTF) so the ELF symbol has no description.
    const bytes = new Uint8Array(readFileSync("bpf/maps.bpf.o"));
    const btf = new ElfFile(bytes).section(".BTF")!;
    const inBtf = Buffer.from(bytes.subarray(btf.offset, btf.offset + btf.size));
    const needle = Buffer.from("\0lpm\0");
    const at = inBtf.indexOf(needle);
    expect(at).toBeGreaterThan(0);
    expect(inBtf.indexOf(needle, at + 1)).toBe(-1);
    bytes[btf.offset + at + 1] = "x".charCodeAt(0);
    const err = thrownBy(() => parseObject(bytes, { path: "maps.bpf.o" }));
    expect(err).toBeInstanceOf(ObjectFormatError);
    expect((err as Error).message).toContain('map "lpm" in section .maps has no VAR in the .maps DATASEC');
  });
});
