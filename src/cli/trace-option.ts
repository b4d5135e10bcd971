/**
 * --trace[=FILE], shared by every verb that touches the kernel: each syscall
 * tsbpf makes, printed in strace 6.1's syntax (to stderr, or FILE), with
 * "    # " continuation lines where strace shows only a pointer.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { terminalSafe } from "../text/escape.js";
import type { ParsedArgs } from "./args.js";

export const TRACE_HELP = `  --trace[=FILE]     print every syscall tsbpf makes in strace's syntax (to
                     stderr, or FILE); lines starting "    # " are tsbpf's notes.
                     FILE is created or overwritten only if it is a regular
                     file: a symbolic link, a hard link or a device is refused`;

export const TRACE_OPTION = { trace: { optionalValue: true } } as const;

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
  if (!args.flags.has("trace")) return () => {};
  const { startTracer } = await import("../strace/tracer.js");
  const file = args.options.get("trace")?.[0];
  const fd = file ? openTraceFile(file) : 2;
  // strace's quoting already escapes the strings it prints; notes may quote object names.
  const stop = startTracer((line) => writeSync(fd, terminalSafe(line) + "\n"), { annotate: true });
  return () => {
    stop();
    if (file) closeSync(fd);
  };
}
