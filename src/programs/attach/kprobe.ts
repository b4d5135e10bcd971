/**
 * kprobes, kretprobes and ksyscall programs through the kprobe PMU:
 * perf_event_open with type = /sys/bus/event_source/devices/kprobe/type,
 * config = the retprobe bit for return probes, config1 = pointer to the
 * kernel function's name, config2 = offset into it; then the program is
 * bound to the event.
 *
 * A kernel without CONFIG_KPROBES has no kprobe PMU: attaching fails with
 * an UnsupportedError naming the alternatives. The legacy tracefs
 * `kprobe_events` interface is not used (it needs kprobes too).
 *
 * ksyscall/NAME probes the syscall's arch-specific entry point, as libbpf
 * does: __x64_sys_NAME (arm64: __arm64_sys_NAME) on kernels with syscall
 * wrappers (4.17+), __se_sys_NAME before (see syscall-wrapper.ts).
 */
import { NotFoundError, UnsupportedError } from "../../errors.js";
import { EILSEQ, EINVAL, ENOENT } from "../../syscall/errno.js";
import { SyscallError } from "../../syscall/syscall-error.js";
import type { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";
import { attachToPerfEvent } from "./tracepoint.js";
import { openProbeEvent, probePmuType } from "./pmu.js";
import { ksyscallFunction } from "./syscall-wrapper.js";

/** Parses "FUNC" or "FUNC+OFFSET" (what follows kprobe/ in a section name). */
export function parseKprobeTarget(target: string): { func: string; offset: number } {
  const m = target.match(/^([A-Za-z0-9_.]+)(?:\+(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*))?$/);
  if (!m) throw new UnsupportedError(`kprobe target ${JSON.stringify(target)} is not FUNCTION or FUNCTION+OFFSET`);
  const text = m[2];
  const offset = text === undefined ? 0 : /^0[0-7]+$/.test(text) ? parseInt(text, 8) : Number(text);
  return { func: m[1]!, offset };
}

export function attachKprobe(t: AttachTarget, opts: AttachOptions): Link {
  const syscall = /^k(?:ret)?syscall(?:$|\/)/.test(t.sectionName);
  const retprobe = t.retprobe || !!opts.retprobe;
  const kind = syscall ? (retprobe ? "kretsyscall" : "ksyscall") : retprobe ? "kretprobe" : "kprobe";

  // What to probe: options first, then the section name.
  let func = opts.func;
  let offset = opts.offset ?? 0;
  if (func === undefined) {
    if (!t.target) {
      throw new UnsupportedError(
        `${t.program}: section ${t.sectionName} names no ${syscall ? "syscall" : "kernel function"}; pass { func } to attach(), ` +
          `or name it in the section: ${t.sectionName}/${syscall ? "SYSCALL" : "FUNCTION"}`,
      );
    }
    if (syscall) {
      if (!/^[A-Za-z0-9_]+$/.test(t.target)) throw new UnsupportedError(`${t.program}: ${JSON.stringify(t.target)} is not a syscall name`);
      func = t.target;
    } else {
      try {
        ({ func, offset } = parseKprobeTarget(t.target));
      } catch (e) {
        throw new UnsupportedError(`${t.program} (section ${t.sectionName}): ${(e as Error).message}`, { cause: e });
      }
    }
  }
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new UnsupportedError(`${t.program}: kprobe offset must be a non-negative integer, not ${offset}`);
  if (retprobe && offset !== 0)
    throw new UnsupportedError(`${t.program}: ${kind}s take no offset: a return probe goes on the function's entry`);
  if (syscall && offset !== 0) throw new UnsupportedError(`${t.program}: ksyscall probes take no offset`);

  // No kprobe PMU: say so before anything else touches the kernel.
  try {
    probePmuType("kprobe");
  } catch (e) {
    if (e instanceof UnsupportedError) throw new UnsupportedError(`${t.program} (section ${t.sectionName}): ${e.message}`, { cause: e });
    throw e;
  }

  const symbol = syscall ? ksyscallFunction(func) : func;
  const target = `${symbol}${offset ? `+0x${offset.toString(16)}` : ""}`;
  let perfFd: number;
  try {
    perfFd = openProbeEvent({ pmu: "kprobe", retprobe, name: symbol, offset, pid: -1 });
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (e.errno === ENOENT || (e.errno === EINVAL && offset === 0)) {
      throw new NotFoundError(
        `${t.program}: cannot ${kind} ${target}: ${e.code} — ${syscall ? `no syscall entry point ${symbol} (is ${func} a syscall on this architecture?)` : `no kernel function ${symbol} that can be probed`} ` +
          `(not in /proc/kallsyms, inlined, or on the kprobe blacklist)`,
        { cause: e },
      );
    }
    if (e.errno === EILSEQ) {
      throw new UnsupportedError(
        `${t.program}: cannot ${kind} ${target}: offset 0x${offset.toString(16)} is not on an instruction boundary`,
        { cause: e },
      );
    }
    throw new SyscallError(e.request, e.errno, `creating ${kind} ${target} for ${t.program}`);
  }
  return attachToPerfEvent(t.progFd, perfFd, kind, t.program, target, opts.cookie);
}
