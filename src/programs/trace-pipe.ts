/**
 * Reading bpf_printk output from tracefs's trace_pipe. A blocking read of
 * trace_pipe cannot be cancelled (it would pin a libuv thread until the next
 * line), so the pipe is opened O_NONBLOCK and drained on a short timer.
 * Reading consumes the lines: one reader at a time sees them.
 */
import { join } from "node:path";
import { closeFd } from "../syscall/bpf.js";
import { EAGAIN } from "../syscall/errno.js";
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY, openFile } from "../syscall/host-files.js";
import { trySyscall } from "../syscall/kernel.js";
import type { ReadRequest } from "../syscall/requests.js";
import { SyscallError } from "../syscall/syscall-error.js";
import { tracefsDir } from "./tracefs.js";

export interface TraceLine {
  /** The whole line as the kernel wrote it. */
  raw: string;
  /** Task name and pid as trace_pipe shows them ("<...>" when unknown). */
  task: string;
  pid: number;
  cpu: number;
  /** Seconds since boot. */
  timestamp: number;
  /** What the program printed. */
  message: string;
}

const LINE = /^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+):\s+(?:bpf_trace_printk:\s)?(.*)$/;

export function parseTraceLine(raw: string): TraceLine | undefined {
  const m = raw.match(LINE);
  if (!m) return undefined;
  return { raw, task: m[1]!, pid: Number(m[2]), cpu: Number(m[3]), timestamp: Number(m[4]), message: m[5]! };
}

export class TracePipeReader {
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private partial = "";
  private readonly buf = Buffer.alloc(64 * 1024);
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly onLine: (line: TraceLine) => void,
    private readonly intervalMs = 50,
  ) {}

  /** The trace_pipe file this reader opens (under the mounted tracefs). */
  get path(): string {
    return join(tracefsDir(), "trace_pipe");
  }

  start(): this {
    if (this.fd !== undefined) return this;
    this.fd = openFile(this.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    this.timer = setInterval(() => this.drain(), this.intervalMs);
    return this;
  }

  /**
   * Reads what is there now (at most `maxReads` buffers, so a program that
   * prints faster than we read cannot starve the event loop) and hands out
   * complete lines.
   */
  drain(maxReads = 16): void {
    if (this.fd === undefined) return;
    for (let i = 0; i < maxReads; i++) {
      const req: ReadRequest = { call: "read", fd: this.fd, buf: this.buf };
      const r = trySyscall(req);
      if (r.ret === -1) {
        if (r.errno === EAGAIN) break;
        throw new SyscallError(req, r.errno, "reading trace_pipe");
      }
      const n = Number(r.ret);
      if (n <= 0) break;
      this.partial += this.decoder.decode(this.buf.subarray(0, n), { stream: true });
      const lines = this.partial.split("\n");
      this.partial = lines.pop() ?? "";
      for (const l of lines) {
        const parsed = parseTraceLine(l);
        if (parsed) this.onLine(parsed);
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined) {
      this.drain();
      closeFd(this.fd);
      this.fd = undefined;
    }
  }

  [Symbol.dispose](): void {
    this.stop();
  }
}
