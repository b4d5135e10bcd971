/**
 * Starts and stops the trace_pipe forwarder child (see printk-child.ts).
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TsbpfError } from "../errors.js";

export interface ForwarderOptions {
  json?: boolean;
  /** Only lines whose message contains this text. */
  match?: string;
}

/** trace_pipe could not be opened: another reader holds it (EBUSY), or tracefs is missing. */
export class TracePipeUnavailableError extends TsbpfError {
  override name = "TracePipeUnavailableError";
}

type ChildMessage = { ready: true } | { error: string; code: string; path: string };

export class TraceForwarder {
  private child: ChildProcess | undefined;

  /** Spawns the child; resolves once it reads trace_pipe, rejects with TracePipeUnavailableError when it cannot. */
  async start(opts: ForwarderOptions = {}): Promise<this> {
    const script = fileURLToPath(new URL("./printk-child.js", import.meta.url));
    const args = [script, ...(opts.json ? ["--json"] : []), ...(opts.match ? ["--match", opts.match] : [])];
    // Imported here: node:child_process costs ~8 ms at start-up, and most
    // objects print nothing through bpf_printk.
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, args, { stdio: ["pipe", "inherit", "inherit", "ipc"] });
    this.child = child;
    const first = await new Promise<ChildMessage | undefined>((resolve) => {
      child.once("message", (m) => resolve(m as ChildMessage));
      child.once("exit", () => resolve(undefined));
    });
    if (first && "ready" in first) {
      // The channel was only for this answer; it must not keep either process alive.
      child.disconnect();
      return this;
    }
    this.child = undefined;
    const pipe = first?.path ?? "trace_pipe";
    if (first?.code === "EBUSY")
      throw new TracePipeUnavailableError(
        `cannot read bpf_printk output: ${pipe} is held by another reader (EBUSY); trace_pipe has one reader at a time — stop the other one (a "cat trace_pipe", another tsbpf) or pass --no-printk`,
      );
    throw new TracePipeUnavailableError(`cannot read bpf_printk output from ${pipe}: ${first?.error ?? "the reader exited"}`);
  }

  /** Stops the child after it has drained what is in the pipe. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = undefined;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
  }
}
