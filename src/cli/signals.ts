/**
 * Waiting for the end of a streaming command: SIGINT, SIGTERM or a
 * duration. A second Ctrl-C while cleaning up forces exit 130, as shells expect.
 */
export function untilStopped(durationSeconds?: number): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (timer) clearTimeout(timer);
      // From now on a second Ctrl-C means "stop cleaning up, just exit".
      process.once("SIGINT", () => process.exit(130));
      resolve();
    };
    const onSignal = () => done();
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    if (durationSeconds !== undefined) timer = setTimeout(done, durationSeconds * 1000);
  });
}
