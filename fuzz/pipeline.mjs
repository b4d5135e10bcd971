/**
 * What the fuzzer does with one input, and what counts as a failure. A
 * factory over tsbpf's modules, so the harness runs it on dist/ and the
 * regression tests (test/fuzz-regressions.test.ts) on src/.
 *
 * Every step must end in success or in a TsbpfError whose message names the
 * place at fault; anything else (TypeError, RangeError, a plain Error, a
 * typed error that names nothing) is a failure.
 */

/** Words a typed error's message uses to say where the problem is. */
const PLACE =
  /section|offset|program|insn|instruction|relocation|symbol|type id|type \[\d+\]|\[\d+\]|BTF|map|record|header|function|extern|variable/i;

export class FuzzFailure extends Error {
  constructor(step, error, problem) {
    super(`${step}: ${problem}`);
    this.name = "FuzzFailure";
    this.step = step;
    this.error = error;
  }
}

/**
 * mods: { parseObject, inspectObject, ElfFile, Btf, parseBtfExt, relocateProgram, CoreCache, TsbpfError,
 * ObjectFormatError }; kernelBtf: the target Btf for CO-RE; originals: name -> intact bytes, for
 * relocating intact programs against a mutated BTF.
 */
export function makePipeline(mods, kernelBtf, originals = new Map()) {
  const { parseObject, inspectObject, ElfFile, Btf, parseBtfExt, relocateProgram, CoreCache, TsbpfError, ObjectFormatError } = mods;
  const intactSpecs = new Map();
  const intactSpec = (name) => {
    if (!intactSpecs.has(name)) {
      const bytes = originals.get(name);
      let spec;
      try {
        spec = bytes ? parseObject(bytes, { path: name }) : undefined;
      } catch (e) {
        // A seed tsbpf refuses by design (legacy_maps.bpf.o) has no intact programs to relocate.
        if (!(e instanceof TsbpfError)) throw e;
      }
      intactSpecs.set(name, spec);
    }
    return intactSpecs.get(name);
  };

  /** Judges an exception thrown by `step`: a typed error naming a place is fine, anything else is a failure. */
  function judge(step, e) {
    if (!(e instanceof TsbpfError)) {
      const what = e instanceof Error ? `${e.name}: ${e.message}` : `non-Error thrown: ${String(e)}`;
      throw new FuzzFailure(step, e, `untyped error ${what}`);
    }
    if (e instanceof ObjectFormatError) {
      if (typeof e.where !== "string" || !e.where || !Number.isSafeInteger(e.offset) || e.offset < 0 || !e.message.includes(e.where)) {
        throw new FuzzFailure(
          step,
          e,
          `ObjectFormatError without a place (where ${JSON.stringify(e.where)}, offset ${e.offset}): ${e.message}`,
        );
      }
    } else if (!PLACE.test(e.message)) {
      throw new FuzzFailure(step, e, `${e.name} that names no place: ${e.message}`);
    }
    return { step, name: e.name, message: e.message };
  }

  function attempt(step, errors, fn) {
    try {
      return fn();
    } catch (e) {
      if (e instanceof FuzzFailure) throw e;
      errors.push(judge(step, e));
      return undefined;
    }
  }

  /**
   * Runs one input through every step. `layout` (the intact object's layout from
   * fuzz/mutate.mjs, when the input is a mutated object) locates .BTF and
   * .BTF.ext when the ELF itself no longer parses. Returns { errors: [...] }
   * (typed errors, fine) or throws FuzzFailure.
   */
  function run(bytes, object, layout) {
    const errors = [];
    const path = object === "random" ? "random.bpf.o" : object;
    const spec = attempt("parseObject", errors, () => parseObject(bytes, { path }));
    if (spec) {
      attempt("inspectObject", errors, () => JSON.stringify(inspectObject(spec)));
      const cache = new CoreCache();
      for (const p of spec.programs) {
        attempt(`relocateProgram ${p.name} (kernel BTF)`, errors, () => relocateProgram(p, spec.btf?.btf, kernelBtf, cache, "vmlinux"));
      }
    }

    // .BTF and .BTF.ext on their own, even when the rest of the object is broken. When the
    // object parsed, parseObject has run both on these very bytes: reuse its BTF.
    let btf = spec?.btf?.btf;
    if (!spec) {
      let btfBytes;
      let extBytes;
      const elf = attempt("ElfFile", errors, () => new ElfFile(bytes));
      if (elf) {
        btfBytes = elf.section(".BTF")?.data;
        extBytes = elf.section(".BTF.ext")?.data;
      } else if (layout?.btf) {
        btfBytes = bytes.subarray(Math.min(layout.btf.at, bytes.length), Math.min(layout.btf.at + layout.btf.size, bytes.length));
        if (layout.ext)
          extBytes = bytes.subarray(Math.min(layout.ext.at, bytes.length), Math.min(layout.ext.at + layout.ext.size, bytes.length));
      }
      if (btfBytes) btf = attempt("Btf.parse", errors, () => Btf.parse(btfBytes, { where: "section .BTF" }));
      if (btf && extBytes) attempt("parseBtfExt", errors, () => parseBtfExt(extBytes, btf));
    }
    if (btf) {
      // Without a parsed object nothing else decodes the types: decode them all.
      if (!spec) {
        attempt("Btf types", errors, () => {
          for (let id = 1; id < btf.typeCount; id++) btf.type(id);
        });
      }
      // The intact object's programs against the mutated BTF as CO-RE target.
      const intact = object !== "random" ? intactSpec(object) : undefined;
      if (intact?.btf) {
        const cache = new CoreCache();
        for (const p of intact.programs) {
          if (!p.insns.some((i) => i.coreRelo)) continue;
          attempt(`relocateProgram ${p.name} (mutated BTF as target)`, errors, () =>
            relocateProgram(p, intact.btf.btf, btf, cache, "mutated BTF"),
          );
        }
      }
    }
    return { errors };
  }

  return { run, judge };
}

/**
 * The modules the pipeline needs, from a build (`dist/src`), and the
 * kernel's BTF loader: what fuzz.mjs and hostile.mjs run on.
 */
export async function loadDistModules(dist) {
  const { existsSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { pathToFileURL } = await import("node:url");
  if (!existsSync(join(dist, "spec", "object-spec.js"))) throw new Error(`no build in ${dist}: run "npx tsc -p tsconfig.json" first`);
  const imp = (p) => import(pathToFileURL(join(dist, p)).href);
  const [spec, inspect, elf, btf, ext, reloc, core, errors, kbtf] = await Promise.all([
    imp("spec/object-spec.js"),
    imp("spec/inspect.js"),
    imp("elf/elf-file.js"),
    imp("btf/btf.js"),
    imp("btf/ext.js"),
    imp("spec/relocate.js"),
    imp("core/index.js"),
    imp("errors.js"),
    imp("object/kernel-btf.js"),
  ]);
  return {
    mods: {
      parseObject: spec.parseObject,
      inspectObject: inspect.inspectObject,
      ElfFile: elf.ElfFile,
      Btf: btf.Btf,
      parseBtfExt: ext.parseBtfExt,
      relocateProgram: reloc.relocateProgram,
      CoreCache: core.CoreCache,
      TsbpfError: errors.TsbpfError,
      ObjectFormatError: errors.ObjectFormatError,
    },
    loadKernelBtf: kbtf.loadKernelBtf,
  };
}
