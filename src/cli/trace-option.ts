/**
 * --trace[=FILE], shared by every verb that touches the kernel: each syscall
 * tsbpf makes, printed in strace 6.1's syntax (to stderr, or FILE), with
 * "    # " continuation lines where strace shows only a pointer.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { terminalSafe } from "../text/escape.js";
import type { ParsedArgs } from "./args.js";

export const TRACE_HELP = `  --trace[=FILE]     print every syscall tsbpf makes in strace's syntax (to
                     stderr, or FILE); lines starting "    # " are tsbpf's notes`;

export const TRACE_OPTION = { trace: { optionalValue: true } } as const;

/** Starts tracing if --trace was given; returns the function that stops it. */
export async function startTraceOption(args: ParsedArgs): Promise<() => void> {
  if (!args.flags.has("trace")) return () => {};
  const { startTracer } = await import("../strace/tracer.js");
  const file = args.options.get("trace")?.[0];
  const fd = file ? openSync(file, "w") : 2;
  // strace's quoting already escapes the strings it prints; notes may quote object names.
  const stop = startTracer((line) => writeSync(fd, terminalSafe(line) + "\n"), { annotate: true });
  return () => {
    stop();
    if (file) closeSync(fd);
  };
}
