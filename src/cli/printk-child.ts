/**
 * Child process that copies bpf_printk lines from trace_pipe to stdout.
 *
 * Why a separate process: a program like `minimal` prints on every write(2)
 * of the loading process. If that process printed the lines itself, each
 * printed line would trigger another one, forever. Lines written by this
 * child come from another pid and trigger nothing.
 *
 *   node trace-forwarder.js [--json] [--match TEXT]
 */
import { TracePipeReader } from "../programs/trace-pipe.js";

const json = process.argv.includes("--json");
const matchAt = process.argv.indexOf("--match");
const match = matchAt >= 0 ? process.argv[matchAt + 1] : undefined;

const reader = new TracePipeReader((line) => {
  if (match && !line.message.includes(match)) return;
  process.stdout.write(json ? JSON.stringify({ type: "printk", ...line }) + "\n" : line.raw + "\n");
}).start();

const stop = () => {
  reader.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The parent going away closes our stdin: stop with it.
process.stdin.on("end", stop);
process.stdin.resume();
