/**
 * Where a USDT probe's uprobes go: each site of provider:name in a binary's
 * SDT notes, as the file offset the uprobe PMU takes, the semaphore as the
 * file offset the kernel increments while probes are attached
 * (ref_ctr_offset), and the parsed arguments.
 *
 * Kernels without BPF cookies find a site's spec by the address that fired;
 * for a shared library that address depends on where a process mapped it,
 * which only that process's /proc/PID/maps says.
 */
import { NotFoundError, ObjectFormatError, UnsupportedError } from "../../errors.js";
import { ET_DYN, ET_EXEC, PF_X, PT_LOAD, type ProgramHeader } from "../../elf/elf-file.js";
import { type StapsdtNote, type UsdtArg, parseUsdtArgs, probeAddress, readStapsdtNotes } from "../../elf/stapsdt.js";
import { pathStat, readHostText } from "../../syscall/host-files.js";
import type { HostBinary } from "./host-binary.js";

export interface UsdtTarget {
  /** File offset of the probe's instruction: the uprobe's offset. */
  fileOffset: number;
  /** The address that fires in the traced process: link-time for executables, mapped for libraries (with a pid). */
  address: number;
  /** File offset of the 2-byte semaphore, or 0 when the probe has none. */
  semaphoreOffset: number;
  /** The argument specification as written in the note (sites with equal text share a spec). */
  argsText: string;
  args: UsdtArg[];
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The PT_LOAD segment holding `vaddr` (its in-memory extent, as libbpf looks it up). */
function segmentOf(segments: readonly ProgramHeader[], vaddr: number): ProgramHeader | undefined {
  return segments.find((p) => p.type === PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.memsz);
}

export interface CollectOptions {
  /** The traced process, or -1 for every process. */
  pid: number;
  /** The BPF side finds specs by address (no BPF cookies): library sites need the process's mapping. */
  byAddress: boolean;
}

/** Every site of `provider:name` in the binary; throws when there is none. */
export function collectUsdtTargets(binary: HostBinary, provider: string, name: string, opts: CollectOptions): UsdtTarget[] {
  const { elf, path } = binary;
  const probe = `${provider}:${name}`;
  if (elf.type !== ET_EXEC && elf.type !== ET_DYN) {
    throw new UnsupportedError(`${path} is not an executable or shared library (ELF type ${elf.type}): USDT probes live in those`);
  }
  const notes = readStapsdtNotes(elf);
  if (notes.length === 0) throw new NotFoundError(`${path} has no USDT probes (no .note.stapsdt section)`);
  const matching = notes.filter((n) => n.provider === provider && n.name === name);
  if (matching.length === 0) {
    const known = [...new Set(notes.map((n) => `${n.provider}:${n.name}`))];
    throw new NotFoundError(
      `${path} has no USDT probe ${probe} (it has: ${known.slice(0, 20).join(", ")}${known.length > 20 ? ", ..." : ""})`,
    );
  }
  const segments = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  if (segments.length === 0) throw new ObjectFormatError(path, 0, "no PT_LOAD program headers: cannot place USDT probes");
  let mappings: ExecutableMapping[] | undefined;
  return matching.map((note) => {
    const vaddr = probeAddress(elf, note);
    const seg = segmentOf(segments, vaddr);
    if (!seg || !(seg.flags & PF_X)) {
      throw new ObjectFormatError(
        path,
        0,
        `USDT probe ${probe} at ${hex(vaddr)} is ${seg ? "in a segment that is not executable" : "in no loadable segment"}`,
      );
    }
    const fileOffset = vaddr - seg.vaddr + seg.offset;
    let address = vaddr;
    if (elf.type === ET_DYN && opts.byAddress) {
      if (opts.pid < 0) {
        throw new UnsupportedError(
          `USDT probe ${probe} in library ${path}: this kernel has no BPF cookies, so a library's probes can only be attached ` +
            "for one process (pass { pid })",
        );
      }
      mappings ??= executableMappings(opts.pid, path);
      const m = mappings.find((x) => fileOffset >= x.offset && fileOffset < x.offset + (x.end - x.start));
      if (!m) throw new NotFoundError(`process ${opts.pid} has not mapped the code of ${path} holding USDT probe ${probe}`);
      address = m.start - m.offset + fileOffset;
    }
    return {
      fileOffset,
      address,
      semaphoreOffset: note.semaphore ? semaphoreOffset(note, segments, path, probe) : 0,
      argsText: note.args,
      args: parseArgs(note, path, elf.machine),
    };
  });
}

function semaphoreOffset(note: StapsdtNote, segments: readonly ProgramHeader[], path: string, probe: string): number {
  const seg = segmentOf(segments, note.semaphore);
  if (!seg || seg.flags & PF_X) {
    throw new ObjectFormatError(
      path,
      0,
      `the semaphore of USDT probe ${probe} at ${hex(note.semaphore)} is ${seg ? "in an executable segment" : "in no loadable segment"}`,
    );
  }
  return note.semaphore - seg.vaddr + seg.offset;
}

function parseArgs(note: StapsdtNote, path: string, machine: number): UsdtArg[] {
  try {
    return parseUsdtArgs(note.args, machine);
  } catch (e) {
    if (e instanceof UnsupportedError) throw new UnsupportedError(`USDT probe ${note.provider}:${note.name} in ${path}: ${e.message}`);
    throw e;
  }
}

/** An executable mapping of a file in a process (a line of /proc/PID/maps). */
export interface ExecutableMapping {
  start: number;
  end: number;
  /** File offset of `start`. */
  offset: number;
}

/** Which file a mapping shows: its path, or its device ("fd:01", as /proc/PID/maps prints it) and inode. */
export interface MappedFile {
  path: string;
  device?: string;
  inode?: bigint;
}

/**
 * The executable mappings of a file in /proc/PID/maps text. Lines are
 * "start-end perms offset dev inode   path"; the path may be missing or
 * contain spaces, so it is everything after the inode. A mapping is the
 * file's when it names the same path or the same device and inode (the
 * kernel prints resolved paths: a symlinked or differently mounted path
 * still has the file's inode).
 */
export function parseExecutableMappings(text: string, file: MappedFile): ExecutableMapping[] {
  const out: ExecutableMapping[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+:[0-9a-f]+)\s+(\d+)\s*(.*)$/);
    if (!m || m[3]![2] !== "x") continue;
    const sameFile = m[7] === file.path || (file.device === m[5] && file.inode !== undefined && file.inode === BigInt(m[6]!));
    if (sameFile) out.push({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), offset: parseInt(m[4]!, 16) });
  }
  return out;
}

/** st_dev as /proc/PID/maps prints it: major:minor in hex (glibc's encoding of dev_t). */
export function deviceName(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}`;
}

/** How process `pid` mapped the code of `path` (which must be mapped). */
function executableMappings(pid: number, path: string): ExecutableMapping[] {
  // A path under /proc/PID/root/ is the process's own view of its file system.
  const own = path.match(/^\/proc\/(\d+)\/root(\/.*)$/);
  const st = pathStat(path);
  const file: MappedFile = {
    path: own && Number(own[1]) === pid ? own[2]! : path,
    ...(st ? { device: deviceName(st.dev), inode: st.ino } : {}),
  };
  let text: string;
  try {
    text = readHostText(`/proc/${pid}/maps`);
  } catch (e) {
    throw new NotFoundError(`cannot read /proc/${pid}/maps to find where ${path} is mapped: ${(e as Error).message}`);
  }
  const found = parseExecutableMappings(text, file);
  if (found.length === 0) throw new NotFoundError(`process ${pid} has not mapped ${path} (not in /proc/${pid}/maps)`);
  return found;
}
