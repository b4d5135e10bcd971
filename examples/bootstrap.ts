/**
 * libbpf-bootstrap's `bootstrap`, on tsbpf: traces process exec and exit
 * through a ring buffer, with CO-RE reads of task_struct, a HASH map of exec
 * times and a `const volatile` knob in .rodata. Same output as the C original.
 *
 *   npm start -- [-d MS] [-v]        (as root; Ctrl-C to stop)
 *
 *   -d, --duration MS   only report processes that lived at least MS ms
 *   -v, --verbose       print every load step (like libbpf's debug output)
 */
import { fileURLToPath } from "node:url";
import { BpfObject } from "../src/object/bpf-object.js";
import { RingBuffer } from "../src/maps/ringbuf.js";
import { RingBufferPoller } from "../src/maps/ring-poller.js";
import { makeDecoder } from "../src/maps/value-decoder.js";
import { parseArgs, UsageError } from "../src/cli/args.js";

const objectPath = fileURLToPath(new URL("../../bpf/bootstrap.bpf.o", import.meta.url));

/** struct event of bootstrap.h, as the decoder gives it. */
interface Event {
  pid: number;
  ppid: number;
  exit_code: number;
  duration_ns: bigint;
  comm: string;
  filename: string;
  exit_event: boolean;
}

const USAGE = `usage: bootstrap [-d MS] [-v]
BPF bootstrap demo application.

It traces process start and exits and shows associated information
(filename, process duration, PID and PPID, etc).

  -d, --duration MS   minimum process duration (ms) to report
  -v, --verbose       verbose debug output
`;

/** C's "%-Ns" and "%-Nd": left-aligned in a field of at least N characters. */
const col = (value: string | number, width: number) => String(value).padEnd(width);

function hhmmss(d: Date): string {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

function formatEvent(e: Event, now: Date): string {
  const ts = hhmmss(now);
  if (e.exit_event) {
    let line = `${col(ts, 8)} ${col("EXIT", 5)} ${col(e.comm, 16)} ${col(e.pid, 7)} ${col(e.ppid, 7)} [${e.exit_code}]`;
    if (e.duration_ns) line += ` (${e.duration_ns / 1_000_000n}ms)`;
    return line;
  }
  return `${col(ts, 8)} ${col("EXEC", 5)} ${col(e.comm, 16)} ${col(e.pid, 7)} ${col(e.ppid, 7)} ${e.filename}`;
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, { duration: { value: true, short: "-d" }, verbose: { short: "-v" }, help: { short: "-h" } });
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args.flags.has("help")) {
    process.stdout.write(USAGE);
    return 0;
  }
  const minMs = Number(args.options.get("duration")?.[0] ?? 0);
  if (!Number.isInteger(minMs) || minMs < 0) {
    process.stderr.write(`Invalid duration: ${args.options.get("duration")?.[0]}\n${USAGE}`);
    return 2;
  }
  const verbose = args.flags.has("verbose");

  using obj = BpfObject.open(objectPath, {
    ...(verbose ? { onStep: (step: string, detail?: string) => process.stderr.write(`tsbpf: ${step}: ${detail ?? ""}\n`) } : {}),
  });
  // Parameterise the BPF code with the minimum duration (frozen at load).
  obj.setVariable("min_duration_ns", BigInt(minMs) * 1_000_000n);
  obj.load();
  obj.attach();

  const decode = makeDecoder<Event>(obj.spec.btf!.btf, "event");
  const poller = new RingBufferPoller();
  const ring = new RingBuffer(obj.map("rb"));
  poller.add(ring, (data) => {
    process.stdout.write(formatEvent(decode(data), new Date()) + "\n");
  });

  process.stdout.write(`${col("TIME", 8)} ${col("EVENT", 5)} ${col("COMM", 16)} ${col("PID", 7)} ${col("PPID", 7)} FILENAME/EXIT CODE\n`);
  let signals = 0;
  const onSignal = () => {
    // Second Ctrl-C: the user wants out now.
    if (++signals > 1) process.exit(130);
    poller.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await poller.start();
  } finally {
    poller.close();
    ring.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    process.stderr.write(`bootstrap: ${e.message}\n`);
    process.exitCode = 1;
  },
);
