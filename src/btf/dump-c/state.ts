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
export const enum Order {
  NOT_ORDERED = 0,
  ORDERING = 1,
  ORDERED = 2,
}
export const enum Emit {
  NOT_EMITTED = 0,
  EMITTING = 1,
  EMITTED = 2,
}

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
  /** memberSize() per type, -1 until computed. */
  readonly sizeCache: Int32Array;
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

  /**
   * Declarator cache, per type id, for named declarations (members,
   * typedefs): once a type's declarator has been written, its text around
   * the name is fixed (names are resolved on first use), so later uses copy
   * it from the output. declPre/declPreLen: where the text before the name
   * is (declPre -1: not cached yet, -2: never, as the chain holds an inline
   * definition or a kind C cannot declare); declSpace: 1 when a space comes
   * before the name; declSuf/declSufLen: the text after it (`[4]`,
   * `)(int)`).
   */
  readonly declPre: Int32Array;
  readonly declPreLen: Int32Array;
  readonly declSuf: Int32Array;
  readonly declSufLen: Int32Array;
  readonly declSpace: Uint8Array;
  /** The same for abstract declarators (no name): where the whole text is. */
  readonly anonAt: Int32Array;
  readonly anonLen: Int32Array;
  /** Counts inline definitions written in declarators (they depend on indentation and bump enumerator names). */
  inlineDefs = 0;
  /** The frame whose name position is being recorded, and where its name went. */
  recFrame = -1;
  nameAt = -1;
  nameEnd = -1;
  nameSpace = 0;

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
    this.sizeCache = new Int32Array(n).fill(-1);
    this.declPre = new Int32Array(n).fill(-1);
    this.declPreLen = new Int32Array(n);
    this.declSuf = new Int32Array(n);
    this.declSufLen = new Int32Array(n);
    this.declSpace = new Uint8Array(n);
    this.anonAt = new Int32Array(n).fill(-1);
    this.anonLen = new Int32Array(n);
    // void is always defined.
    this.orderState[0] = Order.ORDERED;
    this.emitState[0] = Emit.EMITTED;
    const names = markReferenced(records, n, this.referenced, this.where);
    this.typeNames = new NameCounter(this.strs, names.tags);
    this.identNames = new NameCounter(this.strs, names.idents);
  }

  // ---- strings (the hot paths read records and copy names inline; see Writer.name) ----

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
}
