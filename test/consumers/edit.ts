/**
 * Setters before load, on the public API (bpf/edit.bpf.o): a program in a
 * custom section typed from user space, a max_entries 0 map sized at
 * runtime, a widened value, map and program flags, a log level, a map shared
 * by fd, and a parsed spec edited and loaded with fromSpec. What was sent is
 * read back from the kernel (info) and from the BPF_PROG_LOAD / BPF_MAP_CREATE
 * requests seen by a syscall observer.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BPF_F_ANY_ALIGNMENT, BPF_F_NO_PREALLOC, BpfCmd, BpfObject, BpfProgType, isBpfCmd, observeSyscalls, parseObject } from "tsbpf";
import { report, thrown } from "./report.js";

const path = fileURLToPath(import.meta.resolve("tsbpf/bpf/edit.bpf.o"));

// Untouched, the object cannot load: the custom section has no type, sized_later has no size.
const untouched = BpfObject.open(path);
const untyped = thrown(() => untouched.load());
// Refused before anything was created: still open, and fixable.
const stateAfterRefusal = untouched.state;
untouched.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER);
const unsized = thrown(() => untouched.load());
untouched.destroy();

// Every setter, then load; the requests are watched on their way to the kernel.
const progFlags: Record<string, number> = {};
const mapFlags: Record<string, number> = {};
const stop = observeSyscalls((req) => {
  if (isBpfCmd(req, BpfCmd.PROG_LOAD)) progFlags[String(req.values.prog_name)] = req.values.prog_flags ?? 0;
  if (isBpfCmd(req, BpfCmd.MAP_CREATE)) mapFlags[String(req.values.map_name)] = req.values.map_flags ?? 0;
});
const obj = BpfObject.open(path);
obj.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER).setFlags(BPF_F_ANY_ALIGNMENT);
obj.editProgram("fill").setLogLevel(1 | 4);
obj.editMap("sized_later").setMaxEntries(6).setFlags(BPF_F_NO_PREALLOC);
obj.editMap("wide").setValueSize(64);
obj.load();
stop();
const sized = obj.map("sized_later");
const fill = obj.program("fill").testRun().retval;
const wideValue = obj.map("wide").lookup(new Uint8Array(4));
const loaded = {
  customType: obj.program("custom_bump").info().type,
  bumps: [obj.program("custom_bump").testRun().retval, obj.program("custom_bump").testRun().retval],
  sized: { maxEntries: sized.info().maxEntries, flags: sized.info().flags, keys: [...sized.keys()].length, fill },
  wide: {
    valueSize: obj.map("wide").info().valueSize,
    length: wideValue?.byteLength,
    first: wideValue ? new DataView(wideValue.buffer, wideValue.byteOffset).getBigUint64(0, true) : undefined,
  },
  fillLog: /^processed \d+ insns/m.test(obj.program("fill").verifierLog ?? ""),
  customLog: obj.program("custom_bump").verifierLog,
  progFlags: progFlags.custom_bump,
  mapFlags: mapFlags.sized_later,
  editAfterLoad: thrown(() => obj.editMap("sized_later").setMaxEntries(8)),
};

// A second object shares the first one's counter through reuseFd.
const second = BpfObject.open(path);
second.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER);
second.editMap("sized_later").setMaxEntries(2);
second.editMap("counter").reuseFd(obj.map("counter").fd);
second.load();
const shared = {
  sameId: second.map("counter").id === obj.map("counter").id,
  ownFd: second.map("counter").fd !== obj.map("counter").fd,
  bump: second.program("custom_bump").testRun().retval,
};
const mismatch = BpfObject.open(path);
mismatch.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER);
mismatch.editMap("sized_later").setMaxEntries(2);
mismatch.editMap("counter").reuseFd(obj.map("sized_later").fd);
const reuseRefused = thrown(() => mismatch.load());
mismatch.destroy();
second.destroy();
obj.destroy();

// Parse offline, edit the spec, load it with fromSpec; a copy of a loaded spec is editable again.
const spec = parseObject(new Uint8Array(readFileSync(path)), { name: "edit" });
spec.editProgram("custom_bump").setType(BpfProgType.SOCKET_FILTER);
spec.editMap("sized_later").setMaxEntries(3);
const fromSpec = BpfObject.fromSpec(spec);
fromSpec.load();
const specEditAfterLoad = thrown(() => spec.editMap("sized_later"));
const copy = spec.copy();
copy.editMap("sized_later").setMaxEntries(5);
const again = BpfObject.fromSpec(copy);
again.load();
const specs = {
  maxEntries: fromSpec.map("sized_later").info().maxEntries,
  fill: fromSpec.program("fill").testRun().retval,
  specEditAfterLoad,
  copyMaxEntries: again.map("sized_later").info().maxEntries,
  originalUnchanged: spec.map("sized_later").maxEntries,
};
again.destroy();
fromSpec.destroy();

report({ untyped, unsized, stateAfterRefusal, loaded, shared, reuseRefused, specs });
