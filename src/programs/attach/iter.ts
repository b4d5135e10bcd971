/**
 * BPF iterators: LINK_CREATE (BPF_TRACE_ITER) gives a link; each
 * BPF_ITER_CREATE on it gives a fresh fd whose read() runs the program over
 * the kernel objects (tasks, maps, ...) and returns what it printed.
 */
import { bpf, closeFd } from "../../syscall/bpf.js";
import { readFd } from "../../syscall/host-files.js";
import { BpfAttachType, BpfCmd } from "../../abi/uapi-enums.js";
import { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";

export class IterLink extends Link {
  /** Runs the iterator once and returns everything it wrote. */
  read(): Buffer {
    const linkFd = this.fd;
    if (linkFd === undefined || this.isDestroyed) throw new Error(`iterator ${this.program} is detached`);
    const fd = bpf(BpfCmd.ITER_CREATE, { link_fd: linkFd, flags: 0 }, `creating an iterator instance of ${this.program}`);
    try {
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readFd(fd, buf);
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
      }
      return Buffer.concat(chunks);
    } finally {
      closeFd(fd);
    }
  }

  readText(): string {
    return this.read().toString("utf8");
  }
}

export function attachIter(t: AttachTarget, _opts: AttachOptions): IterLink {
  const fd = bpf(
    BpfCmd.LINK_CREATE,
    { prog_fd: t.progFd, target_fd: 0, attach_type: BpfAttachType.TRACE_ITER, flags: 0 },
    `attaching iterator ${t.program} (${t.sectionName})`,
  );
  return new IterLink("iter", t.program, t.target, { linkFd: fd });
}
