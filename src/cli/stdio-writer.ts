/**
 * Text to fd 1 or 2 with write(2), not through process.stdout/stderr. For a
 * pipe, Node builds those streams on node:net, ~7 ms of every start (a tenth
 * of a CLI load); on Linux they write pipes and files synchronously anyway.
 *
 * An fd that cannot take the bytes now (EAGAIN: O_NONBLOCK, which the other
 * holders of a shared pipe can set) is handed to Node's stream, which waits
 * for it, and keeps it from then on so that the order of writes holds.
 */
import { writeSync } from "node:fs";

export class StdioWriter {
  private stream: NodeJS.WritableStream | undefined;

  /**
   * `onError` gets a failed write(2)'s error (EPIPE: the reader went away) or
   * the stream's; `streamOf` gives the stream for the fd (created on first use).
   */
  constructor(
    private readonly fd: number,
    private readonly streamOf: () => NodeJS.WritableStream,
    private readonly onError: (err: NodeJS.ErrnoException) => void,
    private readonly writeFd: (fd: number, bytes: Uint8Array) => number = writeSync,
  ) {}

  /** Writes `data` whole (or hands it to the stream); `done` once written or failed. */
  write(data: string | Uint8Array, done?: () => void): void {
    if (!this.stream) {
      let rest = typeof data === "string" ? Buffer.from(data) : data;
      try {
        // A signal can cut a write to a pipe short: write the rest.
        while (rest.byteLength > 0) rest = rest.subarray(this.writeOnce(rest));
        done?.();
        return;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== "EAGAIN") {
          this.onError(err);
          done?.();
          return;
        }
        this.stream = this.streamOf();
        this.stream.on("error", this.onError);
        data = rest;
      }
    }
    this.stream.write(data, () => done?.());
  }

  private writeOnce(bytes: Uint8Array): number {
    for (;;) {
      try {
        return this.writeFd(this.fd, bytes);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EINTR") throw e;
      }
    }
  }
}
