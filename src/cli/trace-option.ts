/**
 * --trace[=FILE], shared by every verb that touches the kernel: each syscall
 * tsbpf makes, printed in strace 6.1's syntax (to stderr, or FILE), with
 * "    # " continuation lines where strace shows only a pointer.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { terminalSafe } from "../text/escape.js";
import { type ParsedArgs, UsageError } from "./args.js";
import type { TimestampStyle, TracerOptions } from "../strace/tracer.js";

export const TRACE_HELP = `  --trace[=FILE]     print every syscall tsbpf makes in strace's syntax (to
                     stderr, or FILE); lines starting "    # " are tsbpf's notes.
                     FILE is created or overwritten only if it is a regular
                     file: a symbolic link, a hard link or a device is refused
  --trace-strsize N  show N bytes of each string before "..." (strace -s; 32)
  --trace-time[=t|tt|ttt]  start time of each call: HH:MM:SS (strace -t, the
                     default), with microseconds (-tt), or epoch seconds (-ttt)
  --trace-syscall-times  time spent in each call, " <0.000012>" (strace -T)
  --trace-columns N  pad " = result" to column N, as strace -a N does (40;
                     0: one space)`;

export const TRACE_OPTION = {
  trace: { optionalValue: true },
  "trace-strsize": { value: true },
  "trace-time": { optionalValue: true },
  "trace-syscall-times": {},
  "trace-columns": { value: true },
} as const;

const TIMESTAMP_STYLES = new Set(["t", "tt", "ttt"]);

/** A non-negative integer option value, or a usage error naming the option. */
function count(args: ParsedArgs, name: string): number | undefined {
  const raw = args.options.get(name)?.[0];
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > 1 << 20)
    throw new UsageError(`--${name} takes a whole number of at most ${1 << 20}, not "${raw}"`);
  return Number(raw);
}

/** The strace-style formatting options given with --trace (those not given keep strace's defaults: -s 32, -a 40). */
export function traceFormat(args: ParsedArgs): TracerOptions {
  const given = ["trace-strsize", "trace-time", "trace-syscall-times", "trace-columns"].filter(
    (n) => args.flags.has(n) || args.options.has(n),
  );
  if (given.length && !args.flags.has("trace")) throw new UsageError(`--${given[0]} needs --trace`);
  const time = args.flags.has("trace-time") ? (args.options.get("trace-time")?.[0] ?? "t") : undefined;
  if (time !== undefined && !TIMESTAMP_STYLES.has(time)) throw new UsageError(`--trace-time takes t, tt or ttt, not "${time}"`);
  const stringLimit = count(args, "trace-strsize");
  return {
    ...(stringLimit !== undefined ? { stringLimit } : {}),
    // The format's `true` is strace's column 40.
    align: count(args, "trace-columns") ?? true,
    timing: args.flags.has("trace-syscall-times"),
    timestamps: time as TimestampStyle | undefined,
  };
}

/**
 * Opens FILE for the trace. tsbpf runs as root, often with FILE in a
 * world-writable directory such as /tmp: a symlink (or hard link) planted
 * there must not make it overwrite another file, and a FIFO or device must
 * not be written to. O_NOFOLLOW refuses a symlink as the last component;
 * the file is truncated only after fstat shows a regular file with one link
 * (O_NONBLOCK keeps a FIFO without a reader from blocking the open).
 */
export function openTraceFile(file: string): number {
  const { O_WRONLY, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = constants;
  let fd: number;
  try {
    // (libuv adds O_CLOEXEC itself.)
    fd = openSync(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new TsbpfError(`--trace=${file}: refusing to write through a symbolic link`);
    throw new TsbpfError(`--trace=${file}: cannot open it (${code ?? (e as Error).message})`);
  }
  const st = fstatSync(fd);
  const refuse = !st.isFile() ? "it is not a regular file" : st.nlink > 1 ? `it has ${st.nlink} hard links` : undefined;
  if (refuse) {
    closeSync(fd);
    throw new TsbpfError(`--trace=${file}: refusing to write to it: ${refuse}`);
  }
  ftruncateSync(fd, 0);
  return fd;
}

/** Starts tracing if --trace was given; returns the function that stops it. */
export async function startTraceOption(args: ParsedArgs): Promise<() => void> {
  const format = traceFormat(args);
  if (!args.flags.has("trace")) return () => {};
  const { startTracer } = await import("../strace/tracer.js");
  const file = args.options.get("trace")?.[0];
  const fd = file ? openTraceFile(file) : 2;
  // strace's quoting already escapes the strings it prints; notes may quote object names.
  const stop = startTracer((line) => writeSync(fd, terminalSafe(line) + "\n"), { ...format, annotate: true });
  return () => {
    stop();
    if (file) closeSync(fd);
  };
}
