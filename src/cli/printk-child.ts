/**
 * Child process that copies bpf_printk lines from trace_pipe to stdout.
 *
 * Why a separate process: a program like `minimal` prints on every write(2)
 * of the loading process. If that process printed the lines itself, each
 * printed line would trigger another one, forever. Lines written by this
 * child come from another pid and trigger nothing.
 *
 *   node printk-child.js [--json] [--match TEXT]      (spawned with an IPC channel)
 *
 * It tells its parent over IPC whether trace_pipe opened ({ ready: true })
 * or why not ({ error, code }): trace_pipe has one reader at a time, and a
 * second open fails with EBUSY. Lines are what programs printed (%s of any
 * string), so they are made terminal-safe.
 */
import { TracePipeReader } from "../programs/trace-pipe.js";
import { onOutputClosed, print, toJson } from "./output.js";

const json = process.argv.includes("--json");
const matchAt = process.argv.indexOf("--match");
const match = matchAt >= 0 ? process.argv[matchAt + 1] : undefined;

const pipe = new TracePipeReader((line) => {
  if (match && !line.message.includes(match)) return;
  print(json ? `${toJson({ type: "printk", ...line })}\n` : `${line.raw}\n`);
});
let reader: TracePipeReader | undefined;
try {
  reader = pipe.start();
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  process.send?.({ error: err.message, code: err.code ?? "", path: pipe.path }, () => process.exit(3));
}

const stop = (): void => {
  reader?.stop();
  process.exit(0);
};
if (reader) {
  process.send?.({ ready: true });
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // The reader of our stdout going away ends the job; so does the parent going away (stdin closes).
  onOutputClosed(stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
}
