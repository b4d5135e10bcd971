/**
 * What the running kernel says about itself, read without tsbpf: the tests'
 * oracle for which features to expect. The suite runs on the host and on
 * older kernels under QEMU (npm run test:kernels), so a test asks here
 * instead of assuming this machine's kernel; a test that cannot run on a
 * kernel skips with skipBecause(), which names the missing feature.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import type { TestContext } from "vitest";

let symbols: Set<string> | undefined;

/** Whether /proc/kallsyms lists `name` (kernel functions, kfuncs included). */
export function kernelHasSymbol(name: string): boolean {
  symbols ??= new Set(
    readFileSync("/proc/kallsyms", "utf8")
      .split("\n")
      .map((l) => l.split(/\s+/)[2] ?? ""),
  );
  return symbols.has(name);
}

/** uname's release as numbers: "6.12.118+deb12-amd64" → [6, 12, 118]. */
export function kernelRelease(): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release());
  if (!m) throw new Error(`cannot read a version from the release ${release()}`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** The kernel's config: /proc/config.gz, else /boot/config-$(uname -r) (Debian's kernels have only that), as libbpf reads it. */
export function kernelConfigText(): string | undefined {
  if (existsSync("/proc/config.gz")) return gunzipSync(readFileSync("/proc/config.gz")).toString();
  const boot = `/boot/config-${release()}`;
  return existsSync(boot) ? readFileSync(boot, "utf8") : undefined;
}

/** Whether the kernel has tcx links (6.6+): its tcx attach functions are in kallsyms. */
export const haveTcx = (): boolean => kernelHasSymbol("tcx_link_attach");

/** Whether the kernel has kprobes: the kprobe PMU exists only with CONFIG_KPROBES. */
export const haveKprobes = (): boolean => existsSync("/sys/bus/event_source/devices/kprobe");

let fentry: { allowed: boolean; refusal: string } | undefined;

/**
 * Whether this kernel lets root load a trampoline program: libbpf (bpftool)
 * loads bpf/fentry_probe.bpf.o. Some kernels refuse it (EPERM) even to root.
 */
export function fentryVerdict(): { allowed: boolean; refusal: string } {
  if (fentry) return fentry;
  const dir = mkdtempSync("/sys/fs/bpf/tsbpf-test-fentry-");
  rmSync(dir, { recursive: true });
  try {
    const r = spawnSync("bpftool", ["prog", "loadall", "bpf/fentry_probe.bpf.o", dir], { encoding: "utf8" });
    fentry = { allowed: r.status === 0, refusal: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return fentry;
}

/**
 * Skips the running test because the kernel lacks `feature`: the reason shows
 * in vitest's output and in the JSON report's meta (skipReason), where
 * `npm run test:kernels` lists it; a skip without one counts as a failure there.
 */
export function skipBecause(ctx: TestContext, reason: string): never {
  (ctx.task.meta as Record<string, unknown>).skipReason = reason;
  console.log(`skipped "${ctx.task.name}": ${reason}`);
  return ctx.skip(reason);
}
