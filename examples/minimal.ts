/**
 * libbpf-bootstrap's `minimal`, on tsbpf: a tracepoint on write(2) that
 * prints a line whenever this process writes. Like the C original it sets
 * my_pid, attaches, says "Successfully started!", writes a dot to stderr
 * every second — and, unlike it, also prints the matching trace_pipe lines.
 *
 *   node dist/examples/minimal.js        (as root; Ctrl-C to stop)
 */
import { fileURLToPath } from "node:url";
import { BpfObject } from "../src/object/bpf-object.js";
import { TraceForwarder } from "../src/cli/printk-forwarder.js";
import { untilStopped } from "../src/cli/signals.js";

const objectPath = fileURLToPath(new URL("../../bpf/minimal.bpf.o", import.meta.url));

async function main(): Promise<void> {
  using obj = BpfObject.open(objectPath);
  // Only writes by this process should trigger the program.
  obj.setVariable("my_pid", process.pid);
  obj.load();
  obj.attach();

  process.stdout.write(
    "Successfully started! Please run `sudo cat /sys/kernel/debug/tracing/trace_pipe` " + "to see output of the BPF programs.\n",
  );
  // The lines are printed by a child process: if this process printed them,
  // every printed line would be a write that triggers another line.
  const forwarder = await new TraceForwarder().start({ match: `PID ${process.pid}.` });
  const dots = setInterval(() => process.stderr.write("."), 1000);
  const seconds = Number(process.env.TSBPF_DURATION ?? "") || undefined;
  await untilStopped(seconds);
  clearInterval(dots);
  await forwarder.stop();
}

main().catch((e: Error) => {
  process.stderr.write(`minimal: ${e.message}\n`);
  process.exitCode = 1;
});
