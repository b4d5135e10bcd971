/**
 * The running kernel's version as KERNEL_VERSION(a, b, c), for PROG_LOAD's
 * kern_version (only kprobes on very old kernels check it, but libbpf sends
 * it and strace shows it). Ubuntu kernels publish the upstream version in
 * /proc/version_signature; elsewhere uname's release is it.
 */
import { release } from "node:os";
import { readHostValueIfOpenable } from "./host-files.js";

export function kernelVersionCode(a: number, b: number, c: number): number {
  // The sublevel saturates at 255, as the kernel's own KERNEL_VERSION does.
  return (a << 16) + (b << 8) + Math.min(c, 255);
}

export function parseKernelRelease(text: string): number {
  const m = text.match(/(\d+)\.(\d+)(?:\.(\d+))?/);
  if (!m) return 0;
  return kernelVersionCode(Number(m[1]), Number(m[2]), Number(m[3] ?? 0));
}

let cached: number | undefined;

export function runningKernelVersion(): number {
  if (cached !== undefined) return cached;
  let sig: string | undefined;
  try {
    sig = readHostValueIfOpenable("/proc/version_signature"); // "Ubuntu 5.15.0-1 5.15.39"
  } catch {
    // Opened but unreadable: uname's release, as for a missing file.
  }
  cached = parseKernelRelease(sig === undefined ? release() : (sig.trim().split(/\s+/).pop() ?? ""));
  return cached;
}
