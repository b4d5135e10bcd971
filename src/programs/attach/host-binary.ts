/**
 * Host binaries (executables and shared libraries) for uprobes: found by
 * name the way libbpf finds them (a path, $PATH for programs, the library
 * directories for "lib….so…"), read through the syscall choke point, parsed
 * once and kept for repeated attaches. What is in them (program headers,
 * versioned symbols, function → file offset) is the pure ELF side's job
 * (elf/elf-file.ts, elf/symbol-versions.ts, elf/find-function.ts).
 */
import { delimiter, resolve } from "node:path";
import { NotFoundError, ObjectFormatError } from "../../errors.js";
import { ElfFile } from "../../elf/elf-file.js";
import { findFunction, type ResolvedFunction } from "../../elf/find-function.js";
import { type VersionedSymbol, versionedSymbols } from "../../elf/symbol-versions.js";
import {
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  R_OK,
  X_OK,
  fstatFd,
  isMissingFile,
  pathAccessible,
  pathStat,
  readAll,
  withOpenFile,
} from "../../syscall/host-files.js";
import { S_IFMT, S_IFREG } from "../../syscall/stat.js";

/** Parsed binaries kept for repeated attaches (libc is probed often); big files are not kept. */
const CACHE_SIZE = 8;
const CACHE_MAX_FILE = 64 << 20;
const cache = new Map<string, { key: string; binary: HostBinary }>();

/** An executable or shared library, parsed once. */
export class HostBinary {
  private symbolCache: VersionedSymbol[] | undefined;

  constructor(
    readonly path: string,
    readonly elf: ElfFile,
  ) {}

  /**
   * Reads and parses `path` (an ELF64 little-endian file): openat, fstat,
   * read, close. A file unchanged since the last open (same device, inode,
   * size and mtime) is not read again.
   */
  static open(path: string): HostBinary {
    try {
      return HostBinary.read(path);
    } catch (e) {
      if (isMissingFile(e)) throw new NotFoundError(`${path} does not exist`);
      throw e;
    }
  }

  private static read(path: string): HostBinary {
    // O_NONBLOCK: opening a FIFO by mistake must fail below, not wait for a writer.
    return withOpenFile(
      path,
      (fd) => {
        const st = fstatFd(fd);
        if ((st.mode & S_IFMT) !== S_IFREG) throw new NotFoundError(`${path} is not a regular file`);
        const key = `${st.dev}:${st.ino}:${st.size}:${st.mtime}.${st.mtimeNsec}`;
        const hit = cache.get(path);
        if (hit && hit.key === key) return hit.binary;
        let elf: ElfFile;
        try {
          elf = new ElfFile(readAll(fd, { size: Number(st.size) }));
        } catch (e) {
          if (e instanceof ObjectFormatError) throw new ObjectFormatError(`${path}: ${e.where}`, e.offset, e.problem);
          throw e;
        }
        const binary = new HostBinary(path, elf);
        if (st.size > CACHE_MAX_FILE) return binary;
        cache.delete(path);
        cache.set(path, { key, binary });
        if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
        return binary;
      },
      O_RDONLY | O_NONBLOCK | O_CLOEXEC,
    );
  }

  /** Every symbol of .symtab and .dynsym (in that order), with GNU versions. */
  get symbols(): VersionedSymbol[] {
    this.symbolCache ??= versionedSymbols(this.elf);
    return this.symbolCache;
  }

  /** A function's file offset: see findFunction. `spec` is "name", "name@VERSION" or "name@@VERSION". */
  resolveFunction(spec: string): ResolvedFunction {
    return findFunction(this.path, this.elf, this.symbols, spec);
  }
}

// ---- finding a binary by name --------------------------------------------------

const ARCH_TRIPLES: Record<string, string> = {
  x64: "x86_64-linux-gnu",
  arm64: "aarch64-linux-gnu",
  arm: "arm-linux-gnueabihf",
  ia32: "i386-linux-gnu",
  s390x: "s390x-linux-gnu",
  ppc64: "powerpc64le-linux-gnu",
  riscv64: "riscv64-linux-gnu",
};

/** Where a bare library name ("libc.so.6") is looked for, in order. */
export function librarySearchPath(env: NodeJS.ProcessEnv = process.env, arch: string = process.arch): string[] {
  const triple = ARCH_TRIPLES[arch];
  return [
    ...(env.LD_LIBRARY_PATH ?? "").split(delimiter).filter(Boolean),
    ...(triple ? [`/lib/${triple}`, `/usr/lib/${triple}`] : []),
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
  ];
}

/** Where a bare program name ("bash") is looked for: $PATH, then /usr/bin and /usr/sbin. */
export function programSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...(env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/bin", "/usr/sbin"];
}

export function isLibraryName(file: string): boolean {
  return /\.so$/.test(file) || file.includes(".so.");
}

function isRegularFile(path: string): boolean {
  const st = pathStat(path);
  return st !== undefined && (st.mode & S_IFMT) === S_IFREG;
}

/**
 * The absolute path of a binary named by the user. A name with a slash is a
 * path (relative to the current directory); a bare name ending in ".so" or
 * containing ".so." is a library, searched in LD_LIBRARY_PATH and the
 * standard library directories; any other bare name is a program, searched
 * in $PATH (like libbpf's resolve_full_path).
 */
export function resolveBinaryPath(file: string, env: NodeJS.ProcessEnv = process.env): string {
  if (file === "") throw new NotFoundError("no binary named: the path is empty");
  if (file.includes("/")) {
    const path = resolve(file);
    const st = pathStat(path);
    if (!st) throw new NotFoundError(`binary ${file} does not exist`);
    if ((st.mode & S_IFMT) !== S_IFREG) throw new NotFoundError(`${file} is not a regular file`);
    return path;
  }
  const library = isLibraryName(file);
  const dirs = library ? librarySearchPath(env) : programSearchPath(env);
  const mode = library ? R_OK : R_OK | X_OK;
  const seen = new Set<string>();
  for (const dir of dirs) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    const path = resolve(dir, file);
    if (pathAccessible(path, mode) && isRegularFile(path)) return path;
  }
  throw new NotFoundError(
    `cannot find ${library ? "library" : "program"} ${file}: not in ${[...seen].join(":")}` +
      (library ? " (give its full path, or set LD_LIBRARY_PATH)" : " (give its full path)"),
  );
}
