/**
 * `tsbpf report <obj> [-o FILE] [--no-load] [--btf FILE] [--set NAME=VALUE]`:
 * one self-contained HTML page of an object and its load — the object
 * (sections to scale, programs, maps, globals, symbols), each program's
 * instructions as compiled, as loaded and as the kernel translated them,
 * the load's syscalls on a time axis with their --trace lines and --explain
 * narration, the verifier's statistics and every CO-RE relocation.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { btfSubset } from "../report/btf-subset.js";
import { coreReports, objectView } from "../report/object-view.js";
import { renderReportPage } from "../report/page.js";
import type { ReportData } from "../report/report-data.js";
import { hasCoreRelocations } from "../spec/relocate.js";
import { parseObject } from "../spec/object-spec.js";
import { lackedCapabilities } from "../syscall/capabilities.js";
import { escapeText } from "../text/escape.js";
import { parseArgs, UsageError } from "./args.js";
import { type CoreTarget, readCoreTarget } from "./core-target.js";
import { readInputFile } from "./input-file.js";
import { packageVersion } from "./package-version.js";
import { printErr } from "./output.js";
import { recordLoad, setValues } from "./report-load.js";
import { BpfObject } from "../object/bpf-object.js";
import { SET_HELP } from "./set-option.js";
import { startTraceOption, TRACE_HELP, TRACE_OPTION } from "./trace-option.js";

export const REPORT_HELP = `usage: tsbpf report <obj.bpf.o> [options]

Writes one self-contained HTML page (no network; opens from file://) that
shows an object and its load: ELF sections to scale, programs, maps with
their C types, globals; each program's instructions as compiled, as loaded
(the bytes PROG_LOAD sent) and as the kernel translated them (xlated), with
relocation sites marked and source lines interleaved; every syscall of the
load on a time axis with its strace line and what the load was doing; the
verifier's statistics; every CO-RE relocation. Click a map, a relocation or
a section and what refers to it lights up. Drop another .bpf.o on the page
and it is parsed there, in the browser.

The load (when privileged) attaches, then detaches and closes everything
before the page is written.

options:
  -o, --output FILE  where to write the page (default: OBJECT.report.html)
  --no-load          the object only: no kernel calls (CO-RE is still shown
                     against the running kernel's BTF, or --btf)
  --btf FILE         apply CO-RE against this BTF instead of the kernel's
${SET_HELP}
${TRACE_HELP}
`;

/** The browser bundle of the page's script, built beside this module's folder by scripts/bundle-report.mjs. */
function clientScript(): string {
  return readFileSync(new URL("../report/client.bundle.js", import.meta.url), "utf8");
}

export async function reportCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    output: { value: true, short: "-o" },
    "no-load": {},
    btf: { value: true },
    set: { value: true },
    help: { short: "-h" },
    ...TRACE_OPTION,
  });
  if (args.flags.has("help")) {
    printErr(REPORT_HELP);
    return 0;
  }
  const [path, ...extra] = args.positionals;
  if (!path) throw new UsageError("report needs an object file");
  if (extra.length) throw new UsageError(`unexpected argument ${escapeText(extra[0]!)}`);
  const output = args.options.get("output")?.[0] ?? `${path.replace(/^.*\//, "").replace(/(\.bpf)?\.o$/, "")}.report.html`;
  const bytes = readInputFile(path);
  const spec = parseObject(bytes, { path });
  const btfPath = args.options.get("btf")?.[0];
  const needsBtf = spec.programs.some(hasCoreRelocations);
  // The BTF CO-RE is applied against (read before any load is recorded: the same one for page and load).
  let target: CoreTarget | undefined;
  let targetError: string | undefined;
  if (needsBtf) {
    try {
      target = readCoreTarget(btfPath);
    } catch (e) {
      if (btfPath) throw e;
      targetError = (e as Error).message;
    }
  }
  const view = objectView(spec, bytes.byteLength, target ? { target } : {});
  const data: ReportData = { object: view, tsbpfVersion: packageVersion() };
  const set = args.options.get("set") ?? [];
  const lacked = lackedCapabilities(["CAP_BPF", "CAP_PERFMON"]);
  const privileged = lacked.length === 0 || lackedCapabilities(["CAP_SYS_ADMIN"]).length === 0;
  // Traced from here: the kernel's BTF was read above, so the trace and the page's time axis hold the same calls.
  const stopTrace = await startTraceOption(args);
  try {
    if (args.flags.has("no-load")) data.noLoad = "--no-load was given";
    else if (!privileged) data.noLoad = `not privileged (no ${lacked.join(", ")})`;
    if (data.noLoad) {
      // --set is checked and shown all the same (opening and setting make no syscalls).
      if (set.length) data.set = setValues(BpfObject.open(bytes, { path }), set);
    } else {
      const recorded = recordLoad(bytes, path, view, { set, targetBtf: target?.btf });
      data.load = recorded.load;
      if (set.length) data.set = recorded.set;
    }
  } finally {
    stopTrace();
  }
  if (target) {
    // Only the kernel types CO-RE reached, so a dropped object can be relocated in the page.
    data.kernelTypes = Buffer.from(btfSubset(target.btf, coreReports(spec, target.btf))).toString("base64");
    data.kernelTypesFrom = target.against;
  }
  writeFileSync(output, renderReportPage(data, clientScript()));
  const failed = data.load?.error;
  printErr(
    `tsbpf: wrote ${escapeText(output)}: ${view.programs.length} program(s), ${view.inspect.maps.length} map(s), ` +
      (data.load ? `${data.load.syscalls.length} syscalls recorded` : `not loaded (${data.noLoad})`) +
      (targetError ? `; CO-RE not shown: ${targetError}` : "") +
      "\n",
  );
  if (failed) {
    printErr(`tsbpf: the load failed (the page shows how far it got): ${escapeText(failed)}\n`);
    return 1;
  }
  return 0;
}
