/**
 * The state of one whole-BTF C dump, shared by the ordering, emission,
 * layout and declaration passes (which are free functions over it): the
 * records, per-type order / emit / name state, the two name namespaces, the
 * declaration stack and the output. Also the small raw-record accessors
 * every pass uses.
 */
import { Buffer } from "node:buffer";
import type { Btf } from "../btf.js";
import { UNSET } from "./layout.js";
import { NameCounter } from "./names.js";
import { loadRecords, markReferenced } from "./records.js";
import { Writer } from "./writer.js";

/** Order state (topological sort) and emit state, per type; const enums so tsc inlines them in the hot paths. */
export const enum Order { NOT_ORDERED = 0, ORDERING = 1, ORDERED = 2 }
export const enum Emit { NOT_EMITTED = 0, EMITTING = 1, EMITTED = 2 }

/** One whole-BTF dump: per-type state, the name-clash maps and the output. */
export class DumpState {
  readonly out: Writer;
  /** Every type record, base types included (split BTF is concatenated). */
  readonly w: Uint32Array;
  /** Word index of each id's record in `w`; [0] unused. */
  readonly at: Uint32Array;
  /** The string section(s): the string at offset `off` starts at strs[strStart + off]. */
  readonly strs: Uint8Array;
  readonly strBuf: Buffer;
  readonly strStart: number;

  readonly orderState: Uint8Array;
  readonly emitState: Uint8Array;
  readonly fwdEmitted: Uint8Array;
  readonly referenced: Uint8Array;
  readonly nameResolved: Uint8Array;
  /** The `___N` suffix a clashing name got, 0 for none. */
  readonly nameDup: Uint32Array;
  readonly alignCache: Int32Array;
  /** struct/union/enum tags seen; typedefs and enumerators share a second namespace, as in C. */
  readonly typeNames: NameCounter;
  readonly identNames: NameCounter;

  /** Definitions to emit for the current root type, dependencies first. */
  readonly queue: number[] = [];
  queueLen = 0;
  /** Names the input in errors. */
  readonly where: string;
  /** Declaration chains (type ids), one frame per nested declaration (function parameters). */
  readonly stack: number[] = [];
  stackTop = 0;
  /** Per frame: where its ids start in `stack`, and how many are not yet written. */
  readonly frameStart: number[] = [];
  readonly frameCnt: number[] = [];
  frameTop = 0;

  constructor(
    btf: Btf,
    readonly enumModes: boolean,
  ) {
    const n = btf.typeCount;
    this.where = btf.where;
    const records = loadRecords(btf);
    this.w = records.w;
    this.at = records.at;
    this.strs = records.strs;
    this.strStart = records.strStart;
    this.out = new Writer(Math.ceil(records.btfBytes * 0.6), this.where);
    this.strBuf = Buffer.from(this.strs.buffer, this.strs.byteOffset, this.strs.byteLength);
    this.orderState = new Uint8Array(n);
    this.emitState = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.nameDup = new Uint32Array(n);
    this.alignCache = new Int32Array(n).fill(UNSET);
    // void is always defined.
    this.orderState[0] = Order.ORDERED;
    this.emitState[0] = Emit.EMITTED;
    const names = markReferenced(this.w, this.at, n, this.referenced, this.where);
    this.typeNames = new NameCounter(this.strs, names.tags);
    this.identNames = new NameCounter(this.strs, names.idents);
  }

  // ---- raw record access ----

  kind(id: number): number {
    return id === 0 ? 0 : (this.w[this.at[id]! + 1]! >>> 24) & 0x1f;
  }

  vlen(id: number): number {
    return this.w[this.at[id]! + 1]! & 0xffff;
  }

  nameOff(id: number): number {
    return id === 0 ? 0 : this.w[this.at[id]!]!;
  }

  /** size or type: the third word of the record. */
  sizeOrType(id: number): number {
    return this.w[this.at[id]! + 2]!;
  }

  /** The string at `off` as a map key (latin1: one char per byte, cheap and exact for equality). */
  key(off: number): string {
    const start = this.strStart + off;
    return this.strBuf.toString("latin1", start, this.strs.indexOf(0, start));
  }

  /** Whether the string at `off` is `ascii`, without decoding it. */
  nameIs(off: number, ascii: string): boolean {
    const strs = this.strs;
    const at = this.strStart + off;
    for (let i = 0; i < ascii.length; i++) if (strs[at + i] !== ascii.charCodeAt(i)) return false;
    return strs[at + ascii.length] === 0;
  }

  isEmptyString(off: number): boolean {
    return this.strs[this.strStart + off] === 0;
  }

  writeString(off: number): void {
    this.out.cstr(this.strs, this.strStart + off);
  }
}
