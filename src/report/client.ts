/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The report page's script (bundled for the browser by
 * scripts/bundle-report.mjs): draws the page from its embedded JSON, links
 * related parts (click a map, a relocation or a section: everything that
 * refers to it lights up), and parses a dropped .bpf.o right here with
 * tsbpf's pure half — CO-RE applied against the kernel types embedded in
 * the page, or a BTF file dropped with it.
 */
import { Btf } from "../btf/btf.js";
import { parseObject } from "../spec/object-spec.js";
import { escapeText } from "../text/escape.js";
import { type ObjectView, objectView, type ProgramView, type RowView, type SectionKind } from "./object-view.js";
import type { LoadView, ReportData } from "./report-data.js";

type Child = Node | string | undefined | false;

/** An element; text always goes in as text (names in an object are untrusted). */
function el(tag: string, attrs: Record<string, string | number | undefined> = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, String(v));
  for (const c of children) if (c !== undefined && c !== false) e.append(typeof c === "string" ? document.createTextNode(c) : c);
  return e;
}

/** Control bytes shown as strace shows them. */
const show = (s: string) => escapeText(s);

function table(headers: string[], rows: Array<{ cells: Child[]; attrs?: Record<string, string | undefined> }>, cls?: string): HTMLElement {
  return el(
    "table",
    { class: cls },
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", r.attrs ?? {}, ...r.cells.map((c) => el("td", {}, c))))),
  );
}

const KIND_TEXT: Record<SectionKind, string> = {
  code: "code",
  data: "data",
  rodata: "read-only data",
  bss: "zero-filled (no bytes in the file)",
  maps: "map definitions",
  btf: "BTF / BTF.ext",
  relocations: "relocations",
  symbols: "symbols",
  strings: "strings",
  other: "other",
};

function sectionsBar(view: ObjectView): HTMLElement {
  const total = view.sections.reduce((n, s) => n + Math.max(s.size, 1), 0);
  const bar = el("div", { class: "bar", role: "img", "aria-label": "ELF sections to scale" });
  // In file order; zero-filled sections (no bytes in the file) last, hatched.
  const laidOut = [...view.sections].sort((a, b) => Number(a.nobits) - Number(b.nobits) || a.offset - b.offset);
  for (const s of laidOut) {
    bar.append(
      el("div", {
        class: `k-${s.kind}${s.nobits ? " nobits" : ""}`,
        style: `flex: ${Math.max(s.size, 1) / total} 0 0`,
        title: `${show(s.name)}: ${s.size} bytes, ${KIND_TEXT[s.kind]}`,
        "data-ref": `section:${s.name}`,
      }),
    );
  }
  const kinds = [...new Set(view.sections.map((s) => s.kind))];
  return el("div", {}, bar, el("div", { class: "legend" }, ...kinds.map((k) => el("span", { class: `k-${k}` }, KIND_TEXT[k]))));
}

function objectSection(view: ObjectView, set: Record<string, string> | undefined, id: string): HTMLElement {
  const i = view.inspect;
  const root = el("section", {
    class: "object",
    id,
    "data-programs": i.programs.length,
    "data-maps": i.maps.length,
    "data-sections": i.sections.length,
    "data-relocations": i.relocations.length,
  });
  root.append(
    el(
      "div",
      { class: "counts" },
      ...(
        [
          [i.programs.length, "programs"],
          [i.maps.length, "maps"],
          [i.variables.length, "globals"],
          [i.relocations.length, "relocations"],
          [view.core.length, "CO-RE relocations"],
          [i.sections.length, "sections"],
        ] as const
      ).map(([n, what]) => el("div", {}, el("b", {}, String(n)), what)),
    ),
    el("h3", {}, `ELF sections, to scale (${view.fileSize} bytes)`),
    sectionsBar(view),
    table(
      ["#", "section", "kind", "offset", "size"],
      view.sections.map((s) => ({
        cells: [String(s.index), el("code", {}, show(s.name)), KIND_TEXT[s.kind], `0x${s.offset.toString(16)}`, String(s.size)],
        attrs: { "data-ref": `section:${s.name}` },
      })),
      "sections",
    ),
    el("h3", {}, "Programs"),
    table(
      ["program", "section", "type", "attach", "instructions"],
      i.programs.map((p) => ({
        cells: [
          el("code", {}, show(p.name)),
          el("code", {}, show(p.section)),
          p.type,
          `${p.attach} ${show(p.target)}`.trim(),
          String(p.instructions),
        ],
        attrs: { "data-ref": `program:${p.name}` },
      })),
      "programs",
    ),
    el("h3", {}, "Maps"),
    table(
      ["map", "type", "key", "value", "max entries", "flags"],
      i.maps.map((m) => ({
        cells: [
          el("code", {}, show(m.name)),
          m.type,
          el("code", {}, show(m.keyType ?? `${m.keySize} bytes`)),
          el("code", {}, show(m.valueType ?? `${m.valueSize} bytes`)),
          String(m.maxEntries),
          m.flags.join(" | "),
        ],
        attrs: { "data-ref": `map:${m.name}` },
      })),
      "maps",
    ),
    el("h3", {}, "Globals"),
    table(
      ["variable", "section", "type", "as compiled", ...(set ? ["as set (--set)"] : [])],
      i.variables.map((v) => ({
        cells: [
          el("code", {}, show(v.name)),
          el("code", {}, show(v.section)),
          el("code", {}, show(v.type ?? "")),
          el("code", {}, show(v.initial)),
          ...(set ? [el("code", {}, show(set[v.name] ?? ""))] : []),
        ],
      })),
      "globals",
    ),
    el("h3", {}, "Symbols"),
    table(
      ["symbol", "section", "type", "value", "size"],
      view.symbols.map((s) => ({
        cells: [
          el("code", {}, show(s.name)),
          el("code", {}, show(s.section)),
          `${s.global ? "global " : ""}${s.type}`,
          String(s.value),
          String(s.size),
        ],
        attrs: { "data-ref": `section:${s.section}` },
      })),
      "symbols",
    ),
  );
  for (const p of view.programs) root.append(programListing(view, p));
  root.append(el("h3", {}, "CO-RE relocations"), coreTable(view));
  return root;
}

/** The xlated instructions by index (bpftool's signature and "; source" lines are left to the compiled column). */
function xlatedByIndex(lines: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of lines) {
    const m = /^\s*(\d+): (.*)$/.exec(l);
    if (m) out.set(Number(m[1]), m[2]!);
  }
  return out;
}

/** The disassembler's text (its tabs as spaces) and its notes, which carry names from the object: escaped. */
function rowText(r: RowView | undefined): string {
  if (!r) return "";
  const text = r.text.replace(/\t/g, " ");
  return show(r.notes.length ? `${text}   ; ${r.notes.join("; ")}` : text);
}

function programListing(view: ObjectView, p: ProgramView): HTMLElement {
  const loadedBy = new Map((p.loaded ?? []).map((r) => [r.index, r]));
  const xlated = p.xlated ? xlatedByIndex(p.xlated) : undefined;
  const loadedTitle = p.xlated
    ? "as loaded (the bytes PROG_LOAD sent)"
    : view.coreAgainst
      ? `CO-RE applied (${view.coreAgainst})`
      : undefined;
  const head = el(
    "tr",
    {},
    el("th", { class: "idx" }, "#"),
    el("th", {}, "as compiled"),
    loadedTitle !== undefined && el("th", {}, loadedTitle),
    xlated !== undefined && el("th", {}, "as the kernel translated it (xlated)"),
  );
  const body = el("tbody");
  for (const r of p.compiled) {
    if (r.label !== undefined) body.append(el("tr", { class: "label" }, el("td"), el("td", { colspan: 3 }, `${show(r.label)}:`)));
    if (r.source !== undefined) body.append(el("tr", { class: "src" }, el("td"), el("td", { colspan: 3 }, `; ${show(r.source)}`)));
    const loaded = loadedBy.get(r.index);
    const core = r.core !== undefined ? view.core[r.core] : undefined;
    const attrs: Record<string, string | undefined> = {
      class: [r.ref ? "ref" : "", core ? "coresite" : "", core?.poisoned ? "poisoned" : ""].join(" ").trim() || undefined,
      "data-ref": r.ref ?? (r.core !== undefined ? `core:${r.core}` : undefined),
      title: core
        ? `${core.kind} ${core.access}\n→ ${core.target ?? "no match"}: ${core.local} → ${core.answer ?? "poisoned"}\n${core.explanation}`
        : undefined,
    };
    const changed = loaded && loaded.hex !== r.hex ? "changed" : undefined;
    body.append(
      el(
        "tr",
        { ...attrs, "data-index": r.index },
        el("td", { class: "idx" }, String(r.index)),
        el("td", {}, rowText(r)),
        loadedTitle !== undefined && el("td", { class: changed, "data-col": "loaded" }, rowText(loaded)),
        xlated !== undefined && el("td", { "data-col": "xlated" }, show(xlated.get(r.index) ?? "")),
      ),
    );
  }
  return el(
    "div",
    {
      class: "program",
      "data-program": p.name,
      "data-compiled": p.compiled.length,
      "data-loaded": p.loaded?.length,
      "data-xlated": xlated?.size,
    },
    el("h3", {}, `Program ${show(p.name)} `, el("span", { class: "sub" }, `${show(p.section)} · ${p.type}`)),
    el("table", { class: "insns" }, el("thead", {}, head), body),
  );
}

function coreTable(view: ObjectView): HTMLElement {
  if (!view.core.length)
    return el(
      "p",
      { class: "sub" },
      view.coreAgainst || !view.programs.some((p) => p.compiled.some((r) => r.core !== undefined))
        ? "No CO-RE relocations."
        : "CO-RE not applied (no kernel types given).",
    );
  return table(
    ["program", "insn", "kind", "local access", "kernel type", "compiled", "answer", "candidates"],
    view.core.map((c, i) => ({
      cells: [
        el("code", {}, show(c.program)),
        String(c.insn),
        c.kind,
        el("code", {}, show(c.access)),
        el("code", {}, show(c.target ?? "—")),
        el("code", {}, c.local),
        c.poisoned ? el("span", { class: "poisoned" }, "poisoned") : el("code", {}, c.answer ?? ""),
        String(c.candidates),
      ],
      attrs: { "data-ref": `core:${i}` },
    })),
    "core",
  );
}

const PHASE_TEXT: Record<string, string> = {
  setup: "set-up",
  probes: "probes",
  btf: "BTF",
  maps: "maps",
  programs: "programs",
  attach: "attach",
  cleanup: "clean-up",
};

function timeline(load: LoadView, view: ObjectView): HTMLElement {
  const end = Math.max(1, ...load.syscalls.map((s) => s.start + s.duration));
  const root = el("div", { class: "timeline", "data-syscalls": load.syscalls.length });
  let phase: string | undefined;
  for (const s of load.syscalls) {
    if (s.phase !== phase) {
      phase = s.phase;
      root.append(el("h3", { class: "phase" }, PHASE_TEXT[s.phase] ?? s.phase));
    }
    for (const step of s.steps) root.append(el("div", { class: "step" }, show(step)));
    // The strace line is the tracer's own text: strace's escaping already applied.
    root.append(
      el(
        "div",
        { class: `row${s.failed ? " failed" : ""}`, title: `${(s.start / 1000).toFixed(3)} ms, ${s.duration.toFixed(1)} µs` },
        el("span", { class: "mono t" }, `${(s.start / 1000).toFixed(2)} ms`),
        el("div", { class: "track" }, el("i", { style: `left:${(100 * s.start) / end}%; width:${(100 * s.duration) / end}%` })),
        el("div", { class: "line syscall" }, s.line),
      ),
    );
  }
  const stats = view.programs.filter((p) => p.verifier);
  const bars = el("div", {}, el("h3", {}, "The verifier's work per program"));
  const most = Math.max(1, ...stats.map((p) => Math.max(p.verifier!.processed, p.compiled.length)));
  for (const p of stats) {
    const v = p.verifier!;
    bars.append(
      el(
        "div",
        { class: "vbar", "data-ref": `program:${p.name}` },
        el("code", {}, show(p.name)),
        el("div", { class: "track" }, el("i", { style: `width:${(100 * v.processed) / most}%` })),
        `${v.processed} insns processed of ${p.loaded?.length ?? p.compiled.length}; ${v.states} states (peak ${v.peakStates})`,
      ),
    );
  }
  return el(
    "div",
    {},
    load.error ? el("p", { class: "error" }, `The load failed: ${show(load.error)}`) : undefined,
    load.attached.length ? el("p", {}, `Attached: ${load.attached.map(show).join(", ")}`) : undefined,
    bars,
    el("h3", {}, `${load.syscalls.length} system calls, ${(end / 1000).toFixed(2)} ms`),
    load.readBack
      ? el(
          "p",
          { class: "sub", "data-read-back": load.readBack },
          `Not drawn: ${load.readBack} calls made after the load to read back the kernel's side for this page (xlated instructions, /proc/kallsyms, BTF).`,
        )
      : undefined,
    root,
  );
}

/** Click anything that refers to something: everything else that refers to it lights up. */
function linkHighlights(root: HTMLElement): void {
  root.addEventListener("click", (e) => {
    const line = (e.target as HTMLElement).closest(".timeline .row");
    if (line) line.classList.toggle("open");
    const target = (e.target as HTMLElement).closest("[data-ref]");
    if (!target) return;
    for (const h of root.querySelectorAll(".hl")) h.classList.remove("hl");
    const ref = target.getAttribute("data-ref")!;
    const scope = target.closest("section.object") ?? root;
    for (const m of scope.querySelectorAll(`[data-ref="${CSS.escape(ref)}"]`)) m.classList.add("hl");
  });
}

function dropZone(data: ReportData, into: HTMLElement): HTMLElement {
  const zone = el(
    "div",
    { class: "drop", id: "drop" },
    "Drop a .bpf.o here (and a BTF file with it, to apply CO-RE against it): it is parsed in this page, with no server and no kernel.",
  );
  const input = el("input", { type: "file", id: "drop-input", multiple: "", accept: ".o,.btf,*" }) as HTMLInputElement;
  zone.append(el("div", {}, input));
  const take = async (files: FileList | null) => {
    if (!files?.length) return;
    into.replaceChildren();
    let objectFile: File | undefined;
    let btfFile: File | undefined;
    for (const f of files) {
      const head = new Uint8Array(await f.slice(0, 4).arrayBuffer());
      if (head[0] === 0x7f && head[1] === 0x45) objectFile = f;
      else btfFile = f;
    }
    if (!objectFile) {
      into.append(el("p", { class: "error" }, "No ELF object among the dropped files."));
      return;
    }
    try {
      const bytes = new Uint8Array(await objectFile.arrayBuffer());
      const spec = parseObject(bytes, { path: objectFile.name });
      const target = btfFile
        ? { btf: Btf.parse(new Uint8Array(await btfFile.arrayBuffer())), against: `BTF of ${btfFile.name}` }
        : data.kernelTypes
          ? {
              btf: Btf.parse(Uint8Array.from(atob(data.kernelTypes), (c) => c.charCodeAt(0))),
              against: `the kernel types embedded in this page (from ${data.kernelTypesFrom ?? "a kernel"})`,
            }
          : undefined;
      const view = objectView(spec, bytes.byteLength, target ? { target } : {});
      into.append(el("h2", {}, `Dropped: ${show(objectFile.name)}`), objectSection(view, undefined, "dropped-object"));
    } catch (e) {
      into.append(el("p", { class: "error", id: "drop-error" }, show((e as Error).message)));
    }
  };
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    void take(e.dataTransfer?.files ?? null);
  });
  input.addEventListener("change", () => void take(input.files));
  return zone;
}

function main(): void {
  const data = JSON.parse(document.getElementById("report-data")!.textContent!) as ReportData;
  const root = document.getElementById("report")!;
  const view = data.object;
  root.append(
    el("h1", {}, `${show(view.name)}`),
    el(
      "p",
      { class: "sub" },
      `tsbpf ${data.tsbpfVersion} · ${view.fileSize} bytes · license ${show(view.inspect.license)}` +
        (view.coreAgainst ? ` · CO-RE against ${view.coreAgainst}` : ""),
    ),
    el(
      "nav",
      { class: "toc" },
      ...(
        [
          ["#the-object", "the object"],
          ["#object .program", "instructions"],
          ["#object table.core", "CO-RE"],
          ["#the-load", "the load"],
          ["#another", "drop another object"],
        ] as const
      ).map(([target, text]) => {
        const a = el("a", { href: target.startsWith("#") && !target.includes(" ") ? target : "#" }, text);
        a.addEventListener("click", (e) => {
          e.preventDefault();
          document.querySelector(target)?.scrollIntoView();
        });
        return a;
      }),
    ),
    el("h2", { id: "the-object" }, "The object"),
    objectSection(view, data.set, "object"),
    el("h2", { id: "the-load" }, "The load"),
    data.load ? timeline(data.load, view) : el("p", { class: "sub" }, `Not loaded: ${data.noLoad ?? "no load recorded"}.`),
  );
  const dropped = el("div", { id: "dropped" });
  root.append(el("h2", { id: "another" }, "Another object"), dropZone(data, dropped), dropped);
  linkHighlights(root);
}

main();
