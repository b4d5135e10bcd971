/**
 * Waiting for the end of a streaming command: SIGINT, SIGTERM or a
 * duration. A second Ctrl-C after the stop was asked for (while loading or
 * cleaning up) forces exit 130, as shells expect; the kernel then releases
 * whatever our fds still hold. SIGTERM while cleaning up lets the cleanup finish.
 *
 * Call catchStopSignals() before a long synchronous step (the load): without
 * a listener a signal is a default kill (no cleanup, no exit code 0); with one
 * it is only noted, and untilStopped() returns at once when the step is over.
 */
let installed = false;
let requested = false;
let stopping = false;
let wake: (() => void) | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (requested || stopping) {
    if (signal === "SIGINT") process.exit(130);
    return;
  }
  requested = true;
  wake?.();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/** Asks the command to stop, as a signal would (the reader of stdout went away). */
export function requestStop(): void {
  if (requested || stopping) return;
  requested = true;
  wake?.();
}

/** From now on SIGINT and SIGTERM ask the command to stop instead of killing the process. */
export function catchStopSignals(): void {
  install();
  requested = false;
  stopping = false;
  wake = undefined;
}

/** Resolves on SIGINT, SIGTERM (also one that came before this call) or after the duration. */
export function untilStopped(durationSeconds?: number): Promise<void> {
  install();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      wake = undefined;
      // From now on a Ctrl-C means "stop cleaning up, just exit".
      stopping = true;
      resolve();
    };
    if (requested) return done();
    wake = done;
    if (durationSeconds !== undefined) timer = setTimeout(done, durationSeconds * 1000);
  });
}
