/**
 * The tracer: every syscall tsbpf makes, printed as strace 6.1 prints it
 * (see format.ts), one line per call, as the call returns.
 *
 *     const stop = startTracer((line) => process.stderr.write(line + "\n"));
 *     ...
 *     stop();
 *
 * Threads. strace -f prefixes lines with the thread that made the call
 * (`[pid 1234] ` on stderr, `1234  ` with -o). With `pid: true` the tracer
 * does the same for calls on the main thread (whose id is the pid). A
 * blocking epoll_wait or close run with trySyscallAsync executes on a libuv pool
 * thread, whose id JavaScript cannot learn; its prefix is `[pid libuv] `
 * (`libuv ` in "file" style) so it stays recognisable. strace prints such a
 * call when it returns, or splits it into `<unfinished ...>` and
 * `<... epoll_wait resumed>` when another thread's call comes in between;
 * the tracer always prints the whole call, once, when it has returned.
 */
import { observeSyscalls } from "../syscall/kernel.js";
import type { SyscallRequest, SyscallResult } from "../syscall/requests.js";
import { ANNOTATION_PREFIX, type StraceFormatOptions, annotateSyscall, formatSyscall } from "./format.js";
import { ProcSelfMemory } from "./memory.js";

export interface TracerOptions extends StraceFormatOptions {
  /**
   * Prefix each line with the calling thread as strace -f does: true (or
   * "stderr") for `[pid  1234] `, "file" for `1234  ` (strace -f -o FILE).
   * Default false: no prefix.
   */
  pid?: boolean | "stderr" | "file";
  /** strace -T: append the time spent in the call, ` <0.000012>`. Default false. */
  timing?: boolean;
  /** strace -t, -tt, -ttt: the wall-clock time the call started, before it. Default none. */
  timestamps?: TimestampStyle | undefined;
  /**
   * Add continuation lines (starting with "    # ") with what strace shows
   * only as a pointer: instruction counts, the start of a verifier log.
   * Default false.
   */
  annotate?: boolean;
  /** With annotate: how many verifier-log lines to show. Default 10. */
  logLines?: number;
  /** Read nested pointers through /proc/self/mem as strace reads its tracee's memory. Default true. */
  readMemory?: boolean;
}

export { ANNOTATION_PREFIX };

export type TimestampStyle = "t" | "tt" | "ttt";

/** Now, in ns since the epoch, to the microsecond strace prints (Date.now() has only ms). */
function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** strace's -t (`HH:MM:SS`), -tt (`HH:MM:SS.uuuuuu`), -ttt (`SECONDS.uuuuuu`), local time as strace prints it. */
export function formatTimestamp(style: TimestampStyle, ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const micros = String((ns % 1_000_000_000n) / 1000n).padStart(6, "0");
  if (style === "ttt") return `${sec}.${micros}`;
  const d = new Date(Number(sec) * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  const hms = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return style === "tt" ? `${hms}.${micros}` : hms;
}

function pidPrefix(style: TracerOptions["pid"], libuv: boolean): string {
  if (!style) return "";
  // "libuv" takes the width of a thread id (close to the pid's), so the
  // column of " = " stays where strace puts it.
  const width = Math.max(5, String(process.pid).length);
  const id = libuv ? "libuv".padEnd(width) : String(process.pid);
  if (style === "file") return id.padEnd(5) + " ";
  return `[pid ${id.padStart(5)}] `;
}

/** Formats every syscall from now on and hands each line to `out`; returns a function that stops. */
export function startTracer(out: (line: string) => void, opts: TracerOptions = {}): () => void {
  const memory = opts.readMemory === false ? undefined : new ProcSelfMemory();
  const formatOpts: StraceFormatOptions = { ...opts, memory: opts.memory ?? memory };
  let stopped = false;
  const observer = (req: SyscallRequest, result: SyscallResult, elapsedNs: bigint) => {
    if (stopped) return;
    let line: string;
    let libuv = false;
    try {
      libuv = result.offThread === true;
      const prefix =
        pidPrefix(opts.pid, libuv) + (opts.timestamps ? `${formatTimestamp(opts.timestamps, wallClockNs() - elapsedNs)} ` : "");
      line = prefix + formatSyscall(req, result, { ...formatOpts, column: prefix.length });
      if (opts.timing) line += ` <${(Number(elapsedNs) / 1e9).toFixed(6)}>`;
    } catch (e) {
      // A tracer must never break the traced program.
      line = `${req.call}(...) = ${String(result.ret)} /* tsbpf tracer: ${(e as Error).message} */`;
    }
    out(line);
    if (opts.annotate) {
      const extra = annotateSyscall(req, result, { logLines: opts.logLines });
      if (libuv) extra.push(`${ANNOTATION_PREFIX}ran on a libuv pool thread`);
      for (const l of extra) out(l);
    }
  };
  const unobserve = observeSyscalls(observer);
  return () => {
    if (stopped) return;
    stopped = true;
    unobserve();
    memory?.close();
  };
}
