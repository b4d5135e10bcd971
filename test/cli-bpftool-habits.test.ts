/**
 * bpftool's habits in the tsbpf command: -j/--json, -p/--pretty, --version,
 * options before the verb, `show` = `list`, the selectors id / name / tag /
 * pinned, a usage error that prints the verb's own usage, one exit code per
 * kind of failure, and ENOTSUPP said by name.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { bpf } from "../src/syscall/bpf.js";
import { cString } from "../src/syscall/c-string.js";
import { mapInfo, progInfo } from "../src/syscall/obj-info.js";
import { SyscallError } from "../src/syscall/syscall-error.js";
import { BpfCmd, BpfMapType } from "../src/abi/uapi-enums.js";
import { thrownBy } from "./helpers/thrown.js";

const CLI = "dist/src/cli/tsbpf.cjs";
const tsbpf = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
const root = process.getuid?.() === 0;

/** A stream of JSON values (one per line, or indented), parsed. */
function jsonValues(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

describe("usage and exit codes", () => {
  it("--version, -V and version", () => {
    for (const v of ["--version", "-V", "version"]) {
      const r = tsbpf(v);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^tsbpf v\d+\.\d+\.\d+\n/);
    }
  });

  it("a usage error prints that verb's usage, not the top-level help, and exits 2", () => {
    const r = tsbpf("map", "frobnicate");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'tsbpf: map: unknown subcommand frobnicate; try "tsbpf map show" or "tsbpf map dump MAP"\n' +
        "usage: tsbpf map { show | list } [MAP] [options]\n" +
        "       tsbpf map dump MAP [options]\n" +
        "       MAP := { id MAP_ID | name NAME | pinned PATH }\n" +
        'Run "tsbpf map --help" for its options.\n',
    );
    const inspect = tsbpf("inspect", "--bogus");
    expect(inspect.status).toBe(2);
    expect(inspect.stderr).toContain("usage: tsbpf inspect");
    expect(inspect.stderr).not.toContain("verbs:");
    expect(tsbpf("prog", "show", "id", "x").status).toBe(2);
  });

  it.skipIf(!root)("a map that does not exist is exit 1 whether named by name or by id", () => {
    for (const args of [["nosuchmap"], ["999999999"], ["name", "nosuchmap"], ["id", "999999999"], ["pinned", "/sys/fs/bpf/nosuch"]]) {
      const r = tsbpf("map", "dump", ...args);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.stderr.split("\n").length, r.stderr).toBe(2); // one line
    }
    expect(tsbpf("map", "dump", "999999999").stderr).toBe("tsbpf: NotFoundError: no map with id 999999999\n");
    expect(tsbpf("map", "dump", "nosuchmap").stderr).toBe("tsbpf: NotFoundError: no map named nosuchmap (tsbpf map list shows them)\n");
    expect(tsbpf("prog", "show", "id", "999999999").stderr).toBe("tsbpf: NotFoundError: no program with id 999999999\n");
  });

  it.skipIf(!root)("ENOTSUPP is named, with what it means, not 'Unknown error 524'", () => {
    // A struct_ops map naming vmlinux BTF id 1 (not a struct_ops type): the kernel answers ENOTSUPP.
    const e = thrownBy(() =>
      bpf(
        BpfCmd.MAP_CREATE,
        { map_type: BpfMapType.STRUCT_OPS, key_size: 4, value_size: 4, max_entries: 1, btf_vmlinux_value_type_id: 1 },
        "creating a struct_ops map",
      ),
    );
    expect(e).toBeInstanceOf(SyscallError);
    expect((e as SyscallError).errno).toBe(524);
    expect((e as Error).message).toContain("failed: ENOTSUPP (not supported: the kernel's internal ENOTSUPP");
    expect((e as Error).message).not.toContain("Unknown error");
  });
});

describe.skipIf(!root)("selectors, show, -j and --pretty on objects of this process", () => {
  it("prog show id / name / tag / pinned, map show / dump by the same", () => {
    using obj = BpfObject.open("bpf/globals.bpf.o");
    obj.load();
    const prog = progInfo(obj.program("sum_globals").fd);
    const map = mapInfo(obj.map(".data").fd);
    const pin = `/sys/fs/bpf/tsbpf-test-cli-${process.pid}`;
    bpf(BpfCmd.OBJ_PIN, { pathname: cString(pin), bpf_fd: obj.program("sum_globals").fd }, "pinning");
    const mapPin = `${pin}-map`;
    bpf(BpfCmd.OBJ_PIN, { pathname: cString(mapPin), bpf_fd: obj.map(".data").fd }, "pinning");
    try {
      const line = `${prog.id}: xdp  name sum_globals  tag ${prog.tag}`;
      for (const sel of [
        ["id", String(prog.id)],
        ["pinned", pin],
        ["tag", prog.tag],
        ["name", "sum_globals"],
      ]) {
        const r = tsbpf("prog", "show", ...sel);
        expect(r.status, sel.join(" ")).toBe(0);
        expect(r.stdout.split("\n"), sel.join(" ")).toContainEqual(expect.stringMatching(new RegExp(`^${line}`)));
      }
      expect(tsbpf("prog", "show", "id", String(prog.id)).stdout).toBe(tsbpf("prog", "list", "id", String(prog.id)).stdout);

      // -j before the verb (bpftool's place) and after; --pretty indents the same values.
      const plain = jsonValues(tsbpf("-j", "prog", "show", "id", String(prog.id)).stdout);
      expect(plain).toEqual(jsonValues(tsbpf("prog", "show", "id", String(prog.id), "--json").stdout));
      expect(plain).toMatchObject([{ id: prog.id, name: "sum_globals", type: "xdp", tag: prog.tag }]);
      const pretty = tsbpf("prog", "show", "id", String(prog.id), "--pretty").stdout;
      expect(pretty).toContain('\n  "id": ');
      expect(jsonValues(pretty)).toEqual(plain);

      const mapLine = `${map.id}: array  name ${map.name}  key 4B  value ${map.valueSize}B  max_entries 1  flags 0x${map.flags.toString(16)}\n`;
      expect(tsbpf("map", "show", "id", String(map.id)).stdout).toBe(mapLine);
      expect(tsbpf("map", "show", "pinned", mapPin).stdout).toBe(mapLine);
      const dump = tsbpf("map", "dump", "pinned", mapPin, "--hex");
      expect(dump.stdout).toBe(tsbpf("map", "dump", "id", String(map.id), "--hex").stdout);
      expect(dump.stdout).toBe("key: 00 00 00 00  value: 2a 00 00 00\nFound 1 element\n");

      // A pinned program where a map is expected: said so, not read as map info.
      const wrong = tsbpf("map", "show", "pinned", pin);
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toBe(`tsbpf: TsbpfError: ${pin} holds a program, not a map\n`);
    } finally {
      rmSync(pin, { force: true });
      rmSync(mapPin, { force: true });
    }
  });
});
