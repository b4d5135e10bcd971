/**
 * Pinning and opening, on the public API: a program, its map and its link
 * pinned in DIR (a BPF filesystem), opened again by path and by id, with
 * read-only and write-only map fds, and unpinned. (The pinned link that
 * outlives its process is examples/pinning.ts, run by the test.)
 *
 *   node pinning.js DIR
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BPF_ANY, BpfMap, BpfObject, BpfProgram, Link, SyscallError } from "tsbpf";
import { report, thrown } from "./report.js";

const dir = process.argv[2]!;
const key = new Uint8Array(4);
const u64 = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset).getBigUint64(0, true) : undefined);

const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/counter.bpf.o")));
obj.writeVariable("target_ppid", process.pid);
obj.load();
const prog = obj.program("count_exec");
const map = obj.map("exec_count");
const link = prog.attach();
prog.pin(`${dir}/prog`);
map.pin(`${dir}/map`);
link.pin(`${dir}/link`);
const pinned = ["prog", "map", "link"].map((n) => existsSync(`${dir}/${n}`));

// Open each by path and by id: the same kernel objects.
const progIds = { own: prog.id, pinned: BpfProgram.fromPinned(`${dir}/prog`).id, byId: BpfProgram.fromId(prog.id).id };
const mapIds = { own: map.id, pinned: BpfMap.fromPinned(`${dir}/map`).id, byId: BpfMap.fromId(map.id).id };
const linkInfo = link.info();
const linkIds = { own: linkInfo.id, pinned: Link.fromPinned(`${dir}/link`).info().id, byId: Link.fromId(linkInfo.id).info().id };
const openedProgram = BpfProgram.fromPinned(`${dir}/prog`);
const openedLink = Link.fromId(linkInfo.id);

// The pinned map counts what the program sees: two children exec.
spawnSync("/bin/true");
spawnSync("/bin/true");
const readOnly = BpfMap.fromPinned(`${dir}/map`, { readOnly: true });
const writeOnly = BpfMap.fromId(map.id, { writeOnly: true });
const count = u64(readOnly.lookup(key));
const readOnlyWrite = thrown(() => readOnly.update(key, new Uint8Array(8), BPF_ANY));
const writeOnlyRead = thrown(() => writeOnly.lookup(key));
writeOnly.update(key, new Uint8Array(8));
const afterWriteOnlyUpdate = u64(map.lookup(key));
const bothFlags = thrown(() => BpfMap.fromPinned(`${dir}/map`, { readOnly: true, writeOnly: true }));
const notPinned = thrown(() => BpfMap.fromPinned(`${dir}/nothing`));

link.unpin();
prog.unpin();
map.unpin();
const afterUnpin = ["prog", "map", "link"].map((n) => existsSync(`${dir}/${n}`));
const unpinTwice = thrown(() => map.unpin());
obj.destroy();
report({
  pinned,
  progIds,
  mapIds,
  linkIds,
  openedProgram: { name: openedProgram.name, section: openedProgram.spec.sectionName, pinnedPath: openedProgram.pinnedPath },
  openedLink: { kind: openedLink.kind, program: openedLink.program, target: openedLink.target },
  linkInfo,
  count,
  readOnlyWrite,
  readOnlyIsSyscallError: (() => {
    try {
      readOnly.update(key, new Uint8Array(8));
    } catch (e) {
      return e instanceof SyscallError;
    }
    return false;
  })(),
  writeOnlyRead,
  afterWriteOnlyUpdate,
  bothFlags,
  notPinned,
  afterUnpin,
  unpinTwice,
});
