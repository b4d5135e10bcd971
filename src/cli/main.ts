#!/usr/bin/env node
/**
 * The `tsbpf` command. Each verb lives in its own file; this one parses the
 * verb, maps errors to exit codes (0 ok, 1 runtime failure, 2 usage) and
 * keeps stack traces for --verbose.
 */
import { TsbpfError } from "../errors.js";
import { UsageError } from "./args.js";
import { loadCommand, LOAD_HELP } from "./load-command.js";

const HELP = `tsbpf — a pure-TypeScript eBPF loader (no libbpf)

usage: tsbpf <verb> [options]

verbs:
  load <obj.bpf.o>   load and attach every program, stream its output
  help               this text

Run "tsbpf <verb> --help" for a verb's options.
`;

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case "load":
      if (rest.includes("--help") || rest.includes("-h")) {
        process.stdout.write(LOAD_HELP);
        return 0;
      }
      return loadCommand(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return verb === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown verb "${verb}"`);
  }
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
