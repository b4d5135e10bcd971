/**
 * Starts and stops the trace_pipe forwarder child (see trace-forwarder.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface ForwarderOptions {
  json?: boolean;
  /** Only lines whose message contains this text. */
  match?: string;
}

export class TraceForwarder {
  private child: ChildProcess | undefined;

  start(opts: ForwarderOptions = {}): this {
    const script = fileURLToPath(new URL("./printk-child.js", import.meta.url));
    const args = [script, ...(opts.json ? ["--json"] : []), ...(opts.match ? ["--match", opts.match] : [])];
    this.child = spawn(process.execPath, args, { stdio: ["pipe", "inherit", "inherit"] });
    return this;
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
