// Bundles the compiled CLI (dist/src/cli/main.js and everything it imports)
// into one file, dist/src/cli/tsbpf.mjs, which the `tsbpf` bin runs. Node's
// ESM loader costs ~1 ms per module; the CLI pulls in ~90, so one file starts
// ~50 ms sooner. koffi stays external (native code). The bundle sits beside
// main.js so URLs relative to import.meta.url (the trace_pipe forwarder) hold.
import { build } from "esbuild";

await build({
  entryPoints: [new URL("../dist/src/cli/main.js", import.meta.url).pathname],
  outfile: new URL("../dist/src/cli/tsbpf.mjs", import.meta.url).pathname,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["koffi"],
  logLevel: "warning",
});
