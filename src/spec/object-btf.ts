/**
 * The object's own BTF (.BTF) and its extension (.BTF.ext), parsed and
 * fixed up with what only the ELF knows (DATASEC sizes, VAR offsets).
 */
import { Btf } from "../btf/btf.js";
import { type BtfExt, parseBtfExt } from "../btf/ext.js";
import { fixupDatasecs, markFunctionsStatic } from "../btf/fixup.js";
import { type KconfigSlot, fixupExternDatasecs } from "../btf/fixup-externs.js";
import { type BtfFeatures, needsSanitizing, sanitizeBtf } from "../btf/sanitize.js";
import { BtfKind } from "../btf/types.js";
import { type ElfFile, STB_LOCAL, STT_FUNC, STV_HIDDEN, STV_INTERNAL } from "../elf/elf-file.js";
import type { MapSpec } from "./map-spec.js";

export class ObjectBtf {
  private constructor(
    private current: Btf,
    readonly ext: BtfExt | undefined,
  ) {}

  /** The object's BTF, fixed up (data sections, and externs once laid out). */
  get btf(): Btf {
    return this.current;
  }

  /** Makes the extern DATASECs loadable once the .kconfig map is laid out. */
  layoutExterns(kconfig: KconfigSlot[], kconfigSize: number): void {
    this.current = fixupExternDatasecs(this.current, kconfig, kconfigSize);
  }

  /** The object's BTF, or undefined when it has no .BTF section. */
  static read(elf: ElfFile): ObjectBtf | undefined {
    const section = elf.section(".BTF");
    if (!section) return undefined;
    const btf = Btf.parse(section.data, { where: "section .BTF" });
    fixupDatasecs(btf, {
      sectionSize: (name) => elf.section(name)?.size,
      symbolOffset: (sectionName, symbol) => {
        const s = elf.section(sectionName);
        return s ? elf.symbols.find((sym) => sym.sectionIndex === s.index && sym.name === symbol)?.value : undefined;
      },
    });
    markFunctionsStatic(btf, hiddenSubprograms(elf));
    const extSection = elf.section(".BTF.ext");
    const ext = extSection ? parseBtfExt(extSection.data, btf) : undefined;
    return new ObjectBtf(btf, ext);
  }

  /** Id of the DATASEC describing ELF section `name`, if any. */
  datasecId(name: string): number | undefined {
    return this.btf.idsByName(name).find((id) => this.btf.kind(id) === BtfKind.Datasec);
  }

  /** Global-data maps take their section's DATASEC as value type (key type 0), as libbpf sets them. */
  describeDataMaps(maps: readonly MapSpec[]): MapSpec[] {
    return maps.map((m) => (m.data && m.sectionName ? { ...m, btfValueTypeId: this.datasecId(m.sectionName) ?? 0 } : m));
  }

  /** The bytes to give BPF_BTF_LOAD: sanitised for what this kernel lacks. */
  kernelBytes(features: BtfFeatures): Uint8Array {
    return needsSanitizing(this.btf, features) ? sanitizeBtf(this.btf, features) : this.btf.rawBytes();
  }
}

/** Global functions of .text with hidden or internal visibility: subprograms libbpf verifies as static. */
function hiddenSubprograms(elf: ElfFile): Set<string> {
  const text = elf.section(".text");
  const names = new Set<string>();
  if (!text) return names;
  for (const s of elf.symbols) {
    if (
      s.type === STT_FUNC &&
      s.bind !== STB_LOCAL &&
      s.sectionIndex === text.index &&
      (s.visibility === STV_HIDDEN || s.visibility === STV_INTERNAL)
    )
      names.add(s.name);
  }
  return names;
}
