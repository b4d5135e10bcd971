/** The tsbpf command: verbs, help, exit codes, inspect output. */
import { spawn, spawnSync } from "node:child_process";
import { linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { waitUntil } from "./helpers/wait.js";

const tsbpf = (...args: string[]) => spawnSync(process.execPath, ["dist/src/cli/tsbpf.cjs", ...args], { encoding: "utf8" });

describe("tsbpf CLI", () => {
  it("prints help and exits 0; no verb is a usage error (2)", () => {
    expect(tsbpf("help").status).toBe(0);
    expect(tsbpf("help").stdout).toContain("load <obj.bpf.o>");
    expect(tsbpf().status).toBe(2);
    const bad = tsbpf("frobnicate");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown verb "frobnicate"');
  });

  it("has --help on every verb", () => {
    for (const verb of ["load", "inspect", "prog", "map", "feature", "gen", "disasm", "btf"]) {
      const r = tsbpf(verb, "--help");
      expect(r.status, verb).toBe(0);
      expect(r.stdout, verb).toMatch(/^usage: tsbpf /);
    }
  });

  it("starts from the code cache the build wrote beside the bundle: this Node takes it", () => {
    const r = spawnSync(process.execPath, ["dist/src/cli/tsbpf.cjs", "--version"], {
      encoding: "utf8",
      env: { ...process.env, TSBPF_CODE_CACHE_REPORT: "1" },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("code cache: accepted\n");
  });

  it("a malformed object is a runtime failure (1) with a typed message and no stack trace", () => {
    const r = tsbpf("inspect", "package.json");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("ObjectFormatError: ELF header at offset 0: not an ELF file (bad magic)");
    expect(r.stderr).not.toContain("    at ");
  });

  it("inspect describes bootstrap.bpf.o: programs, maps with BTF types, CO-RE paths, globals", () => {
    const r = tsbpf("inspect", "bpf/bootstrap.bpf.o");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("attach: tracepoint → sched/sched_process_exec");
    expect(r.stdout).toContain("key 4 B (pid_t), value 8 B (u64)");
    expect(r.stdout).toContain("CO-RE byte_off         task_struct::real_parent (0:95)");
    expect(r.stdout).toContain("const volatile unsigned long long min_duration_ns = 0");
    const json = JSON.parse(tsbpf("inspect", "bpf/globals.bpf.o", "--json").stdout);
    expect(json.variables.find((v: { name: string }) => v.name === "seeded")).toMatchObject({
      section: ".data",
      initial: "42",
      type: "int",
    });
    expect(json.programs.map((p: { name: string }) => p.name).sort()).toEqual(["count_calls", "sock_prog", "sum_globals"]);
  });

  it("a verifier rejection shows the log tail, the failing instruction disassembled and its C source line", () => {
    const r = tsbpf("load", "bpf/reject.bpf.o", "--duration", "1");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("VerifierError: program unchecked_read was rejected by the verifier (EACCES)");
    expect(r.stderr).toContain("failing instruction 1: r0 = *(u32 *)(r1 + 0x0)");
    expect(r.stderr).toContain("from reject.bpf.c:12: return *(int *)(long)ctx->data;");
    expect(r.stderr).toContain("invalid access to packet");
  });

  it("load streams ring buffer records decoded through BTF, as JSON lines with --json", async () => {
    const child = spawn(process.execPath, ["dist/src/cli/tsbpf.cjs", "load", "bpf/bootstrap.bpf.o", "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise((r) => child.on("exit", r));
    while (!err.includes("running")) {
      if (child.exitCode !== null) throw new Error(`tsbpf load exited early:\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sh = spawn("sh", ["-c", "exit 6"]);
    await new Promise((r) => sh.on("exit", r));
    // Until its exit record is printed (a busy machine may take a while), then Ctrl-C.
    await waitUntil(() => out.includes(`"pid":${sh.pid},`));
    child.kill("SIGINT");
    const code = await exited;
    expect(code).toBe(0);
    const records = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === "record");
    const exit = records.find((r) => r.pid === sh.pid && r.exit_event === true);
    expect(exit).toMatchObject({ map: "rb", comm: "sh", exit_code: 6, ppid: process.pid });
    expect(typeof exit.duration_ns).toBe("string"); // u64 as a decimal string
  });

  it("--trace=FILE refuses a symlink, a hard link and a FIFO, leaving their targets untouched", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-trace-"));
    try {
      const target = join(dir, "precious");
      writeFileSync(target, "do not clobber\n");
      symlinkSync(target, join(dir, "symlink"));
      const viaSymlink = tsbpf("prog", "list", `--trace=${join(dir, "symlink")}`);
      expect(viaSymlink.status).toBe(1);
      expect(viaSymlink.stderr).toContain(`--trace=${join(dir, "symlink")}: refusing to write through a symbolic link`);
      linkSync(target, join(dir, "hardlink"));
      const viaHardlink = tsbpf("prog", "list", `--trace=${join(dir, "hardlink")}`);
      expect(viaHardlink.status).toBe(1);
      expect(viaHardlink.stderr).toContain("refusing to write to it: it has 2 hard links");
      expect(readFileSync(target, "utf8")).toBe("do not clobber\n");
      spawnSync("mkfifo", [join(dir, "fifo")]);
      const viaFifo = tsbpf("prog", "list", `--trace=${join(dir, "fifo")}`);
      expect(viaFifo.status).toBe(1);
      expect(viaFifo.stderr).toMatch(/refusing to write to it: it is not a regular file|cannot open it \(ENXIO\)/);
      // A regular file is overwritten with the trace.
      writeFileSync(join(dir, "trace.txt"), "old contents that are longer than nothing\n");
      expect(tsbpf("prog", "list", `--trace=${join(dir, "trace.txt")}`).status).toBe(0);
      expect(readFileSync(join(dir, "trace.txt"), "utf8")).toMatch(/^bpf\(BPF_/);
      expect(tsbpf("prog", "--help").stdout).toContain("a symbolic link, a hard link or a device is refused");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
