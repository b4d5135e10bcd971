/**
 * The report's one self-contained HTML file: styles, the data (JSON) and
 * the client script (the browser bundle of client.ts, which draws the page
 * from the data and parses dropped objects with tsbpf's pure half) all
 * inline — no network, opens from file://.
 */
import { escapeText } from "../text/escape.js";
import type { ReportData } from "./report-data.js";

/** JSON that cannot end its <script> element early: "<" never appears literally. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** A script body that cannot close its element ("</script" split). */
function scriptSafeCode(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1");
}

const htmlEscape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderReportPage(data: ReportData, clientScript: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>tsbpf report: ${htmlEscape(escapeText(data.object.name))}</title>
<style>${STYLE}</style>
</head>
<body>
<noscript>This report draws itself with JavaScript.</noscript>
<main id="report"></main>
<script type="application/json" id="report-data">${scriptSafeJson(data)}</script>
<script>${scriptSafeCode(clientScript)}</script>
</body>
</html>
`;
}

const STYLE = `
:root { --fg:#1d2430; --muted:#5b6675; --line:#d9dee5; --bg:#fff; --soft:#f5f7fa; --hl:#fff2b3;
  --code:#3558a8; --data:#3d8b5a; --rodata:#6aa57f; --bss:#b7d7c2; --maps:#b06b2c; --btf:#7b5aa6;
  --relocations:#c0504d; --symbols:#8a8f98; --strings:#b5bac2; --other:#d5d9df; --bad:#b3261e; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
main { max-width:1400px; margin:0 auto; padding:20px 28px 60px; }
h1 { font-size:22px; margin:0 0 4px; } h2 { font-size:17px; margin:32px 0 8px; padding-bottom:4px; border-bottom:1px solid var(--line); }
h3 { font-size:15px; margin:18px 0 6px; }
.sub { color:var(--muted); margin:0 0 12px; }
.toc { display:flex; gap:16px; font-size:13px; } .toc a { color:var(--code); text-decoration:none; } .toc a:hover { text-decoration:underline; }
.counts { display:flex; gap:18px; flex-wrap:wrap; margin:10px 0; }
.counts div { background:var(--soft); padding:6px 12px; border-radius:6px; } .counts b { font-size:18px; margin-right:4px; }
code, .mono, td.mono, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:12.5px; }
table { border-collapse:collapse; width:100%; margin:6px 0 12px; }
th, td { text-align:left; padding:3px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
.bar { display:flex; height:34px; border:1px solid var(--line); border-radius:4px; overflow:hidden; margin:8px 0 4px; }
.bar > div { min-width:2px; border-right:1px solid #fff; cursor:pointer; }
.bar > div.nobits { background-image: repeating-linear-gradient(45deg, transparent 0 4px, rgba(255,255,255,.7) 4px 8px); }
.legend { display:flex; gap:12px; flex-wrap:wrap; color:var(--muted); font-size:12px; }
.legend span::before { content:""; display:inline-block; width:10px; height:10px; margin-right:4px; vertical-align:-1px; background:var(--c); }
.k-code{--c:var(--code);background:var(--code)} .k-data{--c:var(--data);background:var(--data)} .k-rodata{--c:var(--rodata);background:var(--rodata)}
.k-bss{--c:var(--bss);background:var(--bss)} .k-maps{--c:var(--maps);background:var(--maps)} .k-btf{--c:var(--btf);background:var(--btf)}
.k-relocations{--c:var(--relocations);background:var(--relocations)} .k-symbols{--c:var(--symbols);background:var(--symbols)}
.k-strings{--c:var(--strings);background:var(--strings)} .k-other{--c:var(--other);background:var(--other)}
.legend span { background:none; }
.insns { table-layout:fixed; } .insns td { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size:12px; white-space:pre-wrap; word-break:break-all; padding:1px 6px; border-bottom:none; }
.insns .idx { width:44px; color:var(--muted); text-align:right; } .insns tr.src td { color:#6b7280; font-style:italic; padding-top:6px; }
.insns tr.label td { font-weight:600; padding-top:8px; }
.insns .note { color:var(--muted); } .insns td.changed { background:#eef4ff; }
.ref, .coresite { border-left:3px solid var(--maps); } .coresite { border-left-color: var(--btf); } .poisoned { color:var(--bad); }
.hl, tr.hl td { background:var(--hl) !important; }
[data-ref] { cursor:pointer; }
.timeline .row { display:grid; grid-template-columns: 72px 240px 1fr; gap:10px; align-items:center; cursor:pointer; }
.timeline .row:hover { background:var(--soft); }
.timeline .track { position:relative; height:10px; background:var(--soft); border-radius:2px; }
.timeline .track > i { position:absolute; top:0; height:10px; background:var(--code); border-radius:2px; min-width:2px; }
.timeline .failed .track > i { background:var(--bad); } .timeline .failed .line { color:var(--bad); }
.timeline .t { color:var(--muted); text-align:right; font-size:11.5px; }
.timeline .line { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size:11.5px; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
.timeline .row.open .line { white-space:pre-wrap; word-break:break-all; }
.timeline .step { margin:6px 0 1px 332px; color:var(--muted); font-size:12px; }
.phase { font-size:12px; color:var(--muted); text-transform:uppercase; }
.vbar { display:grid; grid-template-columns: 200px 1fr 220px; gap:8px; align-items:center; margin:3px 0; }
.vbar .track { background:var(--soft); height:14px; position:relative; } .vbar .track i { position:absolute; left:0; top:0; bottom:0; background:var(--btf); }
.drop { border:2px dashed var(--line); border-radius:8px; padding:22px; text-align:center; color:var(--muted); margin-top:8px; }
.drop.over { border-color:var(--code); color:var(--fg); }
.error { color:var(--bad); }
@media print { .drop { display:none; } main { max-width:none; padding:0; } h2 { break-after:avoid; } }
`;
