/**
 * `tsbpf map dump` against bpftool 7.1 on the same maps: with BTF, keys and
 * values decoded by their C types exactly as `bpftool map dump` prints them
 * (hash with a struct value, array of u64 beyond 2^53, per-CPU array, data
 * sections with strings, enums, bools and chars), `-j` exactly as
 * `bpftool -j map dump` prints it (bytes plus "formatted"); `--hex` keeps
 * the bytes-only text.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { mapInfo } from "../src/syscall/obj-info.js";
import { HAVE_BPFTOOL } from "./helpers/oracle.js";

const CLI = "dist/src/cli/tsbpf.cjs";
const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  expect(r.status, `${cmd} ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);

describe.runIf(HAVE_BPFTOOL)("map dump decodes through BTF as bpftool does", () => {
  it("maps.bpf.o: hash of structs, array of u64, per-CPU array — text and -j equal bpftool's", () => {
    using obj = BpfObject.open("bpf/maps.bpf.o");
    obj.load();
    const point = new Uint8Array(obj.map("hash").spec.valueSize).map((_, i) => i + 1);
    obj.map("hash").update(u32(1), point);
    obj.map("hash").update(
      u32(2),
      point.map((x) => 255 - x),
    );
    obj.map("array").update(u32(2), u64(12345678901234567890n));
    for (const name of ["hash", "array", "percpu_array"]) {
      const id = String(mapInfo(obj.map(name).fd).id);
      const text = run("bpftool", ["map", "dump", "id", id]);
      expect(text, name).toMatch(/^\[\{\n {8}"key": /);
      expect(run(process.execPath, [CLI, "map", "dump", "id", id]), name).toBe(text);
      expect(run(process.execPath, [CLI, "-j", "map", "dump", "id", id]), name).toBe(run("bpftool", ["-j", "map", "dump", "id", id]));
    }
    const id = String(mapInfo(obj.map("array").fd).id);
    expect(run(process.execPath, [CLI, "map", "dump", "id", id])).toContain('"value": 12345678901234567890');
    expect(run(process.execPath, [CLI, "map", "dump", "id", id, "--hex"])).toContain("key: 02 00 00 00  value: d2 0a 1f eb 8c a9 54 ab\n");
  });

  it("data sections (strings, enums, bools, chars, structs) equal bpftool's, text and -j", () => {
    let compared = 0;
    for (const path of ["bpf/globals.bpf.o", "bpf/set_types.bpf.o", "bpf/bootstrap.bpf.o"]) {
      using obj = BpfObject.open(path);
      obj.load();
      for (const map of obj.maps) {
        if (!map.name.includes(".")) continue;
        const id = String(mapInfo(map.fd).id);
        const text = run("bpftool", ["map", "dump", "id", id]);
        expect(run(process.execPath, [CLI, "map", "dump", "id", id]), `${path} ${map.name}`).toBe(text);
        expect(run(process.execPath, [CLI, "-j", "map", "dump", "id", id]), `${path} ${map.name}`).toBe(
          run("bpftool", ["-j", "map", "dump", "id", id]),
        );
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(7);
  });
});
