// Regenerates bpf/vmlinux.h from the running kernel's BTF with tsbpf's own
// BTF-to-C dumper (src/btf/dump-c.ts), the way `bpftool btf dump file
// /sys/kernel/btf/vmlinux format c > vmlinux.h` would. Uses the built dist/:
//   npm run build && node scripts/gen-vmlinux-h.mjs [BTF file] [--no-enum-modes]
// then `bash bpf/build.sh` to rebuild the objects against it. build.sh itself
// never regenerates the header, so rebuilds stay reproducible on any kernel.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = new URL("../dist/src/btf/", import.meta.url);
let Btf, dumpCBytes;
try {
  ({ Btf } = await import(new URL("btf.js", dist).href));
  ({ dumpCBytes } = await import(new URL("dump-c.js", dist).href));
} catch (e) {
  console.error(`gen-vmlinux-h: cannot load tsbpf from ${fileURLToPath(dist)} (run npm run build first): ${e.message}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const enumModes = !args.includes("--no-enum-modes");
const files = args.filter((a) => !a.startsWith("--"));
const source = files[0] ?? "/sys/kernel/btf/vmlinux";
const target = fileURLToPath(new URL("../bpf/vmlinux.h", import.meta.url));

const btf = Btf.parse(readFileSync(source), { where: source });
const header = dumpCBytes(btf, { enumModes });
// Write then rename, so a failed run never leaves a truncated header behind.
writeFileSync(`${target}.tmp`, header);
renameSync(`${target}.tmp`, target);
console.error(`gen-vmlinux-h: wrote ${target} (${header.byteLength} bytes, ${btf.typeCount - 1} types from ${source})`);
