/**
 * Whether this kernel enters syscalls through arch-specific wrappers
 * (__x64_sys_bpf, __arm64_sys_bpf; 4.17+ with CONFIG_ARCH_HAS_SYSCALL_WRAPPER)
 * or calls __se_sys_* / sys_* directly: libbpf's FEAT_SYSCALL_WRAPPER. One
 * answer for the process, used both for the LINUX_HAS_SYSCALL_WRAPPER
 * kconfig extern and for the function a ksyscall program probes.
 *
 * libbpf decides by opening a kprobe on __<arch>_sys_bpf; that fails on a
 * kernel without kprobes even when the wrappers exist, so tsbpf looks for
 * the wrappers in /proc/kallsyms instead (their names are listed even when
 * kptr_restrict hides the addresses).
 */
import { closeSync, openSync, readSync } from "node:fs";

/** libbpf's arch_specific_syscall_pfx(), keyed by process.arch. */
const SYSCALL_PREFIXES: Record<string, string> = {
  x64: "x64",
  ia32: "ia32",
  s390x: "s390x",
  arm: "arm",
  arm64: "arm64",
  mips: "mips",
  mipsel: "mips",
  riscv64: "riscv",
  ppc: "powerpc",
  ppc64: "powerpc64",
};

/** "__x64_sys_" on x86-64: the prefix of syscall wrapper symbols, if tsbpf knows the arch. */
export function syscallWrapperPrefix(arch: string = process.arch): string | undefined {
  const p = SYSCALL_PREFIXES[arch];
  return p ? `__${p}_sys_` : undefined;
}

/**
 * Whether a symbol named `<prefix>...` is in the kallsyms text at `path`.
 * Read in chunks until the first hit: the wrappers sit in the first few
 * hundred kilobytes of the ~5 MB file, so this takes ~1 ms, not the ~80 ms
 * of reading it all.
 */
export function kallsymsHasPrefix(prefix: string, path = "/proc/kallsyms"): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false; // no kallsyms: nothing says the wrappers exist (libbpf's probe would fail too)
  }
  try {
    const needle = ` ${prefix}`;
    const chunk = Buffer.alloc(1 << 16);
    let carry = "";
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n <= 0) return false;
      const text = carry + chunk.toString("latin1", 0, n);
      if (text.includes(needle)) return true;
      carry = text.slice(-needle.length);
    }
  } finally {
    closeSync(fd);
  }
}

let kallsymsPath = "/proc/kallsyms";
let cached: boolean | undefined;

/** Whether this kernel has __<arch>_sys_* syscall wrappers; decided once per process. */
export function hasSyscallWrapper(): boolean {
  if (cached === undefined) {
    const prefix = syscallWrapperPrefix();
    cached = prefix !== undefined && kallsymsHasPrefix(prefix, kallsymsPath);
  }
  return cached;
}

/** Decides from another kallsyms file from now on (tests: a kernel without wrappers); returns the previous path. */
export function setKallsymsPath(path: string): string {
  const prev = kallsymsPath;
  kallsymsPath = path;
  cached = undefined;
  return prev;
}

/** The kernel function a ksyscall program probes for syscall `name`. */
export function ksyscallFunction(name: string): string {
  const prefix = syscallWrapperPrefix();
  return prefix && hasSyscallWrapper() ? `${prefix}${name}` : `__se_sys_${name}`;
}
