/**
 * The offsets obj-info.ts and link-info.ts read struct bpf_prog_info,
 * bpf_map_info and bpf_link_info at, against the running kernel's BTF:
 * every member path (anonymous unions see through) at the same offset.
 */
import { describe, expect, it } from "vitest";
import type { Btf } from "../src/btf/btf.js";
import { BtfKind } from "../src/btf/types.js";
import { loadKernelBtf } from "../src/object/kernel-btf.js";
import { LINK_INFO_LAYOUT } from "../src/syscall/link-info.js";
import { INFO_LAYOUTS } from "../src/syscall/obj-info.js";

/** Member paths ("perf_event.uprobe.offset") → byte offset; anonymous members add no name. */
function paths(btf: Btf, id: number, prefix: string, base: number, out: Map<string, number>): Map<string, number> {
  const t = btf.type(btf.skipModifiers(id));
  if (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union) return out;
  for (const m of t.members) {
    const offset = base + m.bitOffset / 8;
    const path = m.name ? (prefix ? `${prefix}.${m.name}` : m.name) : prefix;
    if (m.name) out.set(path, offset);
    paths(btf, m.type, path, offset, out);
  }
  return out;
}

const btf = loadKernelBtf();
const layoutOf = (name: string) => paths(btf, btf.typeByName(name, BtfKind.Struct).id, "", 0, new Map());

describe("info struct offsets match the kernel's BTF", () => {
  const cases: Array<[string, Record<string, number>]> = [
    ["bpf_prog_info", INFO_LAYOUTS.bpf_prog_info],
    ["bpf_map_info", INFO_LAYOUTS.bpf_map_info],
    ["bpf_link_info", LINK_INFO_LAYOUT],
  ];
  for (const [struct, layout] of cases) {
    it(`${struct}: ${Object.keys(layout).length} fields`, () => {
      const kernel = layoutOf(struct);
      const wrong = Object.entries(layout)
        .filter(([path, offset]) => kernel.get(path) !== offset)
        .map(([path, offset]) => `${path}: tsbpf ${offset}, kernel ${kernel.get(path) ?? "absent"}`);
      expect(wrong).toEqual([]);
    });
  }

  it("a wrong offset would be caught", () => {
    expect(layoutOf("bpf_link_info").get("perf_event.kprobe.cookie")).not.toBe(48);
  });
});
