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
/** What asked for the stop: a signal's name, "duration", or "output closed". */
export type StopReason = NodeJS.Signals | "duration" | "output closed";
let reason: StopReason = "SIGINT";
let wake: (() => void) | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (requested || stopping) {
    if (signal === "SIGINT") process.exit(130);
    return;
  }
  ask(signal);
}

function ask(why: StopReason): void {
  requested = true;
  reason = why;
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
  ask("output closed");
}

/** From now on SIGINT and SIGTERM ask the command to stop instead of killing the process. */
export function catchStopSignals(): void {
  install();
  requested = false;
  stopping = false;
  wake = undefined;
}

/**
 * Resolves on SIGINT, SIGTERM (also one that came before this call) or after
 * the duration, with what it was. Several threads of the process can take
 * signals, so two sent in a row may reach these handlers in either order:
 * only what this resolves with says which one came first.
 */
export function untilStopped(durationSeconds?: number): Promise<StopReason> {
  install();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      wake = undefined;
      // From now on a Ctrl-C means "stop cleaning up, just exit".
      stopping = true;
      resolve(reason);
    };
    if (requested) return done();
    wake = done;
    if (durationSeconds !== undefined)
      timer = setTimeout(() => {
        reason = "duration";
        done();
      }, durationSeconds * 1000);
  });
}
