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
  const state = d.orderState[id]!;
  if (state === Order.ORDERED) return 1;
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  const kind = (info >>> 24) & 0x1f;
  const named = w[p]! !== 0;
  if (state === Order.ORDERING) {
    // A loop through a pointer to a named struct: a forward declaration breaks it.
    if ((kind === Kind.STRUCT || kind === Kind.UNION) && throughPtr && named) return 0;
    throw new ObjectFormatError(d.where, 0, `unsatisfiable type cycle at type [${id}]: C cannot express it`);
  }
  switch (kind) {
    case Kind.INT:
    case Kind.FLOAT:
      d.orderState[id] = Order.ORDERED;
      return 0;
    case Kind.PTR: {
      const r = order(d, w[p + 2]!, true);
      d.orderState[id] = Order.ORDERED;
      return r;
    }
    case Kind.ARRAY:
      return order(d, w[p + 3]!, false);
    case Kind.STRUCT:
    case Kind.UNION: {
      // Strong only when embedded (no pointer on the way) or anonymous (written inline).
      if (throughPtr && named) return 0;
      d.orderState[id] = Order.ORDERING;
      const vlen = info & 0xffff;
      for (let i = 0, m = p + 3; i < vlen; i++, m += 3) order(d, w[m + 1]!, false);
      if (named) d.queue[d.queueLen++] = id;
      d.orderState[id] = Order.ORDERED;
      return 1;
    }
    case Kind.ENUM:
    case Kind.ENUM64:
    case Kind.FWD:
      if (named || !d.referenced[id]) d.queue[d.queueLen++] = id;
      d.orderState[id] = Order.ORDERED;
      return 1;
    case Kind.TYPEDEF: {
      const strong = order(d, w[p + 2]!, throughPtr);
      // Like a struct: reached through a pointer, a typedef of a weak thing can wait.
      if (throughPtr && !strong) return 0;
      d.queue[d.queueLen++] = id;
      d.orderState[id] = Order.ORDERED;
      return 1;
    }
    case Kind.VOLATILE:
    case Kind.CONST:
    case Kind.RESTRICT:
    case Kind.TYPE_TAG:
      return order(d, w[p + 2]!, throughPtr);
    case Kind.FUNC_PROTO: {
      let strong = order(d, w[p + 2]!, throughPtr) > 0;
      const vlen = info & 0xffff;
      for (let i = 0, m = p + 3; i < vlen; i++, m += 2) {
        if (order(d, w[m + 1]!, throughPtr) > 0) strong = true;
      }
      return strong ? 1 : 0;
    }
    default:
      // FUNC, VAR, DATASEC, DECL_TAG: nothing to define.
      d.orderState[id] = Order.ORDERED;
      return 0;
  }
}
