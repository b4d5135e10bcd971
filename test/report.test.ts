/**
 * `tsbpf report` in a real browser: Debian's chromium, headless, driven by
 * puppeteer-core (no browser download). Each page is opened from file://;
 * what it shows is checked against the same run's --trace, `tsbpf inspect
 * --json` and bpftool's xlated dump length; a click and a drop are real
 * DOM events. Screenshots go to test-artifacts/report/ for a person to see.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = resolve("test-artifacts/report");
const work = mkdtempSync(join(tmpdir(), "tsbpf-report-"));
let browser: Browser;

const tsbpf = (...args: string[]) => spawnSync(process.execPath, ["dist/src/cli/tsbpf.cjs", ...args], { encoding: "utf8" });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const errors: string[] = [];
  const requests: string[] = [];
  const url = `file://${file}`;
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  await page.goto(url, { waitUntil: "load" });
  return { page, errors, requests };
}

/** Every fd the trace shows being created is closed again in the trace (the report cleans up before it writes). */
function fdsLeftOpen(trace: string): number[] {
  const open = new Set<number>();
  for (const line of trace.split("\n")) {
    if (line.startsWith("    # ")) continue;
    const close = /^close\((\d+)\)\s+= 0$/.exec(line);
    if (close) open.delete(Number(close[1]));
    const created = /^(bpf|perf_event_open|openat|socket|epoll_create1|eventfd2|dup)\(.*\)\s+= (\d+)$/.exec(line);
    if (created && !/^bpf\(BPF_(MAP_UPDATE_ELEM|MAP_FREEZE|OBJ_GET_INFO_BY_FD|MAP_LOOKUP_ELEM|PROG_BIND_MAP|LINK_DETACH)/.test(line)) {
      open.add(Number(created[2]));
    }
  }
  return [...open];
}

const OBJECTS = ["bootstrap", "minimal", "globals"];

describe.runIf(existsSync(CHROMIUM))("tsbpf report, in chromium", () => {
  it.each(OBJECTS)("%s.bpf.o: the page agrees with inspect, --trace and the kernel; no errors, no network", async (name) => {
    const html = join(work, `${name}.html`);
    const traceFile = join(work, `${name}.trace`);
    const r = tsbpf("report", `bpf/${name}.bpf.o`, "-o", html, `--trace=${traceFile}`);
    expect(r.status, r.stderr).toBe(0);
    if (name === "bootstrap") expect(statSync(html).size).toBeLessThan(1.5 * 1024 * 1024);
    const trace = readFileSync(traceFile, "utf8");
    expect(fdsLeftOpen(trace)).toEqual([]);
    const inspect = JSON.parse(tsbpf("inspect", `bpf/${name}.bpf.o`, "--json").stdout);

    const { page, errors, requests } = await open(html);
    const counts = await page.$eval("#object", (e) => ({
      programs: Number(e.getAttribute("data-programs")),
      maps: Number(e.getAttribute("data-maps")),
      sections: Number(e.getAttribute("data-sections")),
      relocations: Number(e.getAttribute("data-relocations")),
      programRows: e.querySelectorAll("table.programs tbody tr").length,
      mapRows: e.querySelectorAll("table.maps tbody tr").length,
      sectionRows: e.querySelectorAll("table.sections tbody tr").length,
      sectionBars: e.querySelectorAll(".bar > div").length,
    }));
    expect(counts).toEqual({
      programs: inspect.programs.length,
      maps: inspect.maps.length,
      sections: inspect.sections.length,
      relocations: inspect.relocations.length,
      programRows: inspect.programs.length,
      mapRows: inspect.maps.length,
      sectionRows: inspect.sections.length,
      sectionBars: inspect.sections.length,
    });

    // Every syscall of the run: drawn on the time axis, or counted as read back for the page.
    const syscallLines = trace.split("\n").filter((l) => l && !l.startsWith("    # "));
    const drawn = await page.$$eval(".timeline .row .line", (ls) => ls.map((l) => l.textContent));
    const readBack = await page.$eval("[data-read-back]", (e) => Number(e.getAttribute("data-read-back"))).catch(() => 0);
    expect(drawn.length + readBack).toBe(syscallLines.length);
    // The drawn lines are --trace's own, in order (the read-back ones sit between load and attach).
    let at = 0;
    for (const line of drawn) {
      while (at < syscallLines.length && syscallLines[at] !== line) at++;
      expect(at, `drawn line not in the trace, in order: ${line}`).toBeLessThan(syscallLines.length);
      at++;
    }
    expect(drawn[0]).toBe(syscallLines[0]);
    expect(drawn.at(-1)).toBe(syscallLines.at(-1));

    // Three columns per program: compiled and loaded always match in length; xlated is what bpftool would list.
    const columns = await page.$$eval("#object .program", (ps) =>
      ps.map((p) => ({
        name: p.getAttribute("data-program"),
        compiled: Number(p.getAttribute("data-compiled")),
        loaded: Number(p.getAttribute("data-loaded")),
        xlated: Number(p.getAttribute("data-xlated")),
        loadedCells: [...p.querySelectorAll("td[data-col=loaded]")].filter((c) => c.textContent).length,
      })),
    );
    expect(columns.map((c) => c.name)).toEqual(inspect.programs.map((p: { name: string }) => p.name));
    for (const c of columns) {
      expect(c.loaded, c.name!).toBe(c.compiled);
      expect(c.loadedCells, c.name!).toBe(c.compiled);
      expect(c.xlated, c.name!).toBeGreaterThan(0);
    }
    // minimal's program is not rewritten by the kernel: one xlated instruction per loaded one.
    if (name === "minimal") expect(columns[0]!.xlated).toBe(columns[0]!.loaded);

    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it("clicking a map relocation lights up that map and its other references", async () => {
    const html = join(work, "bootstrap.html");
    if (!existsSync(html)) expect(tsbpf("report", "bpf/bootstrap.bpf.o", "-o", html).status).toBe(0);
    const { page, errors } = await open(html);
    const before = await page.$$eval(".hl", (h) => h.length);
    expect(before).toBe(0);
    await page.click('#object .program tr.ref[data-ref="map:rb"] td:nth-child(2)');
    const lit = await page.$$eval(".hl", (h) =>
      h.map((e) => ({ tag: e.tagName, ref: e.getAttribute("data-ref"), table: e.closest("table")?.className })),
    );
    expect(lit.length).toBeGreaterThan(1);
    expect(lit.every((l) => l.ref === "map:rb")).toBe(true);
    expect(lit.some((l) => l.table === "maps")).toBe(true);
    // Both programs reserve from rb.
    expect(lit.filter((l) => l.table === "insns").length).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(ARTIFACTS, "bootstrap-click.png") });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a dropped object is parsed in the page, with CO-RE against the embedded kernel types", async () => {
    const html = join(work, "bootstrap.html");
    if (!existsSync(html)) expect(tsbpf("report", "bpf/bootstrap.bpf.o", "-o", html).status).toBe(0);
    const { page, errors, requests } = await open(html);
    const drop = async (file: string) => {
      const b64 = readFileSync(file).toString("base64");
      await page.evaluate(
        (data, fileName) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], fileName));
          document
            .getElementById("drop")!
            .dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        },
        b64,
        file.replace(/^.*\//, ""),
      );
      await page.waitForSelector("#dropped-object, #drop-error");
    };
    await drop("bpf/minimal.bpf.o");
    const minimal = await page.$eval("#dropped-object", (e) => ({
      programs: [...e.querySelectorAll("table.programs tbody tr td:first-child")].map((t) => t.textContent),
      maps: Number(e.getAttribute("data-maps")),
    }));
    const inspect = JSON.parse(tsbpf("inspect", "bpf/minimal.bpf.o", "--json").stdout);
    expect(minimal.programs).toEqual(inspect.programs.map((p: { name: string }) => p.name));
    expect(minimal.maps).toBe(inspect.maps.length);

    // bootstrap itself, dropped: its CO-RE answers in the browser equal the ones the CLI computed.
    await drop("bpf/bootstrap.bpf.o");
    const answers = (sel: string) => page.$$eval(`${sel} table.core tbody tr`, (rs) => rs.map((r) => r.textContent));
    const inPage = await answers("#dropped-object");
    expect(inPage.length).toBeGreaterThan(0);
    expect(inPage).toEqual(await answers("#object"));
    await page.screenshot({ path: join(ARTIFACTS, "dropped.png") });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it("--no-load: the object only, no syscall of a load", async () => {
    const html = join(work, "noload.html");
    const traceFile = join(work, "noload.trace");
    const r = tsbpf("report", "bpf/minimal.bpf.o", "-o", html, "--no-load", `--trace=${traceFile}`);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(traceFile, "utf8")).not.toMatch(/BPF_PROG_LOAD|BPF_MAP_CREATE/);
    const { page, errors } = await open(html);
    expect(await page.$(".timeline")).toBeNull();
    expect(await page.$eval("main", (m) => m.textContent)).toContain("Not loaded: --no-load was given.");
    expect(await page.$$eval("#object .program", (p) => p.length)).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("--set is checked and shown; a bad value is a usage error and writes nothing", async () => {
    const html = join(work, "set.html");
    const r = tsbpf("report", "bpf/bootstrap.bpf.o", "-o", html, "--set", "min_duration_ns=5_000_000");
    expect(r.status, r.stderr).toBe(0);
    const { page, errors } = await open(html);
    const row = await page.$$eval("#object table.globals tbody tr", (rs) =>
      rs.map((t) => [...t.querySelectorAll("td")].map((c) => c.textContent)).find((c) => c[0] === "min_duration_ns"),
    );
    expect(row?.slice(3)).toEqual(["0", "5000000"]);
    expect(errors).toEqual([]);
    await page.close();
    const bad = tsbpf("report", "bpf/bootstrap.bpf.o", "-o", join(work, "bad.html"), "--set", "min_duration_ns=-1");
    expect(bad.status).toBe(2);
    expect(bad.stderr.split("\n")[0]).toBe(
      "tsbpf: --set min_duration_ns=-1: min_duration_ns is const volatile unsigned long long (.rodata); it is unsigned; -1 is negative",
    );
    expect(existsSync(join(work, "bad.html"))).toBe(false);
  });
});

describe("tsbpf report without privileges", () => {
  it("shows the object only and says why; exit 0", () => {
    // A directory of its own that nobody may write (the suite's temp dir is root's alone).
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-report-nobody-"));
    chmodSync(dir, 0o777);
    const html = join(dir, "unprivileged.html");
    const r = spawnSync(
      "setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        process.execPath,
        "dist/src/cli/tsbpf.cjs",
        "report",
        "bpf/minimal.bpf.o",
        "-o",
        html,
      ],
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/not loaded \(not privileged \(no CAP_BPF, CAP_PERFMON\)\)/);
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(readFileSync(html, "utf8"))![1]!);
    expect(data.load).toBeUndefined();
    expect(data.object.programs.map((p: { name: string }) => p.name)).toEqual(["handle_tp"]);
    rmSync(dir, { recursive: true, force: true });
  });
});
