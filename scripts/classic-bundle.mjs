// One classic-script bundle for cached-bundle.cjs (the CLI's and the library's):
// esbuild's CommonJS output wrapped in one strict function expression that the
// runner calls with CommonJS's arguments, and the runner copied beside it.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { build } from "esbuild";

/** Bundles `input` (esbuild's entryPoints or stdin) into `outfile`; `what` names it in errors. */
export async function buildClassicBundle(what, input, outfile) {
  await build({
    ...input,
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["koffi"],
    // import.meta does not exist in a script: the runner passes the bundle's URL.
    define: { "import.meta.url": "__bundleUrl" },
    // A script compiled by vm.Script has no import(): esbuild turns it into require().
    supported: { "dynamic-import": false },
    // Each start reads and decodes the whole source (V8 keeps it beside the cached code):
    // comments and indentation are a quarter of it. The names stay, for stack traces.
    minifyWhitespace: true,
    logLevel: "warning",
  });
  // The hashbang goes: it is only valid at a file's start.
  const body = readFileSync(outfile, "utf8").replace(/^#!.*\n/, "");
  // The runner reads the bundle as latin1, which equals UTF-8 only for ASCII (esbuild's default charset).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point
  if (/[^\x00-\x7f]/.test(body)) throw new Error(`the ${what} bundle is not ASCII: cached-bundle.cjs reads it as latin1`);
  writeFileSync(outfile, `(function (exports, require, module, __filename, __dirname, __bundleUrl) {"use strict";${body}\n})`);
  copyFileSync(new URL("./cached-bundle.cjs", import.meta.url).pathname, join(dirname(outfile), "cached-bundle.cjs"));
}
