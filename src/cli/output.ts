/**
 * Everything the tsbpf command prints goes through here.
 *
 * - Text is made terminal-safe (src/text/escape.ts): names and strings that
 *   came from an object, a ring buffer or the kernel cannot write escape
 *   sequences to the operator's terminal, whichever path printed them.
 * - JSON stays JSON: JSON.stringify's escapes plus jsonSafe()'s.
 * - A closed stdout (`tsbpf … | head -3`) is not a crash: printing stops,
 *   listeners (a running `load`) are told so they detach and clean up, and
 *   the process exits with STDOUT_CLOSED_EXIT, the status a shell reports
 *   for a UNIX filter killed by SIGPIPE (128 + 13). Node ignores SIGPIPE, so
 *   the closed pipe arrives as an EPIPE error from write(2) instead.
 */
import { errnoMessage, errnoNumber } from "../syscall/errno.js";
import { jsonSafe, terminalSafe } from "../text/escape.js";
import { StdioWriter } from "./stdio-writer.js";

/** Exit status once stdout was closed under us: 128 + SIGPIPE, as `seq 1e9 | head -1` gives for seq. */
export const STDOUT_CLOSED_EXIT = 141;

let closed = false;
/** Set when stdout failed for another reason than its reader going away (ENOSPC, EIO...). */
let failure: NodeJS.ErrnoException | undefined;
const closeListeners = new Set<() => void>();

/**
 * Any failed write ends stdout. Its reader going away is a quiet SIGPIPE-like
 * end; anything else (a full disk, an I/O error) is said once on stderr and
 * exits 1. Either way a running `load` is told, and detaches: the failure may
 * come from inside a ring buffer callback, where a throw would be uncaught.
 */
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (closed) return;
  closed = true;
  if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") {
    failure = err;
    printErr(`tsbpf: cannot write to stdout: ${systemErrorText(err)}\n`);
  }
  process.exitCode = closedOutputExit();
  for (const fn of closeListeners) fn();
}

/** A Node system error as strerror(3) words and its code: "No space left on device (ENOSPC)". */
export function systemErrorText(err: NodeJS.ErrnoException): string {
  let text = err.message;
  try {
    text = errnoMessage(errnoNumber(err.code ?? ""));
  } catch {}
  return err.code ? `${text} (${err.code})` : text;
}

/** The exit status stdout's end calls for (141 for a closed pipe, 1 for a failed write), or undefined while it works. */
export function closedOutputExit(): number | undefined {
  return closed ? (failure ? 1 : STDOUT_CLOSED_EXIT) : undefined;
}

const stdout = new StdioWriter(1, () => process.stdout, onStdoutError);
// A reader of stderr going away (`2>&1 | head`) means the same; nothing is left to tell it.
const stderr = new StdioWriter(
  2,
  () => process.stderr,
  () => {},
);

/** Where text goes instead of fds 1 and 2, when redirected. */
export interface OutputSinks {
  out(data: string | Uint8Array): void;
  err(data: string | Uint8Array): void;
}
let sinks: OutputSinks | undefined;

/** Sends what the CLI prints to `to` instead of fds 1 and 2 (tests that run a verb in-process); undefined undoes it. */
export function redirectOutput(to: OutputSinks | undefined): void {
  sinks = to;
}

/** Whether stdout has ended: its reader went away or a write failed. */
export function outputClosed(): boolean {
  return closed;
}

/** Calls `fn` once when stdout ends (see outputClosed); returns the unsubscribe function. */
export function onOutputClosed(fn: () => void): () => void {
  closeListeners.add(fn);
  return () => closeListeners.delete(fn);
}

/** Human-readable text to stdout. */
export function print(text: string): void {
  if (closed) return;
  if (sinks) sinks.out(terminalSafe(text));
  else stdout.write(terminalSafe(text));
}

/** Human-readable text to stderr (messages, narration, the trace). */
export function printErr(text: string): void {
  if (sinks) sinks.err(terminalSafe(text));
  else stderr.write(terminalSafe(text));
}

/** JSON.stringify's replacer for tsbpf values: bigints as decimal strings (JSON has no 64-bit integers), bytes as hex. */
export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  return v;
}

/** `value` as JSON text (one line, or indented with `pretty`), terminal-safe and still valid JSON. */
export function toJson(value: unknown, pretty = false): string {
  return jsonSafe(JSON.stringify(value, jsonReplacer, pretty ? 2 : undefined));
}

/** One JSON value and a newline to stdout. */
export function printJson(value: unknown, pretty = false): void {
  print(`${toJson(value, pretty)}\n`);
}

/** Whether bytes hold anything terminalSafe() would change: C0 other than \t \n, DEL, or any non-ASCII. */
function needsCheck(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c >= 0x7f) return true;
  }
  return false;
}

/**
 * A large output (a vmlinux.h) in one write, made terminal-safe; resolves
 * when written or when the reader has gone away.
 */
export function printBytes(data: Uint8Array): Promise<void> {
  if (closed) return Promise.resolve();
  const safe = needsCheck(data)
    ? Buffer.from(terminalSafe(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8")))
    : data;
  if (sinks) {
    sinks.out(safe);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const unsubscribe = onOutputClosed(() => resolve());
    stdout.write(safe, () => {
      unsubscribe();
      resolve();
    });
  });
}
