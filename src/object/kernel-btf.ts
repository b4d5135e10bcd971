/**
 * The running kernel's BTF, from sysfs (CONFIG_DEBUG_INFO_BTF). Parsed once
 * per process and path: it is 5+ MB and every CO-RE object needs it.
 * Module BTF (/sys/kernel/btf/<module>) is split BTF on top of vmlinux.
 *
 * Reading /sys/kernel/btf/vmlinux costs one read(2) per 4 KiB page (sysfs
 * binary files: ~1350 syscalls for 5.5 MB). Kernels since 6.16 let it be
 * mmapped read-only instead (the kernel maps its own copy of the BTF: no
 * copy, no page faults; module BTF cannot be), so for complete BTF under
 * /sys/kernel/btf that is tried first, and
 * the parsed Btf reads the mapping in place; it is never unmapped (the Btf
 * is cached for the life of the process). Anything else, or an older
 * kernel: read(2) as before. Either way openat, fstat, mmap or read, and
 * close go through the syscall choke point, so --trace shows them.
 *
 * With a cache directory (kernel-btf-index-cache.ts) vmlinux's type index
 * and its table of essential names (for CO-RE candidate lookups) are kept
 * between processes; without one, CO-RE searches vmlinux's strings.
 */
import { join } from "node:path";
import { UnsupportedError } from "../errors.js";
import { fstatFd, isMissingFile, readAll, withOpenFile } from "../syscall/host-files.js";
import { trySyscall } from "../syscall/kernel.js";
import { MAP_PRIVATE, PROT_READ } from "../syscall/mman.js";
import { memoryView } from "../syscall/native.js";
import { Btf } from "../btf/btf.js";
import { adoptEssentialNameTable, buildEssentialNameTable, essentialNameTableFits } from "../core/essential-name-table.js";
import { indexKey, kernelBtfIndexCacheDir, readIndex, writeIndex } from "./kernel-btf-index-cache.js";

export const KERNEL_BTF_PATH = "/sys/kernel/btf/vmlinux";

const cache = new Map<string, Btf>();

/** The kernel's own BTF files, which it validated when it built them. */
function isSysfs(path: string): boolean {
  return path.startsWith("/sys/kernel/btf/");
}

/** A read-only mapping of an open sysfs BTF file, or undefined where the kernel does not allow it. */
function mapReadOnly(fd: number, size: number): Uint8Array | undefined {
  const r = trySyscall({ call: "mmap", addr: 0n, length: size, prot: PROT_READ, flags: MAP_PRIVATE, fd, offset: 0 });
  if (r.ret === -1) return undefined;
  return new Uint8Array(memoryView(BigInt(r.ret), size));
}

/** A BTF file's bytes: with `map`, mapped where the kernel allows it; else read. */
function btfBytes(path: string, map: boolean): Uint8Array {
  try {
    return withOpenFile(path, (fd) => {
      const size = Number(fstatFd(fd).size);
      return (map && isSysfs(path) && size >= 24 ? mapReadOnly(fd, size) : undefined) ?? readAll(fd, { size });
    });
  } catch (e) {
    if (isMissingFile(e)) throw new UnsupportedError(`no kernel BTF at ${path} (is the kernel built with CONFIG_DEBUG_INFO_BTF?)`);
    throw e;
  }
}

/** vmlinux BTF (or another complete BTF file), parsed once per path. */
export function loadKernelBtf(path: string = KERNEL_BTF_PATH): Btf {
  let btf = cache.get(path);
  if (!btf) {
    const bytes = btfBytes(path, true);
    // The running kernel's own BTF may come with its index kept by an earlier process.
    const dir = path === KERNEL_BTF_PATH ? kernelBtfIndexCacheDir() : undefined;
    const key = dir ? indexKey(bytes) : undefined;
    const kept = dir && key ? readIndex(dir, key) : undefined;
    // Either way the bytes are the Btf's own: no normalising copy.
    try {
      btf = Btf.parse(bytes, { where: path, inPlace: true, fromKernel: isSysfs(path), ...(kept && { index: kept }) });
    } catch (e) {
      kept?.unmap();
      throw e;
    }
    // parse() takes a kept index only when it fits the bytes; else it walked the records itself.
    const indexTaken = kept !== undefined && btf.typeIndex().offsets === kept.offsets;
    if (indexTaken && essentialNameTableFits(btf, kept.names)) adoptEssentialNameTable(btf, kept.names);
    else if (dir && key) {
      // Once per boot: the walk's index, and the table that spares each CO-RE load its string searches.
      const walked = btf;
      const names = writeIndex(dir, key, walked.typeIndex(), () => buildEssentialNameTable(walked));
      if (names) adoptEssentialNameTable(btf, names);
      if (!indexTaken) kept?.unmap();
    }
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
    btf = Btf.parse(btfBytes(path, false), { base, where: path, inPlace: true, fromKernel: isSysfs(path) });
    cache.set(path, btf);
  }
  return btf;
}
