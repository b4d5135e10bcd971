/**
 * `tsbpf load <obj>`: open, set globals, load, attach every program, then
 * stream what the object produces (bpf_printk lines) until Ctrl-C, SIGTERM
 * or --duration; everything is detached and closed on the way out.
 */
import { BpfObject } from "../object/bpf-object.js";
import { escapeText } from "../text/escape.js";
import { parseArgs, UsageError } from "./args.js";
import { readInputFile } from "./input-file.js";
import { closedOutputExit, onOutputClosed, print, printErr, STDOUT_CLOSED_EXIT } from "./output.js";
import { TraceForwarder } from "./printk-forwarder.js";
import { applySetOption, SET_HELP } from "./set-option.js";
import { catchStopSignals, requestStop, untilStopped } from "./signals.js";
import { explainListener, verboseListener, warningListener } from "./explain.js";
import { RecordPrinter } from "./record-printer.js";
import { streamRecords } from "./record-streams.js";
import { TRACE_HELP, TRACE_OPTION, startTraceOption } from "./trace-option.js";

export const LOAD_HELP = `usage: tsbpf load <obj.bpf.o> [options]

Loads a BPF object, attaches every program whose section names an attach
point (tp/..., raw_tp/...), streams what it produces — ring buffer records
decoded through BTF (a table, or --json) and bpf_printk output — and
detaches everything on Ctrl-C, SIGTERM or when --duration runs out.

options:
${SET_HELP}
  --duration S       stop after S seconds (fractions allowed)
  --explain          narrate each step of the load, and why a loader does it
                     (with -v too: each program's verifier statistics)
  --verifier-log[=1|2]  print each program's verifier log (log level 1, or 2
                     for the verifier state at every instruction)
  -j, --json         records and printk lines as JSON lines
  --no-printk        do not read trace_pipe for the object's bpf_printk lines
${TRACE_HELP}
  --record NAME      decode ring buffer records as struct NAME (default: struct
                     event when the object's BTF has one; else hex)
  -v, --verbose      print each load step, and stack traces on errors
  -h, --help         this text

A global named my_pid (libbpf-bootstrap's convention) that no --set gives is
set to this process's pid, and the process writes a dot to stderr every
second so the program has writes to see, as libbpf-bootstrap's minimal does.

bpf_printk lines come from trace_pipe, which has one reader at a time: when
the object calls bpf_printk and another reader holds it, the load is refused
(exit 1) rather than run with its output silently lost.

Exit status: 0 after Ctrl-C, SIGTERM or --duration; 1 when loading or
attaching fails; 2 for usage errors (a bad --set value among them); 141 when
the reader of stdout goes away (\`tsbpf load … | head -3\`): everything is
detached and closed first, as on Ctrl-C.
`;

export async function loadCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    set: { value: true, repeat: true },
    duration: { value: true },
    verbose: { short: "-v" },
    explain: {},
    "verifier-log": { optionalValue: true },
    json: { short: "-j" },
    "no-printk": {},
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
  const logLevelText = args.flags.has("verifier-log") ? (args.options.get("verifier-log")?.[0] ?? "1") : undefined;
  if (logLevelText !== undefined && logLevelText !== "1" && logLevelText !== "2")
    throw new UsageError(`--verifier-log takes 1 or 2 (the verifier's log level), not "${logLevelText}"`);
  // A Ctrl-C or SIGTERM during the (synchronous) load is acted on once it returns: everything
  // is detached and the exit code is 0, as for one that comes while streaming.
  catchStopSignals();
  const onStep = explain
    ? explainListener((t) => printErr(t))
    : verbose
      ? verboseListener((t) => printErr(t))
      : warningListener((t) => printErr(t));
  const obj = BpfObject.open(readInputFile(path), { path, verifierStats: explain || verbose, onStep });
  const given = applySetOption(obj, args.options.get("set") ?? []);
  if (logLevelText) for (const p of obj.spec.programs) obj.editProgram(p.name).setLogLevel(Number(logLevelText));
  const pidConvention = obj.spec.variables.some((v) => v.name === "my_pid") && !given.has("my_pid");
  if (pidConvention) obj.setVariable("my_pid", process.pid);

  const forwarder = new TraceForwarder();
  const stopTrace = await startTraceOption(args);
  const stopOnClosedOutput = onOutputClosed(requestStop);
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    obj.load();
    if (logLevelText) {
      for (const p of obj.programs) printErr(`tsbpf: verifier log of ${escapeText(p.name)}:\n${p.verifierLog ?? ""}\n`);
    }
    // After the load (whose refusals say more) but before attaching: a busy trace_pipe stops
    // the command before any program runs.
    if (callsPrintk(obj) && !args.flags.has("no-printk")) await forwarder.start(json ? { json: true } : {});
    const links = obj.attach();
    printErr(
      `tsbpf: loaded ${escapeText(obj.name)}: ${obj.programs.length} program(s), ${obj.maps.length} map(s); attached ` +
        (links.length ? links.map((l) => `${escapeText(l.program)} → ${l.kind} ${escapeText(l.target)}`).join(", ") : "nothing") +
        "\n",
    );
    if (pidConvention) {
      printErr(`tsbpf: my_pid = ${process.pid} (this process); writing a dot to stderr every second\n`);
      heartbeat = setInterval(() => printErr("."), 1000);
    }
    const streams = streamRecords(obj, new RecordPrinter(json ? "json" : "table", print), args.options.get("record")?.[0], onStep);
    printErr(`tsbpf: running${duration ? ` for ${duration} s` : ""}; Ctrl-C to stop\n`);
    const why = await untilStopped(duration);
    if (why !== "duration")
      printErr(
        `\ntsbpf: ${why === "output closed" ? (closedOutputExit() === STDOUT_CLOSED_EXIT ? "stdout was closed" : "stdout failed") : why}: detaching and closing (Ctrl-C again exits at once)\n`,
      );
    await streams.stop();
  } finally {
    stopOnClosedOutput();
    if (heartbeat) clearInterval(heartbeat);
    await forwarder.stop();
    await obj.destroyAsync();
    stopTrace();
  }
  printErr("\ntsbpf: detached and closed everything\n");
  return 0;
}

/** bpf_trace_printk (6) and bpf_trace_vprintk (177): what bpf_printk() compiles to. */
const PRINTK_HELPERS = new Set([6, 177]);
const CALL = 0x85;

/** Whether any program of the object calls a printk helper (and so has trace_pipe output to show). */
function callsPrintk(obj: BpfObject): boolean {
  return obj.spec.programs.some((p) => p.insns.some((i) => i.opcode === CALL && i.src === 0 && PRINTK_HELPERS.has(i.imm)));
}
