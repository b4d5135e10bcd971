/**
 * A function of an executable or shared library by name, and the file
 * offset of its first byte (what the kernel's uprobe PMU takes): the
 * precedence rules between versions and bindings, ambiguity, and errors
 * that say what the name is instead (an import, a variable, a typo).
 */
import { NotFoundError, ObjectFormatError, TsbpfError } from "../errors.js";
import { type ElfFile, SHN_ABS, SHN_UNDEF, SHT_SYMTAB, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_GNU_IFUNC } from "./elf-file.js";
import { symbolKey, type VersionedSymbol } from "./symbol-versions.js";

/** A function symbol resolved to where a uprobe goes. */
export interface ResolvedFunction {
  symbol: VersionedSymbol;
  /** Virtual address (st_value). */
  address: number;
  /** File offset of the function's first byte: what the uprobe PMU takes as config2. */
  offset: number;
  /** STT_GNU_IFUNC: the symbol is the resolver, not the implementation. */
  ifunc: boolean;
}

/** A function name that is not defined in the binary (absent, or only imported). */
export class SymbolNotFoundError extends NotFoundError {
  override name = "SymbolNotFoundError";
  constructor(
    readonly binary: string,
    readonly symbol: string,
    /** Defined function names that look like `symbol` (at most a handful). */
    readonly similar: string[],
    /** When the binary only imports `symbol`: the library it comes from (or the candidates). */
    readonly importedFrom: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Several different functions answer to one name with equal precedence. */
export class AmbiguousSymbolError extends TsbpfError {
  override name = "AmbiguousSymbolError";
}

const SYMBOL_TYPE_NAMES: Record<number, string> = {
  0: "an untyped symbol (STT_NOTYPE)",
  1: "a variable (STT_OBJECT)",
  3: "a section",
  4: "a file name",
  5: "a common block",
  6: "thread-local data (STT_TLS)",
};

const hex = (n: number): string => `0x${n.toString(16)}`;
const isFunction = (s: VersionedSymbol) => s.type === STT_FUNC || s.type === STT_GNU_IFUNC;

/** The file offset of `vaddr` in `elf`, errors naming the binary. */
function fileOffset(binary: string, elf: ElfFile, vaddr: number, sectionIndex: number): number {
  try {
    return elf.fileOffset(vaddr, sectionIndex);
  } catch (e) {
    if (e instanceof ObjectFormatError) throw new ObjectFormatError(binary, e.offset, e.problem);
    throw e;
  }
}

/**
 * Resolves a function name of `binary` (parsed as `elf`, whose symbols are
 * `symbols`) to its file offset. `spec` is "name", "name@VERSION" or
 * "name@@VERSION". Among defined STT_FUNC / STT_GNU_IFUNC symbols of
 * .symtab and .dynsym with that name, the default version wins over hidden
 * ones, then GLOBAL over WEAK over LOCAL; if the winners still point at
 * different code, the name is ambiguous.
 */
export function findFunction(binary: string, elf: ElfFile, symbols: VersionedSymbol[], spec: string): ResolvedFunction {
  const at = spec.indexOf("@");
  const name = at < 0 ? spec : spec.slice(0, at);
  const version = at < 0 ? undefined : spec.slice(spec[at + 1] === "@" ? at + 2 : at + 1);
  const candidates = symbols.filter((s) => s.name === name && (version === undefined || s.version === version));
  const defined = candidates.filter((s) => isFunction(s) && s.sectionIndex !== SHN_UNDEF && s.sectionIndex !== SHN_ABS);

  if (defined.length === 0) {
    const imported = candidates.filter((s) => s.sectionIndex === SHN_UNDEF);
    if (imported.length > 0) {
      const lib = imported.find((s) => s.library)?.library;
      const ver = imported.find((s) => s.version)?.version;
      const needed = elf.neededLibraries;
      const from = lib ?? (needed.length ? needed.join(", ") : undefined);
      throw new SymbolNotFoundError(
        binary,
        spec,
        [],
        from,
        `${binary} does not define ${spec}: it imports it` +
          (lib
            ? ` from ${lib}${ver ? ` (version ${ver})` : ""}`
            : needed.length
              ? ` from one of the libraries it links against (${needed.join(", ")})`
              : " from another object") +
          `; probe it there, e.g. { binary: "${lib ?? needed[0] ?? "libc.so.6"}", func: "${name}" }`,
      );
    }
    const nonFunc = candidates.find((s) => s.sectionIndex !== SHN_UNDEF);
    const similar = similarFunctions(symbols, name);
    throw new SymbolNotFoundError(
      binary,
      spec,
      similar,
      undefined,
      (nonFunc
        ? `${spec} in ${binary} is not a function (it is ${SYMBOL_TYPE_NAMES[nonFunc.type] ?? `a symbol of type ${nonFunc.type}`})`
        : `no function ${spec} in ${binary}` +
          (symbols.length === 0
            ? " (it has no symbol table at all: stripped?)"
            : elf.sections.some((s) => s.type === SHT_SYMTAB)
              ? ""
              : " (it has no .symtab, only exported .dynsym symbols: stripped?)")) +
        (similar.length ? `; similar names: ${similar.join(", ")}` : ""),
    );
  }

  const rank = (s: VersionedSymbol) => (s.hiddenVersion ? 4 : 0) + (s.bind === STB_GLOBAL ? 0 : s.bind === STB_WEAK ? 1 : 2);
  const best = Math.min(...defined.map(rank));
  const winners = defined.filter((s) => rank(s) === best).map((s) => ({ s, offset: fileOffset(binary, elf, s.value, s.sectionIndex) }));
  const offsets = new Set(winners.map((w) => w.offset));
  if (offsets.size > 1) {
    throw new AmbiguousSymbolError(
      `${spec} is ambiguous in ${binary}: ` +
        winners.map((w) => `${symbolKey(w.s)} (${w.s.table}, file offset ${hex(w.offset)})`).join(", ") +
        (version === undefined && winners.some((w) => w.s.version) ? "; name a version (name@VERSION) or" : ";") +
        " pass the file offset as `offset` without `func`",
    );
  }
  const { s, offset } = winners[0]!;
  return { symbol: s, address: s.value, offset, ifunc: s.type === STT_GNU_IFUNC };
}

/** Defined function names close to `name` (edit distance or substring), best first. */
export function similarFunctions(symbols: VersionedSymbol[], name: string, max = 5): string[] {
  const names = new Set<string>();
  for (const s of symbols) {
    if (isFunction(s) && s.sectionIndex !== SHN_UNDEF && s.name) names.add(s.name);
  }
  const lower = name.toLowerCase();
  const limit = Math.max(1, Math.floor(name.length / 4));
  const scored: [number, string][] = [];
  for (const n of names) {
    const l = n.toLowerCase();
    const d = editDistance(lower, l, limit + 1);
    if (d <= limit) scored.push([d, n]);
    else if (lower.length >= 3 && l.length >= 3 && (l.includes(lower) || lower.includes(l)))
      scored.push([limit + 0.5 + Math.abs(l.length - lower.length) / 1000, n]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return scored.slice(0, max).map(([, n]) => n);
}

/** Levenshtein distance, giving up (returning `cap`) once it cannot be below `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return Math.min(prev[b.length]!, cap);
}
