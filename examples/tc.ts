/**
 * A tc (cls_bpf) program through netlink, the way `tc filter add … bpf da`
 * attaches it: works on kernels without tcx. tc_ingress counts what the
 * interface receives and, for UDP datagrams to port 7777, drops those
 * starting with 'd' and rewrites a leading 'r' to 'R'; tc_egress counts
 * what it sends. On exit the filters are removed, and the clsact qdisc too
 * if this program created it.
 *
 *   node dist/examples/tc.js IFACE        (as root; Ctrl-C to stop)
 */
import { fileURLToPath } from "node:url";
import { BpfObject, type TcLink } from "../src/index.js";

const iface = process.argv[2];
if (!iface) {
  process.stderr.write("usage: tc IFACE\n");
  process.exit(2);
}

const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/tc.bpf.o")));
obj.load();
try {
  // A "tc" section names no hook: the options do (priority and handle default to the kernel's choice).
  const ingress = obj.program("tc_ingress").attach({ interface: iface, direction: "ingress" }) as TcLink;
  const egress = obj.program("tc_egress").attach({ interface: iface, direction: "egress" }) as TcLink;
  for (const l of [ingress, egress]) console.log(`attached ${l.program} to ${l.target} (priority ${l.priority}, handle ${l.handle})`);

  await untilInterrupted();
  const count = (name: string) => obj.readVariable(name) as bigint;
  console.log(
    `ingress: ${count("ingress_seen")} packets, ${count("ingress_dropped")} dropped, ${count("ingress_rewritten")} rewritten; ` +
      `egress: ${count("egress_seen")} packets`,
  );
} finally {
  obj.destroy(); // deletes the filters (and the qdisc if it was created here)
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
