/**
 * Once per test run (vitest globalSetup): before the first test file, remove
 * the tsbpf-test-* pins left by runs that crashed or were killed (a pinned
 * program stays loaded until reboot, and would be counted by later runs);
 * after the last, remove whatever this run's test processes left pinned,
 * whatever the outcome. Pins of runs still alive are left alone.
 */
import { removeStalePins } from "./helpers/pins.js";

export function setup(): void {
  const removed = removeStalePins();
  if (removed.length) console.log(`removed stale pins of earlier runs: ${removed.join(", ")}`);
}

export function teardown(): void {
  // The test files ran in worker processes that have exited by now: their pins are stale.
  removeStalePins();
}
