/**
 * The declarative bpf_attr layouts agree with the kernel's own
 * `union bpf_attr` in /sys/kernel/btf/vmlinux: every field tsbpf encodes
 * exists there under the same name, at the same offset, with the same size.
 */
import { describe, expect, it } from "vitest";
import { loadKernelBtf } from "../src/object/kernel-btf.js";
import { BtfKind } from "../src/btf/types.js";
import type { Btf } from "../src/btf/btf.js";
import { ATTR_LAYOUTS, LINK_CREATE_UPROBE_MULTI } from "../src/syscall/bpf-attr.js";
import { BpfCmdNames } from "../src/abi/uapi-enums.js";

/** Every named field anywhere in a composite, with its absolute byte offset and size. */
function flatten(btf: Btf, id: number, base: number, out: Map<string, Array<{ offset: number; size: number }>>): void {
  const t = btf.type(btf.skipModifiers(id));
  if (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union) return;
  for (const m of t.members) {
    const offset = base + m.bitOffset / 8;
    if (m.name) {
      const list = out.get(m.name) ?? [];
      list.push({ offset, size: m.bitfieldSize ? 0 : btf.resolveSize(m.type) });
      out.set(m.name, list);
    }
    flatten(btf, m.type, offset, out);
  }
}

describe("bpf_attr layouts vs the kernel's BTF", () => {
  const btf = loadKernelBtf();
  const fields = new Map<string, Array<{ offset: number; size: number }>>();
  flatten(btf, btf.typeByName("bpf_attr", BtfKind.Union).id, 0, fields);

  const layouts: Array<[string, typeof LINK_CREATE_UPROBE_MULTI]> = [
    ...[...ATTR_LAYOUTS].map(([cmd, layout]): [string, typeof layout] => [BpfCmdNames[cmd] ?? String(cmd), layout]),
    ["BPF_LINK_CREATE (uprobe_multi)", LINK_CREATE_UPROBE_MULTI],
  ];
  for (const [name, layout] of layouts) {
    it(`${name}: every field at the kernel's offset and size`, () => {
      for (const f of layout.fields) {
        const candidates = fields.get(f.name) ?? [];
        expect(
          candidates.some((c) => c.offset === f.offset && c.size === f.size),
          `${f.name} @${f.offset} (${f.size} B); kernel has ${JSON.stringify(candidates)}`,
        ).toBe(true);
      }
      const end = Math.max(...layout.fields.map((f) => f.offset + f.size));
      expect(layout.size).toBeGreaterThanOrEqual(end);
    });
  }
});
