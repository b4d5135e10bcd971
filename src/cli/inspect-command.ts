/**
 * `tsbpf inspect <obj> [--json]`: what an object holds, without loading it.
 */
import { type InspectReport, inspectObject } from "../spec/inspect.js";
import { parseObject } from "../spec/object-spec.js";
import { escapeText as e } from "../text/escape.js";
import { parseArgs, UsageError } from "./args.js";
import { readInputFile } from "./input-file.js";
import { print, printJson } from "./output.js";

export const INSPECT_HELP = `usage: tsbpf inspect <obj.bpf.o> [-j|--json] [-p|--pretty]

Describes a BPF object without loading it: sections, programs (section →
program type, attach target, instruction count, license), maps (type,
key/value types from BTF, flags, max_entries), global variables with their
initial values, every relocation including CO-RE access paths, and BTF.
Names are the object's own and are shown escaped (\\x1b for ESC, \\n, ...).

options:
  -j, --json     the same as one JSON document
  -p, --pretty   the same, indented
`;

function render(r: InspectReport): string {
  const out: string[] = [`object ${e(r.object)}  license "${e(r.license)}"`, "", "sections:"];
  for (const s of r.sections)
    out.push(`  [${String(s.index).padStart(2)}] ${e(s.name).padEnd(28)} ${String(s.size).padStart(7)} B  ${s.flags}`);
  out.push("", "programs:");
  for (const p of r.programs) {
    out.push(`  ${e(p.name)}  (section ${e(p.section)})`);
    out.push(`    type ${p.type}${p.expectedAttachType ? `, expected attach type ${p.expectedAttachType}` : ""}`);
    out.push(`    attach: ${p.attach}${p.target ? ` → ${e(p.target)}` : ""}`);
    out.push(`    ${p.instructions} instructions; functions: ${p.functions.map(e).join(", ")}`);
  }
  out.push("", "maps:");
  for (const m of r.maps) {
    out.push(
      `  ${e(m.name)}${m.section ? ` (section ${e(m.section)})` : ""}: ${m.type}, max_entries ${m.maxEntries}${m.flags.length ? `, flags ${m.flags.join("|")}` : ""}`,
    );
    out.push(
      `    key ${m.keySize} B${m.keyType ? ` (${e(m.keyType)})` : ""}, value ${m.valueSize} B${m.valueType ? ` (${e(m.valueType)})` : ""}`,
    );
    if (m.inner) out.push(`    inner map: ${e(m.inner)}`);
    if (m.callbacks)
      out.push(
        `    callbacks: ${Object.entries(m.callbacks)
          .map(([member, prog]) => `${e(member)} → ${e(prog)}`)
          .join(", ")}`,
      );
    if (m.initialSlots)
      out.push(
        `    initial slots: ${Object.entries(m.initialSlots)
          .map(([k, v]) => `[${k}] = ${e(String(v))}`)
          .join(", ")}`,
      );
  }
  out.push("", "global variables:");
  for (const v of r.variables)
    out.push(`  ${e(v.section)}+${v.offset}  ${v.type ? e(v.type) : `${v.size} bytes`} ${e(v.name)} = ${e(v.initial)}`);
  out.push("", "relocations:");
  for (const x of r.relocations) out.push(`  ${e(x.program)}[${x.insn}]  ${x.kind.padEnd(22)} ${e(x.target)}`);
  if (r.btf)
    out.push(
      "",
      `BTF: ${r.btf.types} types; .BTF.ext: ${r.btf.funcInfo} func_info, ${r.btf.lineInfo} line_info, ${r.btf.coreRelocations} CO-RE relocations`,
    );
  return out.join("\n") + "\n";
}

export async function inspectCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: { short: "-j" }, pretty: { short: "-p" } });
  const [path, ...extra] = args.positionals;
  if (!path) throw new UsageError("inspect needs an object file");
  if (extra.length) throw new UsageError(`unexpected argument ${e(extra[0]!)}`);
  const report = inspectObject(parseObject(readInputFile(path), { path }));
  // --json has always been indented; --pretty says so explicitly.
  if (args.flags.has("json") || args.flags.has("pretty")) printJson(report, true);
  else print(render(report));
  return 0;
}
