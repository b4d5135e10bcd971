/**
 * Attach dispatch: the section's attach kind (section-types.ts) picks the
 * function that knows that kind of hook. Each returns a Link whose
 * destroy() detaches.
 */
import { UnsupportedError } from "../../errors.js";
import type { AttachKind } from "../../spec/section-types.js";
import type { Link } from "../link.js";
import { attachCgroup } from "./cgroup.js";
import { attachIter } from "./iter.js";
import { attachKprobe } from "./kprobe.js";
import { attachNetdev } from "./netdev.js";
import type { AttachOptions, AttachTarget } from "./options.js";
import { attachPerfEventProgram } from "./perf-event.js";
import { attachRawTracepoint, attachTracing } from "./raw-tracepoint.js";
import { attachSocketFilter } from "./socket.js";
import { attachTc } from "./tc.js";
import { attachTracepoint } from "./tracepoint.js";
import { attachUprobe } from "./uprobe.js";
import { attachUsdt } from "./usdt.js";

export type { AttachOptions, AttachTarget } from "./options.js";

type AttachFn = (t: AttachTarget, opts: AttachOptions) => Link;

const ATTACH: Partial<Record<AttachKind, AttachFn>> = {
  tracepoint: (t, opts) => attachTracepoint(t.progFd, t.program, t.target, opts.onStep),
  raw_tracepoint: attachRawTracepoint,
  tp_btf: attachTracing,
  trampoline: attachTracing,
  iter: attachIter,
  kprobe: attachKprobe,
  ksyscall: attachKprobe,
  uprobe: attachUprobe,
  usdt: attachUsdt,
  xdp: attachNetdev,
  tcx: attachNetdev,
  tc: attachTc,
  cgroup: attachCgroup,
  socket: attachSocketFilter,
  perf_event: attachPerfEventProgram,
};

export function attachProgram(kind: AttachKind, t: AttachTarget, opts: AttachOptions = {}): Link {
  const fn = ATTACH[kind];
  if (!fn)
    throw new UnsupportedError(
      `program ${t.program} (section ${t.sectionName}) has no attach point tsbpf knows how to use (attach kind ${kind})`,
    );
  return fn(t, opts);
}

/**
 * Whether a program can be attached with no options, from its section name
 * alone (what `attach()` of a whole object and `tsbpf load` do).
 */
export function isAutoAttachable(kind: AttachKind, target: string): boolean {
  switch (kind) {
    case "tracepoint":
    case "raw_tracepoint":
    case "kprobe":
    case "ksyscall":
      return target !== "";
    case "tp_btf":
    case "trampoline":
      return true;
    case "uprobe":
      // uprobe/PATH:FUNC[+OFF] names its target; plain "uprobe" needs options.
      return /^[^:]+:.+$/.test(target);
    case "usdt":
      // usdt/PATH:PROVIDER:NAME; plain "usdt" needs options.
      return /^[^:]+:[^:]+:[^:]+$/.test(target);
    default:
      return false;
  }
}
