/**
 * Pin directories for tests: each under /sys/fs/bpf, named
 * tsbpf-test-<pid>-XXXXXX, so a run can tell its own from those of a run
 * that crashed (its pid is gone) and remove the latter at start.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { PIN_ROOT, ensureBpffs } from "./kernel.js";

export { PIN_ROOT };
const PREFIX = "tsbpf-test-";
/** A tsbpf-test-* entry without a pid (older runs) is stale once this old. */
const STALE_UNOWNED_MS = 15 * 60_000;

/** A fresh, empty directory on bpffs for one test's pins; remove it with removePins(). */
export function testPinDir(): string {
  ensureBpffs();
  return mkdtempSync(join(PIN_ROOT, `${PREFIX}${process.pid}-`));
}

/** Unpins everything under `path` (a pin or a directory of pins). */
export function removePins(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes tsbpf-test-* pins left by runs that died (their pid is gone); returns what it removed. */
export function removeStalePins(now = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(PIN_ROOT).filter((n) => n.startsWith(PREFIX));
  } catch {
    return []; // no bpffs mounted: nothing can be pinned
  }
  const removed: string[] = [];
  for (const name of names) {
    const path = join(PIN_ROOT, name);
    const pid = /^tsbpf-test-(\d+)-/.exec(name)?.[1];
    const stale = pid !== undefined ? !alive(Number(pid)) : now - statSync(path).mtimeMs > STALE_UNOWNED_MS;
    if (!stale) continue;
    removePins(path);
    removed.push(path);
  }
  return removed;
}
