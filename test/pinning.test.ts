/** LIBBPF_PIN_BY_NAME: pinned on first load, reused (with its contents) by the next. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { ensureBpffs } from "../src/maps/pinning.js";

// A private BPF filesystem, mounted by tsbpf itself (ensureBpffs), so the
// test leaves no pins in /sys/fs/bpf; unmounting drops every pin in it.
const root = mkdtempSync(join(tmpdir(), "tsbpf-pin-"));
ensureBpffs(root);
afterAll(() => {
  execFileSync("umount", [root]);
  rmdirSync(root);
});

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
});
