/**
 * The kept index of the running kernel's BTF (src/object/kernel-btf-index-cache.ts):
 * the first process writes it (under a temporary name, then renamed), the
 * next maps it instead of walking vmlinux's records and finds the same
 * types; an index that does not fit (damaged, another boot) is walked past
 * and rewritten; the CLI keeps it in $XDG_CACHE_HOME/tsbpf unless
 * TSBPF_CACHE=off; a directory that cannot be made only means no index.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Btf, typeIndexFits } from "../src/btf/btf.js";
import { buildEssentialNameTable, essentialNameTableFits, typesWithEssentialName } from "../src/core/essential-name-table.js";
import { essentialName } from "../src/core/names.js";
import { KERNEL_BTF_PATH } from "../src/object/kernel-btf.js";
import { defaultCacheDir } from "../src/object/kernel-btf-index-cache.js";

const ROOT = join(import.meta.dirname, "..");
const dist = (p: string) => JSON.stringify(join(ROOT, "dist", "src", p));
const CLI = join(ROOT, "dist", "src", "cli", "tsbpf.cjs");
const work = mkdtempSync(join(tmpdir(), "tsbpf-btfidx-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  typeCount: number;
  taskStruct: number[];
  lastOffset: number;
  /** Whether CO-RE candidate lookups use an essential-name table (kept or built). */
  tableAdopted: boolean;
  /** The traced calls on the index file and its directory, and every munmap. */
  calls: string[];
}

/** A fresh process that keeps the index in `dir` and parses vmlinux BTF once. */
function parseInFreshProcess(dir: string): Run {
  const script = `
    import { cacheKernelBtfIndex } from ${dist("object/kernel-btf-index-cache.js")};
    import { loadKernelBtf } from ${dist("object/kernel-btf.js")};
    import { startTracer } from ${dist("strace/tracer.js")};
    import { adoptedEssentialNameTable } from ${dist("core/essential-name-table.js")};
    const calls = [];
    const stop = startTracer((line) => { if (line.includes(${JSON.stringify(dir)}) || line.startsWith("munmap(")) calls.push(line); });
    cacheKernelBtfIndex(${JSON.stringify(dir)});
    const btf = loadKernelBtf();
    stop();
    const taskStruct = btf.idsByName("task_struct");
    const tableAdopted = adoptedEssentialNameTable(btf) !== undefined;
    console.log(JSON.stringify({ typeCount: btf.typeCount, taskStruct, lastOffset: btf.typeOffset(btf.typeCount - 1), tableAdopted, calls }));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Run;
}

const kernelBtf = () => new Uint8Array(readFileSync(KERNEL_BTF_PATH));

/** What a run found in vmlinux BTF (the same whether or not an index was kept). */
const types = ({ typeCount, taskStruct, lastOffset }: Run) => ({ typeCount, taskStruct, lastOffset });

describe("typeIndexFits", () => {
  const bytes = kernelBtf();
  const btf = Btf.parse(bytes, { inPlace: true });
  const own = btf.typeIndex();
  const copy = () => ({ offsets: own.offsets.slice(), nameOffs: own.nameOffs.slice() });

  it("a scan's own index fits; a shifted, short or renamed one does not", () => {
    expect(typeIndexFits(bytes, own)).toBe(true);
    const shifted = copy();
    shifted.offsets[499]! += 4;
    expect(typeIndexFits(bytes, shifted)).toBe(false);
    expect(typeIndexFits(bytes, { offsets: own.offsets.subarray(1), nameOffs: own.nameOffs.subarray(1) })).toBe(false);
    const short = { offsets: own.offsets.subarray(0, -1), nameOffs: own.nameOffs.subarray(0, -1) };
    expect(typeIndexFits(bytes, short)).toBe(false);
    const renamed = copy();
    renamed.nameOffs[998]! += 1;
    expect(typeIndexFits(bytes, renamed)).toBe(false);
  });

  it("Btf.parse walks the records past an index that does not fit, and answers the same", () => {
    const bad = copy();
    bad.offsets[499]! += 4;
    const parsed = Btf.parse(bytes, { inPlace: true, index: bad });
    expect(parsed.typeIndex().offsets).not.toBe(bad.offsets);
    expect([...parsed.typeIndex().offsets]).toEqual([...own.offsets]);
    const reused = Btf.parse(bytes, { inPlace: true, index: own });
    expect(reused.typeIndex().offsets).toBe(own.offsets);
    expect(reused.idsByName("task_struct")).toEqual(btf.idsByName("task_struct"));
  });
});

describe("vmlinux's essential-name table", () => {
  it("finds, for every name vmlinux has, the types a search of every type finds", () => {
    const btf = Btf.parse(kernelBtf(), { inPlace: true });
    const table = buildEssentialNameTable(btf)!;
    expect(essentialNameTableFits(btf, table)).toBe(true);
    const byName = new Map<string, number[]>();
    for (let id = 1; id < btf.typeCount; id++) {
      const name = btf.name(id);
      if (!name) continue;
      const essential = essentialName(name);
      const ids = byName.get(essential);
      if (ids) ids.push(id);
      else byName.set(essential, [id]);
    }
    expect(byName.size).toBeGreaterThan(50_000);
    const wrong = [...byName].filter(
      ([essential, ids]) => JSON.stringify(typesWithEssentialName(btf, table, essential)) !== JSON.stringify(ids),
    );
    expect(wrong).toEqual([]);
    expect(typesWithEssentialName(btf, table, "no_such_type_in_vmlinux")).toEqual([]);
  });
});

describe("the kept index across processes", () => {
  const dir = join(work, "nested", "tsbpf");
  const file = join(dir, "vmlinux.btfidx");
  let first: Run;

  it("the first process makes the directory and writes the index under its own name, then renames it", () => {
    first = parseInFreshProcess(dir);
    expect(first.calls.some((l) => l.startsWith("mkdirat(") && l.endsWith("= 0"))).toBe(true);
    expect(first.calls.some((l) => /^openat\(.*vmlinux\.btfidx\.\d+\.[0-9a-f]+", O_WRONLY\|O_CREAT\|O_EXCL/.test(l))).toBe(true);
    expect(first.calls.some((l) => l.startsWith("renameat2(") && l.endsWith("= 0"))).toBe(true);
    expect(readdirSync(dir)).toEqual(["vmlinux.btfidx"]);
    // 64-byte header, two u32 per type (void has no record), then the essential-name table's buckets and entries.
    const kept = readFileSync(file);
    const [buckets, entries] = [kept.readUInt32LE(40), kept.readUInt32LE(44)];
    expect(buckets & (buckets - 1)).toBe(0);
    expect(entries).toBeGreaterThan(50_000); // vmlinux's named types
    expect(kept.byteLength).toBe(64 + 8 * (first.typeCount - 1) + 4 * (buckets + 1 + entries));
    expect(first.tableAdopted).toBe(true);
  });

  it("the next maps it, writes nothing, and finds the same types", () => {
    const before = readFileSync(file);
    const next = parseInFreshProcess(dir);
    expect(next.calls.filter((l) => l.startsWith("openat(")).map((l) => l.replace(/ = \d+$/, ""))).toEqual([
      `openat(AT_FDCWD, "${dir}", O_RDONLY|O_CLOEXEC|O_PATH)`, // whose directory it is
      `openat(AT_FDCWD, "${file}", O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC)`,
    ]);
    expect(next.calls.some((l) => l.startsWith("renameat2(") || l.startsWith("munmap("))).toBe(false);
    expect(types(next)).toEqual(types(first));
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it("a damaged index is walked past and rewritten; so is one from another boot", () => {
    const good = readFileSync(file);
    const damaged = Buffer.from(good);
    damaged.writeUInt32LE(damaged.readUInt32LE(64 + 4 * 499) + 4, 64 + 4 * 499);
    writeFileSync(file, damaged);
    const afterDamage = parseInFreshProcess(dir);
    expect(afterDamage.calls.some((l) => l.startsWith("renameat2("))).toBe(true);
    // The mapping of the index that did not fit is released.
    expect(afterDamage.calls.filter((l) => l.startsWith("munmap(") && l.includes(`, ${good.byteLength}) = 0`))).toHaveLength(1);
    expect(types(afterDamage)).toEqual(types(first));
    expect(readFileSync(file).equals(good)).toBe(true);

    // Counts in the header that do not account for the file's size are refused before anything is sized by them.
    const hugeCounts = Buffer.from(good);
    hugeCounts.writeUInt32LE(0xfffffff0, 40);
    writeFileSync(file, hugeCounts);
    const afterCounts = parseInFreshProcess(dir);
    expect(afterCounts.calls.some((l) => l.startsWith("renameat2("))).toBe(true);
    expect(types(afterCounts)).toEqual(types(first));
    expect(readFileSync(file).equals(good)).toBe(true);

    const otherBoot = Buffer.from(good);
    otherBoot[24]! ^= 0xff;
    writeFileSync(file, otherBoot);
    const afterReboot = parseInFreshProcess(dir);
    expect(afterReboot.calls.some((l) => l.startsWith("renameat2("))).toBe(true);
    expect(readFileSync(file).equals(good)).toBe(true);
  });

  it("a damaged essential-name table is not used: built again and rewritten, with the index as it was", () => {
    const good = readFileSync(file);
    const count = good.readUInt32LE(20);
    const buckets = good.readUInt32LE(40);
    const damaged = Buffer.from(good);
    // Every entry 0: the sampled types are missing from their buckets.
    damaged.fill(0, 64 + 8 * count + 4 * (buckets + 1));
    writeFileSync(file, damaged);
    const run = parseInFreshProcess(dir);
    expect(run.tableAdopted).toBe(true);
    expect(run.calls.some((l) => l.startsWith("renameat2(") && l.endsWith("= 0"))).toBe(true);
    // The index itself fitted and was kept mapped: nothing unmapped.
    expect(run.calls.filter((l) => l.startsWith("munmap("))).toEqual([]);
    expect(types(run)).toEqual(types(first));
    expect(readFileSync(file).equals(good)).toBe(true);
  });

  it("not read when others could have written it: another user's, group- or world-writable, not a regular file", () => {
    const good = readFileSync(file);
    const notTaken = (prepare: () => void, why: string) => {
      rmSync(file, { force: true });
      prepare();
      const run = parseInFreshProcess(dir);
      // Opened (a FIFO without blocking), judged by its fstat, never mapped, then replaced by this process's own.
      expect(
        run.calls.some((l) => l.startsWith("mmap(")),
        why,
      ).toBe(false);
      expect(
        run.calls.some((l) => l.startsWith("renameat2(") && l.endsWith("= 0")),
        why,
      ).toBe(true);
      expect(types(run), why).toEqual(types(first));
      expect(readFileSync(file).equals(good), why).toBe(true);
      expect(statSync(file).mode & 0o022, why).toBe(0);
    };
    notTaken(() => {
      writeFileSync(file, good);
      chownSync(file, 65534, 65534);
    }, "another user's");
    notTaken(() => {
      writeFileSync(file, good);
      chmodSync(file, 0o664);
    }, "group-writable");
    notTaken(() => {
      writeFileSync(file, good);
      chmodSync(file, 0o646);
    }, "world-writable");
    notTaken(() => execFileSync("mkfifo", [file]), "a FIFO");
  });

  it("not into a directory of another user's (root through sudo with the caller's HOME)", () => {
    const home = join(work, "someone-else");
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    const run = parseInFreshProcess(join(home, ".cache", "tsbpf"));
    expect(run.calls.filter((l) => /^(mkdirat|renameat2)\(|O_CREAT/.test(l))).toEqual([]);
    expect(readdirSync(home)).toEqual([]);
    expect(run.tableAdopted).toBe(false);
    // Nor read from one: a file there could be that user's, whatever its owner says.
    const theirs = join(home, "tsbpf");
    mkdirSync(theirs);
    writeFileSync(join(theirs, "vmlinux.btfidx"), readFileSync(file));
    chownSync(theirs, 65534, 65534);
    const reader = parseInFreshProcess(theirs);
    expect(reader.calls.filter((l) => l.includes("vmlinux.btfidx"))).toEqual([]);
    expect(types(reader)).toEqual(types(first));
    expect(types(run)).toEqual(types(first));
  });

  it("a directory that cannot be made, or a file in the way: no index, no stray file, the same types", () => {
    // procfs refuses new directories (ENOENT), though root owns it.
    const refused = parseInFreshProcess("/proc/tsbpf-index-test/tsbpf");
    expect(refused.calls.some((l) => l.startsWith("mkdirat(") && l.includes("= -1 "))).toBe(true);
    expect(refused.calls.some((l) => /^renameat2\(|O_CREAT/.test(l))).toBe(false);
    expect(refused.tableAdopted).toBe(false);
    expect(types(refused)).toEqual(types(first));
    const blocker = join(work, "a-file");
    writeFileSync(blocker, "");
    const blocked = parseInFreshProcess(join(blocker, "tsbpf"));
    expect(blocked.calls.some((l) => /^(mkdirat|renameat2)\(|O_CREAT/.test(l))).toBe(false);
    expect(readFileSync(blocker, "utf8")).toBe("");
    expect(types(blocked)).toEqual(types(first));
  });
});

describe("the CLI keeps it", () => {
  const load = (env: Record<string, string>) =>
    spawnSync(process.execPath, [CLI, "load", "bpf/bootstrap.bpf.o", "--duration", "0.01"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, ...env },
    });

  it("in $XDG_CACHE_HOME/tsbpf, or ~/.cache/tsbpf", () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" })).toBe("/x/cache/tsbpf");
    expect(defaultCacheDir({ HOME: "/home/u" })).toBe("/home/u/.cache/tsbpf");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "relative", HOME: "/home/u" })).toBe("/home/u/.cache/tsbpf");
    expect(defaultCacheDir({})).toBeUndefined();
    const xdg = join(work, "xdg");
    const r = load({ XDG_CACHE_HOME: xdg });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(xdg, "tsbpf", "vmlinux.btfidx"))).toBe(true);
  });

  it("not with TSBPF_CACHE=off", () => {
    const xdg = join(work, "xdg-off");
    const r = load({ XDG_CACHE_HOME: xdg, TSBPF_CACHE: "off" });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(xdg)).toBe(false);
  });
});
