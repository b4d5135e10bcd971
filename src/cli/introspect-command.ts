/**
 * Introspection verbs in the spirit of bpftool's: programs and maps loaded
 * in the kernel (whoever loaded them), found by walking ids
 * (BPF_*_GET_NEXT_ID) or by a selector (object-selector.ts), opened, and
 * described by OBJ_GET_INFO_BY_FD. Names come from whoever loaded the
 * objects and are escaped.
 */
import { Btf } from "../btf/btf.js";
import { type BtfDumpContext, dumpBtfType } from "../btf/btf-dumper.js";
import { BpfMap, mapSpecOf } from "../maps/bpf-map.js";
import { btfBytesById } from "../syscall/btf-by-id.js";
import { possibleCpuCount } from "../syscall/cpus.js";
import { JsonWriter } from "../text/jsonw.js";
import { isPerCpu } from "../spec/map-spec.js";
import { type MapInfo, type ProgInfo, mapInfo, progInfo } from "../syscall/obj-info.js";
import { BpfMapTypeNames, BpfProgTypeNames } from "../abi/uapi-enums.js";
import { escapeText } from "../text/escape.js";
import { type ParsedArgs, parseArgs, UsageError } from "./args.js";
import { type Selector, takeSelector, withEvery, withSelected } from "./object-selector.js";
import { outputClosed, print, printJson } from "./output.js";
import { TRACE_HELP, TRACE_OPTION, startTraceOption } from "./trace-option.js";
import { dumpXlated } from "./prog-dump.js";

const OUTPUT_HELP = `  -j, --json         one JSON object per line
  -p, --pretty       the same, indented
${TRACE_HELP}`;

const EXIT_HELP = `Exit status: 0 ok; 1 when nothing matches (no such id, name or pin) or the
kernel refuses; 2 for usage errors; 141 when the reader of stdout goes away.`;

export const PROG_HELP = `usage: tsbpf prog { show | list } [PROG] [options]
       tsbpf prog dump xlated PROG [linum] [opcodes]
       PROG := { id PROG_ID | name NAME | tag TAG | pinned PATH }

show/list: BPF programs loaded in the kernel (all of them, or those PROG
selects): id, type, name, tag, maps. "show" and "list" are the same, as in
bpftool.
dump xlated: the program's instructions as the kernel translated them, in
the text of \`bpftool prog dump xlated\` (linum: file, line and column of
each source line; opcodes: each instruction's bytes).

options:
${OUTPUT_HELP}

${EXIT_HELP}
`;

export const MAP_HELP = `usage: tsbpf map { show | list } [MAP] [options]
       tsbpf map dump MAP [options]
       MAP := { id MAP_ID | name NAME | pinned PATH }

show/list: BPF maps in the kernel (all, or those MAP selects): id, type,
name, key/value sizes, entries, flags.
dump: every key and value of the selected map(s). With BTF, decoded by their
C types as \`bpftool map dump\` prints them; without (or with --hex), as hex
bytes. -j prints what \`bpftool -j map dump\` prints: the bytes, and the
decoded entry as "formatted". A bare id or name also works:
tsbpf map dump 12, tsbpf map dump rb.

options:
${OUTPUT_HELP}
  --hex              dump: keys and values as hex bytes even when BTF describes them

${EXIT_HELP}
`;

const OPTIONS = { json: { short: "-j" }, pretty: { short: "-p" }, hex: {}, ...TRACE_OPTION };

const shortName = (full: string | undefined, prefix: string) => (full ?? "unknown").replace(prefix, "").toLowerCase();

interface Output {
  json: boolean;
  pretty: boolean;
}

function outputOf(args: ParsedArgs): Output {
  const pretty = args.flags.has("pretty");
  return { json: pretty || args.flags.has("json"), pretty };
}

/** Runs `fn` with --trace active (if given), stopping the trace however it ends. */
async function traced(args: ParsedArgs, fn: () => number): Promise<number> {
  const stopTrace = await startTraceOption(args);
  try {
    return fn();
  } finally {
    stopTrace();
  }
}

/** The selector in `words` (bpftool's keywords, or a bare id/name with `bare`); nothing else may follow it. */
function selectorOf(kind: "prog" | "map", words: string[], bare: boolean): Selector | undefined {
  const rest = [...words];
  const s = takeSelector(kind, rest, bare);
  if (rest.length) throw new UsageError(`unexpected argument ${escapeText(rest[0]!)}`);
  return s;
}

function describeProg(p: ProgInfo): string {
  return (
    `${p.id}: ${shortName(BpfProgTypeNames[p.type], "BPF_PROG_TYPE_")}  name ${escapeText(p.name) || "-"}  tag ${p.tag}` +
    (p.mapIds.length ? `  map_ids ${p.mapIds.join(",")}` : "")
  );
}

export async function progCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "dump") return progDump(rest);
  if (sub !== "list" && sub !== "show")
    throw new UsageError(`prog: unknown subcommand ${escapeText(sub ?? "(none)")}; try "tsbpf prog show"`);
  const args = parseArgs(rest, OPTIONS);
  const out = outputOf(args);
  const selector = selectorOf("prog", args.positionals, false);
  return traced(args, () => {
    const read = (fd: number) => progInfo(fd);
    const rows = selector ? withSelected("prog", selector, read) : withEvery("prog", read);
    for (const p of rows) {
      if (outputClosed()) break;
      if (out.json) printJson({ ...p, type: shortName(BpfProgTypeNames[p.type], "BPF_PROG_TYPE_") }, out.pretty);
      else print(`${describeProg(p)}\n`);
    }
    return 0;
  });
}

async function progDump(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what !== "xlated") throw new UsageError(`prog dump: only "xlated" is supported (not ${escapeText(what ?? "nothing")})`);
  const args = parseArgs(rest, { ...TRACE_OPTION, linum: {}, opcodes: {} });
  // bpftool's bare keywords, after the selector.
  const words = args.positionals.filter((w) => w !== "linum" && w !== "opcodes");
  const linum = args.flags.has("linum") || args.positionals.includes("linum");
  const opcodes = args.flags.has("opcodes") || args.positionals.includes("opcodes");
  const selector = selectorOf("prog", words, true);
  if (!selector) throw new UsageError("prog dump xlated needs a program: id PROG_ID, name NAME, tag TAG or pinned PATH");
  return traced(args, () => {
    for (const text of withSelected("prog", selector, (fd) => dumpXlated(fd, { linum, opcodes }))) {
      if (outputClosed()) break;
      print(text);
    }
    return 0;
  });
}

function describeMap(m: MapInfo): string {
  return `${m.id}: ${shortName(BpfMapTypeNames[m.type], "BPF_MAP_TYPE_")}  name ${escapeText(m.name) || "-"}  key ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}  flags 0x${m.flags.toString(16)}`;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

export async function mapCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "list" && sub !== "show" && sub !== "dump")
    throw new UsageError(`map: unknown subcommand ${escapeText(sub ?? "(none)")}; try "tsbpf map show" or "tsbpf map dump MAP"`);
  const args = parseArgs(rest, OPTIONS);
  const out = outputOf(args);
  if (sub === "dump") {
    const selector = selectorOf("map", args.positionals, true);
    if (!selector) throw new UsageError("map dump needs a map: id MAP_ID, name NAME or pinned PATH");
    return traced(args, () => {
      // A name may select several maps (names are not unique): then each gets a header line.
      const ids = withSelected("map", selector, (_fd, id) => id);
      for (const id of ids) withSelected("map", { by: "id", id }, (fd) => dumpMap(fd, out, ids.length > 1, args.flags.has("hex")));
      return 0;
    });
  }
  const selector = selectorOf("map", args.positionals, false);
  return traced(args, () => {
    const read = (fd: number) => mapInfo(fd);
    const rows = selector ? withSelected("map", selector, read) : withEvery("map", read);
    for (const info of rows) {
      if (outputClosed()) break;
      if (out.json) printJson({ ...info, type: shortName(BpfMapTypeNames[info.type], "BPF_MAP_TYPE_") }, out.pretty);
      else print(`${describeMap(info)}\n`);
    }
    return 0;
  });
}

/** Prints every entry of the map behind `fd` (which the caller closes); with `label`, a header line naming the map. */
function dumpMap(fd: number, out: Output, label: boolean, hexOnly: boolean): void {
  const info = mapInfo(fd);
  const map = BpfMap.fromFd(mapSpecOf(info), fd);
  // The fd stays the caller's (withSelected closes it): the map is never closed here.
  if (label && !out.json) print(`map ${describeMap(info)}\n`);
  const btf = hexOnly ? undefined : mapBtf(info);
  if (out.json || btf) {
    dumpLikeBpftool(map, info, btf, out);
    return;
  }
  let n = 0;
  for (const [k, v] of map.entries()) {
    if (outputClosed()) return;
    n++;
    print(`key: ${hex(k)}  value${isPerCpu(info.type) ? " (per CPU)" : ""}: ${hex(v)}\n`);
  }
  print(`Found ${n} element${n === 1 ? "" : "s"}\n`);
}

/** The map's BTF, when it has key or value types described there. */
function mapBtf(info: MapInfo): Btf | undefined {
  if (!info.btfId || (!info.btfKeyTypeId && !info.btfValueTypeId)) return undefined;
  return Btf.parse(btfBytesById(info.btfId));
}

/**
 * What `bpftool map dump` prints for a map with BTF (keys and values decoded
 * by their types, in bpftool's JSON layout), and what `bpftool -j map dump`
 * prints for any map (bytes as "0x.." strings, plus "formatted" with BTF).
 * Per-CPU values are one per possible CPU, each padded to 8 bytes.
 */
function dumpLikeBpftool(map: BpfMap, info: MapInfo, btf: Btf | undefined, out: Output): void {
  const jw = new JsonWriter(!out.json || out.pretty);
  const perCpu = isPerCpu(info.type);
  const cpus = perCpu ? possibleCpuCount() : 1;
  const step = Math.ceil(info.valueSize / 8) * 8;
  /** "value", or for a per-CPU map "values": one {cpu, value} per possible CPU. */
  const values = (v: Uint8Array, write: (value: Uint8Array) => void) => {
    if (!perCpu) {
      jw.name("value");
      write(v);
      return;
    }
    jw.name("values");
    jw.startArray();
    for (let cpu = 0; cpu < cpus; cpu++) {
      jw.startObject();
      jw.name("cpu");
      jw.raw(String(cpu));
      jw.name("value");
      write(v.subarray(cpu * step, cpu * step + info.valueSize));
      jw.endObject();
    }
    jw.endArray();
  };
  const bytes = (b: Uint8Array) => {
    jw.startArray();
    for (const x of b) jw.raw(`"0x${x.toString(16).padStart(2, "0")}"`);
    jw.endArray();
  };
  const decoded = (d: BtfDumpContext, key: Uint8Array, value: Uint8Array) => {
    jw.startObject();
    if (info.btfKeyTypeId) {
      jw.name("key");
      dumpBtfType(d, info.btfKeyTypeId, key);
    }
    values(value, (v) => dumpBtfType(d, info.btfValueTypeId, v));
    jw.endObject();
  };
  const formatted = btf && { btf, jw, plainText: !out.json };
  jw.startArray();
  for (const [k, v] of map.entries()) {
    if (!out.json) {
      // Only reached with BTF: the text dump without it is dumpMap's hex.
      if (formatted) decoded(formatted, k, v);
      continue;
    }
    jw.startObject();
    jw.name("key");
    bytes(k);
    values(v, bytes);
    if (formatted) {
      jw.name("formatted");
      decoded(formatted, k, v);
    }
    jw.endObject();
  }
  jw.endArray();
  if (!outputClosed()) print(`${jw.text()}\n`);
}
