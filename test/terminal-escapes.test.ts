/**
 * Untrusted strings never reach the terminal raw (issue: terminal escape
 * injection). An object whose program, map, section, variable and BTF
 * member names hold escape sequences goes through every verb; a process
 * named $'\e]0;OWNED\a\e[31mx' is traced by `tsbpf load` and by the
 * bootstrap example. No raw control byte other than the layout's \n and \t
 * may appear on stdout or stderr, and the escaped spelling must.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitUntil } from "./helpers/wait.js";

const CLI = "dist/src/cli/tsbpf.cjs";
const dir = mkdtempSync(join(tmpdir(), "tsbpf-escapes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** C0 controls but \t and \n, DEL, and C1 controls (U+0080–U+009F) or bidi overrides as decoded text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** The control characters in output bytes (as U+NNNN), or ["invalid UTF-8"]. */
function rawControls(output: Buffer | string): string[] {
  let text: string;
  try {
    text = typeof output === "string" ? output : new TextDecoder("utf-8", { fatal: true }).decode(output);
  } catch {
    return ["invalid UTF-8"];
  }
  return [...text].filter((c) => RAW_CONTROL.test(c)).map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, "0")}`);
}

const asText = (bytes: Buffer): string => bytes.toString("utf8");

/** bootstrap.bpf.o with names rewritten in place (same lengths, every occurrence: symbols, BTF, sections). */
function hostileObject(): string {
  const b = readFileSync("bpf/bootstrap.bpf.o");
  const swaps: Array<[string, string]> = [
    ["handle_exec", "h\x1b]0;PWN\x07xy"], // program (symbol and BTF FUNC)
    ["min_duration_ns", "m\x1b[31mred\nline\r"], // global variable (symbol, BTF VAR, source lines)
    ["exit_code", "e\x1b[2Jxx\x9bz"], // struct event member (BTF), with a byte that is not UTF-8
    ["sched_process_exit", "\x1b]2;TTL\x07process_ex"], // section name
    ["exec_start", "\x1b[5mexec\x07X"], // map
  ];
  for (const [from, to] of swaps) {
    const f = Buffer.from(from, "latin1");
    const t = Buffer.from(to, "latin1");
    expect(t.length).toBe(f.length);
    let n = 0;
    for (let i = b.indexOf(f); i >= 0; i = b.indexOf(f, i + 1), n++) t.copy(b, i);
    expect(n, from).toBeGreaterThan(0);
  }
  const path = join(dir, "hostile.bpf.o");
  writeFileSync(path, b);
  return path;
}

describe("every verb on an object with escape-laden names", () => {
  const obj = hostileObject();
  const runs: Array<[string, string[]]> = [
    ["inspect", ["inspect", obj]],
    ["inspect --json", ["inspect", obj, "--json"]],
    ["disasm", ["disasm", obj]],
    ["disasm --raw", ["disasm", "--raw", obj]],
    ["disasm --sections", ["disasm", "--sections", obj]],
    ["disasm --program (missing)", ["disasm", obj, "--program", "nope\x1b[1m"]],
    ["btf dump", ["btf", "dump", obj]],
    ["btf dump c", ["btf", "dump", obj, "--format", "c"]],
    ["gen skeleton", ["gen", "skeleton", obj]],
    ["load", ["load", obj, "--duration", "1"]],
    ["load --explain", ["load", obj, "--duration", "1", "--explain"]],
    ["load -v --trace", ["load", obj, "--duration", "1", "-v", "--trace"]],
    ["load --set (bad name)", ["load", obj, "--set", "x\x1b[1m=1"]],
    ["load --set (bad value)", ["load", obj, "--set", "m\x1b[31mred\nline\r=\x1b[1m"]],
    ["prog show", ["prog", "show"]],
    ["map show", ["map", "show"]],
    ["map dump (missing)", ["map", "dump", "\x1b[1mnope"]],
  ];
  for (const [label, args] of runs) {
    it(`${label}: no raw control byte on stdout or stderr`, () => {
      const r = spawnSync(process.execPath, [CLI, ...args], { timeout: 60_000 });
      expect(rawControls(r.stdout), `stdout of ${label}`).toEqual([]);
      expect(rawControls(r.stderr), `stderr of ${label}\n${asText(r.stderr)}`).toEqual([]);
      // A stack trace only with -v.
      if (!args.includes("-v")) expect(asText(r.stdout) + asText(r.stderr), label).not.toContain("    at ");
    });
  }

  it("shows the names escaped, and --json keeps them exact", () => {
    const text = spawnSync(process.execPath, [CLI, "inspect", obj], { encoding: "utf8" }).stdout;
    expect(text).toContain("h\\x1b]0;PWN\\x07xy  (section tp/sched/sched_process_exec)");
    expect(text).toContain("attach: tracepoint → sched/\\x1b]2;TTL\\x07process_ex");
    expect(text).toContain("\\x1b[5mexec\\x07X: BPF_MAP_TYPE_HASH");
    expect(text).toContain(" m\\x1b[31mred\\nline\\r = 0");
    const json = JSON.parse(spawnSync(process.execPath, [CLI, "inspect", obj, "--json"], { encoding: "utf8" }).stdout);
    expect(json.programs.map((p: { name: string }) => p.name)).toContain("h\x1b]0;PWN\x07xy");
    const load = spawnSync(process.execPath, [CLI, "load", obj, "--duration", "1"], { encoding: "utf8" });
    expect(load.status).toBe(1);
    expect(load.stderr).toContain("\\x1b[5mexec\\x07X");
    const disasm = spawnSync(process.execPath, [CLI, "disasm", obj], { encoding: "utf8" }).stdout;
    expect(disasm).toContain("<h\\x1b]0;PWN\\x07xy>:");
  });
});

describe.skipIf(process.getuid?.() !== 0)("ring-buffer strings from a process named with escape sequences", () => {
  const name = "\x1b]0;OWNED\x07\x1b[31mx";
  const binary = join(dir, name);
  symlinkSync("/bin/true", binary);
  // comm holds 15 bytes and a NUL.
  const comm = name.slice(0, 15);
  const escapedComm = "\\x1b]0;OWNED\\x07\\x1b[31m";
  const escapedName = `${escapedComm}x`;

  /**
   * Starts `cmd`, waits for `ready` on its output, runs the hostile binary,
   * then collects everything until exit (`stop` says when to end it).
   */
  async function traceHostile(
    cmd: string[],
    ready: string,
    stop: (c: ChildProcess, out: () => Buffer) => void,
  ): Promise<{ out: Buffer; err: Buffer }> {
    const child = spawn(process.execPath, cmd, { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise((r) => child.on("close", r));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (d: Buffer) => out.push(d));
    child.stderr!.on("data", (d: Buffer) => err.push(d));
    while (!Buffer.concat([...out, ...err]).includes(ready)) {
      if (child.exitCode !== null) throw new Error(Buffer.concat(err).toString());
      await new Promise((r) => setTimeout(r, 50));
    }
    const run = spawn(binary, [], { stdio: "ignore" });
    await new Promise((r) => run.on("exit", r));
    stop(child, () => Buffer.concat(out));
    await exited;
    return { out: Buffer.concat(out), err: Buffer.concat(err) };
  }
  /** Ctrl-C once the hostile name is on stdout (escaped or in JSON, "OWNED" is there), or after 10 s. */
  const afterRecords = (c: ChildProcess, out: () => Buffer) => void waitUntil(() => out().includes("OWNED")).then(() => c.kill("SIGINT"));

  it("tsbpf load prints comm and filename escaped (table)", async () => {
    const { out, err } = await traceHostile([CLI, "load", "bpf/bootstrap.bpf.o"], "running", afterRecords);
    expect(rawControls(out)).toEqual([]);
    expect(rawControls(err)).toEqual([]);
    const line = asText(out)
      .split("\n")
      .find((l) => l.includes(` ${escapedComm} `) && l.includes(`${dir}/${escapedName}`));
    expect(line, asText(out)).toBeDefined();
  });

  it("tsbpf load --json keeps the exact strings, as valid JSON", async () => {
    const { out } = await traceHostile([CLI, "load", "bpf/bootstrap.bpf.o", "--json"], "running", afterRecords);
    expect(rawControls(out)).toEqual([]);
    const records = out
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.some((r) => r.comm === comm && r.filename === binary)).toBe(true);
  });

  it("bpf_printk lines (the kernel copies %s and the task name raw into trace_pipe) are escaped", async (ctx) => {
    // trace_pipe has one reader at a time: another process may hold it for a while.
    for (let attempt = 0; attempt < 20; attempt++) {
      const { out, err } = await traceHostile([CLI, "load", "bpf/printk_comm.bpf.o"], "running", afterRecords).catch((e: Error) => ({
        out: Buffer.alloc(0),
        err: Buffer.from(e.message),
      }));
      if (asText(err).includes("(EBUSY)")) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      expect(rawControls(out)).toEqual([]);
      expect(rawControls(err)).toEqual([]);
      expect(asText(out)).toContain(`bpf_trace_printk: exec ${escapedComm}\n`);
      return;
    }
    ctx.skip();
  });

  it("the bootstrap example prints them escaped", async () => {
    const { out, err } = await traceHostile(["dist/examples/bootstrap.js"], "FILENAME/EXIT CODE", afterRecords);
    expect(rawControls(out)).toEqual([]);
    expect(rawControls(err)).toEqual([]);
    expect(asText(out)).toContain(` EXEC  ${escapedComm} `);
    expect(asText(out)).toContain(`${dir}/${escapedName}\n`);
  });
});
