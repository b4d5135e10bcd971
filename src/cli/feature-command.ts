/**
 * `tsbpf feature probe`: what this kernel supports, found by trying it —
 * BTF kinds (the probes that drive sanitisation), then program types, map
 * types and the helpers each program type may call, probed and printed as
 * `bpftool feature probe kernel` probes and prints them (so the two can be
 * compared line by line; src/object/feature-probes.ts says how each asks).
 */
import { helperName, HELPER_NAMES } from "../abi/helper-names.js";
import { BpfMapTypeNames, BpfProgType, BpfProgTypeNames } from "../abi/uapi-enums.js";
import { btfFeatures } from "../object/kernel-features.js";
import { type HelperVerdict, probeHelper, probeMapType, probeProgType } from "../object/feature-probes.js";
import { lackedCapabilities } from "../syscall/capabilities.js";
import { TsbpfError } from "../errors.js";
import { parseArgs, UsageError } from "./args.js";
import { print, printJson } from "./output.js";
import { TRACE_HELP, TRACE_OPTION, startTraceOption } from "./trace-option.js";

export const FEATURE_HELP = `usage: tsbpf feature probe [kernel] [full] [-j|--json] [-p|--pretty]

Probes the running kernel by asking it: which BTF kinds it accepts, which
program types load, which map types can be created, and which helpers each
program type may call. Program types, map types and helpers are probed and
printed as "bpftool feature probe kernel" does ("eBPF program_type xdp is
available"); tsbpf also lists the types and helpers newer than bpftool 7.1.

Probing needs CAP_SYS_ADMIN, CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (run as
root): without them every probe would fail and say nothing true, so the
command refuses (exit 1).

options:
  full             also probe bpf_trace_printk, bpf_trace_vprintk and
                   bpf_probe_write_user, which write a warning to the kernel
                   log when loaded (bpftool's "full")
  -j, --json       one JSON document
  -p, --pretty     the same, indented
${TRACE_HELP}
`;

/** Helpers whose probe makes the kernel log a warning; bpftool skips them unless asked for "full". */
const NOISY_HELPERS = new Set([6, 36, 177]);

const short = (full: string, prefix: string) => full.replace(prefix, "").toLowerCase();

/** bpftool's rule: all four capabilities in the effective set, or no true answer can come back. */
function checkPrivileges(): void {
  const missing = lackedCapabilities(["CAP_SYS_ADMIN", "CAP_BPF", "CAP_NET_ADMIN", "CAP_PERFMON"]);
  if (missing.length)
    throw new TsbpfError(
      `missing ${missing.join(", ")}, required for feature probing: without them the kernel refuses the probes themselves, and every answer would read "not available"; run as root`,
    );
}

interface HelperReport {
  programType: string;
  /** The helpers the type may call; undefined when it cannot be probed (its loads need a real target). */
  helpers: string[] | undefined;
  typeAvailable: boolean;
}

export async function featureCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "probe") throw new UsageError(`feature: unknown subcommand ${sub ?? "(none)"}; try "tsbpf feature probe"`);
  const args = parseArgs(rest, { json: { short: "-j" }, pretty: { short: "-p" }, ...TRACE_OPTION });
  const words = [...args.positionals];
  if (words[0] === "kernel") words.shift();
  const full = words[0] === "full";
  if (full) words.shift();
  if (words.length) throw new UsageError(`unexpected argument ${words[0]}; tsbpf probes only the running kernel`);
  const pretty = args.flags.has("pretty");
  const json = pretty || args.flags.has("json");
  checkPrivileges();

  const stopTrace = await startTraceOption(args);
  let btf: ReturnType<typeof btfFeatures>;
  let progs: Array<{ type: number; name: string; available: boolean }>;
  let maps: Array<{ name: string; available: boolean }>;
  const helpers: HelperReport[] = [];
  try {
    btf = btfFeatures();
    progs = Object.entries(BpfProgTypeNames)
      .filter(([v]) => Number(v) !== BpfProgType.UNSPEC)
      .map(([v, name]) => ({ type: Number(v), name: short(name, "BPF_PROG_TYPE_"), available: probeProgType(Number(v)) }));
    maps = Object.entries(BpfMapTypeNames)
      .filter(([v]) => Number(v) !== 0)
      .map(([v, name]) => ({ name: short(name, "BPF_MAP_TYPE_"), available: probeMapType(Number(v)) }));
    const ids = Object.keys(HELPER_NAMES)
      .map(Number)
      .filter((id) => full || !NOISY_HELPERS.has(id));
    for (const p of progs) {
      if (!p.available) {
        helpers.push({ programType: p.name, helpers: [], typeAvailable: false });
        continue;
      }
      const verdicts = ids.map((id): [number, HelperVerdict] => [id, probeHelper(p.type, id)]);
      const unknown = verdicts.every(([, v]) => v === "unknown");
      helpers.push({
        programType: p.name,
        helpers: unknown ? undefined : verdicts.filter(([, v]) => v === "yes").map(([id]) => helperName(id)!),
        typeAvailable: true,
      });
    }
  } finally {
    stopTrace();
  }

  if (json) {
    printJson(
      {
        btf,
        programTypes: Object.fromEntries(progs.map((p) => [p.name, p.available])),
        mapTypes: Object.fromEntries(maps.map((m) => [m.name, m.available])),
        helpers: Object.fromEntries(helpers.map((h) => [h.programType, h.helpers ?? null])),
      },
      pretty,
    );
    return 0;
  }
  const out: string[] = ["Scanning BTF kinds..."];
  for (const [k, ok] of Object.entries(btf)) out.push(`BTF kind ${k} is ${ok ? "available" : "NOT available"}`);
  out.push("", "Scanning eBPF program types...");
  for (const p of progs) out.push(`eBPF program_type ${p.name} is ${p.available ? "available" : "NOT available"}`);
  out.push("", "Scanning eBPF map types...");
  for (const m of maps) out.push(`eBPF map_type ${m.name} is ${m.available ? "available" : "NOT available"}`);
  out.push("", "Scanning eBPF helper functions...");
  for (const h of helpers) {
    out.push(`eBPF helpers supported for program type ${h.programType}:`);
    if (!h.typeAvailable) out.push("\tProgram type not supported");
    else if (!h.helpers?.length) out.push("\tCould not determine which helpers are available");
    else for (const name of h.helpers) out.push(`\t- ${name}`);
  }
  print(`${out.join("\n")}\n`);
  return 0;
}
