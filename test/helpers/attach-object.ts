/** bpf/attach.bpf.o for the attach tests: one program per attach kind, each counting its runs. */
import { BtfKind, type EnumType } from "../../src/btf/types.js";
import { BpfObject } from "../../src/object/bpf-object.js";

export const ATTACH = "bpf/attach.bpf.o";

/** Opens attach.bpf.o with only `programs` loaded. */
export function openWith(...programs: string[]): BpfObject {
  const obj = BpfObject.open(ATTACH);
  for (const p of obj.spec.programs) obj.setAutoload(p.name, programs.includes(p.name));
  return obj;
}

/** How many times the program counting in `slot` (enum attach_slot of attach.bpf.c) ran. */
export function count(obj: BpfObject, slot: string): bigint {
  const slots = (obj.spec.btf!.btf.typeByName("attach_slot", BtfKind.Enum) as EnumType).values.map((v) => v.name);
  const bytes = obj.variable("counts");
  return new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(slots.indexOf(slot) * 8, true);
}
