/**
 * The BTF that CO-RE is applied against for `disasm` and `report`: a file
 * given with --btf, else the running kernel's; `against` names it (escaped:
 * the path is the user's).
 */
import { Btf } from "../btf/btf.js";
import { loadKernelBtf } from "../object/kernel-btf.js";
import { escapeText } from "../text/escape.js";
import { readInputFile } from "./input-file.js";

export interface CoreTarget {
  btf: Btf;
  against: string;
}

export function readCoreTarget(btfPath: string | undefined): CoreTarget {
  return btfPath
    ? { btf: Btf.parse(readInputFile(btfPath)), against: `BTF of ${escapeText(btfPath)}` }
    : { btf: loadKernelBtf(), against: "the running kernel's BTF" };
}
