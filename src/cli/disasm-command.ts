/**
 * `tsbpf disasm <obj> [--program NAME] [--raw | --sections | --as-compiled] [--btf FILE] [--no-bytes] [--no-source]`:
 * the instructions of a BPF object. `--raw` is exactly `llvm-objdump -d`;
 * the default annotates each program as it is loaded (the program and its
 * subprograms, linked, CO-RE applied against this kernel's BTF or --btf),
 * `--as-compiled` the same before CO-RE, `--sections` the ELF sections.
 */
import { CoreCache } from "../core/index.js";
import { parseObject } from "../spec/object-spec.js";
import { hasCoreRelocations, relocateProgram } from "../spec/relocate.js";
import { annotateObjectSections, annotateProgram, disassembleObject, objdumpHeader } from "../disasm/disasm.js";
import { escapeText } from "../text/escape.js";
import { parseArgs, UsageError } from "./args.js";
import { type CoreTarget, readCoreTarget } from "./core-target.js";
import { readInputFile } from "./input-file.js";
import { print, printErr } from "./output.js";

export const DISASM_HELP = `usage: tsbpf disasm <obj.bpf.o> [options]

Disassembles a BPF object in llvm-objdump's syntax. By default each program
is shown as it is loaded: the program followed by the subprograms it calls,
CO-RE relocations applied against the running kernel's BTF (or --btf FILE),
each relocation site saying what the load made of it (; loaded: 0x318 →
0x320, or POISONED and why). Comments say what instructions refer to: maps (; map: rb), global
variables (; .rodata+0 min_duration_ns), helpers (; bpf_ktime_get_ns),
subprograms, kfuncs and externs, CO-RE accesses
(; CO-RE field_byte_offset task_struct::real_parent), and the C source lines
recorded in the object's line_info.

options:
  --program NAME   only this program (with --raw or --sections: this function)
  --as-compiled    the instructions as clang compiled them, before CO-RE
  --btf FILE       apply CO-RE against this BTF (a vmlinux BTF file) instead
                   of the running kernel's
  --raw            print exactly what "llvm-objdump -d <obj>" prints
  --sections       annotate ELF sections as llvm-objdump lays them out,
                   instead of linked programs
  --no-bytes       leave out the raw instruction bytes (annotated modes)
  --no-source      leave out the C source lines (annotated modes)
  -h, --help       this text
`;

export async function disasmCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    program: { value: true },
    raw: {},
    sections: {},
    "no-bytes": {},
    "no-source": {},
    "as-compiled": {},
    btf: { value: true },
    help: { short: "-h" },
  });
  if (args.flags.has("help")) {
    print(DISASM_HELP);
    return 0;
  }
  const [path, ...extra] = args.positionals;
  if (!path) throw new UsageError("disasm needs an object file");
  if (extra.length) throw new UsageError(`unexpected argument ${escapeText(extra[0]!)}`);
  const raw = args.flags.has("raw");
  const sections = args.flags.has("sections");
  if (raw && sections) throw new UsageError("--raw and --sections exclude each other");
  if (raw && (args.flags.has("no-bytes") || args.flags.has("no-source"))) {
    throw new UsageError("--no-bytes and --no-source apply to the annotated listings, not --raw");
  }
  const program = args.options.get("program")?.[0];
  const bytes = readInputFile(path);
  const opts = { bytes: !args.flags.has("no-bytes"), source: !args.flags.has("no-source") };

  if (raw) {
    const text = disassembleObject(bytes, { path, ...(program ? { symbols: [program] } : {}) });
    if (program && !text.includes(`<${program}>:`)) return missing(program, path);
    print(text);
    return 0;
  }
  if (sections) {
    const { text, warning } = annotateObjectSections(bytes, { ...opts, ...(program ? { symbols: [program] } : {}) });
    if (warning) printErr(`tsbpf: ${warning}\n`);
    if (program && !text.includes(`<${program}>:`)) return missing(program, path);
    print(objdumpHeader(path) + text);
    return 0;
  }

  const spec = parseObject(bytes, { path });
  const programs = program ? spec.programs.filter((p) => p.name === program) : spec.programs;
  if (programs.length === 0) {
    if (program) {
      printErr(
        `tsbpf: no program "${escapeText(program)}" in ${escapeText(path)}; programs: ${spec.programs.map((p) => escapeText(p.name)).join(", ") || "none"}\n`,
      );
      return 1;
    }
    printErr(`tsbpf: ${escapeText(path)} has no programs; showing its sections\n`);
    print(objdumpHeader(path) + annotateObjectSections(bytes, opts).text);
    return 0;
  }
  const asCompiled = args.flags.has("as-compiled");
  const btfPath = args.options.get("btf")?.[0];
  if (asCompiled && btfPath) throw new UsageError("--btf applies CO-RE; --as-compiled shows the instructions before it");
  // The kernel's BTF is read only when a program has CO-RE relocations to apply.
  let target: CoreTarget | undefined;
  const targetBtf = () => (target ??= readCoreTarget(btfPath));
  const cache = new CoreCache();
  let out = objdumpHeader(path);
  for (const p of programs) {
    if (asCompiled) {
      out += annotateProgram(spec, p, opts);
      continue;
    }
    const t = hasCoreRelocations(p) ? targetBtf() : undefined;
    const { insns, core } = relocateProgram(p, spec.btf?.btf, t?.btf, cache);
    out += annotateProgram(spec, p, opts, { insns, core, against: t?.against ?? "no BTF (no CO-RE relocations)" });
  }
  print(out);
  return 0;
}

function missing(name: string, path: string): number {
  printErr(`tsbpf: no function "${escapeText(name)}" in ${escapeText(path)}\n`);
  return 1;
}
