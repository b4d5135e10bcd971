// npm run test:kernels [-- --kernels 6.1,6.12,host] [--timeout SECONDS] [test files...]
// Runs the kernel-facing test files on Debian's 6.1 and 6.12 kernels under
// QEMU (and on the host), against this checkout, and prints one summary line
// per kernel. Kernels and initramfs are cached under .cache/kernels (git-ignored).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const HERE = join(ROOT, "scripts/kernels");
// The guest sees the host's root as is, so a symlinked cache must be resolved here.
mkdirSync(join(ROOT, ".cache/kernels"), { recursive: true });
const CACHE = realpathSync(join(ROOT, ".cache/kernels"));

/** The kernel-facing subset: what a kernel version can change. Pure and type-level tests stay on the host. */
export const KERNEL_TEST_FILES = [
  "test/minimal.test.ts",
  "test/bootstrap-example.test.ts",
  "test/maps.test.ts",
  "test/globals.test.ts",
  "test/ringbuf.test.ts",
  "test/attach.test.ts",
  "test/attach-probes.test.ts",
  "test/core-runtime.test.ts",
  "test/externs.test.ts",
  "test/pinning.test.ts",
  "test/load-paths.test.ts",
  "test/privileges.test.ts",
  "test/fault-injection.test.ts",
  "test/core.test.ts",
  "test/weak-kfunc.test.ts",
  "test/kconfig.test.ts",
  "test/feature-probe.test.ts",
  "test/syscall-wrapper.test.ts",
  "test/struct-ops.test.ts",
  "test/usdt.test.ts",
];

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const kernels = opt("--kernels", "6.1,6.12,host").split(",");
const timeout = Number(opt("--timeout", "1800"));
const files = args.length ? args : KERNEL_TEST_FILES.filter((f) => existsSync(join(ROOT, f)));

/**
 * The summary line, the failed tests, and every skipped test with its reason
 * (test/helpers/kernel-facts.ts skipBecause() records it): a skip without
 * one is a failure here, so no feature goes untested silently.
 */
function summary(jsonPath) {
  try {
    const r = JSON.parse(readFileSync(jsonPath, "utf8"));
    const name = (f, a) => `${f.name.replace(`${ROOT}/`, "")} > ${a.fullName}`;
    const failed = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === "failed").map((a) => `    ✗ ${name(f, a)}`));
    let unexplained = 0;
    const skipped = r.testResults.flatMap((f) =>
      f.assertionResults
        .filter((a) => a.status !== "passed" && a.status !== "failed")
        .map((a) => {
          const reason = a.meta?.skipReason;
          if (!reason) unexplained++;
          return `    - ${name(f, a)}: ${reason ?? "SKIPPED WITHOUT A REASON"}`;
        }),
    );
    const files = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed"));
    return {
      line: `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`,
      failed: [...failed, ...files.map((f) => `    ✗ ${f.name.replace(`${ROOT}/`, "")}: ${f.message.split("\n")[0]}`), ...skipped],
      ok: r.numFailedTests === 0 && r.success !== false && unexplained === 0,
    };
  } catch (e) {
    return { line: `no test report (${e.message})`, failed: [], ok: false };
  }
}

// vitest's module cache (transformed TypeScript) is filled on the host first: then no VM spends
// its first minute transforming under emulation; the VMs see the host's files, cache included.
const CACHE_OPT = "--experimental.fsModuleCache";
const vitest = (out) =>
  `npx vitest run --configLoader runner ${CACHE_OPT} --reporter=default --reporter=json --outputFile=${out} ${files.join(" ")}`;
if (kernels.some((k) => k !== "host")) {
  spawnSync("sh", ["-c", `npx vitest list --configLoader runner ${CACHE_OPT} ${files.join(" ")} >/dev/null 2>&1`], {
    cwd: ROOT,
    stdio: "ignore",
  });
}
let allOk = true;
const lines = [];
for (const k of kernels) {
  const t0 = Date.now();
  let release;
  let result;
  if (k === "host") {
    release = execFileSync("uname", ["-r"], { encoding: "utf8" }).trim();
    const out = join(mkdtempSync("/tmp/tsbpf-kernels-"), "vitest.json");
    spawnSync("sh", ["-c", vitest(out)], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
    });
    result = summary(out);
  } else {
    const kdir = execFileSync("bash", [join(HERE, "fetch-kernel.sh"), k, CACHE], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    release = kdir.split("/").pop();
    const results = mkdtempSync("/tmp/tsbpf-vm-");
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, "cmd.sh"), `cd ${ROOT} && ${vitest("/results/vitest.json")}\n`);
    const vm = spawnSync("bash", [join(HERE, "run-vm.sh"), kdir, results, String(timeout)], { stdio: ["ignore", "inherit", "inherit"] });
    process.stdout.write(existsSync(join(results, "output")) ? readFileSync(join(results, "output"), "utf8") : "");
    result = summary(join(results, "vitest.json"));
    if (vm.status === 124) result = { ...result, ok: false, line: `${result.line} (VM timed out after ${timeout}s)` };
    if (result.ok) rmSync(results, { recursive: true, force: true });
    else result.failed.push(`    (VM files kept in ${results})`);
  }
  allOk &&= result.ok;
  lines.push(`${release}: ${result.line} in ${Math.round((Date.now() - t0) / 1000)} s`, ...result.failed);
}
console.log(`\n${lines.join("\n")}`);
process.exit(allOk ? 0 : 1);
