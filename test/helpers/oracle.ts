/**
 * libbpf as an oracle: `bpftool prog loadall` loads an object the way
 * libbpf does, and the kernel's translated instructions of its programs
 * are compared with tsbpf's, map ids replaced by map names.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { openPinned } from "../../src/maps/pinning.js";
import { closeFd } from "../../src/syscall/bpf.js";
import { fdById, mapInfo, progInfo } from "../../src/syscall/obj-info.js";
import { ensureBpffs } from "./kernel.js";

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
      const fd = openPinned(`${dir}/${name}`)!;
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
