/**
 * BPF_PROG_TEST_RUN with every field, on the public API: a socket filter,
 * a tc program (ctx_in/ctx_out: skb->mark, output larger than input), XDP
 * (larger data_size_out; live frames with repeat and batch_size), raw_tp
 * (flags/cpu) and a SYSCALL program (context written in place).
 */
import { fileURLToPath } from "node:url";
import { BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES, BpfObject, makeDecoder, makeEncoder } from "tsbpf";
import { report, thrown } from "./report.js";

const object = (name: string) => {
  const o = BpfObject.open(fileURLToPath(import.meta.resolve(`tsbpf/bpf/${name}`)));
  o.load();
  return o;
};
const packet = Uint8Array.from({ length: 64 }, (_, i) => i);

const t = object("testrun.bpf.o");
const socket = t.program("sock_len").testRun(packet);
const xdp = t.program("xdp_grow").testRun({ data: packet, dataSizeOut: 256 });
const xdpTooSmall = thrown(() => t.program("xdp_grow").testRun({ data: packet, dataSizeOut: 64 }));
const live = t.program("xdp_count_drop").testRun({ data: packet, repeat: 10, flags: BPF_F_TEST_XDP_LIVE_FRAMES, batchSize: 4 });
const liveFrames = t.readVariable("live_frames");
const args = new Uint8Array(16);
new DataView(args.buffer).setBigUint64(0, 1234n, true);
const rawTp: Array<{ cpu: number; retval: number; ranOn: unknown; firstArg: unknown }> = [];
for (const cpu of [1, 0]) {
  const r = t.program("raw_tp_cpu").testRun({ ctx: args, flags: BPF_F_TEST_RUN_ON_CPU, cpu });
  rawTp.push({ cpu, retval: r.retval, ranOn: t.readVariable("ran_on_cpu"), firstArg: t.readVariable("first_arg") });
}
const rawTpWithRepeat = thrown(() => t.program("raw_tp_cpu").testRun({ ctx: args, repeat: 2 }));
const inOut = new Uint8Array(16);
new DataView(inOut.buffer).setBigUint64(0, 21n, true);
const sc = t.program("double_it").testRun({ ctx: inOut });
const syscall = {
  retval: sc.retval,
  out: new DataView(sc.ctxOut.buffer, sc.ctxOut.byteOffset).getBigUint64(8, true),
  inputUntouched: new DataView(inOut.buffer).getBigUint64(8, true),
};
t.destroy();

const tcObj = object("tc.bpf.o");
const btf = tcObj.spec.btf!.btf;
const encodeSkb = makeEncoder(btf, "struct __sk_buff");
const decodeSkb = makeDecoder<{ mark: number; len: number }>(btf, "struct __sk_buff");
const tcRun = tcObj.program("tc_mark").testRun({ data: packet, ctx: encodeSkb({ mark: 41 }), repeat: 3 });
const tc = {
  retval: tcRun.retval,
  dataOut: tcRun.dataOut.byteLength,
  ctxOut: tcRun.ctxOut.byteLength,
  mark: decodeSkb(tcRun.ctxOut).mark,
  durationIsNumber: typeof tcRun.durationNs === "number",
};
tcObj.destroy();

report({
  socket: { retval: socket.retval, dataOut: socket.dataOut.byteLength, ctxOut: socket.ctxOut.byteLength },
  xdp: {
    retval: xdp.retval,
    dataOut: xdp.dataOut.byteLength,
    head: [...xdp.dataOut.subarray(0, 64)].every((b, i) => b === i),
    tail: [...xdp.dataOut.subarray(64)],
  },
  xdpTooSmall,
  live: { retval: live.retval, dataOut: live.dataOut.byteLength, frames: liveFrames },
  rawTp,
  rawTpWithRepeat,
  syscall,
  tc,
});
