/**
 * tracefs: where tracepoint ids and bpf_printk output (trace_pipe) live.
 * It is at /sys/kernel/tracing on current kernels, at
 * /sys/kernel/debug/tracing when only debugfs is mounted, and sometimes not
 * mounted at all — then tsbpf mounts it, as a root user would by hand.
 */
import { join } from "node:path";
import { NotFoundError, TsbpfError } from "../errors.js";
import { pathAccessible, readHostValue } from "../syscall/host-files.js";
import { syscall } from "../syscall/kernel.js";

const CANDIDATES = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

let cached: string | undefined;

function isMounted(dir: string): boolean {
  // An unmounted /sys/kernel/tracing is an empty directory.
  return pathAccessible(join(dir, "events")) || pathAccessible(join(dir, "trace_pipe"));
}

/** The tracefs directory, mounting tracefs at /sys/kernel/tracing if needed. */
export function tracefsDir(): string {
  // Found once per process: attaching is a hot path, and an unmount later
  // shows up as a clear error when the tracepoint id cannot be read.
  if (cached) return cached;
  for (const dir of CANDIDATES) {
    if (isMounted(dir)) return (cached = dir);
  }
  const target = CANDIDATES[0]!;
  if (!pathAccessible(target)) {
    throw new TsbpfError(`tracefs is not mounted and ${target} does not exist (kernel built without CONFIG_TRACING?)`);
  }
  try {
    syscall({ call: "mount", source: "nodev", target, fstype: "tracefs", flags: 0 });
  } catch (e) {
    throw new TsbpfError(`tracefs is not mounted and mounting it at ${target} failed: ${(e as Error).message}`, { cause: e });
  }
  return (cached = target);
}

/** Splits "syscalls/sys_enter_write" (or "syscalls:sys_enter_write") into category and name. */
export function splitTracepoint(target: string): { category: string; name: string } {
  const m = target.match(/^([^/:]+)[/:]([^/:]+)$/);
  if (!m) throw new TsbpfError(`"${target}" is not a tracepoint name of the form category/name`);
  return { category: m[1]!, name: m[2]! };
}

/** The id perf_event_open needs for a tracepoint. */
export function tracepointId(category: string, name: string): number {
  const dir = tracefsDir();
  const path = join(dir, "events", category, name, "id");
  let text: string;
  try {
    // One open, one 32-byte read, one close: an id is a few digits.
    text = readHostValue(path, 32);
  } catch {
    const catExists = pathAccessible(join(dir, "events", category));
    throw new NotFoundError(
      `tracepoint ${category}/${name} does not exist in this kernel (no ${path})` +
        (catExists ? "" : `; there is no category "${category}" either — see ${join(dir, "available_events")}`),
    );
  }
  const id = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(id)) throw new TsbpfError(`${path} holds "${text.trim()}", not a tracepoint id`);
  return id;
}
