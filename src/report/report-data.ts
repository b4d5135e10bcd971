/**
 * What `tsbpf report` embeds in its page, as JSON: the object's view (the
 * same for a dropped object, built in the browser), the recorded load when
 * there was one, and the kernel types CO-RE reached (a small BTF, so the
 * page can apply CO-RE to a dropped object).
 */
import type { ObjectView } from "./object-view.js";

export type Phase = "setup" | "probes" | "btf" | "maps" | "programs" | "attach" | "cleanup";

export interface SyscallView {
  /** Microseconds from the first call's start. */
  start: number;
  duration: number;
  phase: Phase;
  /** The line `--trace` prints for it. */
  line: string;
  failed: boolean;
  /** The load steps ("label: detail") that came just before this call. */
  steps: string[];
}

export interface LoadView {
  syscalls: SyscallView[];
  /** What was attached ("handle_exec → tracepoint sched/sched_process_exec"). */
  attached: string[];
  /**
   * Syscalls made between load and attach to read back what the page shows
   * of the kernel's side (xlated instructions, /proc/kallsyms, BTF by id):
   * counted, not drawn (--trace prints them).
   */
  readBack: number;
  /** Why the load or attach failed (the page still shows what happened up to it). */
  error?: string;
}

export interface ReportData {
  object: ObjectView;
  load?: LoadView;
  /** Globals given with --set, as they were set (with or without a load). */
  set?: Record<string, string>;
  /** Why there is no load ("--no-load", "not privileged: ..."). */
  noLoad?: string;
  /** base64 of btfSubset(): the kernel types the object's CO-RE reached. */
  kernelTypes?: string;
  /** What those types came from ("the running kernel's BTF", "BTF of FILE"). */
  kernelTypesFrom?: string;
  tsbpfVersion: string;
}
