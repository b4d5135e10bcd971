/**
 * trace_pipe has one reader at a time: while another reader holds it (a
 * `cat trace_pipe`, another tsbpf, a test run beside this one) opening it
 * fails with EBUSY, and `tsbpf load` of an object that prints refuses. A
 * test that reads bpf_printk output waits for its turn instead of failing.
 */
import { TracePipeReader, type TraceLine } from "../../src/programs/trace-pipe.js";
import { SyscallError } from "../../src/syscall/syscall-error.js";

/** How long a test waits for another reader to let go of trace_pipe. */
const PATIENCE_MS = 30_000;
const RETRY_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What `tsbpf load` prints when trace_pipe is held by another reader. */
export const TRACE_PIPE_BUSY = /TracePipeUnavailableError: .*held by another reader \(EBUSY\)/;

/** A started TracePipeReader, once trace_pipe is free. */
export async function startTracePipeReader(onLine: (l: TraceLine) => void, intervalMs?: number): Promise<TracePipeReader> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    try {
      return new TracePipeReader(onLine, intervalMs).start();
    } catch (e) {
      if (!(e instanceof SyscallError && e.code === "EBUSY") || Date.now() > deadline) throw e;
      await sleep(RETRY_MS);
    }
  }
}

/**
 * Runs `attempt` again while `busy` says trace_pipe was held by another
 * reader during it (a child process that refused for that reason); returns
 * the first other outcome. An attempt that throws is judged by `busy(error)`.
 */
export async function whileTracePipeBusy<T>(attempt: () => T | Promise<T>, busy: (outcome: unknown) => boolean): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    let outcome: T;
    try {
      outcome = await attempt();
    } catch (e) {
      if (!busy(e) || Date.now() > deadline) throw e;
      await sleep(RETRY_MS);
      continue;
    }
    if (!busy(outcome) || Date.now() > deadline) return outcome;
    await sleep(RETRY_MS);
  }
}
