/**
 * BTF-defined maps (SEC(".maps")). Placeholder until the BTF layer lands.
 */
import type { ElfFile } from "../elf/elf-file.js";
import { UnsupportedError } from "../errors.js";
import type { ObjectBtf } from "../object/object-btf.js";
import type { MapSpec } from "./map-spec.js";

export function btfMapSpecs(elf: ElfFile, _btf: ObjectBtf | undefined): MapSpec[] {
  if (elf.section(".maps")) throw new UnsupportedError("BTF-defined maps are not supported yet");
  return [];
}
