/**
 * The allowed import directions between tsbpf's folders: the one place they
 * are written down (README "Layout" describes them). A folder may import
 * itself, errors.ts, text/ and the folders listed for it; anything else fails
 * `npm run check:layers`. The table is a DAG, so no folder cycle can form.
 *
 * Pure side (no kernel, no koffi): abi, elf, btf, insn, core, spec, disasm, report.
 * Kernel side: syscall (the one door), strace, maps, programs, object, cli.
 */
const LAYERS = {
  abi: [],
  text: [],
  elf: [],
  btf: [],
  insn: ["abi", "btf"],
  core: ["btf", "insn"],
  spec: ["abi", "elf", "btf", "insn", "core"],
  disasm: ["abi", "elf", "btf", "insn", "core", "spec"],
  report: ["abi", "elf", "btf", "insn", "core", "spec", "disasm"],
  syscall: ["abi"],
  strace: ["abi", "syscall"],
  maps: ["abi", "elf", "btf", "spec", "syscall"],
  programs: ["abi", "elf", "btf", "insn", "core", "spec", "disasm", "syscall", "maps"],
  object: ["abi", "elf", "btf", "insn", "core", "spec", "disasm", "syscall", "strace", "maps", "programs"],
  cli: ["abi", "elf", "btf", "insn", "core", "spec", "disasm", "report", "syscall", "strace", "maps", "programs", "object"],
};
const ALWAYS = ["text"];
const folders = Object.keys(LAYERS);

const forbidden = folders.map((from) => {
  const allowed = new Set([from, ...ALWAYS, ...LAYERS[from]]);
  const denied = folders.filter((f) => !allowed.has(f));
  return {
    name: `layer-${from}`,
    comment: `src/${from} may import only: ${[...allowed].join(", ")} (and errors.ts)`,
    severity: "error",
    from: { path: `^src/${from}/` },
    to: { path: `^src/(${denied.join("|")})/|^src/index\\.ts$` },
  };
});

forbidden.push(
  {
    name: "errors-is-a-leaf",
    comment: "src/errors.ts is imported by every layer, so it imports nothing of tsbpf",
    severity: "error",
    from: { path: "^src/errors\\.ts$" },
    to: { path: "^src/" },
  },
  {
    name: "libc-private-to-syscall",
    comment:
      "src/syscall/libc.ts holds the koffi handle and its untyped API; outside src/syscall, use the typed wrappers of syscall/native.ts",
    severity: "error",
    from: { path: "^src/", pathNot: "^src/syscall/" },
    to: { path: "^src/syscall/libc\\.ts$" },
  },
  {
    name: "koffi-only-in-syscall",
    comment: "the FFI is the kernel's one door: only src/syscall/libc.ts loads koffi",
    severity: "error",
    from: { path: "^src/", pathNot: "^src/syscall/libc\\.ts$" },
    to: { path: "node_modules/koffi" },
  },
  {
    name: "pure-side-reads-no-host",
    comment: "the pure side (object spec and below) reads nothing from the host: no fs, no child processes",
    severity: "error",
    from: { path: "^src/(abi|text|elf|btf|insn|core|spec|disasm|report)/" },
    to: { path: "^(node:)?(fs|child_process|net|os)$", dependencyTypes: ["core"] },
  },
  {
    name: "no-unresolvable",
    severity: "error",
    from: { path: "^src/" },
    to: { couldNotResolve: true },
  },
);

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
    exclude: { path: "^dist/" },
  },
};
