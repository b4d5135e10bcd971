/**
 * What the rest of tsbpf may use of native code besides syscalls: where a
 * buffer's bytes are (for pointer fields), views of mmapped memory, libuv
 * fd watchers, clocks, the profiler-signal mask. Typed wrappers from
 * libc.ts, which keeps koffi (and its `any`) to itself.
 */
export { addressOf, canWatchFds, clockNs, memoryView, watchReadable, withProfilerSignalBlocked } from "./libc.js";
export type { FdWatcher } from "./libc.js";
