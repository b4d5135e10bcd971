/**
 * Socket filters: setsockopt(SO_ATTACH_BPF) on a socket the caller owns.
 * There is no link fd; destroy() detaches with SO_DETACH_BPF.
 */
import { UnsupportedError } from "../../errors.js";
import { syscall, trySyscall } from "../../syscall/kernel.js";
import { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";

const SOL_SOCKET = 1;
const SO_ATTACH_BPF = 50;
const SO_DETACH_BPF = 27;

function intBytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

export function attachSocketFilter(t: AttachTarget, opts: AttachOptions): Link {
  const sock = opts.socketFd;
  if (sock === undefined) throw new UnsupportedError(`program ${t.program} is a socket filter: pass { socketFd } of the socket to filter`);
  syscall({
    call: "setsockopt",
    fd: sock,
    level: SOL_SOCKET,
    optname: SO_ATTACH_BPF,
    optionName: "SO_ATTACH_BPF",
    value: intBytes(t.progFd),
  });
  return new Link("socket", t.program, `socket fd ${sock}`, {
    cleanup: () => {
      trySyscall({
        call: "setsockopt",
        fd: sock,
        level: SOL_SOCKET,
        optname: SO_DETACH_BPF,
        optionName: "SO_DETACH_BPF",
        value: intBytes(0),
      });
    },
  });
}
