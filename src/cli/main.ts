#!/usr/bin/env node
/**
 * The `tsbpf` command. Each verb lives in its own file; this one parses the
 * verb, maps errors to exit codes (0 ok, 1 runtime failure, 2 usage) and
 * keeps stack traces for --verbose.
 */
import { TsbpfError } from "../errors.js";
import { UsageError } from "./args.js";
import { featureCommand, FEATURE_HELP } from "./feature-command.js";
import { mapCommand, MAP_HELP, progCommand, PROG_HELP } from "./introspect-command.js";
import { btfCommand, BTF_HELP } from "./btf-command.js";
import { disasmCommand, DISASM_HELP } from "./disasm-command.js";
import { genCommand, GEN_HELP } from "./gen-command.js";
import { inspectCommand, INSPECT_HELP } from "./inspect-command.js";
import { loadCommand, LOAD_HELP } from "./load-command.js";

interface Verb {
  summary: string;
  help: string;
  run: (argv: string[]) => Promise<number>;
}

/** Every verb: its one-line summary, its --help text and its entry point. */
const VERBS: Record<string, Verb> = {
  load: { summary: "load <obj.bpf.o>      load, attach, stream output until Ctrl-C", help: LOAD_HELP, run: loadCommand },
  inspect: { summary: "inspect <obj.bpf.o>   what an object holds, without loading it", help: INSPECT_HELP, run: inspectCommand },
  btf: { summary: "btf dump <file|obj>   BTF as bpftool prints it (raw) or as a C header", help: BTF_HELP, run: btfCommand },
  disasm: { summary: "disasm <obj.bpf.o>    BPF disassembly, annotated (llvm-objdump syntax)", help: DISASM_HELP, run: disasmCommand },
  gen: { summary: "gen skeleton <obj>    a typed TypeScript skeleton of an object", help: GEN_HELP, run: genCommand },
  prog: { summary: "prog list             programs loaded in the kernel", help: PROG_HELP, run: progCommand },
  map: { summary: "map list|dump         maps in the kernel, and their contents", help: MAP_HELP, run: mapCommand },
  feature: { summary: "feature probe         what this kernel supports", help: FEATURE_HELP, run: featureCommand },
};

const HELP = `tsbpf — a pure-TypeScript eBPF loader (no libbpf)

usage: tsbpf <verb> [options]

verbs:
${Object.values(VERBS)
  .map((v) => `  ${v.summary}`)
  .join("\n")}
  help                  this text

Run "tsbpf <verb> --help" for a verb's options. Exit codes: 0 ok, 1 runtime failure, 2 usage.
`;

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "help" || verb === "--help" || verb === "-h") {
    process.stdout.write(HELP);
    return verb === undefined ? 2 : 0;
  }
  const v = VERBS[verb];
  if (!v) throw new UsageError(`unknown verb "${verb}"`);
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(v.help);
    return 0;
  }
  return v.run(rest);
}

const verbose = process.argv.includes("--verbose") || process.argv.includes("-v");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`tsbpf: ${e.message}\n${HELP}`);
      process.exitCode = 2;
      return;
    }
    const err = e as Error;
    const known = e instanceof TsbpfError;
    process.stderr.write(`tsbpf: ${known ? `${err.name}: ` : ""}${err.message}\n`);
    if (verbose || !known) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  },
);
