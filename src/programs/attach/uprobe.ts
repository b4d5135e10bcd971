/**
 * uprobes and uretprobes through the uprobe PMU: perf_event_open with
 * type = /sys/bus/event_source/devices/uprobe/type, config = the retprobe
 * bit for return probes, config1 = pointer to the binary's path, config2 =
 * file offset of the probed instruction; then the program is bound to the
 * event (perf link, or ioctl on old kernels).
 *
 * Where to probe comes from the options ({ binary, func, offset }) or, with
 * none of those, from the section name: `uprobe/PATH:FUNC[+OFFSET]` (as in
 * libbpf). A binary named without a slash is searched for: "libc.so.6" in
 * the library directories, "bash" in $PATH.
 */
import { UnsupportedError } from "../../errors.js";
import { HostBinary, resolveBinaryPath } from "./host-binary.js";
import { EINVAL, ENOENT, ESRCH } from "../../syscall/errno.js";
import { SyscallError } from "../../syscall/syscall-error.js";
import type { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";
import { attachToPerfEvent } from "./tracepoint.js";
import { openProbeEvent } from "./pmu.js";

export interface UprobeSpec {
  /** As written: a path, or a bare program / library name. */
  binary: string;
  /** Function name ("name", "name@VERSION"); absent: `offset` is a file offset. */
  func?: string;
  /** Added to the function's offset, or the file offset itself without `func`. */
  offset: number;
}

/**
 * Parses what follows "uprobe/" in a section name: "PATH:FUNC" or
 * "PATH:FUNC+OFFSET" (OFFSET decimal, 0x-hex or 0-octal, like %li).
 */
export function parseUprobeTarget(target: string): UprobeSpec {
  const colon = target.indexOf(":");
  if (colon < 0)
    throw new UnsupportedError(
      `uprobe section target ${JSON.stringify(target)} has no ":function" (expected uprobe/PATH:FUNCTION[+OFFSET])`,
    );
  const binary = target.slice(0, colon);
  let func = target.slice(colon + 1);
  if (!binary) throw new UnsupportedError(`uprobe section target ${JSON.stringify(target)} names no binary before ":"`);
  let offset = 0;
  const m = func.match(/^(.+)\+(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/);
  if (m) {
    func = m[1]!;
    const text = m[2]!;
    offset = /^0[0-7]+$/.test(text) ? parseInt(text, 8) : Number(text);
  }
  if (!func) throw new UnsupportedError(`uprobe section target ${JSON.stringify(target)} names no function after ":"`);
  return { binary, func, offset };
}

function checkOffset(offset: number, program: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new UnsupportedError(`${program}: uprobe offset must be a non-negative integer, not ${offset}`);
}

/** Where the probe goes: the options if they name a target, else the section name. */
function uprobeSpec(t: AttachTarget, opts: AttachOptions): { spec: UprobeSpec; fromSection: boolean } {
  if (opts.binary !== undefined || opts.func !== undefined || opts.offset !== undefined) {
    if (opts.binary === undefined) {
      throw new UnsupportedError(
        `${t.program}: uprobe options give ${opts.func !== undefined ? "func" : "offset"} but no binary (add { binary: "/path/or/libname.so" })`,
      );
    }
    if (opts.func === undefined && opts.offset === undefined) {
      throw new UnsupportedError(`${t.program}: uprobe on ${opts.binary} needs func (a function name) or offset (a file offset)`);
    }
    return {
      spec: { binary: opts.binary, ...(opts.func !== undefined ? { func: opts.func } : {}), offset: opts.offset ?? 0 },
      fromSection: false,
    };
  }
  if (!t.target) {
    throw new UnsupportedError(
      `${t.program}: section ${t.sectionName} names no function to probe; pass { binary, func } (and optionally offset, pid, retprobe) to attach(), ` +
        `or name it in the section: ${t.sectionName}/PATH:FUNCTION`,
    );
  }
  try {
    return { spec: parseUprobeTarget(t.target), fromSection: true };
  } catch (e) {
    if (e instanceof UnsupportedError) throw new UnsupportedError(`${t.program} (section ${t.sectionName}): ${e.message}`, { cause: e });
    throw e;
  }
}

/** The resolved target: absolute path and file offset, and how to name it in messages. */
export interface UprobeLocation {
  path: string;
  fileOffset: number;
  description: string;
}

/** Resolves binary and function to a path and a file offset (no kernel calls). */
export function locateUprobe(spec: UprobeSpec, program = "uprobe"): UprobeLocation {
  checkOffset(spec.offset, program);
  const path = resolveBinaryPath(spec.binary);
  if (spec.func === undefined) {
    return { path, fileOffset: spec.offset, description: `${path}:0x${spec.offset.toString(16)}` };
  }
  const binary = HostBinary.open(path);
  const fn = binary.resolveFunction(spec.func);
  if (fn.ifunc) {
    throw new UnsupportedError(
      `${spec.func} in ${path} is a GNU indirect function (STT_GNU_IFUNC): its symbol is the resolver that picks an implementation ` +
        `when the program is loaded, so a probe there would fire once per process, not once per call. Probe the implementation ` +
        `instead (e.g. a specific variant named in .symtab or debug symbols), or, to probe the resolver anyway, pass ` +
        `{ binary: "${path}", offset: 0x${fn.offset.toString(16)} } without func`,
    );
  }
  if (fn.symbol.size > 0 && spec.offset >= fn.symbol.size) {
    throw new UnsupportedError(
      `${program}: offset ${spec.offset} is outside ${spec.func} in ${path} (the function is ${fn.symbol.size} bytes)`,
    );
  }
  const fileOffset = fn.offset + spec.offset;
  return { path, fileOffset, description: `${path}:${spec.func}${spec.offset ? `+0x${spec.offset.toString(16)}` : ""}` };
}

export function attachUprobe(t: AttachTarget, opts: AttachOptions): Link {
  const retprobe = t.retprobe || !!opts.retprobe;
  const kind = retprobe ? "uretprobe" : "uprobe";
  const { spec, fromSection } = uprobeSpec(t, opts);
  if (retprobe && fromSection && spec.offset !== 0) {
    throw new UnsupportedError(
      `${t.program} (section ${t.sectionName}): uretprobes take no +offset: a return probe goes on the function's entry`,
    );
  }
  const pid = opts.pid ?? -1;
  if (!Number.isSafeInteger(pid) || pid < -1)
    throw new UnsupportedError(`${t.program}: pid must be a process id or -1 (every process), not ${pid}`);
  const loc = locateUprobe(spec, t.program);
  const target = `${loc.description}${pid !== -1 ? ` pid ${pid}` : ""}`;

  let perfFd: number;
  try {
    perfFd = openProbeEvent({ pmu: "uprobe", retprobe, name: loc.path, offset: loc.fileOffset, pid });
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    const why =
      e.errno === ESRCH
        ? ` (no process ${pid})`
        : e.errno === EINVAL
          ? ` (file offset 0x${loc.fileOffset.toString(16)} is past the end of ${loc.path}, or the kernel refused the probe)`
          : e.errno === ENOENT
            ? ` (${loc.path} disappeared)`
            : "";
    throw new SyscallError(e.request, e.errno, `creating ${kind} ${target} for ${t.program}${why}`);
  }
  return attachToPerfEvent(t.progFd, perfFd, kind, t.program, target, opts.cookie);
}
