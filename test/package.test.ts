/**
 * The npm package: `npm pack` yields a tarball that a separate project
 * installs and uses — `import { BpfObject } from "tsbpf"`, load
 * minimal.bpf.o from the package, see its printk line — with the CLI in bin.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const work = mkdtempSync(join(tmpdir(), "tsbpf-pack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm pack", () => {
  it("installs into a fresh project, imports as 'tsbpf', loads minimal.bpf.o and sees the printk line", () => {
    execFileSync("npm", ["pack", "--pack-destination", work], { stdio: "ignore" });
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
    const project = join(work, "app");
    execFileSync("mkdir", ["-p", project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", type: "module", private: true }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(work, tarball)], { cwd: project, stdio: "ignore" });
    writeFileSync(
      join(project, "main.mjs"),
      `
import { writeSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { BpfObject, TracePipeReader } from "tsbpf";
const pkgDir = createRequire(import.meta.url).resolve("tsbpf/package.json").replace(/package\\.json$/, "");
const lines = [];
// trace_pipe has one reader at a time: wait for another one to let go.
let reader;
for (let tries = 0; ; tries++) {
  try {
    reader = new TracePipeReader((l) => lines.push(l), 10).start();
    break;
  } catch (e) {
    if (e.code !== "EBUSY" || tries > 300) throw e;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const obj = BpfObject.open(pkgDir + "bpf/minimal.bpf.o");
obj.setVariable("my_pid", process.pid);
obj.load();
obj.attach();
const fd = openSync("/dev/null", "w");
for (let i = 0; i < 100 && !lines.some((l) => l.pid === process.pid); i++) {
  writeSync(fd, "x");
  await new Promise((r) => setTimeout(r, 20));
  reader.drain();
}
reader.stop();
obj.destroy();
console.log(lines.find((l) => l.pid === process.pid)?.message ?? "no line");
`,
    );
    const out = execFileSync(process.execPath, ["main.mjs"], { cwd: project, encoding: "utf8" });
    expect(out.trim()).toMatch(/^BPF triggered from PID \d+\.$/);
    const cli = spawnSync(join(project, "node_modules/.bin/tsbpf"), ["inspect", join(project, "node_modules/tsbpf/bpf/minimal.bpf.o")], {
      encoding: "utf8",
    });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain("handle_tp  (section tp/syscalls/sys_enter_write)");
  }, 180_000);
});
