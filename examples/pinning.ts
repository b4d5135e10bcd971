/**
 * Pinning: a link pinned in a BPF filesystem keeps its program attached
 * after the process that attached it exits; another process opens it (and
 * the map) by path later, and unpinning lets it go.
 *
 *   node dist/examples/pinning.js pin DIR [PPID]   load, attach, pin DIR/link, DIR/count, DIR/prog; exit
 *   node dist/examples/pinning.js show DIR         what is pinned: the link, its program, the exec count
 *   node dist/examples/pinning.js unpin DIR        remove the pins: the program detaches
 *
 * DIR must be in a BPF filesystem (/sys/fs/bpf, or `mount -t bpf bpf DIR`).
 * The program counts execs of PPID's children (every exec without PPID).
 */
import { fileURLToPath } from "node:url";
import { BpfMap, BpfObject, BpfProgram, Link } from "../src/index.js";

const [verb, dir, ppid] = process.argv.slice(2);
const usage = "usage: pinning pin DIR [PPID] | show DIR | unpin DIR\n";
if (!dir || !["pin", "show", "unpin"].includes(verb ?? "")) {
  process.stderr.write(usage);
  process.exit(2);
}

const key = new Uint8Array(4); // exec_count is an array with one u64 at key 0

if (verb === "pin") {
  const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/counter.bpf.o")));
  try {
    obj.writeVariable("target_ppid", Number(ppid ?? 0));
    obj.load();
    const link = obj.program("count_exec").attach();
    link.pin(`${dir}/link`);
    obj.map("exec_count").pin(`${dir}/count`);
    obj.program("count_exec").pin(`${dir}/prog`);
    console.log(`pinned link ${link.info().id} at ${dir}/link`);
  } finally {
    obj.destroy(); // closes this process's fds; the pins keep link, map and program
  }
} else if (verb === "show") {
  const link = Link.fromPinned(`${dir}/link`);
  const info = link.info();
  const count = BpfMap.fromPinned(`${dir}/count`, { readOnly: true });
  const value = count.lookup(key)!;
  const prog = BpfProgram.fromPinned(`${dir}/prog`);
  console.log(
    `link ${info.id} (${info.kind}) holds program ${prog.name} (id ${info.progId}); execs counted: ${new DataView(value.buffer).getBigUint64(0, true)}`,
  );
  link.destroy();
  count.close();
  prog.close();
} else {
  const link = Link.fromPinned(`${dir}/link`);
  const id = link.info().id;
  link.unpin();
  link.destroy(); // the last fd: the link detaches
  for (const pinned of [BpfMap.fromPinned(`${dir}/count`), BpfProgram.fromPinned(`${dir}/prog`)]) {
    pinned.unpin();
    pinned.close();
  }
  console.log(`unpinned link ${id}`);
}
