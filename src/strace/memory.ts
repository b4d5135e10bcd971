/**
 * What the printer may read of the process's memory, the way strace reads
 * its tracee's (umoven/umovestr): the buffers a request carries (their
 * addresses are in the encoded attr), and optionally anything else through
 * /proc/self/mem, which fails cleanly (EIO) on unmapped addresses instead of
 * crashing the process as a raw pointer read would.
 *
 * The tracer runs after the call, so memory shows what the kernel left
 * there: right for what strace reads on exit (info structs, epoll events),
 * and for input buffers the kernel does not write (instructions, strings,
 * BTF). Output buffers strace reads on entry (the verifier log) are handled
 * by the printer.
 */
import { closeSync, openSync, readSync } from "node:fs";

export interface Memory {
  /** Exactly `n` bytes at `addr`, or undefined if they cannot be read. */
  read(addr: bigint, n: number): Uint8Array | undefined;
  /** Up to `n` bytes at `addr`, stopping after the first NUL; undefined if unreadable. */
  readStr(addr: bigint, n: number): Uint8Array | undefined;
}

interface Region {
  addr: bigint;
  bytes: Uint8Array;
}

function cutAtNul(b: Uint8Array): Uint8Array {
  const z = b.indexOf(0);
  return z >= 0 ? b.subarray(0, z + 1) : b;
}

/** Memory made of known buffers, falling back to `fallback` for other addresses. */
export class KnownMemory implements Memory {
  private readonly regions: Region[] = [];

  constructor(private readonly fallback?: Memory) {}

  add(addr: bigint, bytes: Uint8Array): this {
    if (addr !== 0n && bytes.byteLength) this.regions.push({ addr, bytes });
    return this;
  }

  private find(addr: bigint, n: number): Uint8Array | undefined {
    for (const r of this.regions) {
      const off = addr - r.addr;
      if (off >= 0n && off < BigInt(r.bytes.byteLength) && off + BigInt(n) <= BigInt(r.bytes.byteLength)) {
        return r.bytes.subarray(Number(off), Number(off) + n);
      }
    }
    return undefined;
  }

  read(addr: bigint, n: number): Uint8Array | undefined {
    if (n === 0) return new Uint8Array(0);
    return this.find(addr, n) ?? this.fallback?.read(addr, n);
  }

  readStr(addr: bigint, n: number): Uint8Array | undefined {
    for (const r of this.regions) {
      const off = addr - r.addr;
      if (off >= 0n && off < BigInt(r.bytes.byteLength)) {
        const avail = r.bytes.subarray(Number(off), Math.min(r.bytes.byteLength, Number(off) + n));
        const cut = cutAtNul(avail);
        // A string that runs off the end of its buffer: let the fallback read on, as strace would.
        if (cut.byteLength < n && cut[cut.byteLength - 1] !== 0 && this.fallback) return this.fallback.readStr(addr, n) ?? cut;
        return cut;
      }
    }
    return this.fallback?.readStr(addr, n);
  }
}

/** Reads this process's memory through /proc/self/mem; unmapped addresses read as undefined. */
export class ProcSelfMemory implements Memory {
  private fd: number | undefined;

  private open(): number | undefined {
    if (this.fd === undefined) {
      try {
        this.fd = openSync("/proc/self/mem", "r");
      } catch {
        this.fd = -1;
      }
    }
    return this.fd >= 0 ? this.fd : undefined;
  }

  read(addr: bigint, n: number): Uint8Array | undefined {
    const fd = this.open();
    if (fd === undefined || addr === 0n) return undefined;
    const out = new Uint8Array(n);
    try {
      let done = 0;
      while (done < n) {
        const got = readSync(fd, out, done, n - done, addr + BigInt(done));
        if (got <= 0) return undefined;
        done += got;
      }
      return out;
    } catch {
      return undefined;
    }
  }

  readStr(addr: bigint, n: number): Uint8Array | undefined {
    // Page by page, so a string near the end of a mapping is still found.
    const out: number[] = [];
    let at = addr;
    while (out.length < n) {
      const toPage = Number(4096n - (at % 4096n));
      const chunk = this.read(at, Math.min(toPage, n - out.length));
      if (!chunk) return out.length ? Uint8Array.from(out) : undefined;
      for (const c of chunk) {
        out.push(c);
        if (c === 0) return Uint8Array.from(out);
      }
      at += BigInt(chunk.byteLength);
    }
    return Uint8Array.from(out);
  }

  close(): void {
    if (this.fd !== undefined && this.fd >= 0) closeSync(this.fd);
    this.fd = undefined;
  }
}
