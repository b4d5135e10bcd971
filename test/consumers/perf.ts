/**
 * The perf buffer reader on the public API, shaped like the ring buffer's:
 * consume / consumeRaw, the lost-sample callback, and a RingBufferPoller
 * waiting on every CPU's ring in both wait modes (and its iterator).
 * Samples are made by test runs of an XDP program (one per run).
 */
import { fileURLToPath } from "node:url";
import { BpfObject, PerfBuffer, RingBufferPoller, type WaitMode, makeDecoder } from "tsbpf";
import { report } from "./report.js";

const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/perfbuf.bpf.o")));
obj.setAutoload("on_exec", false);
obj.load();
const decode = makeDecoder<{ seq: number; cpu: number }>(obj.spec.btf!.btf, "struct perf_sample");
const emit = (n = 1) => {
  for (let i = 0; i < n; i++) obj.program("emit_sample").testRun();
};
const seqFrom = (data: Uint8Array, offset: number) => new DataView(data.buffer, data.byteOffset).getUint32(offset, true);

// consume() and consumeRaw() drain what is there, with limit and stop.
const direct = new PerfBuffer(obj.map("samples"));
emit(5);
const views: number[] = [];
const limited = direct.consume((v) => void views.push(decode(v).seq), 2);
const raw: number[] = [];
const stopped = direct.consumeRaw((data, offset, length) => {
  raw.push(seqFrom(data, offset), length);
  return raw.length < 4 ? undefined : false;
});
const rest = direct.consume((v) => void views.push(decode(v).seq));
direct.close();

// A poller waits on every CPU's ring, in each wait mode; records arrive while the loop is free.
const polled: Record<WaitMode, number[]> = { loop: [], threadpool: [] };
for (const mode of ["loop", "threadpool"] as const) {
  const perf = new PerfBuffer(obj.map("samples"), { pages: 2 });
  const poller = new RingBufferPoller({ wait: mode }).add(perf, (v) => void polled[mode].push(decode(v).seq));
  const running = poller.start();
  for (let i = 0; i < 4; i++) {
    emit();
    await new Promise((r) => setTimeout(r, 10));
  }
  for (let i = 0; i < 200 && polled[mode].length < 4; i++) await new Promise((r) => setTimeout(r, 10));
  poller.stop();
  await running;
  poller.close();
  perf.close();
}

// The async iterator, with a decoder as transform.
const iterated: number[] = [];
{
  const perf = new PerfBuffer(obj.map("samples"));
  const poller = new RingBufferPoller().add(perf);
  emit(3);
  for await (const s of poller.records((v) => decode(v).seq)) {
    iterated.push(s);
    if (iterated.length === 3) break;
  }
  poller.close();
  perf.close();
}

// One page per CPU and 200 samples unread: the kernel drops some, and says so on the next sample.
const lostCalls: Array<{ lost: bigint; cpu: number }> = [];
const small = new PerfBuffer(obj.map("samples"), { pages: 1, onLost: (lost, cpu) => lostCalls.push({ lost, cpu }) });
obj.program("emit_sample").testRun({ repeat: 200 });
const kept = small.consume(() => {});
emit();
const afterLoss = small.consume(() => {});
const lost = small.lost;
small.close();
obj.destroy();
report({ limited, views, raw, stopped, rest, polled, iterated, kept, afterLoss, lost, lostCalls });
