/**
 * The report's pure parts: the object view agrees with inspect and the
 * disassembler, the kernel-type subset answers every CO-RE relocation as
 * the whole BTF does, and the page's inline JSON cannot be broken out of.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { annotateInstructions, annotationContext } from "../src/disasm/disasm.js";
import { Btf } from "../src/btf/btf.js";
import { btfSubset } from "../src/report/btf-subset.js";
import { coreReports, objectView } from "../src/report/object-view.js";
import { renderReportPage } from "../src/report/page.js";
import type { ReportData } from "../src/report/report-data.js";
import { inspectObject } from "../src/spec/inspect.js";
import { parseObject } from "../src/spec/object-spec.js";

const bootstrap = () => parseObject(new Uint8Array(readFileSync("bpf/bootstrap.bpf.o")), { path: "bpf/bootstrap.bpf.o" });

describe("objectView", () => {
  it("holds inspect's report and the disassembler's rows, one per instruction", () => {
    const spec = bootstrap();
    const view = objectView(spec, 1234);
    expect(view.inspect).toEqual(inspectObject(spec));
    expect(view.fileSize).toBe(1234);
    const p = spec.programs[0]!;
    const listing = annotateInstructions(p.insns, annotationContext(spec), { bytes: false, source: false });
    const insnLines = listing.split("\n").filter((l) => /^\s+\d+:\t/.test(l));
    expect(view.programs[0]!.compiled.map((r) => r.text)).toEqual(insnLines.map((l) => l.split("\t")[1]!.split("\t;")[0]));
    // No target BTF given: CO-RE is not applied, and the table says so by being empty.
    expect(view.core).toEqual([]);
    expect(view.programs[0]!.loaded).toBeUndefined();
    expect(view.programs[0]!.compiled.filter((r) => r.ref?.startsWith("map:")).length).toBeGreaterThan(0);
  });
});

describe("btfSubset", () => {
  it("answers every CO-RE relocation as the whole BTF does, in a fraction of its size", () => {
    const spec = bootstrap();
    const whole = spec.btf!.btf;
    const full = coreReports(spec, whole);
    expect(full.length).toBe(6);
    const bytes = btfSubset(whole, full);
    const subset = Btf.parse(bytes);
    expect(bytes.byteLength).toBeLessThan(whole.rawBytes().byteLength / 2);
    const again = coreReports(spec, subset);
    expect(again.map((r) => [r.kindName, r.localSpec, r.targetSpec, r.targetValue, r.poisoned])).toEqual(
      full.map((r) => [r.kindName, r.localSpec, r.targetSpec, r.targetValue, r.poisoned]),
    );
  });
});

describe("renderReportPage", () => {
  it("keeps untrusted names inside the JSON: no early </script>, control bytes escaped in the title", () => {
    const spec = bootstrap();
    const view = objectView(spec, 1);
    const evil = "x</script><script>alert(1)</script>\u001b[31m\u2028";
    const data: ReportData = { object: { ...view, name: evil }, tsbpfVersion: "0" };
    const html = renderReportPage(data, "/* client */");
    expect(html.match(/<\/script>/g)!.length).toBe(2);
    expect(html).not.toContain("alert(1)</script>");
    expect(html).toContain("<title>tsbpf report: x&#60;/script&#62;&#60;script&#62;alert(1)&#60;/script&#62;\\x1b[31m");
    const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!;
    expect((JSON.parse(json) as ReportData).object.name).toBe(evil);
  });
});
