#!/usr/bin/env node
/**
 * The `tsbpf` command. Each verb lives in its own file; this one parses the
 * verb, maps errors to exit codes (0 ok, 1 runtime failure, 2 usage) and
 * keeps stack traces for --verbose.
 */
import { TsbpfError } from "../errors.js";
import { UsageError } from "./args.js";

interface Verb {
  summary: string;
  /** The verb's module, imported only when the verb runs: start-up stays small. */
  load: () => Promise<{ run: (argv: string[]) => Promise<number>; help: string }>;
}

/** Every verb: its one-line summary and where its entry point and --help text live. */
const VERBS: Record<string, Verb> = {
  load: {
    summary: "load <obj.bpf.o>      load, attach, stream output until Ctrl-C",
    load: async () => {
      const m = await import("./load-command.js");
      return { run: m.loadCommand, help: m.LOAD_HELP };
    },
  },
  inspect: {
    summary: "inspect <obj.bpf.o>   what an object holds, without loading it",
    load: async () => {
      const m = await import("./inspect-command.js");
      return { run: m.inspectCommand, help: m.INSPECT_HELP };
    },
  },
  disasm: {
    summary: "disasm <obj.bpf.o>    BPF disassembly, annotated (llvm-objdump syntax)",
    load: async () => {
      const m = await import("./disasm-command.js");
      return { run: m.disasmCommand, help: m.DISASM_HELP };
    },
  },
  btf: {
    summary: "btf dump <file|obj>   BTF as bpftool prints it (raw) or as a C header",
    load: async () => {
      const m = await import("./btf-command.js");
      return { run: m.btfCommand, help: m.BTF_HELP };
    },
  },
  gen: {
    summary: "gen skeleton <obj>    a typed TypeScript skeleton of an object",
    load: async () => {
      const m = await import("./gen-command.js");
      return { run: m.genCommand, help: m.GEN_HELP };
    },
  },
  prog: {
    summary: "prog list             programs loaded in the kernel",
    load: async () => {
      const m = await import("./introspect-command.js");
      return { run: m.progCommand, help: m.PROG_HELP };
    },
  },
  map: {
    summary: "map list|dump         maps in the kernel, and their contents",
    load: async () => {
      const m = await import("./introspect-command.js");
      return { run: m.mapCommand, help: m.MAP_HELP };
    },
  },
  feature: {
    summary: "feature probe         what this kernel supports",
    load: async () => {
      const m = await import("./feature-command.js");
      return { run: m.featureCommand, help: m.FEATURE_HELP };
    },
  },
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
  const { run, help } = await v.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(help);
    return 0;
  }
  return run(rest);
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
