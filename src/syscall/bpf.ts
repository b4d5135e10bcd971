/**
 * bpf(2), typed: a command's attributes are checked against the kernel's
 * own struct for that command (abi/bpf-attr.ts, generated from BTF), encoded
 * from its layout, and sent through the choke point.
 */
import type { AttrFieldOf, AttrOf } from "../abi/bpf-attr.js";
import type { BpfCmd } from "../abi/uapi-enums.js";
import { type AttrLayout, attrField, attrLayout, encodeAttr } from "./bpf-attr.js";
import { syscall, trySyscall } from "./kernel.js";
import { addressOf } from "./libc.js";
import type { BpfRequest, SyscallResult } from "./requests.js";
import { SyscallError } from "./syscall-error.js";

/** `layout`: the command's own, unless a union member needs more bytes (linkCreateUprobeMultiLayout). */
export function bpfRequest<C extends BpfCmd>(cmd: C, attr: AttrOf<C>, layout: AttrLayout = attrLayout(cmd)): BpfRequest<C> {
  return { call: "bpf", cmd, layout, values: attr, attr: encodeAttr(layout, attr, addressOf) };
}

/** Runs a bpf() command; throws SyscallError on failure, with `context` prefixed. */
export function bpf<C extends BpfCmd>(cmd: C, attr: AttrOf<C>, context?: string): number {
  const req = bpfRequest(cmd, attr);
  if (!context) return syscall(req);
  const r = trySyscall(req);
  if (r.ret === -1) throw new SyscallError(req, r.errno, context);
  return Number(r.ret);
}

/** Runs a bpf() command and returns the result and the attr (kernel-written fields included). */
export function tryBpf<C extends BpfCmd>(cmd: C, attr: AttrOf<C>): SyscallResult & { req: BpfRequest<C> } {
  const req = bpfRequest(cmd, attr);
  return { ...trySyscall(req), req };
}

/** Reads a u32 field back from a sent attr (for fields the kernel writes: next_id, retval, count, ...). */
export function readAttrU32<C extends BpfCmd>(req: BpfRequest<C>, name: AttrFieldOf<C>): number {
  const field = attrField(req.layout.struct, name);
  return new DataView(req.attr.buffer, req.attr.byteOffset, req.attr.byteLength).getUint32(field.offset, true);
}

/** close(2) of a tsbpf-owned fd; errors are ignored (the fd is gone either way). */
export function closeFd(fd: number): void {
  if (fd >= 0) trySyscall({ call: "close", fd });
}
