/**
 * Global data: each .data / .rodata / .bss section (and their .data.* /
 * .rodata.* variants, including clang's own .rodata.str1.1 and .rodata.cst16)
 * becomes a one-element ARRAY map whose value is the section's bytes.
 * Programs address variables with ld_imm64 BPF_PSEUDO_MAP_VALUE
 * (map fd + offset into the value).
 */
import {
  type ElfFile,
  type ElfSection,
  SHF_ALLOC,
  SHF_EXECINSTR,
  STB_LOCAL,
  STT_OBJECT,
  SHT_NOBITS,
  SHT_PROGBITS,
} from "../elf/elf-file.js";
import { BpfMapType } from "../abi/uapi-enums.js";
import { type DataSectionKind, InitialData, type MapSpec } from "./map-spec.js";
import { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG } from "../abi/uapi-flags.js";

const BPF_OBJ_NAME_LEN = 16;

export function dataSectionKind(section: ElfSection): DataSectionKind | undefined {
  if ((section.flags & BigInt(SHF_ALLOC)) === 0n || (section.flags & BigInt(SHF_EXECINSTR)) !== 0n) return undefined;
  const n = section.name;
  const is = (base: string) => n === base || n.startsWith(base + ".");
  if (section.type === SHT_NOBITS && is(".bss")) return "bss";
  if (section.type !== SHT_PROGBITS) return undefined;
  if (is(".data")) return "data";
  if (is(".rodata")) return "rodata";
  return undefined;
}

/**
 * The kernel-visible name libbpf gives a data map: up to 8 characters of the
 * object name, then the section name, 15 characters at most. Custom sections
 * (".data.foo") drop the object-name prefix so more of their own name fits.
 * Characters the kernel refuses in names become '_'.
 */
export function internalMapName(objectName: string, sectionName: string): string {
  const suffixLen = Math.max(7, sectionName.length);
  const prefixLen = sectionName.indexOf(".", 1) >= 0 ? 0 : Math.max(0, Math.min(BPF_OBJ_NAME_LEN - suffixLen - 1, objectName.length));
  const name = (objectName.slice(0, prefixLen) + sectionName.slice(0, suffixLen)).slice(0, BPF_OBJ_NAME_LEN - 1);
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}

/**
 * One map spec per non-empty data section. A data map is mmapable when it
 * holds at least one global (non-static) variable, as libbpf decides, so
 * user space can read and write it in place; .rodata is read-only to
 * programs and frozen after its initial value is written.
 */
export function dataMapSpecs(elf: ElfFile, objectName: string): MapSpec[] {
  const specs: MapSpec[] = [];
  for (const section of elf.sections) {
    const kind = dataSectionKind(section);
    if (!kind || section.size === 0) continue;
    const hasGlobalVar = elf.symbols.some((s) => s.sectionIndex === section.index && s.type === STT_OBJECT && s.bind !== STB_LOCAL);
    const readonly = kind === "rodata";
    specs.push({
      name: internalMapName(objectName, section.name),
      sectionName: section.name,
      type: BpfMapType.ARRAY,
      keySize: 4,
      valueSize: section.size,
      maxEntries: 1,
      flags: (readonly ? BPF_F_RDONLY_PROG : 0) | (hasGlobalVar ? BPF_F_MMAPABLE : 0),
      // .bss: no bytes in the file, and none allocated (see InitialData).
      data: new InitialData(kind, section.size, section.type === SHT_NOBITS ? undefined : section.data),
      freeze: readonly,
      btfKeyTypeId: 0,
      btfValueTypeId: 0,
    });
  }
  return specs;
}
