// Bundles the library's entry points (the package's "." and its sub-paths:
// elf, btf, core, spec, insn, disasm) into dist/lib/, sharing code through
// chunks so that each class exists once whichever sub-path a user imports
// it from. Importing ~200 ES modules costs Node's loader ~150 ms and ~18 MB
// at start-up; the chunks cost ~65 ms and ~12 MB. Types stay in dist/src
// (the .d.ts files tsc wrote); the source maps lead back to src/*.ts.
import { rmSync } from "node:fs";
import { build } from "esbuild";

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).pathname;
const ENTRIES = {
  index: "index.js",
  elf: "elf/index.js",
  btf: "btf/index.js",
  core: "core/index.js",
  spec: "spec/index.js",
  insn: "insn/index.js",
  disasm: "disasm/index.js",
};

rmSync(dist("lib"), { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, dist(`src/${path}`)])),
  outdir: dist("lib"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Native code, resolved from wherever the package is installed.
  external: ["koffi"],
  minifyWhitespace: true,
  sourcemap: "linked",
  logLevel: "warning",
});
