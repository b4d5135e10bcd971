/**
 * Reading a file named on the command line. Node's own errors for a
 * directory (EISDIR) carry no path; this one always names the file, so the
 * CLI can say "cannot read bpf/: Is a directory (EISDIR)" in one line.
 */
import { readFileSync } from "node:fs";

export function readInputFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === "string") {
      err.path ??= path;
      err.syscall ??= "read";
    }
    throw err;
  }
}
