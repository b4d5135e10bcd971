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
 * wrappers (4.17+), __se_sys_NAME before.
 */
import { NotFoundError, UnsupportedError } from "../../errors.js";
import { closeFd } from "../../syscall/bpf.js";
import { EINVAL, ENOENT } from "../../syscall/errno.js";
import { SyscallError } from "../../syscall/syscall-error.js";
import type { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";
import { attachToPerfEvent } from "./tracepoint.js";
import { getEventSourceRoot, openProbeEvent, probePmuType } from "./pmu.js";

const EILSEQ = 84;

/** libbpf's arch_specific_syscall_pfx(), keyed by process.arch. */
const SYSCALL_PREFIXES: Record<string, string> = {
  x64: "x64",
  ia32: "ia32",
  s390x: "s390x",
  arm: "arm",
  arm64: "arm64",
  mips: "mips",
  mipsel: "mips",
  riscv64: "riscv",
  ppc: "powerpc",
  ppc64: "powerpc64",
};

/** "__x64_sys_" on x86-64: the prefix of syscall wrapper symbols, if tsbpf knows the arch. */
export function syscallWrapperPrefix(arch: string = process.arch): string | undefined {
  const p = SYSCALL_PREFIXES[arch];
  return p ? `__${p}_sys_` : undefined;
}

/** Parses "FUNC" or "FUNC+OFFSET" (what follows kprobe/ in a section name). */
export function parseKprobeTarget(target: string): { func: string; offset: number } {
  const m = target.match(/^([A-Za-z0-9_.]+)(?:\+(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*))?$/);
  if (!m) throw new UnsupportedError(`kprobe target ${JSON.stringify(target)} is not FUNCTION or FUNCTION+OFFSET`);
  const text = m[2];
  const offset = text === undefined ? 0 : /^0[0-7]+$/.test(text) ? parseInt(text, 8) : Number(text);
  return { func: m[1]!, offset };
}

/** Cached per sysfs root: whether the kernel has __<arch>_sys_* wrappers. */
const wrapperSupport = new Map<string, boolean>();

/**
 * Whether this kernel names syscall entry points __x64_sys_* (libbpf's
 * FEAT_SYSCALL_WRAPPER): probed by opening a kprobe on __x64_sys_bpf for
 * this process only and closing it again.
 */
function hasSyscallWrappers(prefix: string): boolean {
  const key = getEventSourceRoot();
  let known = wrapperSupport.get(key);
  if (known === undefined) {
    try {
      closeFd(openProbeEvent({ pmu: "kprobe", retprobe: false, name: `${prefix}bpf`, offset: 0, pid: process.pid }));
      known = true;
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      known = false;
    }
    wrapperSupport.set(key, known);
  }
  return known;
}

/** The kernel function a ksyscall program probes for syscall `name`. */
export function ksyscallFunction(name: string): string {
  const prefix = syscallWrapperPrefix();
  return prefix && hasSyscallWrappers(prefix) ? `${prefix}${name}` : `__se_sys_${name}`;
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
        throw new UnsupportedError(`${t.program} (section ${t.sectionName}): ${(e as Error).message}`);
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
    if (e instanceof UnsupportedError) throw new UnsupportedError(`${t.program} (section ${t.sectionName}): ${e.message}`);
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
      );
    }
    if (e.errno === EILSEQ) {
      throw new UnsupportedError(
        `${t.program}: cannot ${kind} ${target}: offset 0x${offset.toString(16)} is not on an instruction boundary`,
      );
    }
    throw new SyscallError(e.request, e.errno, `creating ${kind} ${target} for ${t.program}`);
  }
  return attachToPerfEvent(t.progFd, perfFd, kind, t.program, target, opts.cookie);
}
