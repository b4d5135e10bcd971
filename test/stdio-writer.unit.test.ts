/**
 * The CLI's stdout/stderr writer: write(2) until every byte is out (a short
 * write or EINTR continues), EPIPE goes to the error callback, and EAGAIN
 * hands the unwritten rest — then everything after it — to the stream, in order.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { StdioWriter } from "../src/cli/stdio-writer.js";

const errno = (code: string) => Object.assign(new Error(code), { code });

/** A write(2) stand-in: each call takes at most `chunk` bytes, or throws what `failures` says for that call. */
function fakeFd(chunk: number, failures: Record<number, string> = {}) {
  const written: number[] = [];
  let calls = 0;
  const write = (_fd: number, bytes: Uint8Array): number => {
    const code = failures[calls++];
    if (code) throw errno(code);
    const n = Math.min(chunk, bytes.byteLength);
    written.push(...bytes.subarray(0, n));
    return n;
  };
  return { write, text: () => Buffer.from(written).toString() };
}

function collectingStream() {
  const chunks: Buffer[] = [];
  let made = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return {
    streamOf: () => (made++, stream),
    text: () => Buffer.concat(chunks).toString(),
    made: () => made,
  };
}

describe("StdioWriter", () => {
  it("short writes and EINTR: every byte reaches the fd, the stream is never made", () => {
    const fd = fakeFd(3, { 1: "EINTR", 4: "EINTR" });
    const s = collectingStream();
    const w = new StdioWriter(1, s.streamOf, () => expect.unreachable(), fd.write);
    let done = 0;
    w.write("hello, world\n", () => done++);
    w.write(new TextEncoder().encode("bytes too"), () => done++);
    expect(fd.text()).toBe("hello, world\nbytes too");
    expect(s.made()).toBe(0);
    expect(done).toBe(2);
  });

  it("EPIPE: reported once per failed write, nothing handed to a stream", () => {
    const fd = fakeFd(100, { 0: "EPIPE", 1: "EPIPE" });
    const s = collectingStream();
    const errors: string[] = [];
    const w = new StdioWriter(1, s.streamOf, (e) => errors.push(e.code!), fd.write);
    w.write("a\n");
    w.write("b\n");
    expect(errors).toEqual(["EPIPE", "EPIPE"]);
    expect(s.made()).toBe(0);
  });

  it("EAGAIN part-way: the rest and every later write go to the stream, in order", async () => {
    const fd = fakeFd(4, { 2: "EAGAIN" });
    const s = collectingStream();
    const w = new StdioWriter(2, s.streamOf, () => expect.unreachable(), fd.write);
    const order: string[] = [];
    w.write("0123456789abcdef", () => order.push("first"));
    w.write("-later", () => order.push("second"));
    await new Promise((r) => setImmediate(r));
    expect(fd.text()).toBe("01234567");
    expect(s.text()).toBe("89abcdef-later");
    expect(s.made()).toBe(1);
    expect(order).toEqual(["first", "second"]);
  });
});
