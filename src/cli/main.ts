#!/usr/bin/env node
/**
 * The `tsbpf` command. Each verb lives in its own file; this one parses the
 * verb, maps errors to exit codes (0 ok, 1 runtime failure, 2 usage, 141
 * stdout closed) and one line each, keeping stack traces for --verbose.
 */
import { TsbpfError } from "../errors.js";
import { cacheKernelBtfIndex, defaultCacheDir } from "../object/kernel-btf-index-cache.js";
import { escapeText } from "../text/escape.js";
import { UsageError } from "./args.js";
import { packageVersion } from "./package-version.js";
import { closedOutputExit, print, printErr, STDOUT_CLOSED_EXIT, systemErrorText } from "./output.js";

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
    summary: "prog show|list        programs loaded in the kernel (id N, name NAME, pinned PATH)",
    load: async () => {
      const m = await import("./introspect-command.js");
      return { run: m.progCommand, help: m.PROG_HELP };
    },
  },
  map: {
    summary: "map show|list|dump    maps in the kernel, and their contents",
    load: async () => {
      const m = await import("./introspect-command.js");
      return { run: m.mapCommand, help: m.MAP_HELP };
    },
  },
  report: {
    summary: "report <obj.bpf.o>    one HTML page of an object and its load",
    load: async () => {
      const m = await import("./report-command.js");
      return { run: m.reportCommand, help: m.REPORT_HELP };
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

usage: tsbpf [-j|--json] [-p|--pretty] [-v] <verb> [options]
       tsbpf --version

verbs:
${Object.values(VERBS)
  .map((v) => `  ${v.summary}`)
  .join("\n")}
  help                  this text

Run "tsbpf <verb> --help" for a verb's options. Options before the verb apply
to it, as with bpftool: -j/--json, -p/--pretty (indented JSON), -v/--verbose.

Exit status: 0 ok; 1 runtime failure (a file, program or map that does not
exist, a kernel refusal); 2 usage error (the verb's usage is printed); 141
when the reader of stdout goes away (\`tsbpf … | head\`), as for a UNIX
filter killed by SIGPIPE — a running load is detached and cleaned up first.

The index of the running kernel's BTF (where each type record starts) is
kept between runs in $XDG_CACHE_HOME/tsbpf or ~/.cache/tsbpf, for this boot
only; TSBPF_CACHE=off neither reads nor writes it.
`;

/** Options that may come before the verb (bpftool's habit); they are handed to the verb. */
const GLOBAL_OPTIONS = new Set(["-j", "--json", "-p", "--pretty", "-v", "--verbose"]);

function version(): string {
  return `tsbpf v${packageVersion()}\nnode ${process.version}; no libbpf (raw bpf(2) through koffi)\n`;
}

/** The verb being run: a usage error prints its usage, not the top-level help. */
let currentHelp: string | undefined;
let currentVerb = "";

async function main(argv: string[]): Promise<number> {
  const globals: string[] = [];
  while (argv[0] !== undefined && GLOBAL_OPTIONS.has(argv[0])) globals.push(argv.shift()!);
  const [verb, ...rest] = argv;
  if (verb === "--version" || verb === "-V" || verb === "version") {
    print(version());
    return 0;
  }
  if (verb === undefined || verb === "help" || verb === "--help" || verb === "-h") {
    print(HELP);
    return verb === undefined ? 2 : 0;
  }
  const v = VERBS[verb];
  if (!v) throw new UsageError(`unknown verb "${verb}"`);
  const { run, help } = await v.load();
  if (process.env.TSBPF_CACHE !== "off") cacheKernelBtfIndex(defaultCacheDir());
  currentHelp = help;
  currentVerb = verb;
  if (rest.includes("--help") || rest.includes("-h")) {
    print(help);
    return 0;
  }
  return run([...rest, ...globals]);
}

/** The "usage:" lines at the top of a verb's help. */
function usageOf(help: string): string {
  const end = help.indexOf("\n\n");
  return end < 0 ? help : help.slice(0, end + 1);
}

/** A Node system error (fs, child_process): ENOENT on an input file and the like. */
function isSystemError(e: unknown): e is NodeJS.ErrnoException & { syscall: string } {
  return (
    e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string" && typeof (e as NodeJS.ErrnoException).syscall === "string"
  );
}

function systemErrorLine(e: NodeJS.ErrnoException & { syscall: string }): string {
  const what = e.path !== undefined ? ` ${escapeText(e.path)}` : "";
  return `cannot ${e.syscall}${what}: ${systemErrorText(e)}`;
}

/** The stack's frames only: the message was printed already, and a verifier log should not appear twice. */
function frames(e: Error): string {
  return (e.stack ?? "")
    .split("\n")
    .filter((l) => /^\s+at /.test(l))
    .join("\n");
}

const verbose = process.argv.includes("--verbose") || process.argv.includes("-v");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = closedOutputExit() ?? code;
  },
  (e: unknown) => {
    // A reader of stdout that went away ends the command quietly; after a failed write, other errors are still said.
    if (closedOutputExit() === STDOUT_CLOSED_EXIT) {
      process.exitCode = STDOUT_CLOSED_EXIT;
      return;
    }
    if (e instanceof UsageError) {
      printErr(
        `tsbpf: ${e.message}\n${currentHelp ? `${usageOf(currentHelp)}Run "tsbpf ${currentVerb} --help" for its options.\n` : HELP}`,
      );
      process.exitCode = 2;
      return;
    }
    const err = e as Error;
    if (isSystemError(e)) printErr(`tsbpf: ${systemErrorLine(e)}\n`);
    else if (e instanceof TsbpfError) printErr(`tsbpf: ${err.name}: ${err.message}\n`);
    else printErr(`tsbpf: internal error: ${err?.message ?? String(e)}${verbose ? "" : " (-v shows where)"}\n`);
    if (verbose && err instanceof Error) printErr(`${frames(err)}\n`);
    process.exitCode = 1;
  },
);
