/**
 * errno numbers (Linux, x86-64/arm64 share these) → the symbolic names and
 * messages strace prints: `-1 EPERM (Operation not permitted)`.
 */
const ERRNOS: Array<[number, string, string]> = [
  [1, "EPERM", "Operation not permitted"],
  [2, "ENOENT", "No such file or directory"],
  [3, "ESRCH", "No such process"],
  [4, "EINTR", "Interrupted system call"],
  [5, "EIO", "Input/output error"],
  [6, "ENXIO", "No such device or address"],
  [7, "E2BIG", "Argument list too long"],
  [9, "EBADF", "Bad file descriptor"],
  [11, "EAGAIN", "Resource temporarily unavailable"],
  [12, "ENOMEM", "Cannot allocate memory"],
  [13, "EACCES", "Permission denied"],
  [14, "EFAULT", "Bad address"],
  [16, "EBUSY", "Device or resource busy"],
  [17, "EEXIST", "File exists"],
  [19, "ENODEV", "No such device"],
  [20, "ENOTDIR", "Not a directory"],
  [22, "EINVAL", "Invalid argument"],
  [23, "ENFILE", "Too many open files in system"],
  [24, "EMFILE", "Too many open files"],
  [25, "ENOTTY", "Inappropriate ioctl for device"],
  [28, "ENOSPC", "No space left on device"],
  [34, "ERANGE", "Numerical result out of range"],
  [38, "ENOSYS", "Function not implemented"],
  [61, "ENODATA", "No data available"],
  [75, "EOVERFLOW", "Value too large for defined data type"],
  [95, "EOPNOTSUPP", "Operation not supported"],
  [110, "ETIMEDOUT", "Connection timed out"],
  [524, "ENOTSUPP", "Unknown error 524"],
];

const byNumber = new Map(ERRNOS.map(([n, name, msg]) => [n, { name, msg }]));
const byName = new Map(ERRNOS.map(([n, name]) => [name, n]));

/** "EPERM" for 1; "E<n>" for numbers this table does not know. */
export function errnoName(errno: number): string {
  return byNumber.get(errno)?.name ?? `E${errno}`;
}

/** strerror(3) text, as strace prints it in parentheses. */
export function errnoMessage(errno: number): string {
  return byNumber.get(errno)?.msg ?? `Unknown error ${errno}`;
}

/** 1 for "EPERM"; throws for a name this table does not know. */
export function errnoNumber(name: string): number {
  const n = byName.get(name);
  if (n === undefined) throw new Error(`unknown errno name ${name}`);
  return n;
}

export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EOPNOTSUPP = 95;
export const ENOTSUPP = 524;
