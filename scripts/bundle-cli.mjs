// Bundles the compiled CLI (dist/src/cli/main.js and everything it imports)
// into one CommonJS file, dist/src/cli/bundle.cjs, and writes a V8 code cache
// for it, bundle.cjs.cache; the `tsbpf` bin, dist/src/cli/tsbpf.cjs, compiles
// the bundle from that cache (cli-launcher.cjs, cached-bundle.cjs).
// - One file: Node's ESM loader costs ~1 ms per module; the CLI pulls in ~90.
// - CommonJS: only a classic script can be compiled with vm.Script's
//   cachedData (Node 20 has no code cache for ES modules). Parsing the 700 kB
//   bundle and compiling the functions a load runs cost ~40 ms at each start.
// koffi stays external (native code). The bundle sits beside main.js so URLs
// relative to import.meta.url (the trace_pipe forwarder, package.json) hold.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, rmSync } from "node:fs";
import { buildClassicBundle } from "./classic-bundle.mjs";

const cli = (name) => new URL(`../dist/src/cli/${name}`, import.meta.url).pathname;

await buildClassicBundle("CLI", { entryPoints: [cli("main.js")] }, cli("bundle.cjs"));
copyFileSync(new URL("./cli-launcher.cjs", import.meta.url).pathname, cli("tsbpf.cjs"));
chmodSync(cli("tsbpf.cjs"), 0o755);

// The cache holds the bytecode of every function compiled during a run, so it
// is written after a representative one: a short `load` of bootstrap.bpf.o
// (ELF, BTF, CO-RE against the running kernel, maps, programs, attach: the
// path a CLI user waits for; ~4 ms of each such start) where this build may
// load BPF programs; else `inspect`, which parses the same object (ELF, BTF,
// BTF.ext, relocations) without privileges or the kernel.
const bootstrap = new URL("../bpf/bootstrap.bpf.o", import.meta.url).pathname;
const writeCache = (args) => {
  rmSync(cli("bundle.cjs.cache"), { force: true });
  execFileSync(process.execPath, [cli("tsbpf.cjs"), ...args], {
    env: { ...process.env, TSBPF_WRITE_CODE_CACHE: "1" },
    stdio: ["ignore", "ignore", "pipe"],
    // A load that hangs (a kernel that never answers) must not hang the build: inspect instead.
    timeout: 60_000,
  });
};
try {
  writeCache(["load", bootstrap, "--duration", "0.001", "--no-printk"]);
} catch {
  writeCache(["inspect", bootstrap]);
}
