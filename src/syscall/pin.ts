/**
 * The BPF filesystem: BPF_OBJ_PIN gives a program, map, link or BTF object
 * a path that keeps it alive after its last fd is closed; BPF_OBJ_GET opens
 * it again (read-only or write-only for maps, through `file_flags`);
 * unlink(2) removes the path (the object goes when nothing else holds it).
 */
import { BPF_F_RDONLY, BPF_F_WRONLY } from "../abi/uapi-flags.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { StateError, UnsupportedError } from "../errors.js";
import { bpf } from "./bpf.js";
import { cString } from "./c-string.js";
import { syscall } from "./kernel.js";

export { BPF_F_RDONLY, BPF_F_WRONLY };

export interface OpenFlags {
  /** The fd may only read the map (BPF_F_RDONLY). */
  readOnly?: boolean;
  /** The fd may only write the map (BPF_F_WRONLY). */
  writeOnly?: boolean;
}

export function fileFlags(opts: OpenFlags): number {
  if (opts.readOnly && opts.writeOnly) throw new UnsupportedError("readOnly and writeOnly exclude each other");
  return (opts.readOnly ? BPF_F_RDONLY : 0) | (opts.writeOnly ? BPF_F_WRONLY : 0);
}

/** Pins the object behind `fd` at `path` (in a BPF filesystem); `what` names it in errors. */
export function pinObject(fd: number, path: string, what: string): void {
  bpf(BpfCmd.OBJ_PIN, { pathname: cString(path), bpf_fd: fd, file_flags: 0 }, `pinning ${what} at ${path}`);
}

/** An fd for the object pinned at `path` (the caller owns it). */
export function openPinnedObject(path: string, flags: number, what: string): number {
  return bpf(BpfCmd.OBJ_GET, { pathname: cString(path), bpf_fd: 0, file_flags: flags }, `opening the ${what} pinned at ${path}`);
}

/** Removes a pin. */
export function unlinkPin(path: string): void {
  syscall({ call: "unlink", path });
}

/**
 * Where one object is pinned — by pin(), or the path it was opened from —
 * for the objects that can be (maps, programs, links): pin() records the
 * path, unpin() removes it (default: that path).
 */
export class PinState {
  path: string | undefined;

  /** `what` names the object in errors ("map rb"); `notPinned` is the refusal when there is no pin to remove. */
  constructor(
    private readonly what: () => string,
    private readonly notPinned: () => string = () => `${what()} is not pinned`,
  ) {}

  pin(fd: number, path: string): void {
    pinObject(fd, path, this.what());
    this.path = path;
  }

  unpin(path = this.path): void {
    if (path === undefined) throw new StateError(this.notPinned());
    unlinkPin(path);
    if (path === this.path) this.path = undefined;
  }
}
