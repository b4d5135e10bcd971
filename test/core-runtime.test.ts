/**
 * CO-RE at run time: core.bpf.o's core_all program is loaded by tsbpf and by
 * libbpf (a small C oracle built against libbpf-dev), both run once, and
 * every result slot is compared. Slots that describe the calling process
 * (pid, parent, comm, ...) are checked against that process's own truth.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { BtfKind, type EnumType } from "../src/btf/types.js";

const CORE = "bpf/core.bpf.o";
/** Slots whose value depends on which process ran the program. */
const PER_PROCESS = new Set([
  "SLOT_PID",
  "SLOT_TGID",
  "SLOT_PPID",
  "SLOT_PPID_DIRECT",
  "SLOT_FLAGS",
  "SLOT_COMM",
  "SLOT_COMM_2",
  "SLOT_CPUS_0",
  "SLOT_NOFILE",
  "SLOT_MAP_COUNT",
  "SLOT_DUMPABLE",
  "SLOT_DUMPABLE_DIRECT",
  "SLOT_IN_EXECVE",
]);

function tsbpfResults(): { slots: string[]; values: bigint[]; coreCount: number } {
  using obj = BpfObject.open(CORE);
  obj.setAutoload("core_poison", false);
  obj.load();
  expect(obj.program("core_all").testRun().retval).toBe(0);
  const bytes = obj.variable("results");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = Array.from({ length: bytes.byteLength / 8 }, (_, i) => view.getBigUint64(i * 8, true));
  const slotEnum = obj.spec.btf!.btf.typeByName("core_slot", BtfKind.Enum) as EnumType;
  const slots = slotEnum.values.map((v) => v.name);
  return { slots, values, coreCount: obj.coreRelocations("core_all").length };
}

describe("CO-RE results at run time", () => {
  const r = tsbpfResults();
  const slot = (name: string) => r.values[r.slots.indexOf(name)]!;

  it("covers many relocations", () => {
    expect(r.coreCount).toBeGreaterThan(40);
  });

  it("reads this process's own task_struct correctly", () => {
    expect(slot("SLOT_PID")).toBe(BigInt(process.pid));
    expect(slot("SLOT_TGID")).toBe(BigInt(process.pid));
    expect(slot("SLOT_PPID")).toBe(BigInt(process.ppid));
    expect(slot("SLOT_PPID_DIRECT")).toBe(BigInt(process.ppid));
    const comm = readFileSync(`/proc/${process.pid}/task/${process.pid}/comm`, "utf8").trim();
    const first8 = Buffer.alloc(8);
    first8.write(comm.slice(0, 8));
    expect(slot("SLOT_COMM")).toBe(first8.readBigUInt64LE());
    expect(slot("SLOT_COMM_2")).toBe(BigInt(comm.charCodeAt(2) || 0));
    const nofile = readFileSync("/proc/self/limits", "utf8").match(/Max open files\s+(\d+)/)![1]!;
    expect(slot("SLOT_NOFILE")).toBe(BigInt(nofile));
    expect(slot("SLOT_PARENT_EXISTS")).toBe(1n);
    expect(slot("SLOT_OLD_FIELD_EXISTS")).toBe(0n);
  });

  const canBuild = existsSync("/usr/include/bpf/libbpf.h");
  it.runIf(canBuild)("agrees with libbpf on every process-independent slot", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-oracle-"));
    const bin = join(dir, "core_results");
    execFileSync("gcc", ["-O2", "-o", bin, "test/oracle/core_results.c", "-lbpf"]);
    const [, ...lines] = execFileSync(bin, [CORE], { encoding: "utf8" }).trim().split("\n");
    const theirs = lines.map((l) => BigInt(l));
    expect(theirs.length).toBe(r.values.length);
    const compared: string[] = [];
    r.slots.forEach((name, i) => {
      if (name === "SLOT_COUNT" || PER_PROCESS.has(name)) return;
      expect(r.values[i], name).toBe(theirs[i]);
      compared.push(name);
    });
    expect(compared.length).toBeGreaterThan(25);
  });
});
