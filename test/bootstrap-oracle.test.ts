/**
 * After relocation, tsbpf loads the same instructions as libbpf: the same
 * object is loaded by `bpftool prog loadall` (libbpf, as an oracle) and by
 * tsbpf, and the kernel's translated instructions are compared, with map ids
 * replaced by map names.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { fdById, mapInfo, progInfo } from "../src/syscall/obj-info.js";
import { BpfCmd } from "../src/abi/uapi-enums.js";
import { bpf, closeFd } from "../src/syscall/bpf.js";
import { cString } from "../src/syscall/c-string.js";
import { removePins, testPinDir } from "./helpers/pins.js";

const LD_IMM64 = 0x18;
const PSEUDO_MAP_FD = 1;
const PSEUDO_MAP_VALUE = 2;

/** xlated instructions with each map id replaced by the map's name. */
function normalisedXlated(progFd: number): string[] {
  const info = progInfo(progFd, { xlated: true });
  const x = info.xlated!;
  const v = new DataView(x.buffer, x.byteOffset, x.byteLength);
  const out: string[] = [];
  for (let off = 0; off < x.byteLength; off += 8) {
    const code = v.getUint8(off);
    const src = v.getUint8(off + 1) >> 4;
    const imm = v.getInt32(off + 4, true);
    if (code === LD_IMM64 && (src === PSEUDO_MAP_FD || src === PSEUDO_MAP_VALUE)) {
      const fd = fdById("map", imm);
      const name = mapInfo(fd).name;
      closeFd(fd);
      out.push(`ld_imm64 src=${src} dst=${v.getUint8(off + 1) & 0xf} map=${name} off=${v.getInt32(off + 12, true)}`);
      off += 8;
      continue;
    }
    out.push(Buffer.from(x.subarray(off, off + 8)).toString("hex"));
  }
  return out;
}

/**
 * libbpf's load of `obj` (bpftool prog loadall), pinned under a directory of
 * this run's: the programs are read back from those pins only, so programs
 * of the same names loaded by anyone else meanwhile are never mistaken for
 * them. The caller removes `root` (unpinning them) whatever happens.
 */
function bpftoolLoad(obj: string, root: string): Map<string, number> {
  const dir = join(root, "progs"); // bpftool creates it
  execFileSync("bpftool", ["prog", "loadall", obj, dir]);
  const progs = new Map<string, number>();
  for (const name of readdirSync(dir)) {
    progs.set(name, bpf(BpfCmd.OBJ_GET, { pathname: cString(join(dir, name)), bpf_fd: 0, file_flags: 0 }, `opening ${name}`));
  }
  return progs;
}

describe.runIf(existsSync("/usr/sbin/bpftool") || existsSync("/usr/bin/bpftool"))("tsbpf vs libbpf (bpftool prog loadall)", () => {
  it("loads the same handle_exec and handle_exit instructions as libbpf", () => {
    const root = testPinDir();
    const fds: number[] = [];
    try {
      const progs = bpftoolLoad("bpf/bootstrap.bpf.o", root);
      fds.push(...progs.values());
      const theirs = new Map([...progs].map(([name, fd]) => [name, normalisedXlated(fd)]));
      expect([...theirs.keys()].sort()).toEqual(["handle_exec", "handle_exit"]);
      // The comparison has teeth: real instruction streams that reference the maps by name.
      expect(theirs.get("handle_exec")!.length).toBeGreaterThan(50);
      expect(theirs.get("handle_exec")!.join("\n")).toContain("map=exec_start");
      expect(theirs.get("handle_exit")!.join("\n")).toContain("map=bootstra.rodata");
      using obj = BpfObject.open("bpf/bootstrap.bpf.o");
      obj.load();
      for (const name of ["handle_exec", "handle_exit"]) {
        expect(normalisedXlated(obj.program(name).fd), name).toEqual(theirs.get(name));
      }
    } finally {
      for (const fd of fds) closeFd(fd);
      removePins(root);
    }
  });
});
