/**
 * The running kernel's BTF, from sysfs (CONFIG_DEBUG_INFO_BTF). Parsed once
 * per process and path: it is 5+ MB and every CO-RE object needs it.
 * Module BTF (/sys/kernel/btf/<module>) is split BTF on top of vmlinux.
 *
 * Reading /sys/kernel/btf/vmlinux costs one read(2) per 4 KiB page (sysfs
 * binary files: ~1350 syscalls for 5.5 MB). Kernels since 6.16 let it be
 * mmapped read-only instead (the kernel maps its own copy of the BTF: no
 * copy, no page faults), so under /sys/kernel/btf that is tried first, and
 * the parsed Btf reads the mapping in place; it is never unmapped (the Btf
 * is cached for the life of the process). Anything else, an older kernel,
 * or a fake kernel backend in tests: read(2) as before.
 */
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UnsupportedError } from "../errors.js";
import { PROT_READ } from "../syscall/mman.js";
import { kernelBackend, trySyscall } from "../syscall/kernel.js";
import { koffi, realKernel } from "../syscall/libc.js";
import { Btf } from "../btf/btf.js";

const MAP_PRIVATE = 0x02;

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

/** The kernel's own BTF files, which it validated when it built them. */
function isSysfs(path: string): boolean {
  return path.startsWith("/sys/kernel/btf/");
}

/** A read-only mapping of a sysfs BTF file, or undefined where the kernel does not allow it. */
function mapSysfs(path: string): Uint8Array | undefined {
  if (!isSysfs(path) || kernelBackend() !== realKernel) return undefined;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined; // read() reports the error
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 24) return undefined;
    const r = trySyscall({ call: "mmap", addr: 0n, length: size, prot: PROT_READ, flags: MAP_PRIVATE, fd, offset: 0 });
    if (r.ret === -1) return undefined;
    return new Uint8Array(koffi().view(BigInt(r.ret), size) as ArrayBuffer);
  } finally {
    closeSync(fd);
  }
}

/** vmlinux BTF (or another complete BTF file), parsed once per path. */
export function loadKernelBtf(path: string = KERNEL_BTF_PATH): Btf {
  let btf = cache.get(path);
  if (!btf) {
    // Either way the bytes are the Btf's own: no normalising copy.
    btf = Btf.parse(mapSysfs(path) ?? read(path), { where: path, inPlace: true, fromKernel: isSysfs(path) });
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
    btf = Btf.parse(read(path), { base, where: path, inPlace: true, fromKernel: isSysfs(path) });
    cache.set(path, btf);
  }
  return btf;
}
