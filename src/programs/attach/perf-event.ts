/**
 * perf_event programs: one sampling perf event per CPU (pid -1), each with
 * the program attached, all released by one Link. Also the cookie-aware
 * "attach a program to this perf fd" used by kprobes and uprobes.
 *
 * Without `opts.perfEvent`, the event is the software cpu-clock sampled at
 * 99 Hz on every online CPU: the classic profiling rate (bcc's `profile
 * -F 99`), low overhead and not in lockstep with the 100/250/1000 Hz timer
 * tick. An event given without samplePeriod or sampleFreq is sampled at
 * 99 Hz too (with neither, it would never overflow and the program would
 * never run). Software events work everywhere, including VMs without a
 * hardware PMU, where PERF_TYPE_HARDWARE events fail with ENOENT.
 */
import { UnsupportedError } from "../../errors.js";
import { PerfSwId, PerfTypeId } from "../../abi/uapi-enums.js";
import { ENODEV, ENOENT, ENOSYS, EOPNOTSUPP } from "../../syscall/errno.js";
import { perfEventOpen } from "../../syscall/perf.js";
import { SyscallError } from "../../syscall/syscall-error.js";
import { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";
import { onlineCpus } from "./pmu.js";
import { attachToPerfEvent } from "./tracepoint.js";

/** The default sampling frequency (Hz) when neither samplePeriod nor sampleFreq is given. */
export const DEFAULT_SAMPLE_FREQ = 99;

export type PerfEventOptions = NonNullable<AttachOptions["perfEvent"]>;

/** The default event: software cpu-clock at 99 Hz on every online CPU. */
export const DEFAULT_PERF_EVENT: PerfEventOptions = {
  type: PerfTypeId.SOFTWARE,
  config: PerfSwId.CPU_CLOCK,
  sampleFreq: DEFAULT_SAMPLE_FREQ,
};

function describeEvent(ev: PerfEventOptions): string {
  const name =
    ev.type === PerfTypeId.SOFTWARE
      ? ({ 0: "cpu-clock", 1: "task-clock", 2: "page-faults", 3: "context-switches" } as Record<string, string>)[String(ev.config)]
      : ev.type === PerfTypeId.HARDWARE
        ? ({ 0: "cycles", 1: "instructions" } as Record<string, string>)[String(ev.config)]
        : undefined;
  const rate = ev.sampleFreq !== undefined ? `@${ev.sampleFreq}Hz` : ev.samplePeriod !== undefined ? `/${ev.samplePeriod}` : "";
  return `${name ?? `type ${ev.type} config ${ev.config}`}${rate}`;
}

function checkPositiveInteger(v: number | undefined, what: string): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0))
    throw new UnsupportedError(`perfEvent.${what} must be a positive integer, not ${v}`);
}

/**
 * Attaches a perf_event program: a sampling event per CPU (or, with
 * `opts.pid`, one event following that process on any CPU), the program on
 * each; one Link destroys them all. If any CPU fails, the ones already
 * attached are released before the error is thrown.
 */
export function attachPerfEventProgram(t: AttachTarget, opts: AttachOptions): Link {
  const given = opts.perfEvent;
  const ev: PerfEventOptions = given ?? DEFAULT_PERF_EVENT;
  if (ev.samplePeriod !== undefined && ev.sampleFreq !== undefined) {
    throw new UnsupportedError(`${t.program}: give perfEvent.samplePeriod or perfEvent.sampleFreq, not both`);
  }
  checkPositiveInteger(ev.samplePeriod, "samplePeriod");
  checkPositiveInteger(ev.sampleFreq, "sampleFreq");
  const freq = ev.samplePeriod === undefined;
  const sample = BigInt(freq ? (ev.sampleFreq ?? DEFAULT_SAMPLE_FREQ) : ev.samplePeriod!);
  const pid = opts.pid ?? -1;
  if (!Number.isSafeInteger(pid) || pid < -1) throw new UnsupportedError(`${t.program}: pid must be a process id or -1, not ${pid}`);
  const cpus = ev.cpus ?? (pid === -1 ? onlineCpus() : [-1]);
  if (cpus.length === 0) throw new UnsupportedError(`${t.program}: perfEvent.cpus is empty`);
  if (pid === -1 && cpus.includes(-1)) throw new UnsupportedError(`${t.program}: cpu -1 (any CPU) needs a pid`);

  const event = describeEvent({ ...ev, ...(freq ? { sampleFreq: Number(sample) } : {}) });
  const links: Link[] = [];
  try {
    for (const cpu of cpus) {
      const target = `${event} ${cpu === -1 ? "any cpu" : `cpu ${cpu}`}${pid !== -1 ? ` pid ${pid}` : ""}`;
      const attr = {
        type: ev.type,
        config: ev.config,
        // sample_freq when `freq` is set; the two share the word.
        sample_period: sample,
        // Opened disabled: attaching enables it, so no samples are taken before the program is there.
        disabled: true,
        freq,
      };
      let perfFd: number;
      try {
        perfFd = perfEventOpen(attr, pid, cpu);
      } catch (e) {
        throw explainOpenFailure(e, ev, t.program, target);
      }
      links.push(attachToPerfEvent(t.progFd, perfFd, "perf_event", t.program, target, opts.cookie));
    }
  } catch (e) {
    for (const l of links) l.destroy();
    throw e;
  }
  const where = `${event} on ${cpus[0] === -1 ? "any cpu" : `cpus ${formatCpus(cpus)}`}${pid !== -1 ? ` pid ${pid}` : ""}`;
  return new Link("perf_event", t.program, where, { cleanup: () => destroyAll(links) });
}

function destroyAll(links: Link[]): void {
  let first: unknown;
  for (const l of links) {
    try {
      l.destroy();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}

function formatCpus(cpus: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(j > i ? `${cpus[i]}-${cpus[j]}` : `${cpus[i]}`);
    i = j + 1;
  }
  return parts.join(",");
}

function explainOpenFailure(e: unknown, ev: PerfEventOptions, program: string, target: string): unknown {
  if (!(e instanceof SyscallError) || e.request.call !== "perf_event_open") return e;
  if (ev.type === PerfTypeId.HARDWARE && (e.errno === ENOENT || e.errno === EOPNOTSUPP || e.errno === ENODEV)) {
    return new UnsupportedError(
      `${program}: hardware perf event ${target} is not available here (${e.code}: no hardware PMU, as in most VMs, or the CPU lacks that event); ` +
        `use a software event such as { type: PERF_TYPE_SOFTWARE (1), config: PERF_COUNT_SW_CPU_CLOCK (0) }`,
      { cause: e },
    );
  }
  if (e.errno === ENOSYS)
    return new UnsupportedError(`${program}: this kernel has no perf events (CONFIG_PERF_EVENTS is off)`, { cause: e });
  return new SyscallError(e.request, e.errno, `opening perf event ${target} for ${program}`);
}
