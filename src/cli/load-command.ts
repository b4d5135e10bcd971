/**
 * `tsbpf load <obj>`: open, set globals, load, attach every program, then
 * stream what the object produces (bpf_printk lines) until Ctrl-C, SIGTERM
 * or --duration; everything is detached and closed on the way out.
 */
import { BpfObject } from "../object/bpf-object.js";
import { parseArgs, UsageError } from "./args.js";
import { TraceForwarder } from "./printk-forwarder.js";
import { catchStopSignals, untilStopped } from "./signals.js";
import { explainListener } from "./explain.js";
import { RecordPrinter } from "./record-printer.js";
import { streamRecords } from "./record-streams.js";
import { TRACE_HELP, TRACE_OPTION, startTraceOption } from "./trace-option.js";

export const LOAD_HELP = `usage: tsbpf load <obj.bpf.o> [options]

Loads a BPF object, attaches every program whose section names an attach
point (tp/..., raw_tp/...), streams what it produces — ring buffer records
decoded through BTF (a table, or --json) and bpf_printk output — and
detaches everything on Ctrl-C, SIGTERM or when --duration runs out.

options:
  --set NAME=VALUE   set a global variable before load (repeatable); VALUE is
                     a number (decimal or 0x hex), "self" (this process's pid)
                     or a string for char arrays
  --duration S       stop after S seconds (fractions allowed)
  --explain          narrate each step of the load, and why a loader does it
  --json             records and printk lines as JSON lines
${TRACE_HELP}
  --record NAME      decode ring buffer records as struct NAME (default: struct
                     event when the object's BTF has one; else hex)
  -v, --verbose      print each load step, and stack traces on errors
  -h, --help         this text

A global named my_pid (libbpf-bootstrap's convention) that no --set gives is
set to this process's pid, and the process writes a dot to stderr every
second so the program has writes to see, as libbpf-bootstrap's minimal does.
`;

function parseSetValue(text: string): number | bigint | string {
  if (text === "self") return process.pid;
  if (/^-?\d+$/.test(text)) return BigInt(text);
  if (/^0x[0-9a-f]+$/i.test(text)) return BigInt(text);
  return text;
}

export async function loadCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    set: { value: true, repeat: true },
    duration: { value: true },
    verbose: { short: "-v" },
    explain: {},
    json: {},
    record: { value: true },
    ...TRACE_OPTION,
  });
  const [path, ...extra] = args.positionals;
  if (!path) throw new UsageError("load needs an object file");
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const durationText = args.options.get("duration")?.[0];
  const duration = durationText === undefined ? undefined : Number(durationText);
  if (duration !== undefined && !(duration > 0)) throw new UsageError(`--duration needs a positive number of seconds, got ${durationText}`);
  const verbose = args.flags.has("verbose");

  const explain = args.flags.has("explain");
  const json = args.flags.has("json");
  // A Ctrl-C or SIGTERM during the (synchronous) load is acted on once it returns: everything
  // is detached and the exit code is 0, as for one that comes while streaming.
  catchStopSignals();
  const obj = BpfObject.open(path, {
    ...(explain
      ? { onStep: explainListener((t) => process.stderr.write(t)) }
      : verbose
        ? { onStep: (step: string, detail?: string) => process.stderr.write(`[${step}] ${detail ?? ""}\n`) }
        : { onStep: (step: string, detail?: string) => step === "warning" && process.stderr.write(`tsbpf: warning: ${detail ?? ""}\n`) }),
  });
  const given = new Set<string>();
  for (const assignment of args.options.get("set") ?? []) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set needs NAME=VALUE, got ${assignment}`);
    const name = assignment.slice(0, eq);
    obj.setVariable(name, parseSetValue(assignment.slice(eq + 1)));
    given.add(name);
  }
  const pidConvention = obj.spec.variables.some((v) => v.name === "my_pid") && !given.has("my_pid");
  if (pidConvention) obj.setVariable("my_pid", process.pid);

  const stopTrace = await startTraceOption(args);
  const forwarder = new TraceForwarder();
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    obj.load();
    const links = obj.attach();
    process.stderr.write(
      `tsbpf: loaded ${obj.name}: ${obj.programs.length} program(s), ${obj.maps.length} map(s); attached ` +
        (links.length ? links.map((l) => `${l.program} → ${l.kind} ${l.target}`).join(", ") : "nothing") +
        "\n",
    );
    if (pidConvention) {
      process.stderr.write(`tsbpf: my_pid = ${process.pid} (this process); writing a dot to stderr every second\n`);
      heartbeat = setInterval(() => process.stderr.write("."), 1000);
    }
    forwarder.start(json ? { json: true } : {});
    const streams = streamRecords(
      obj,
      new RecordPrinter(json ? "json" : "table", (t) => process.stdout.write(t)),
      args.options.get("record")?.[0],
    );
    process.stderr.write(`tsbpf: running${duration ? ` for ${duration} s` : ""}; Ctrl-C to stop\n`);
    await untilStopped(duration);
    await streams.stop();
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    await forwarder.stop();
    await obj.destroyAsync();
    stopTrace();
  }
  process.stderr.write("\ntsbpf: detached and closed everything\n");
  return 0;
}
