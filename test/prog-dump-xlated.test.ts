/**
 * `tsbpf prog dump xlated` against `bpftool prog dump xlated` (7.1) on every
 * program of every object in bpf/ that loads here: the same text, byte for
 * byte — the kernel's instruction syntax, map ids, helper and subprogram
 * names from kallsyms, C signatures from func_info, source lines from
 * line_info — plain, with `linum`, and with `opcodes`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dumpXlated } from "../src/cli/prog-dump.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { progInfo } from "../src/syscall/obj-info.js";
import { HAVE_BPFTOOL } from "./helpers/oracle.js";
import { fentryVerdict } from "./helpers/kernel-facts.js";

/** Objects whose programs cannot all load here, and why (each is tested for that elsewhere). */
const NOT_LOADABLE: Record<string, string> = {
  "core.bpf.o": "core_poison's poisoned relocations are reached (core.test.ts)",
  "edit.bpf.o": "a custom section that needs setType before load",
  "fentry_probe.bpf.o": "fentry needs trampolines (EPERM on this host)",
  "legacy_maps.bpf.o": "legacy map definitions are refused",
  "reject.bpf.o": "verifier rejections on purpose",
  "weak_kfunc_unguarded.bpf.o": "an unguarded call to a missing kfunc",
  "big_bss.bpf.o": "a 256 MiB .bss (memory tests)",
  "arena.bpf.o": "arena maps are refused on this host (EPERM; arena-eperm.test.ts)",
};

const bpftool = (id: number, ...extra: string[]) => {
  const r = spawnSync("bpftool", ["prog", "dump", "xlated", "id", String(id), ...extra], { encoding: "utf8", maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

describe.runIf(HAVE_BPFTOOL)("prog dump xlated = bpftool prog dump xlated", () => {
  // One test per object: each loads, dumps and runs bpftool on its own, so none waits on the others' time.
  const files = readdirSync("bpf").filter((f) => f.endsWith(".bpf.o") && !(f in NOT_LOADABLE));
  let programs = 0;
  it.each(files)("%s: every program plain; linum and opcodes for the first", (file) => {
    using obj = BpfObject.open(`bpf/${file}`);
    // Trampoline programs load only where the kernel allows them (attach.test.ts covers both answers).
    const trampolines = !fentryVerdict().allowed;
    for (const p of obj.spec.programs) {
      if (trampolines && p.section.def.attach === "trampoline") obj.editProgram(p.name).setAutoload(false);
    }
    obj.load();
    obj.programs.forEach((p, i) => {
      const id = progInfo(p.fd).id;
      expect(dumpXlated(p.fd, { linum: false, opcodes: false }), `${file} ${p.name}`).toBe(bpftool(id));
      if (i === 0) {
        expect(dumpXlated(p.fd, { linum: true, opcodes: false }), `${file} ${p.name} linum`).toBe(bpftool(id, "linum"));
        expect(dumpXlated(p.fd, { linum: false, opcodes: true }), `${file} ${p.name} opcodes`).toBe(bpftool(id, "opcodes"));
      }
      programs++;
    });
  });

  it("the comparison covered enough programs", () => {
    // Helpers, subprogram calls, map references, tail calls, kfuncs: all among them.
    expect(programs).toBeGreaterThanOrEqual(60);
  });

  it("the CLI takes bpftool's selector and bare keywords (and --linum / --opcodes)", () => {
    using obj = BpfObject.open("bpf/globals.bpf.o");
    obj.load();
    const id = progInfo(obj.program("sum_globals").fd).id;
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ["dist/src/cli/tsbpf.cjs", "prog", "dump", "xlated", ...args], { encoding: "utf8" });
    const plain = cli("id", String(id));
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(bpftool(id));
    expect(plain.stdout).toMatch(/call pc\+\d+#bpf_prog_[0-9a-f]{16}_add3\n/);
    expect(cli("id", String(id), "linum").stdout).toBe(bpftool(id, "linum"));
    expect(cli("id", String(id), "--opcodes").stdout).toBe(bpftool(id, "opcodes"));
    const bad = cli("id", "999999999");
    expect(bad.status).toBe(1);
  });
});
