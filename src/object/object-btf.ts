/**
 * The object's own BTF (.BTF + .BTF.ext). Placeholder until the BTF layer lands.
 */
import type { ElfFile } from "../elf/elf-file.js";
import type { BtfExt } from "../btf/ext.js";
import type { MapSpec } from "../maps/map-spec.js";

export interface ObjectBtf {
  ext?: BtfExt;
  describeDataMaps(maps: MapSpec[]): void;
}

export function readObjectBtf(_elf: ElfFile): ObjectBtf | undefined {
  return undefined;
}
