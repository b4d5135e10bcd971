/**
 * XDP: count the packets an interface receives, per IP protocol, in a
 * per-CPU array, and print the totals on exit (the program lets every
 * packet pass). The attachment is a bpf_link: it goes away with the process.
 *
 *   node dist/examples/xdp.js IFACE       (as root; Ctrl-C to stop)
 */
import { fileURLToPath } from "node:url";
import { BpfObject } from "../src/index.js";

const PROTOCOLS: Record<number, string> = { 0: "non-IP", 1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6" };

const iface = process.argv[2];
if (!iface) {
  process.stderr.write("usage: xdp IFACE\n");
  process.exit(2);
}

const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/xdp_count.bpf.o")));
try {
  obj.load();
  obj.program("count_packets").attach({ interface: iface });
  console.log(`counting packets on ${iface}`);
  await untilInterrupted();
  // A per-CPU map gives one value per possible CPU: add them up.
  const packets = obj.typedMap<number, bigint[]>("packets");
  for (const [proto, perCpu] of packets) {
    const total = perCpu.reduce((a, b) => a + b, 0n);
    if (total) console.log(`${PROTOCOLS[proto] ?? `protocol ${proto}`}: ${total}`);
  }
} finally {
  obj.destroy();
}

/** Resolves on Ctrl-C or SIGTERM. The timer keeps Node running meanwhile (a signal handler alone does not). */
function untilInterrupted(): Promise<void> {
  const keepAlive = setInterval(() => {}, 1 << 30);
  return new Promise((resolve) => {
    const done = () => {
      clearInterval(keepAlive);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}
