/**
 * raw_tp: BPF_RAW_TRACEPOINT_OPEN with the tracepoint's name.
 * tp_btf / fentry / fexit / fmod_ret / lsm: the target was fixed at load
 * time (attach_btf_id), so the same command with no name attaches them.
 */
import { UnsupportedError } from "../../errors.js";
import { bpf } from "../../syscall/bpf.js";
import { BpfCmd } from "../../abi/uapi-enums.js";
import { Link } from "../link.js";
import { cString } from "../../syscall/c-string.js";
import type { AttachOptions, AttachTarget } from "./options.js";

export function attachRawTracepoint(t: AttachTarget, _opts: AttachOptions): Link {
  if (!t.target) throw new UnsupportedError(`program ${t.program}: section ${t.sectionName} names no raw tracepoint (use raw_tp/<name>)`);
  const fd = bpf(
    BpfCmd.RAW_TRACEPOINT_OPEN,
    { name: cString(t.target), prog_fd: t.progFd },
    `attaching ${t.program} to raw tracepoint ${t.target}`,
  );
  return new Link("raw_tracepoint", t.program, t.target, { linkFd: fd });
}

export function attachTracing(t: AttachTarget, _opts: AttachOptions): Link {
  const fd = bpf(BpfCmd.RAW_TRACEPOINT_OPEN, { name: null, prog_fd: t.progFd }, `attaching ${t.program} (${t.sectionName})`);
  return new Link(t.sectionName.split("/")[0]!, t.program, t.target, { linkFd: fd });
}
