// Bundles the report page's script (dist/src/report/client.js and the pure
// half it imports: ELF, BTF, CO-RE, the disassembler) for the browser, as
// one IIFE, dist/src/report/client.bundle.js, which `tsbpf report` inlines
// into every page. Node's buffer and path become the small shims beside
// this script; anything else from node: fails the build (the pure half must
// need no Node).
import { build } from "esbuild";

const here = (p) => new URL(p, import.meta.url).pathname;
const dist = (p) => new URL(`../dist/src/report/${p}`, import.meta.url).pathname;

await build({
  entryPoints: [dist("client.js")],
  outfile: dist("client.bundle.js"),
  bundle: true,
  platform: "browser",
  format: "iife",
  target: "es2022",
  minify: true,
  legalComments: "none",
  alias: { "node:buffer": here("./browser/buffer.mjs"), "node:path": here("./browser/path.mjs") },
  logLevel: "warning",
});
