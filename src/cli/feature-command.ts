/**
 * `tsbpf feature probe`: what this kernel supports, found by trying it —
 * BTF kinds (the probes that drive sanitisation), program types, map types.
 */
import { btfFeatures, probeMapType, probeProgramType } from "../object/kernel-features.js";
import { BpfMapTypeNames, BpfProgTypeNames } from "../abi/uapi-enums.js";
import { parseArgs, UsageError } from "./args.js";
import { TRACE_HELP, TRACE_OPTION, startTraceOption } from "./trace-option.js";

export const FEATURE_HELP = `usage: tsbpf feature probe [--json]

Probes the running kernel: which BTF kinds it accepts, which program types
load, which map types can be created.

${TRACE_HELP}
`;

export async function featureCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "probe") throw new UsageError(`feature: unknown subcommand ${sub ?? "(none)"}; try "tsbpf feature probe"`);
  const args = parseArgs(rest, { json: {}, ...TRACE_OPTION });
  const json = args.flags.has("json");
  const stopTrace = await startTraceOption(args);
  const btf = btfFeatures();
  const progs = Object.entries(BpfProgTypeNames)
    .filter(([v]) => Number(v) !== 0)
    .map(([v, name]) => ({ name: name.replace("BPF_PROG_TYPE_", "").toLowerCase(), available: probeProgramType(Number(v)) }));
  const maps = Object.entries(BpfMapTypeNames)
    .filter(([v]) => Number(v) !== 0)
    .map(([v, name]) => ({ name: name.replace("BPF_MAP_TYPE_", "").toLowerCase(), available: probeMapType(Number(v)) }));
  stopTrace();
  if (json) {
    process.stdout.write(JSON.stringify({ btf, programTypes: progs, mapTypes: maps }) + "\n");
    return 0;
  }
  const out: string[] = ["BTF kinds accepted by the kernel:"];
  for (const [k, ok] of Object.entries(btf)) out.push(`  ${k.padEnd(12)} ${ok ? "yes" : "NO"}`);
  out.push("", "program types:");
  for (const p of progs)
    out.push(
      `  ${p.name.padEnd(24)} ${p.available === undefined ? "needs an attach target (not probed)" : p.available ? "available" : "NOT available"}`,
    );
  out.push("", "map types:");
  for (const m of maps) out.push(`  ${m.name.padEnd(24)} ${m.available ? "available" : "NOT available"}`);
  process.stdout.write(out.join("\n") + "\n");
  return 0;
}
