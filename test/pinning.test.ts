/** LIBBPF_PIN_BY_NAME: pinned on first load, reused (with its contents) by the next. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TsbpfError } from "../src/errors.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { spawnSync } from "node:child_process";
import { PIN_ROOT, removePins, removeStalePins, testPinDir } from "./helpers/pins.js";
import { thrownBy } from "./helpers/thrown.js";

const root = testPinDir();
afterAll(() => removePins(root));

describe("map pinning", () => {
  it("pins on the first load and reuses the pinned map on the next", () => {
    {
      using a = BpfObject.open("bpf/pinning.bpf.o", { pinRoot: root });
      a.load();
      expect(existsSync(`${root}/shared_counter`)).toBe(true);
      expect(a.program("bump").testRun().retval).toBe(1);
      expect(a.program("bump").testRun().retval).toBe(2);
    }
    // The first object is gone; the pinned map (and its value) is not.
    using b = BpfObject.open("bpf/pinning.bpf.o", { pinRoot: root });
    b.load();
    expect(b.program("bump").testRun().retval).toBe(3);
  });

  it("refuses an incompatible pinned map with a clear error", () => {
    using a = BpfObject.open("bpf/pinning.bpf.o", { pinRoot: root });
    a.editMap("shared_counter").setMaxEntries(2);
    expect(() => a.load()).toThrow(/not compatible with map shared_counter: max_entries 1 ≠ 2/);
  });

  it("refuses a pin root that is not on bpffs, and mounts nothing over it", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-pin-"));
    try {
      writeFileSync(join(dir, "keep"), "still visible");
      const mountsBefore = readFileSync("/proc/self/mountinfo", "utf8");
      const obj = BpfObject.open("bpf/pinning.bpf.o", { pinRoot: dir });
      const e = thrownBy(() => obj.load());
      expect(e).toBeInstanceOf(TsbpfError);
      expect((e as Error).message).toMatch(`cannot pin maps under ${dir}: it is not on a BPF filesystem`);
      expect(readFileSync("/proc/self/mountinfo", "utf8")).toBe(mountsBefore);
      expect(readdirSync(dir)).toEqual(["keep"]);
      expect(obj.state).toBe("destroyed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says a missing pin root does not exist", () => {
    const obj = BpfObject.open("bpf/pinning.bpf.o", { pinRoot: join(root, "no-such-dir") });
    expect(() => obj.load()).toThrow(`cannot pin maps under ${root}/no-such-dir: it does not exist`);
  });
});

describe("stale test pins", () => {
  it("removes the tsbpf-test-* pins of a run whose process is gone, keeps a live run's", () => {
    const dead = spawnSync("true").pid!; // exited: its pid names a crashed run
    const stale = join(PIN_ROOT, `tsbpf-test-${dead}-crashed`);
    mkdirSync(stale);
    {
      using a = BpfObject.open("bpf/pinning.bpf.o", { pinRoot: stale });
      a.load();
    }
    expect(existsSync(join(stale, "shared_counter"))).toBe(true);
    const removed = removeStalePins();
    expect(removed).toContain(stale);
    expect(existsSync(stale)).toBe(false);
    expect(removed).not.toContain(root);
    expect(existsSync(root)).toBe(true);
  });
});
