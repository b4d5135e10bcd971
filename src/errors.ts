/**
 * The error classes tsbpf throws. Every failure a user can cause (bad input,
 * missing privileges, a verifier rejection, a missing attach point) ends in
 * one of these, so callers can `instanceof`-check instead of parsing text.
 *
 * Every one carries an errno and its name (`.errno`, `.code`), as
 * SyscallError always did, so a caller can map any failure to an exit code:
 * a failure caused by a syscall (given as `cause`) carries that call's
 * errno; the others carry the conventional one of their class (ENOENT for
 * NotFoundError, ENOEXEC for a malformed object, EOPNOTSUPP for an
 * unsupported request, EINVAL otherwise).
 */

export interface TsbpfErrorOptions {
  /** The error this one explains (e.g. the SyscallError of a refused call); a TsbpfError cause gives its errno. */
  cause?: unknown;
  /** The errno, and its name, when not inherited from the cause nor the class's. */
  errno?: number;
  code?: string;
}

/** A Node.js system error (fs, child_process): `errno` is the negated errno, `code` its name. */
function systemError(e: unknown): { errno: number; code: string } | undefined {
  if (!(e instanceof Error)) return undefined;
  const { errno, code } = e as { errno?: unknown; code?: unknown };
  return typeof errno === "number" && typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? { errno: Math.abs(errno), code } : undefined;
}

/** Base class of every error tsbpf throws on purpose. */
export class TsbpfError extends Error {
  override name = "TsbpfError";
  /** The errno of errors of this class that no syscall caused. */
  static defaultErrno = 22;
  static defaultCode = "EINVAL";
  /** The errno: the failed syscall's, else the class's (EINVAL, ENOENT, ...). */
  readonly errno: number;
  /** Its name: "EPERM", "ENOENT", ... */
  readonly code: string;

  constructor(message: string, opts: TsbpfErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    const kind = new.target as unknown as { defaultErrno: number; defaultCode: string };
    const cause = opts.cause instanceof TsbpfError ? opts.cause : systemError(opts.cause);
    if (opts.errno !== undefined) {
      this.errno = opts.errno;
      this.code = opts.code ?? `E${opts.errno}`;
    } else if (cause) {
      this.errno = cause.errno;
      this.code = cause.code;
    } else {
      this.errno = kind.defaultErrno;
      this.code = kind.defaultCode;
    }
  }
}

/**
 * A BPF object (or BTF blob) that cannot be parsed: truncated, malformed, or
 * not a BPF ELF. Names the part of the file and the byte offset at fault.
 */
export class ObjectFormatError extends TsbpfError {
  override name = "ObjectFormatError";
  static override defaultErrno = 8;
  static override defaultCode = "ENOEXEC";
  constructor(
    /** What was being read: "ELF header", "section .BTF", "symbol table", ... */
    readonly where: string,
    /** Byte offset in the file (or in the section, when `where` names one). */
    readonly offset: number,
    readonly problem: string,
  ) {
    super(`${where} at offset ${offset}: ${problem}`);
  }
}

/** The object is well-formed but asks for something tsbpf (or this kernel) cannot do. */
export class UnsupportedError extends TsbpfError {
  override name = "UnsupportedError";
  static override defaultErrno = 95;
  static override defaultCode = "EOPNOTSUPP";
}

/** Relocation (map, data, subprogram, CO-RE) could not be performed. */
export class RelocationError extends TsbpfError {
  override name = "RelocationError";
}

/** A program, map, global, type, symbol or attach point named by the caller does not exist. */
export class NotFoundError extends TsbpfError {
  override name = "NotFoundError";
  static override defaultErrno = 2;
  static override defaultCode = "ENOENT";
}

/** The object was used in the wrong lifecycle state (e.g. set rodata after load). */
export class StateError extends TsbpfError {
  override name = "StateError";
}
