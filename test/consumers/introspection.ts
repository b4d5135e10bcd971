/**
 * Introspection on the public API: progInfo (lengths, ids, BTF, run-time
 * statistics, func and line info), mapInfo (map_extra, BTF type ids), and
 * linkInfo of every link kind this kernel lets tsbpf create, each beside
 * bpftool's view of the same link (the test compares). Run in a network
 * namespace of its own (its `lo` takes the XDP and tcx links).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BpfObject, type Link, enableStats, fdById, linkInfo, mapInfo, progInfo } from "tsbpf";
import { report } from "./report.js";

const bpftool = (...args: string[]): unknown => JSON.parse(execFileSync("bpftool", [...args, "-j"], { encoding: "utf8" }));
const path = (name: string) => fileURLToPath(import.meta.resolve(`tsbpf/bpf/${name}`));

// Program info, with run-time statistics switched on while it runs.
const t = BpfObject.open(path("testrun.bpf.o"));
t.load();
const prog = t.program("xdp_count_drop");
const stats = enableStats();
for (let i = 0; i < 3; i++) prog.testRun();
const info = prog.info({ xlated: true, jited: true, funcInfo: true, lineInfo: true });
stats.close();
const bpftoolProg = bpftool("prog", "show", "id", String(info.id)) as Record<string, unknown>;
const viaFd = progInfo(prog.fd);
const byId = fdById("prog", info.id);
const viaId = progInfo(byId).name;
const program = {
  info: { ...info, xlated: info.xlated?.byteLength, jited: info.jited?.byteLength },
  bpftool: bpftoolProg,
  sameAsFd: viaFd.id === info.id && viaFd.xlatedProgLen === info.xlatedProgLen,
  viaId,
  mapNames: info.mapIds.map((id) => (bpftool("map", "show", "id", String(id)) as { name: string }).name),
};
t.destroy();

// Map info: map_extra (the bloom filter's hash count) and BTF type ids.
const m = BpfObject.open(path("mapops.bpf.o"));
m.load();
const bloom = mapInfo(m.map("bloom").fd);
const hash = m.map("hash").info();
const maps = { bloom, hash, bpftoolHash: bpftool("map", "show", "id", String(hash.id)) };
m.destroy();

// Links: one of each kind the kernel lets us make here.
const a = BpfObject.open(path("attach.bpf.o"));
const wanted = ["on_raw_tp", "on_tp_btf", "on_cgroup_skb", "dump_tasks", "on_uprobe", "on_xdp", "on_tcx"];
for (const p of a.spec.programs) a.setAutoload(p.name, wanted.includes(p.name));
a.load();
const made: Record<string, Link> = {
  raw_tracepoint: a.program("on_raw_tp").attach(),
  tp_btf: a.program("on_tp_btf").attach(),
  cgroup: a.program("on_cgroup_skb").attach(),
  iter: a.program("dump_tasks").attach(),
  uprobe: a.program("on_uprobe").attach({ binary: "libc.so.6", func: "getpid", pid: process.pid }),
  xdp: a.program("on_xdp").attach({ interface: "lo" }),
  tcx: a.program("on_tcx").attach({ interface: "lo" }),
};
const b = BpfObject.open(path("perfbuf.bpf.o"));
b.setAutoload("emit_sample", false);
b.load();
made.tracepoint = b.program("on_exec").attach();
const links: Record<string, { info: unknown; bpftool: unknown }> = {};
for (const [name, link] of Object.entries(made)) {
  const li = linkInfo(link.fd!);
  links[name] = { info: li, bpftool: bpftool("link", "show", "id", String(li.id)) };
}
// bpftool perf lists perf-event attachments with what BPF_TASK_FD_QUERY says (file and offset of a uprobe, the tracepoint).
const perf = spawnSync("bpftool", ["perf", "show", "-j"], { encoding: "utf8" });
const perfEvents = (JSON.parse(perf.stdout) as Array<{ pid: number }>).filter((e) => e.pid === process.pid);
a.destroy();
b.destroy();
report({ program, maps, links, perfEvents, pid: process.pid, netns: readlinkSync("/proc/self/ns/net") });
