/**
 * Pass 1, ordering. For a root type, a depth-first walk puts the named
 * definitions it needs (struct, union, enum, typedef, fwd) in the queue,
 * dependencies first. A type reached through a pointer is a "weak" link (a
 * forward declaration is enough), unless it is anonymous and so has to be
 * written out inline; everything else is "strong" (the full definition must
 * come first). A strong cycle is not expressible in C.
 */
import { ObjectFormatError } from "../../errors.js";
import { Kind } from "./kinds.js";
import { type DumpState, Order } from "./state.js";

/**
 * Queues the definitions `id` depends on, then `id` itself if it is a
 * named definition. Returns 1 when `id` must be fully defined before its
 * user ("strong" link), 0 when a forward declaration would do.
 */
export function order(d: DumpState, id: number, throughPtr: boolean): number {
  const orderState = d.orderState;
  const state = orderState[id]!;
  if (state === Order.ORDERED) return 1;
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  const kind = (info >>> 24) & 0x1f;
  const named = w[p]! !== 0;
  // Computed before the branch so that V8 has seen the comparison when it optimises order().
  const composite = kind === Kind.STRUCT || kind === Kind.UNION;
  if (state === Order.ORDERING) {
    // A loop through a pointer to a named struct: a forward declaration breaks it.
    if (composite && throughPtr && named) return 0;
    throw new ObjectFormatError(d.where, 0, `unsatisfiable type cycle at type [${id}]: C cannot express it`);
  }
  switch (kind) {
    case Kind.INT:
    case Kind.FLOAT:
      orderState[id] = Order.ORDERED;
      return 0;
    case Kind.PTR: {
      const t = w[p + 2]!;
      const r = orderState[t] === Order.ORDERED ? 1 : order(d, t, true);
      orderState[id] = Order.ORDERED;
      return r;
    }
    case Kind.ARRAY: {
      const t = w[p + 3]!;
      const r = order(d, t, false);
      // Once its target is ordered, a modifier always answers "strong": skip the walk from now on.
      if (orderState[t] === Order.ORDERED) orderState[id] = Order.ORDERED;
      return r;
    }
    case Kind.STRUCT:
    case Kind.UNION: {
      // Strong only when embedded (no pointer on the way) or anonymous (written inline).
      if (throughPtr && named) return 0;
      orderState[id] = Order.ORDERING;
      const vlen = info & 0xffff;
      for (let i = 0, m = p + 4; i < vlen; i++, m += 3) {
        const t = w[m]!;
        if (orderState[t] !== Order.ORDERED) order(d, t, false);
      }
      if (named) d.queue[d.queueLen++] = id;
      orderState[id] = Order.ORDERED;
      return 1;
    }
    case Kind.ENUM:
    case Kind.ENUM64:
    case Kind.FWD:
      if (named || !d.referenced[id]) d.queue[d.queueLen++] = id;
      orderState[id] = Order.ORDERED;
      return 1;
    case Kind.TYPEDEF: {
      const strong = order(d, w[p + 2]!, throughPtr);
      // Like a struct: reached through a pointer, a typedef of a weak thing can wait.
      if (throughPtr && !strong) return 0;
      d.queue[d.queueLen++] = id;
      orderState[id] = Order.ORDERED;
      return 1;
    }
    case Kind.VOLATILE:
    case Kind.CONST:
    case Kind.RESTRICT:
    case Kind.TYPE_TAG: {
      const t = w[p + 2]!;
      const r = order(d, t, throughPtr);
      if (orderState[t] === Order.ORDERED) orderState[id] = Order.ORDERED;
      return r;
    }
    case Kind.FUNC_PROTO: {
      // An ordered type answers 1 without a call: most parameters are.
      let t = w[p + 2]!;
      let strong = orderState[t] === Order.ORDERED || order(d, t, throughPtr) > 0;
      let done = orderState[t] === Order.ORDERED;
      const vlen = info & 0xffff;
      for (let i = 0, m = p + 4; i < vlen; i++, m += 2) {
        t = w[m]!;
        if (orderState[t] === Order.ORDERED || order(d, t, throughPtr) > 0) strong = true;
        if (orderState[t] !== Order.ORDERED) done = false;
      }
      if (done) orderState[id] = Order.ORDERED;
      return strong ? 1 : 0;
    }
    default:
      // FUNC, VAR, DATASEC, DECL_TAG: nothing to define.
      orderState[id] = Order.ORDERED;
      return 0;
  }
}
