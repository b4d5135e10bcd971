/**
 * Waiting for something a test is about to check (a record printed, a
 * counter reached) instead of sleeping a fixed time: a busy machine may
 * take a while, an idle one does not wait for nothing.
 */

/** Resolves once `done()` holds, or after `ms` (then the test's own assertion says what was missing). */
export async function waitUntil(done: () => boolean, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !done() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
}
