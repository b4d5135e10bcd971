/**
 * tc through netlink, run inside a network namespace (IFACE's) by the test:
 * attaches on ingress and egress, receives UDP datagrams sent from the
 * peer namespace (dropped, rewritten or passed by the program), hits a
 * filter conflict (the kernel's extended ACK in the error), detaches, and
 * attaches again over a clsact qdisc someone else made (which must stay).
 * Its own netlink calls are traced to TRACE for the strace comparison.
 *
 *   node tc.js IFACE PEER_NETNS ADDRESS PEER_ADDRESS TRACE
 */
import { spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BpfObject, type TcLink, startTracer } from "tsbpf";
import { report, thrown } from "./report.js";

const [iface, peerNs, address, peerAddress, tracePath] = process.argv.slice(2) as [string, string, string, string, string];
const tc = (...args: string[]) => spawnSync("tc", args, { encoding: "utf8" }).stdout.trim();

const trace: string[] = [];
const stopTracing = startTracer((line) => trace.push(line));

const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/tc.bpf.o")));
obj.load();
const ingress = obj.program("tc_ingress").attach({ interface: iface }) as TcLink;
const egress = obj.program("tc_egress").attach({ interface: iface, direction: "egress", priority: 7, handle: 9 }) as TcLink;
const conflict = thrown(() => obj.program("tc_egress").attach({ interface: iface, direction: "egress", priority: 7, handle: 9 }));
const whileAttached = {
  ingress: tc("filter", "show", "dev", iface, "ingress"),
  egress: tc("filter", "show", "dev", iface, "egress"),
  qdisc: tc("qdisc", "show", "dev", iface),
};

// Datagrams from the peer namespace: 'd' dropped, 'r' rewritten to 'R', others pass; "end" last.
const sock = dgram.createSocket("udp4");
await new Promise<void>((resolve) => sock.bind(7777, address, resolve));
const received: string[] = [];
const ended = new Promise<void>((resolve) =>
  sock.on("message", (m) => {
    received.push(m.toString());
    if (m.toString() === "end") resolve();
  }),
);
const sender = `const s = require("dgram").createSocket("udp4"); const m = ["p1", "d1", "r1", "p2", "d2", "rx", "end"]; let i = 0;
const next = () => (i === m.length ? s.close() : s.send(m[i++], 7777, ${JSON.stringify(address)}, next)); next();`;
const sent = spawnSync("ip", ["netns", "exec", peerNs, process.execPath, "-e", sender], { encoding: "utf8" });
if (sent.status !== 0) throw new Error(`sender failed: ${sent.stderr}`);
const timeout = setTimeout(() => {
  throw new Error(`only received ${JSON.stringify(received)}`);
}, 20_000);
await ended;
clearTimeout(timeout);

// Egress: three datagrams out to the peer.
const egressBefore = obj.readVariable("egress_seen") as bigint;
for (let i = 0; i < 3; i++)
  await new Promise<void>((resolve, reject) => sock.send("out", 9999, peerAddress, (e) => (e ? reject(e) : resolve())));
const egressAfter = obj.readVariable("egress_seen") as bigint;
sock.close();

const counters = {
  seen: obj.readVariable("ingress_seen") as bigint,
  dropped: obj.readVariable("ingress_dropped") as bigint,
  rewritten: obj.readVariable("ingress_rewritten") as bigint,
};
ingress.destroy();
const afterIngressDestroyed = {
  ingress: tc("filter", "show", "dev", iface, "ingress"),
  egress: tc("filter", "show", "dev", iface, "egress"),
  qdisc: tc("qdisc", "show", "dev", iface),
};
obj.destroy();
const afterDestroy = {
  ingress: tc("filter", "show", "dev", iface, "ingress"),
  egress: tc("filter", "show", "dev", iface, "egress"),
  qdisc: tc("qdisc", "show", "dev", iface),
};

// A clsact qdisc made by someone else is used, and left in place.
tc("qdisc", "add", "dev", iface, "clsact");
const again = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/tc.bpf.o")));
again.load();
again.program("tc_ingress").attach({ interface: iface, priority: 3 });
const foreignWhileAttached = tc("filter", "show", "dev", iface, "ingress");
again.destroy();
const foreign = { ingress: tc("filter", "show", "dev", iface, "ingress"), qdisc: tc("qdisc", "show", "dev", iface) };
tc("qdisc", "del", "dev", iface, "clsact");
stopTracing();

const netlink =
  /^(socket\(AF_NETLINK, |bind\(\d+, \{sa_family=AF_NETLINK|setsockopt\(\d+, SOL_NETLINK|(send|recv)msg\(\d+, \{msg_name=\{sa_family=AF_NETLINK)/;
writeFileSync(tracePath, trace.filter((l) => netlink.test(l)).join("\n") + "\n");
report({
  pid: process.pid,
  ingress: { kind: ingress.kind, target: ingress.target, direction: ingress.direction, priority: ingress.priority, handle: ingress.handle },
  egress: { target: egress.target, priority: egress.priority, handle: egress.handle },
  conflict,
  whileAttached,
  received,
  counters,
  egressDelta: egressAfter - egressBefore,
  afterIngressDestroyed,
  afterDestroy,
  foreignWhileAttached,
  foreign,
});
