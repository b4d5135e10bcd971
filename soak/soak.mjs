// Soak test: a producer calls getpid() as fast as it can, bench_ringbuf.bpf.o
// turns each call into a 64-byte ring buffer record, and tsbpf consumes and
// decodes them for M minutes. Reports rate and RSS as it goes, and at the end
// checks received + dropped == produced exactly and that sequence numbers
// only increase.
//   npm run soak -- --minutes 10
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BpfObject, RingBuffer, RingBufferPoller, makeDecoder } from "../dist/src/index.js";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const minutes = arg("minutes", 1);
const reportEvery = arg("report-seconds", 30) * 1000;

// The producer: a C loop of getpid() syscalls (glibc does not cache getpid).
const dir = mkdtempSync(join(tmpdir(), "tsbpf-soak-"));
writeFileSync(join(dir, "spin.c"), "#include <unistd.h>\n#include <sys/syscall.h>\nint main(void){for(;;)syscall(SYS_getpid);}\n");
execFileSync("cc", ["-O2", "-o", join(dir, "spin"), join(dir, "spin.c")]);

const obj = BpfObject.open(new URL("../bpf/bench_ringbuf.bpf.o", import.meta.url).pathname);
obj.load();
obj.attach();
const decode = makeDecoder(obj.spec.btf.btf, "struct bench_rec");
const ring = new RingBuffer(obj.map("rb"));
const poller = new RingBufferPoller();
let received = 0n;
let lastSeq = -1n;
let outOfOrder = 0;
poller.add(ring, (view) => {
  const r = decode(view);
  if (r.seq <= lastSeq) outOfOrder++;
  lastSeq = r.seq;
  received++;
});

const producer = spawn(join(dir, "spin"), { stdio: "ignore" });
obj.writeVariable("target_tgid", producer.pid);

const mb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
const rssStart = mb();
const started = Date.now();
console.log(`soak: ${minutes} min, producer pid ${producer.pid}, RSS at start ${rssStart} MB`);
let lastReport = { t: started, n: 0n };
const reporter = setInterval(() => {
  const now = Date.now();
  const rate = Number(received - lastReport.n) / ((now - lastReport.t) / 1000);
  console.log(
    `soak: ${((now - started) / 60000).toFixed(1)} min  received ${received}  ${(rate / 1e6).toFixed(2)} M records/s  RSS ${mb()} MB`,
  );
  lastReport = { t: now, n: received };
}, reportEvery);
setTimeout(() => poller.stop(), minutes * 60000);
await poller.start();

producer.kill("SIGKILL");
await new Promise((r) => producer.on("exit", r));
clearInterval(reporter);
ring.consume((view) => {
  const r = decode(view);
  if (r.seq <= lastSeq) outOfOrder++;
  lastSeq = r.seq;
  received++;
});
const produced = obj.readVariable("seq");
const dropped = obj.readVariable("dropped");
const rssEnd = mb();
const ok = received + dropped === produced && outOfOrder === 0;
console.log(
  `soak: produced ${produced}, received ${received}, dropped ${dropped}, out of order ${outOfOrder}; ` +
    `received + dropped ${ok ? "==" : "!="} produced; RSS start ${rssStart} MB, end ${rssEnd} MB`,
);
poller.close();
ring.close();
obj.destroy();
process.exitCode = ok ? 0 : 1;
