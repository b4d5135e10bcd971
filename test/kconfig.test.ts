/**
 * .kconfig externs as libbpf lays them out and fills them, on the real
 * kernel, against libbpf itself (bpftool prog loadall of the same object):
 * bpf/kconfig.bpf.o has externs of every size and alignment and two strings
 * longer than their arrays. Compared: the .kconfig map (value_size, flags,
 * contents as bpftool dumps them), the DATASEC in the BTF each loader gave
 * the kernel, the program's translated instructions, the truncation warnings.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { kernelConfigText } from "./helpers/kernel-facts.js";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { parseObject } from "../src/spec/object-spec.js";
import { closeFd } from "../src/syscall/bpf.js";
import { fdById, mapInfo, progInfo } from "../src/syscall/obj-info.js";
import { HAVE_BPFTOOL, boundMapNames, bpftool, bpftoolLoadAll, normalisedXlated } from "./helpers/oracle.js";

const OBJ = "bpf/kconfig.bpf.o";
const config = new Map(
  (kernelConfigText() ?? "").split("\n").flatMap((l) => {
    const m = l.match(/^(CONFIG_\w+)=(.*)$/);
    return m ? [[m[1]!, m[2]!] as const] : [];
  }),
);
const str = (name: string) => config.get(name)?.replace(/^"(.*)"$/, "$1");

/** The .kconfig map bound to a program: its info, and the DATASEC of the BTF it was created with. */
function kconfigOf(progFd: number) {
  for (const id of progInfo(progFd).mapIds) {
    const fd = fdById("map", id);
    const info = mapInfo(fd);
    closeFd(fd);
    if (!info.name.endsWith(".kconfig")) continue;
    const btf = bpftool("btf", "dump", "id", String(info.btfId));
    const datasec = btf.slice(btf.indexOf("DATASEC '.kconfig'")).split(/\n(?=\[)/)[0]!;
    return { info, datasec, dump: JSON.parse(bpftool("-j", "map", "dump", "id", String(id))) as unknown };
  }
  throw new Error("no .kconfig map bound");
}

describe("the .kconfig map", () => {
  it("is laid out as libbpf lays it out: by alignment, then size, then name; as large as its last value's end", () => {
    const spec = parseObject(readFileSync(OBJ), { path: OBJ });
    const layout = spec.externs.filter((e) => e.kind === "kconfig").map((e) => `${e.name}@${e.offset}+${e.size}`);
    // Worked out by hand from libbpf's cmp_externs and bpf_object__collect_externs.
    expect(layout.sort((a, b) => Number(a.split("@")[1]!.split("+")[0]) - Number(b.split("@")[1]!.split("+")[0]))).toEqual([
      "CONFIG_PHYSICAL_START@0+8",
      "CONFIG_BPF_JIT@8+4",
      "CONFIG_HZ@12+4",
      "LINUX_KERNEL_VERSION@16+4",
      "CONFIG_NR_CPUS@20+2",
      "CONFIG_BPF@22+1",
      "CONFIG_DEFAULT_HOSTNAME@23+1",
      "CONFIG_LOG_BUF_SHIFT@24+1",
      "CONFIG_DEFAULT_INIT@25+3",
      "CONFIG_CC_VERSION_TEXT@28+5",
      "CONFIG_LOCALVERSION@33+13",
    ]);
    expect(spec.maps.find((m) => m.sectionName === ".kconfig")!.valueSize).toBe(46);
  });

  it("truncates strings longer than their array, NUL-terminated, with a warning", () => {
    const warnings: string[] = [];
    using obj = BpfObject.open(OBJ, {
      onStep: (step) => {
        if (step.kind === "warning") warnings.push(step.message);
      },
    });
    obj.load();
    expect(obj.program("read_kconfig").testRun().retval).toBe(0);
    const text = (name: string) => Buffer.from(obj.variable(name)).toString("latin1");
    const hostname = str("CONFIG_DEFAULT_HOSTNAME")!;
    expect(hostname.length).toBeGreaterThan(0); // so char[1] really truncates
    expect(text("hostname")).toBe("\0");
    const cc = str("CONFIG_CC_VERSION_TEXT");
    expect(text("cc_version")).toBe(cc === undefined ? "\0\0\0\0\0" : `${cc.slice(0, 4)}\0`.padEnd(5, "\0"));
    const lv = str("CONFIG_LOCALVERSION") ?? "";
    expect(text("localversion")).toBe(lv.slice(0, 12).padEnd(13, "\0"));
    expect(warnings).toContain(
      `extern CONFIG_DEFAULT_HOSTNAME: the kernel's value ${JSON.stringify(hostname)} (${hostname.length} bytes) does not fit char[1]; truncated to 0 bytes and a NUL, as libbpf does`,
    );
    expect(warnings.length).toBe(1 + (cc !== undefined && cc.length >= 5 ? 1 : 0) + (lv.length >= 13 ? 1 : 0));
    const u64 = (name: string) => new DataView(obj.variable(name).buffer, obj.variable(name).byteOffset).getBigUint64(0, true);
    expect(u64("hz")).toBe(BigInt(config.get("CONFIG_HZ")!));
    expect(u64("bpf")).toBe(1n);
    expect(u64("nr_cpus")).toBe(BigInt(config.get("CONFIG_NR_CPUS") ?? 0) & 0xffffn);
    expect(u64("physical_start")).toBe(BigInt(config.get("CONFIG_PHYSICAL_START") ?? 0));
    expect(u64("log_buf_shift")).toBe(BigInt(config.get("CONFIG_LOG_BUF_SHIFT") ?? 0));
    expect(u64("bpf_jit")).toBe({ y: 1n, m: 2n }[config.get("CONFIG_BPF_JIT") ?? ""] ?? 0n);
  });

  it("tsbpf load prints the truncation warning without -v", () => {
    const r = spawnSync(process.execPath, ["dist/src/cli/tsbpf.cjs", "load", OBJ, "--duration", "0.1"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^tsbpf: warning: extern CONFIG_DEFAULT_HOSTNAME: .* truncated to 0 bytes and a NUL/m);
  });

  it.runIf(HAVE_BPFTOOL)("equals libbpf's: value_size, flags, DATASEC, contents, instructions, warnings", () => {
    const libbpf = bpftoolLoadAll(OBJ);
    try {
      using obj = BpfObject.open(OBJ);
      obj.load();
      const theirs = kconfigOf(libbpf.progs.get("read_kconfig")!);
      const ours = kconfigOf(obj.program("read_kconfig").fd);
      expect(theirs.info.valueSize).toBe(46);
      expect(ours.info).toMatchObject({ valueSize: theirs.info.valueSize, flags: theirs.info.flags, name: theirs.info.name });
      expect(ours.datasec).toContain("DATASEC '.kconfig' size=46 vlen=11");
      expect(ours.datasec).toBe(theirs.datasec);
      expect(ours.dump).toEqual(theirs.dump);
      expect(normalisedXlated(obj.program("read_kconfig").fd)).toEqual(normalisedXlated(libbpf.progs.get("read_kconfig")!));
      expect(boundMapNames(obj.program("read_kconfig").fd)).toEqual(boundMapNames(libbpf.progs.get("read_kconfig")!));
      expect(libbpf.stderr).toContain("extern (kcfg) 'CONFIG_DEFAULT_HOSTNAME': long string");
    } finally {
      libbpf.close();
    }
  });
});
