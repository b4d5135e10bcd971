/**
 * Socket calls as requests: sendmsg/recvmsg need a struct msghdr and an
 * iovec array holding user pointers, encoded here (as bpf.ts encodes a
 * bpf_attr) so the request carries exactly what the kernel is given.
 *
 * struct msghdr on x86-64 and arm64 (56 bytes): msg_name @0, msg_namelen
 * @8 (u32), msg_iov @16, msg_iovlen @24 (size_t), msg_control @32,
 * msg_controllen @40, msg_flags @48 (int). struct iovec: base @0, len @8.
 */
import { addressOf } from "./libc.js";
import type { MsgRequest } from "./requests.js";

export const MSGHDR_SIZE = 56;
export const IOVEC_SIZE = 16;
export const MSG_TRUNC = 0x20;

export function msgRequest(
  call: "sendmsg" | "recvmsg",
  fd: number,
  name: Uint8Array,
  iov: Uint8Array[],
  flags: number,
  payload?: MsgRequest["payload"],
): MsgRequest {
  const iovecs = new Uint8Array(IOVEC_SIZE * iov.length);
  const iv = new DataView(iovecs.buffer);
  iov.forEach((b, i) => {
    iv.setBigUint64(i * IOVEC_SIZE, b.byteLength ? addressOf(b) : 0n, true);
    iv.setBigUint64(i * IOVEC_SIZE + 8, BigInt(b.byteLength), true);
  });
  const msghdr = new Uint8Array(MSGHDR_SIZE);
  const m = new DataView(msghdr.buffer);
  m.setBigUint64(0, name.byteLength ? addressOf(name) : 0n, true);
  m.setUint32(8, name.byteLength, true);
  m.setBigUint64(16, iov.length ? addressOf(iovecs) : 0n, true);
  m.setBigUint64(24, BigInt(iov.length), true);
  return { call, fd, name, iov, flags, msghdr, iovecs, ...(payload ? { payload } : {}) };
}

/** msg_namelen and msg_flags as they are in the msghdr (written back by recvmsg). */
export function msghdrOut(req: MsgRequest): { namelen: number; flags: number } {
  const m = new DataView(req.msghdr.buffer, req.msghdr.byteOffset, req.msghdr.byteLength);
  return { namelen: m.getUint32(8, true), flags: m.getInt32(48, true) };
}
