/**
 * __weak kfuncs, as libbpf binds them: one this kernel has and one no
 * kernel has, each called only when its address is non-zero. The missing
 * one's address is 0 and its call is poisoned, so the verifier removes the
 * guarded call as dead code; nothing points at fd 0. Unguarded, the load is
 * refused with an error that names the kfunc. Oracle: bpftool prog loadall.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { VerifierError } from "../src/programs/prog-load.js";
import { BpfCmd } from "../src/abi/uapi-enums.js";
import { observeSyscalls } from "../src/syscall/kernel.js";
import { type BpfRequest, isBpfCmd } from "../src/syscall/requests.js";
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, CALL, LD_IMM64, decodeInstructions } from "../src/insn/insn.js";
import { HAVE_BPFTOOL, boundMapNames, bpftoolLoadAll, normalisedXlated } from "./helpers/oracle.js";
import { kernelHasSymbol, skipBecause } from "./helpers/kernel-facts.js";
import { thrownBy } from "./helpers/thrown.js";

const OBJ = "bpf/weak_kfunc.bpf.o";
const UNGUARDED = "bpf/weak_kfunc_unguarded.bpf.o";

const u64 = (obj: BpfObject, name: string) => {
  const b = obj.variable(name);
  return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
};

describe("__weak kfuncs", () => {
  it("loads and runs: the real one called, the missing one's address 0 and its call gone", (ctx) => {
    if (!kernelHasSymbol("bpf_rcu_read_lock"))
      skipBecause(ctx, "this kernel has no kfunc bpf_rcu_read_lock (6.2+): no __weak kfunc it has to call");
    const loads: BpfRequest<BpfCmd.PROG_LOAD>[] = [];
    const stop = observeSyscalls((req) => {
      if (isBpfCmd(req, BpfCmd.PROG_LOAD)) loads.push(req);
    });
    using obj = BpfObject.open(OBJ);
    try {
      obj.load();
    } finally {
      stop();
    }
    expect(obj.program("call_weak_kfuncs").testRun().retval).toBe(0);
    expect(u64(obj, "real_present")).toBe(1n);
    expect(u64(obj, "real_called")).toBe(1n);
    expect(u64(obj, "missing_present")).toBe(0n);
    expect(u64(obj, "missing_result")).toBe(7n); // never called

    // What was sent: no fd_array; the missing kfunc's address load is a plain 0, the real one's
    // a BTF id; the real calls are kfunc calls, the missing one a call to no helper.
    const [load] = loads;
    expect(loads).toHaveLength(1);
    expect(load!.values.fd_array ?? null).toBeNull();
    const insns = decodeInstructions(load!.values.insns as Uint8Array, "sent");
    const addressLoads = insns.filter((i) => i.opcode === LD_IMM64 && i.src !== 2).map((i) => [i.src, i.imm === 0]);
    expect(addressLoads).toEqual([
      [0, true], // bpf_tsbpf_no_such_kfunc
      [BPF_PSEUDO_BTF_ID, false], // bpf_rcu_read_lock
      [0, true], // bpf_tsbpf_no_such_kfunc again
    ]);
    const calls = insns.filter((i) => i.opcode === CALL).map((i) => [i.src, i.imm]);
    expect(calls.map(([src]) => src)).toEqual([BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_KFUNC_CALL, 0]);
    // libbpf's poison: a helper id of 2002000000 + the extern's index (here among 3 kfuncs).
    expect(calls[2]![1]! - 2002000000).toBeGreaterThanOrEqual(0);
    expect(calls[2]![1]! - 2002000000).toBeLessThan(3);
  });

  it("unguarded, the missing kfunc's call is refused with an error naming it", () => {
    const err = thrownBy(() => BpfObject.open(UNGUARDED).load());
    expect(err).toBeInstanceOf(VerifierError);
    const msg = (err as Error).message;
    expect(msg).toContain(
      "kfunc bpf_tsbpf_no_such_kfunc is declared __weak and this kernel does not have it, but the program calls it where the verifier cannot prove the call dead",
    );
    expect(msg).toContain("invalid func unknown#2002000000");
    expect(msg).not.toContain("fd 0 is not pointing");
  });

  it.runIf(HAVE_BPFTOOL)("the same translated instructions as libbpf's load; libbpf refuses the unguarded call too", () => {
    const libbpf = bpftoolLoadAll(OBJ);
    try {
      using obj = BpfObject.open(OBJ);
      obj.load();
      const theirs = normalisedXlated(libbpf.progs.get("call_weak_kfuncs")!);
      expect(theirs.length).toBeGreaterThan(15);
      expect(normalisedXlated(obj.program("call_weak_kfuncs").fd)).toEqual(theirs);
      expect(boundMapNames(obj.program("call_weak_kfuncs").fd)).toEqual(boundMapNames(libbpf.progs.get("call_weak_kfuncs")!));
    } finally {
      libbpf.close();
    }
    const dir = "/sys/fs/bpf/tsbpf-test-weak-kfunc-unguarded";
    try {
      const r = spawnSync("bpftool", ["prog", "loadall", UNGUARDED, dir], { encoding: "utf8" });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("prog 'call_missing_kfunc': BPF program load failed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("___flavour suffixes: the flavour whose prototype matches the kernel's binds, the other reads as 0", (ctx) => {
    if (!kernelHasSymbol("bpf_rcu_read_lock"))
      skipBecause(ctx, "this kernel has no kfunc bpf_rcu_read_lock (6.2+): nothing for a flavour to bind to");
    using obj = BpfObject.open("bpf/kfunc_flavours.bpf.o");
    obj.load();
    expect(obj.program("call_flavours").testRun().retval).toBe(0);
    expect(u64(obj, "right_present")).toBe(1n);
    expect(u64(obj, "wrong_present")).toBe(0n);
    expect(u64(obj, "right_called")).toBe(1n);
  });
});
