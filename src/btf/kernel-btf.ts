/**
 * The running kernel's BTF, from sysfs (CONFIG_DEBUG_INFO_BTF). Parsed once
 * per process and path: it is 5+ MB and every CO-RE object needs it.
 * Module BTF (/sys/kernel/btf/<module>) is split BTF on top of vmlinux.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UnsupportedError } from "../errors.js";
import { Btf } from "./btf.js";

export const KERNEL_BTF_PATH = "/sys/kernel/btf/vmlinux";

const cache = new Map<string, Btf>();

function read(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new UnsupportedError(`no kernel BTF at ${path} (is the kernel built with CONFIG_DEBUG_INFO_BTF?)`);
    }
    throw err;
  }
}

/** vmlinux BTF (or another complete BTF file), parsed once per path. */
export function loadKernelBtf(path: string = KERNEL_BTF_PATH): Btf {
  let btf = cache.get(path);
  if (!btf) {
    btf = Btf.parse(read(path), { where: path });
    cache.set(path, btf);
  }
  return btf;
}

/** A kernel module's split BTF on top of vmlinux's, parsed once per module. */
export function loadKernelModuleBtf(module: string, dir = "/sys/kernel/btf"): Btf {
  const path = join(dir, module);
  let btf = cache.get(path);
  if (!btf) {
    const base = loadKernelBtf(join(dir, "vmlinux"));
    btf = Btf.parse(read(path), { base, where: path });
    cache.set(path, btf);
  }
  return btf;
}
