/**
 * Externs against the real kernel: .kconfig values, a __weak option the
 * config lacks, an untyped __ksym from kallsyms, kfunc calls, and
 * bpf_loop / bpf_for_each_map_elem callbacks.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { kernelVersionCode } from "../src/syscall/kernel-version.js";
import { kernelConfigText, kernelHasSymbol, kernelRelease } from "./helpers/kernel-facts.js";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
const read = (obj: BpfObject, name: string): bigint => {
  const b = obj.variable(name);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return b.byteLength === 8 ? v.getBigUint64(0, true) : BigInt(v.getInt32(0, true));
};

describe("externs on the real kernel", () => {
  it("resolves kconfig, ksyms, kfuncs and callbacks", () => {
    using obj = BpfObject.open("bpf/externs.bpf.o");
    expect(obj.spec.externs.map((e) => `${e.kind}:${e.name}`).sort()).toContain("ksym_func:bpf_task_from_pid");
    obj.setVariable("lookup_pid", process.pid);
    obj.load();
    for (let i = 0; i < 4; i++) obj.map("numbers").update(u32(i), u64(BigInt(i * 10)));
    expect(obj.program("read_externs").testRun().retval).toBe(0);

    expect(read(obj, "kernel_version")).toBe(BigInt(kernelVersionCode(...kernelRelease())));
    const config = kernelConfigText();
    if (config === undefined) throw new Error("no kernel config (/proc/config.gz or /boot/config-$(uname -r)) to compare with");
    expect(read(obj, "config_bpf")).toBe(config.includes("\nCONFIG_BPF=y\n") ? 1n : 0n);
    expect(read(obj, "config_hz")).toBe(BigInt(config.match(/\nCONFIG_HZ=(\d+)\n/)![1]!));
    expect(read(obj, "missing_option")).toBe(0n);
    const kallsyms = readFileSync("/proc/kallsyms", "utf8").match(/^([0-9a-f]+) T bpf_map_put$/m)![1]!;
    expect(read(obj, "ksym_addr")).toBe(BigInt(`0x${kallsyms}`));
    // kfuncs bpf_task_from_pid / bpf_task_release (6.2+, __weak): called only where the kernel has them.
    expect(read(obj, "task_tgid")).toBe(kernelHasSymbol("bpf_task_from_pid") ? BigInt(process.pid) : -1n);
    expect(read(obj, "loop_sum")).toBe(45n); // bpf_loop(10) callback: 0 + 1 + ... + 9
    expect(read(obj, "map_sum")).toBe(60n); // bpf_for_each_map_elem: 0 + 10 + 20 + 30
  });

  it("lays out the .kconfig map like libbpf and names it <obj>.kconfig", () => {
    const obj = BpfObject.open("bpf/externs.bpf.o");
    const kconfig = obj.spec.maps.find((m) => m.sectionName === ".kconfig")!;
    expect(kconfig.name).toBe("externs.kconfig");
    const offsets = Object.fromEntries(obj.spec.externs.filter((e) => e.kind === "kconfig").map((e) => [e.name, e.offset]));
    // Larger alignment first: the 4-byte ints, then the 1-byte bools.
    expect(Object.keys(offsets).sort()).toEqual(["CONFIG_BPF", "CONFIG_HZ", "CONFIG_TSBPF_NO_SUCH_OPTION", "LINUX_KERNEL_VERSION"]);
    expect([offsets.CONFIG_HZ, offsets.LINUX_KERNEL_VERSION, offsets.CONFIG_BPF, offsets.CONFIG_TSBPF_NO_SUCH_OPTION]).toEqual([
      0, 4, 8, 9,
    ]);
    expect(kconfig.valueSize).toBe(10); // libbpf: the end of the last value, not rounded up
    expect(kconfig.freeze).toBe(true);
  });
});
