/**
 * The one choke point through which tsbpf talks to the kernel. Every bpf(),
 * perf_event_open(), ioctl(), mmap(), munmap(), close(), dup(), epoll and
 * eventfd call, and the openat()/read()/fstat() of the host files a load
 * reads, is a `SyscallRequest` passed to `syscall()`; observers (the tracer)
 * see each call and its result, and the backend can be swapped for a fake
 * kernel.
 */
import { SyscallError } from "./syscall-error.js";
import { realKernel } from "./libc.js";
import type { KernelBackend, SyscallRequest, SyscallResult } from "./requests.js";

/** Called after every syscall with what was asked, what came back and how long it took. */
export type SyscallObserver = (req: SyscallRequest, result: SyscallResult, elapsedNs: bigint) => void;

let backend: KernelBackend = realKernel;
const observers = new Set<SyscallObserver>();

/** Replaces the kernel (e.g. with a FakeKernel); returns the previous backend. */
export function setKernelBackend(next: KernelBackend): KernelBackend {
  const prev = backend;
  backend = next;
  return prev;
}

export function kernelBackend(): KernelBackend {
  return backend;
}

/** Whether calls go to the real kernel (not a fake one, nor a fake wrapping it). */
export function isRealKernel(): boolean {
  return backend === realKernel;
}

/** Runs `fn` with `next` as the kernel, restoring the previous one afterwards. */
export async function withKernelBackend<T>(next: KernelBackend, fn: () => T | Promise<T>): Promise<T> {
  const prev = setKernelBackend(next);
  try {
    return await fn();
  } finally {
    setKernelBackend(prev);
  }
}

/** Adds an observer; returns a function that removes it. */
export function observeSyscalls(observer: SyscallObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

function notify(req: SyscallRequest, result: SyscallResult, start: bigint): void {
  if (observers.size === 0) return;
  const elapsed = process.hrtime.bigint() - start;
  for (const o of observers) o(req, result, elapsed);
}

/** Makes the call and reports it; never throws for a failed call. */
export function trySyscall(req: SyscallRequest): SyscallResult {
  const start = observers.size ? process.hrtime.bigint() : 0n;
  const result = backend.invoke(req);
  notify(req, result, start);
  return result;
}

/** Makes the call; a failure becomes a SyscallError naming the call and errno. */
export function syscall(req: SyscallRequest): number {
  const result = trySyscall(req);
  if (result.ret === -1) throw new SyscallError(req, result.errno);
  return Number(result.ret);
}

/** mmap through the choke point; returns the address. */
export function syscallAddress(req: SyscallRequest): bigint {
  const result = trySyscall(req);
  if (result.ret === -1) throw new SyscallError(req, result.errno);
  return BigInt(result.ret);
}

/** A blocking call run off the event loop (epoll_wait, close); failures are returned, not thrown. */
export async function trySyscallAsync(req: SyscallRequest): Promise<SyscallResult> {
  const start = observers.size ? process.hrtime.bigint() : 0n;
  const result = await backend.invokeAsync(req);
  notify(req, result, start);
  return result;
}
