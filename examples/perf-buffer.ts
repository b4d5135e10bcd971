/**
 * A perf buffer (BPF_MAP_TYPE_PERF_EVENT_ARRAY, bpf_perf_event_output): one
 * ring per CPU, read with the ring buffer's API. Prints every exec until
 * Ctrl-C, then how many events the kernel had to drop.
 *
 *   node dist/examples/perf-buffer.js     (as root; Ctrl-C to stop)
 */
import { fileURLToPath } from "node:url";
import { BpfObject, PerfBuffer, RingBufferPoller, makeDecoder } from "../src/index.js";

interface ExecEvent {
  pid: number;
  ppid: number;
  comm: string;
}

const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/perfbuf.bpf.o")));
try {
  obj.setAutoload("emit_sample", false);
  obj.load();
  obj.program("on_exec").attach();
  const decode = makeDecoder<ExecEvent>(obj.spec.btf!.btf, "struct exec_event");
  const perf = new PerfBuffer(obj.map("execs"), {
    onLost: (lost, cpu) => console.log(`lost ${lost} events on CPU ${cpu}`),
  });
  // The poller waits on every CPU's ring without blocking Node; views are valid only in the callback.
  const poller = new RingBufferPoller().add(perf, (view) => {
    const e = decode(view);
    console.log(`exec pid ${e.pid} ppid ${e.ppid} ${e.comm}`);
  });
  console.log("listening for execs");
  process.once("SIGINT", () => poller.stop());
  process.once("SIGTERM", () => poller.stop());
  await poller.start();
  poller.close();
  perf.close();
  console.log(`lost ${perf.lost} in all`);
} finally {
  obj.destroy();
}
