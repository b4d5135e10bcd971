/**
 * Map operations on the public API, raw and typed: queue and stack
 * (push/peek/pop, BPF_EXIST on a full one), bloom filter (push/contains),
 * hash (lookupAndDelete, getNextKey), a spin-locked value (BPF_F_LOCK), freeze.
 */
import { fileURLToPath } from "node:url";
import { BPF_EXIST, BPF_F_LOCK, BpfObject } from "tsbpf";
import { report, thrown } from "./report.js";

const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/mapops.bpf.o")));
obj.load();
const u32 = (n: number) => Uint8Array.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24]);
const num = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset).getUint32(0, true) : undefined);

// Raw queue: FIFO.
const rq = obj.map("queue");
rq.push(u32(1));
rq.push(u32(2));
const rawQueue = { peek: num(rq.peek()), pops: [num(rq.pop()), num(rq.pop()), num(rq.pop())] };
const queueLookup = thrown(() => rq.lookup(new Uint8Array(0)));

// Typed queue: full, then BPF_EXIST drops the oldest.
const q = obj.typedMap<never, number>("queue");
for (const v of [10, 11, 12, 13]) q.push(v);
const full = thrown(() => q.push(14));
q.push(14, BPF_EXIST);
const queue = { full, drained: [q.pop(), q.pop(), q.pop(), q.pop(), q.pop()] };

// Stack: LIFO.
const s = obj.typedMap<never, number>("stack");
s.push(1);
s.push(2);
const stack = { peek: s.peek(), pops: [s.pop(), s.pop(), s.pop()] };

// Bloom filter: no false negatives.
const b = obj.typedMap<never, number>("bloom");
for (const v of [3, 5, 7]) b.push(v);
const bloom = {
  present: [3, 5, 7].map((v) => b.contains(v)),
  rawContains: obj.map("bloom").contains(u32(5)),
  absent: b.contains(1_000_000),
};
const bloomPop = thrown(() => obj.map("bloom").pop());

// Hash: getNextKey walks, lookupAndDelete takes.
const h = obj.typedMap<number, bigint>("hash");
h.update(1, 100n);
h.update(2, 200n);
const first = h.getNextKey();
const second = first === undefined ? undefined : h.getNextKey(first);
const hash = {
  keys: [first, second].sort(),
  afterLast: second === undefined ? "none" : h.getNextKey(second),
  taken: h.lookupAndDelete(1),
  gone: h.lookup(1),
  takenAgain: h.lookupAndDelete(1),
  rawNext: num(obj.map("hash").getNextKey()),
};

// Spin lock: the program bumps the count under the lock; BPF_F_LOCK reads and writes under it.
const locked = obj.typedMap<number, { lock: { val: number }; count: bigint }>("locked_hash");
locked.update(0, { lock: { val: 0 }, count: 5n }, BPF_F_LOCK);
obj.program("bump").testRun();
obj.program("bump").testRun();
const lock = { value: locked.lookup(0, BPF_F_LOCK), pushedByProgram: q.pop() };

// Freeze: user space can no longer write.
obj.map("hash").freeze();
const frozenWrite = thrown(() => h.update(3, 3n));
const frozenRead = h.lookup(2);
obj.destroy();
report({ rawQueue, queueLookup, queue, stack, bloom, bloomPop, hash, lock, frozenWrite, frozenRead });
