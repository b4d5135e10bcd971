/**
 * The error classes tsbpf throws. Every failure a user can cause (bad input,
 * missing privileges, a verifier rejection, a missing attach point) ends in
 * one of these, so callers can `instanceof`-check instead of parsing text.
 */

/** Base class of every error tsbpf throws on purpose. */
export class TsbpfError extends Error {
  override name = "TsbpfError";
}

/**
 * A BPF object (or BTF blob) that cannot be parsed: truncated, malformed, or
 * not a BPF ELF. Names the part of the file and the byte offset at fault.
 */
export class ObjectFormatError extends TsbpfError {
  override name = "ObjectFormatError";
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

/** The object is well-formed but asks for something tsbpf cannot do. */
export class UnsupportedError extends TsbpfError {
  override name = "UnsupportedError";
}

/** Relocation (map, data, subprogram, CO-RE) could not be performed. */
export class RelocationError extends TsbpfError {
  override name = "RelocationError";
}

/** A program, map or global named by the caller does not exist. */
export class NotFoundError extends TsbpfError {
  override name = "NotFoundError";
}

/** The object was used in the wrong lifecycle state (e.g. set rodata after load). */
export class StateError extends TsbpfError {
  override name = "StateError";
}
