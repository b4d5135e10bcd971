/**
 * `tsbpf inspect <obj> [--json]`: what an object holds, without loading it.
 */
import { readFileSync } from "node:fs";
import { type InspectReport, inspectObject } from "../spec/inspect.js";
import { parseObject } from "../spec/object-spec.js";
import { parseArgs, UsageError } from "./args.js";

export const INSPECT_HELP = `usage: tsbpf inspect <obj.bpf.o> [--json]

Describes a BPF object without loading it: sections, programs (section →
program type, attach target, instruction count, license), maps (type,
key/value types from BTF, flags, max_entries), global variables with their
initial values, every relocation including CO-RE access paths, and BTF.
`;

function render(r: InspectReport): string {
  const out: string[] = [`object ${r.object}  license "${r.license}"`, "", "sections:"];
  for (const s of r.sections)
    out.push(`  [${String(s.index).padStart(2)}] ${s.name.padEnd(28)} ${String(s.size).padStart(7)} B  ${s.flags}`);
  out.push("", "programs:");
  for (const p of r.programs) {
    out.push(`  ${p.name}  (section ${p.section})`);
    out.push(`    type ${p.type}${p.expectedAttachType ? `, expected attach type ${p.expectedAttachType}` : ""}`);
    out.push(`    attach: ${p.attach}${p.target ? ` → ${p.target}` : ""}`);
    out.push(`    ${p.instructions} instructions; functions: ${p.functions.join(", ")}`);
  }
  out.push("", "maps:");
  for (const m of r.maps) {
    out.push(
      `  ${m.name}${m.section ? ` (section ${m.section})` : ""}: ${m.type}, max_entries ${m.maxEntries}${m.flags.length ? `, flags ${m.flags.join("|")}` : ""}`,
    );
    out.push(
      `    key ${m.keySize} B${m.keyType ? ` (${m.keyType})` : ""}, value ${m.valueSize} B${m.valueType ? ` (${m.valueType})` : ""}`,
    );
    if (m.inner) out.push(`    inner map: ${m.inner}`);
    if (m.initialSlots)
      out.push(
        `    initial slots: ${Object.entries(m.initialSlots)
          .map(([k, v]) => `[${k}] = ${v}`)
          .join(", ")}`,
      );
  }
  out.push("", "global variables:");
  for (const v of r.variables) out.push(`  ${v.section}+${v.offset}  ${v.type ?? `${v.size} bytes`} ${v.name} = ${v.initial}`);
  out.push("", "relocations:");
  for (const x of r.relocations) out.push(`  ${x.program}[${x.insn}]  ${x.kind.padEnd(22)} ${x.target}`);
  if (r.btf)
    out.push(
      "",
      `BTF: ${r.btf.types} types; .BTF.ext: ${r.btf.funcInfo} func_info, ${r.btf.lineInfo} line_info, ${r.btf.coreRelocations} CO-RE relocations`,
    );
  return out.join("\n") + "\n";
}

export async function inspectCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: {} });
  const path = args.positionals[0];
  if (!path) throw new UsageError("inspect needs an object file");
  const report = inspectObject(parseObject(readFileSync(path), { path }));
  process.stdout.write(args.flags.has("json") ? JSON.stringify(report, null, 2) + "\n" : render(report));
  return 0;
}
