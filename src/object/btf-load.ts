/**
 * BPF_BTF_LOAD with the same log strategy as PROG_LOAD: no log on the first
 * try, then a growing log buffer so a refusal comes with the kernel's reason.
 */
import { TsbpfError } from "../errors.js";
import { tryBpf } from "../syscall/bpf.js";
import { ENOSPC } from "../syscall/errno.js";
import { SyscallError } from "../syscall/syscall-error.js";
import { BpfCmd } from "../abi/uapi-enums.js";

export class BtfLoadError extends TsbpfError {
  override name = "BtfLoadError";
  constructor(
    override readonly cause: SyscallError,
    readonly log: string,
  ) {
    super(`the kernel refused the object's BTF (${cause.code})${log ? `:\n${log.trimEnd().split("\n").slice(-10).join("\n")}` : ""}`, {
      cause,
    });
  }
}

export function loadBtf(blob: Uint8Array): number {
  const first = tryBpf(BpfCmd.BTF_LOAD, { btf: blob, btf_size: blob.byteLength });
  if (first.ret !== -1) return Number(first.ret);
  for (let size = 64 * 1024; ; size *= 4) {
    const log = new Uint8Array(size);
    const r = tryBpf(BpfCmd.BTF_LOAD, { btf: blob, btf_size: blob.byteLength, btf_log_buf: log, btf_log_size: size, btf_log_level: 1 });
    if (r.ret !== -1) return Number(r.ret);
    if (r.errno === ENOSPC && size < 64 * 1024 * 1024) continue;
    const end = log.indexOf(0);
    throw new BtfLoadError(
      new SyscallError(r.req, r.errno, "loading BTF"),
      new TextDecoder().decode(log.subarray(0, end < 0 ? log.length : end)),
    );
  }
}
