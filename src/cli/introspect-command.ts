/**
 * Introspection verbs in the spirit of bpftool's: every program and map
 * loaded in the kernel (whoever loaded it), found by walking ids
 * (BPF_*_GET_NEXT_ID), opened by id, and described by OBJ_GET_INFO_BY_FD.
 *
 *   tsbpf prog list [--json]
 *   tsbpf map list [--json]
 *   tsbpf map dump <id|name> [--json]
 */
import { BpfMap } from "../maps/bpf-map.js";
import { isPerCpu } from "../spec/map-spec.js";
import { closeFd } from "../syscall/bpf.js";
import { type MapInfo, fdById, mapInfo, progInfo } from "../syscall/obj-info.js";
import { listObjectIds } from "../syscall/object-ids.js";
import { BpfMapTypeNames, BpfProgTypeNames } from "../abi/uapi-enums.js";
import { type ParsedArgs, parseArgs, UsageError } from "./args.js";
import { TRACE_HELP, TRACE_OPTION, startTraceOption } from "./trace-option.js";

export const PROG_HELP = `usage: tsbpf prog list [--json] [--trace[=FILE]]

Lists every BPF program loaded in the kernel: id, type, name, tag, maps.

${TRACE_HELP}
`;

export const MAP_HELP = `usage: tsbpf map list [--json]
       tsbpf map dump <id|name> [--json]

list: every BPF map in the kernel: id, type, name, key/value sizes, entries.
dump: every key and value of one map (hex bytes), by id or by name.

${TRACE_HELP}
`;

const shortName = (full: string | undefined, prefix: string) => (full ?? "unknown").replace(prefix, "").toLowerCase();

function withFd<T>(kind: "prog" | "map", id: number, fn: (fd: number) => T): T | undefined {
  let fd: number;
  try {
    fd = fdById(kind, id);
  } catch {
    return undefined; // gone between the id walk and the open
  }
  try {
    return fn(fd);
  } finally {
    closeFd(fd);
  }
}

export async function progCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "list" && sub !== "show") throw new UsageError(`prog: unknown subcommand ${sub ?? "(none)"}; try "tsbpf prog list"`);
  const args = parseArgs(rest, { json: {}, ...TRACE_OPTION });
  const json = args.flags.has("json");
  const stopTrace = await startTraceOption(args);
  const rows = listObjectIds("prog")
    .map((id) => withFd("prog", id, (fd) => progInfo(fd)))
    .filter((x) => x !== undefined);
  if (json) {
    for (const p of rows)
      process.stdout.write(JSON.stringify({ ...p, type: shortName(BpfProgTypeNames[p.type], "BPF_PROG_TYPE_") }) + "\n");
    stopTrace();
    return 0;
  }
  const lines = rows.map(
    (p) =>
      `${p.id}: ${shortName(BpfProgTypeNames[p.type], "BPF_PROG_TYPE_")}  name ${p.name || "-"}  tag ${p.tag}` +
      (p.mapIds.length ? `  map_ids ${p.mapIds.join(",")}` : ""),
  );
  process.stdout.write(lines.join("\n") + (lines.length ? "\n" : ""));
  stopTrace();
  return 0;
}

function describeMap(m: MapInfo): string {
  return `${m.id}: ${shortName(BpfMapTypeNames[m.type], "BPF_MAP_TYPE_")}  name ${m.name || "-"}  key ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}  flags 0x${m.flags.toString(16)}`;
}

function findMap(which: string): number {
  if (/^\d+$/.test(which)) return Number(which);
  for (const id of listObjectIds("map")) {
    if (withFd("map", id, (fd) => mapInfo(fd).name) === which) return id;
  }
  throw new UsageError(`no map named ${which} in the kernel (tsbpf map list shows them)`);
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

export async function mapCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest, { json: {}, ...TRACE_OPTION });
  const json = args.flags.has("json");
  const stopTrace = await startTraceOption(args);
  try {
    return mapVerb(sub, args, json);
  } finally {
    stopTrace();
  }
}

function mapVerb(sub: string | undefined, args: ParsedArgs, json: boolean): number {
  if (sub === "list" || sub === "show") {
    for (const id of listObjectIds("map")) {
      const info = withFd("map", id, (fd) => mapInfo(fd));
      if (info)
        process.stdout.write(
          (json ? JSON.stringify({ ...info, type: shortName(BpfMapTypeNames[info.type], "BPF_MAP_TYPE_") }) : describeMap(info)) + "\n",
        );
    }
    return 0;
  }
  if (sub === "dump") {
    const which = args.positionals[0];
    if (!which) throw new UsageError("map dump needs a map id or name");
    const id = findMap(which);
    const fd = fdById("map", id);
    const info = mapInfo(fd);
    const map = BpfMap.fromFd(
      {
        name: info.name,
        type: info.type,
        keySize: info.keySize,
        valueSize: info.valueSize,
        maxEntries: info.maxEntries,
        flags: info.flags,
        freeze: false,
        btfKeyTypeId: 0,
        btfValueTypeId: 0,
      },
      fd,
    );
    try {
      let n = 0;
      for (const [k, v] of map.entries()) {
        n++;
        process.stdout.write(
          json
            ? JSON.stringify({ key: hex(k), value: hex(v) }) + "\n"
            : `key: ${hex(k)}  value${isPerCpu(info.type) ? " (per CPU)" : ""}: ${hex(v)}\n`,
        );
      }
      if (!json) process.stdout.write(`Found ${n} element${n === 1 ? "" : "s"}\n`);
    } finally {
      map.close();
    }
    return 0;
  }
  throw new UsageError(`map: unknown subcommand ${sub ?? "(none)"}; try "tsbpf map list"`);
}
