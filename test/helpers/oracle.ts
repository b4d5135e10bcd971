/**
 * libbpf as the oracle: `bpftool prog loadall OBJ DIR` loads an object with
 * libbpf 1.1 and pins its programs; the tests compare what the kernel holds
 * for libbpf's load with what it holds for tsbpf's (translated
 * instructions with map ids replaced by map names, bound maps, BTF).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BpfCmd } from "../../src/abi/uapi-enums.js";
import { cString } from "../../src/syscall/c-string.js";
import { bpf, closeFd } from "../../src/syscall/bpf.js";
import { fdById, mapInfo, progInfo } from "../../src/syscall/obj-info.js";
import { ensureBpffs } from "./kernel.js";

/** An fd for whatever is pinned at `path` (a program, here). */
function objGet(path: string): number {
  return bpf(BpfCmd.OBJ_GET, { pathname: cString(path), bpf_fd: 0, file_flags: 0 }, `opening ${path}`);
}

export const HAVE_BPFTOOL = existsSync("/usr/sbin/bpftool") || existsSync("/usr/bin/bpftool");

const LD_IMM64 = 0x18;
const PSEUDO_MAP_FD = 1;
const PSEUDO_MAP_VALUE = 2;

/** xlated instructions with each map id replaced by the map's name. */
export function normalisedXlated(progFd: number): string[] {
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

/** The names of the maps bound to a program (map_ids of its prog_info), sorted. */
export function boundMapNames(progFd: number): string[] {
  return progInfo(progFd)
    .mapIds.map((id) => {
      const fd = fdById("map", id);
      try {
        return mapInfo(fd).name;
      } finally {
        closeFd(fd);
      }
    })
    .sort();
}

/** bpftool's text output (plain, or JSON with "-j" first). */
export function bpftool(...args: string[]): string {
  return execFileSync("bpftool", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** An object loaded by libbpf: its programs by name (fds opened from the pins). */
export interface OracleLoad {
  progs: Map<string, number>;
  /** What libbpf printed (warnings). */
  stderr: string;
  /** Closes the fds and removes the pins (the programs and their maps then go away). */
  close(): void;
}

export function bpftoolLoadAll(obj: string): OracleLoad {
  ensureBpffs();
  const dir = mkdtempSync("/sys/fs/bpf/tsbpf-test-");
  rmSync(dir, { recursive: true });
  const progs = new Map<string, number>();
  const close = () => {
    for (const fd of progs.values()) closeFd(fd);
    progs.clear();
    rmSync(dir, { recursive: true, force: true });
  };
  const r = spawnSync("bpftool", ["prog", "loadall", obj, dir], { encoding: "utf8" });
  if (r.status !== 0) {
    close();
    throw new Error(`bpftool prog loadall ${obj} failed:\n${r.stderr}`);
  }
  for (const name of readdirSync(dir)) progs.set(name, objGet(join(dir, name)));
  return { progs, stderr: r.stderr, close };
}

/**
 * Loads `obj` with `bpftool prog loadall` and returns the normalised xlated
 * instructions of each program (by its full name, as bpftool pins it);
 * the pins are removed again, which unloads everything.
 */
export function libbpfXlated(obj: string): Map<string, string[]> {
  ensureBpffs();
  const dir = mkdtempSync("/sys/fs/bpf/tsbpf-test-");
  rmSync(dir, { recursive: true });
  try {
    execFileSync("bpftool", ["prog", "loadall", obj, dir], { stdio: ["ignore", "ignore", "pipe"] });
    const out = new Map<string, string[]>();
    for (const name of readdirSync(dir)) {
      const fd = objGet(`${dir}/${name}`);
      try {
        out.set(name, normalisedXlated(fd));
      } finally {
        closeFd(fd);
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
