/**
 * BTF as a compilable C header: `bpftool btf dump file X format c`, the
 * vmlinux.h every CO-RE program includes. The algorithm is libbpf's
 * (btf_dump.c), and with `enumModes: false` the output is byte for byte that
 * of Debian 12's bpftool 7.1 (the libbpf of kernel 6.1.y, `(void)` for
 * parameterless prototypes included); by default 1- and 8-byte enums also get
 * the mode attributes newer libbpf writes, which keep the kernel's layout.
 *
 * This file is the entry point (options, the include guard, the loop over
 * root types). The work is split by pass:
 * - order.ts: pass 1, the dependency-first ordering of named definitions;
 * - emit-types.ts: pass 2, top-level emission with forward declarations;
 * - emit-composite.ts: struct / union / enum bodies;
 * - emit-decl.ts: C declarators built from pointer / array / qualifier /
 *   function-prototype chains;
 * - layout.ts: alignment, sizes, packing and explicit padding;
 * - names.ts: `___N` suffixes for clashing names, and tag references;
 * - state.ts, records.ts, writer.ts, kinds.ts: the shared dump state, the
 *   raw records, the output buffer and the BTF kind numbers.
 *
 * Types are read straight from the raw records (no BtfType objects) and the
 * output is written as bytes, names copied from the string table: vmlinux has
 * ~127k types and a ~2.8 MB header.
 */
import { Buffer } from "node:buffer";
import { NotFoundError, ObjectFormatError } from "../../errors.js";
import type { Btf } from "../btf.js";
import { emitType } from "./emit-types.js";
import { order } from "./order.js";
import { Kind } from "./kinds.js";
import { DumpState, Order } from "./state.js";

export interface DumpCOptions {
  /**
   * Dump only these type ids and what they need, in this order (bpftool's
   * `root_id`); by default every type, 1 to the last.
   */
  rootIds?: readonly number[];
  /**
   * Wrap the types in the `__VMLINUX_H__` include guard and the
   * preserve_access_index pragma, as bpftool does (default true).
   */
  header?: boolean;
  /**
   * Write `__attribute__((mode(byte)))` / `__attribute__((mode(word)))` on
   * enums whose BTF size is 1 or 8 bytes, so that C gives them the kernel's
   * size (libbpf >= 1.1 does this). Default true. Debian 12's bpftool 7.1
   * does not, and its vmlinux.h lays out e.g. struct inode wrongly (a 1-byte
   * enum member becomes 4 bytes); false reproduces that bpftool byte for byte.
   */
  enumModes?: boolean;
}

const HEADER =
  "#ifndef __VMLINUX_H__\n" +
  "#define __VMLINUX_H__\n" +
  "\n" +
  "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
  "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
  "#endif\n\n";

const FOOTER =
  "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" + "#pragma clang attribute pop\n" + "#endif\n" + "\n" + "#endif /* __VMLINUX_H__ */\n";

/** A C header for `btf` (see DumpCOptions), as a string. */
export function dumpC(btf: Btf, opts: DumpCOptions = {}): string {
  const bytes = dumpCBytes(btf, opts);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

/** dumpC() as UTF-8 bytes, ready for one write(2); skips building a 3 MB JS string. */
export function dumpCBytes(btf: Btf, opts: DumpCOptions = {}): Uint8Array {
  const d = new DumpState(btf, opts.enumModes ?? true);
  const header = opts.header ?? true;
  if (header) d.out.text(HEADER);
  try {
    if (opts.rootIds) {
      for (const id of opts.rootIds) {
        if (!Number.isInteger(id) || id < 0 || id >= btf.typeCount) {
          throw new NotFoundError(`BTF type id ${id} does not exist in ${btf.where} (ids 0..${btf.typeCount - 1})`);
        }
        dumpType(d, id);
      }
    } else {
      const orderState = d.orderState;
      const w = d.w;
      const at = d.at;
      for (let id = 1; id < btf.typeCount; id++) {
        // Most ids need nothing: already ordered, or functions and variables, which C headers leave out.
        if (orderState[id] === Order.ORDERED) continue;
        const kind = (w[at[id]! + 1]! >>> 24) & 0x1f;
        if (kind === Kind.FUNC || kind === Kind.VAR || kind === Kind.DATASEC || kind === Kind.DECL_TAG) {
          orderState[id] = Order.ORDERED; // as order() would
          continue;
        }
        dumpType(d, id);
      }
    }
  } catch (e) {
    // Only malformed BTF recurses without end (a typedef or pointer loop); libbpf would crash.
    if (e instanceof RangeError) throw new ObjectFormatError(btf.where, 0, `type graph too deep or cyclic to write as C (${e.message})`);
    throw e;
  }
  if (header) d.out.text(FOOTER);
  return d.out.result();
}

/** btf_dump__dump_type(): order `id` and its dependencies, then emit them. */
function dumpType(d: DumpState, id: number): void {
  d.queueLen = 0;
  order(d, id, false);
  for (let i = 0; i < d.queueLen; i++) emitType(d, d.queue[i]!, 0);
}
