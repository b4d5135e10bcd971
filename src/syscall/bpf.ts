/**
 * bpf(2), typed: encode a command's attributes from its declarative layout
 * and send them through the choke point.
 */
import { type AttrLayout, attrLayout, encodeAttr, type AttrValues } from "./bpf-attr.js";
import { syscall, trySyscall } from "./kernel.js";
import { addressOf } from "./libc.js";
import type { BpfRequest, SyscallResult } from "./requests.js";
import { SyscallError } from "./syscall-error.js";
import type { BpfCmd } from "../abi/uapi-enums.js";

/** `layout`: the command's own, unless a union member needs another (LINK_CREATE_UPROBE_MULTI). */
export function bpfRequest(cmd: BpfCmd, values: AttrValues, layout: AttrLayout = attrLayout(cmd)): BpfRequest {
  return { call: "bpf", cmd, layout, values, attr: encodeAttr(layout, values, addressOf) };
}

/** Runs a bpf() command; throws SyscallError on failure, with `context` prefixed. */
export function bpf(cmd: BpfCmd, values: AttrValues, context?: string): number {
  const req = bpfRequest(cmd, values);
  if (!context) return syscall(req);
  const r = trySyscall(req);
  if (r.ret === -1) throw new SyscallError(req, r.errno, context);
  return Number(r.ret);
}

/** Runs a bpf() command and returns the result and the attr (kernel-written fields included). */
export function tryBpf(cmd: BpfCmd, values: AttrValues): SyscallResult & { req: BpfRequest } {
  const req = bpfRequest(cmd, values);
  return { ...trySyscall(req), req };
}

/** close(2) of a tsbpf-owned fd; errors are ignored (the fd is gone either way). */
export function closeFd(fd: number): void {
  if (fd >= 0) trySyscall({ call: "close", fd });
}
