#!/usr/bin/env node
// Timings of the pure half that used to be asserted in functional tests
// (they now assert what the timings stood for: laziness, caching):
// Btf.parse of the kernel's BTF, dumpC(vmlinux) against `bpftool btf dump
// format c`, CO-RE relocation of bootstrap.bpf.o cold and warm. Printed as
// JSON lines; needs a build (npm run build) and /sys/kernel/btf/vmlinux.
//
//   node bench/pure-timings.mjs
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => import(pathToFileURL(join(root, "dist", "src", p)).href);
const VMLINUX = "/sys/kernel/btf/vmlinux";

const { Btf } = await dist("btf/btf.js");
const { dumpCBytes } = await dist("btf/dump-c/index.js");
const { parseObject } = await dist("spec/object-spec.js");
const { relocateProgram } = await dist("spec/relocate.js");
const { CoreCache } = await dist("core/index.js");

function median(fn, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[n >> 1];
}
const line = (metric, ms, extra = {}) => console.log(JSON.stringify({ metric, ms: Number(ms.toFixed(2)), ...extra }));

const bytes = readFileSync(VMLINUX);
line(
  "Btf.parse(vmlinux), median of 7",
  median(() => Btf.parse(bytes), 7),
);

const btf = Btf.parse(bytes);
const t0 = performance.now();
dumpCBytes(btf);
const first = performance.now() - t0;
const warm = median(() => dumpCBytes(btf), 5);
const tb = performance.now();
execFileSync("bpftool", ["btf", "dump", "file", VMLINUX, "format", "c"], { maxBuffer: 1 << 30 });
line("dumpC(vmlinux)", warm, { first: Number(first.toFixed(1)), bpftoolProcess: Number((performance.now() - tb).toFixed(1)) });

const target = Btf.parse(bytes, { where: VMLINUX });
const relocateAll = () => {
  const spec = parseObject(readFileSync(join(root, "bpf", "bootstrap.bpf.o")), { path: "bootstrap.bpf.o" });
  const cache = new CoreCache();
  for (const p of spec.programs) relocateProgram(p, spec.btf.btf, target, cache);
};
const tc = performance.now();
relocateAll();
const cold = performance.now() - tc;
line("CO-RE bootstrap.bpf.o vs vmlinux", median(relocateAll, 5), { coldOnFreshBtf: Number(cold.toFixed(2)) });
