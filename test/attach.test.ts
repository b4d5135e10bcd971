/**
 * Attach kinds against the real kernel, with attach.bpf.o: each program
 * counts its runs in counts[], the test triggers the hook and checks the
 * count moved; after destroy, nothing remains.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { ATTACH, count, openWith } from "./helpers/attach-object.js";
import { mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { ProgramRefusedError } from "../src/programs/prog-load.js";
import type { IterLink } from "../src/programs/attach/iter.js";
import { cgroup2Root } from "../src/programs/attach/cgroup.js";
import { UnsupportedError } from "../src/errors.js";
import { fentryVerdict, haveTcx } from "./helpers/kernel-facts.js";
import { thrownBy } from "./helpers/thrown.js";
import { NO_NEW_OBJECTS, kernelObjects, openFdCount, remainingKernelObjects, settle } from "./helpers/kernel.js";
import { waitUntil } from "./helpers/wait.js";

async function sendUdp(n: number): Promise<void> {
  const rx = createSocket("udp4");
  await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
  const tx = createSocket("udp4");
  for (let i = 0; i < n; i++) await new Promise<void>((r) => tx.send("ping", rx.address().port, "127.0.0.1", () => r()));
  await settle(20);
  tx.close();
  rx.close();
}

describe("attach kinds on the real kernel", () => {
  it("raw_tp/sys_enter fires for our syscalls", async () => {
    using obj = openWith("on_raw_tp");
    obj.setVariable("target_pid", process.pid);
    obj.load();
    const link = obj.program("on_raw_tp").attach();
    await settle(10);
    expect(count(obj, "SLOT_RAW_TP")).toBeGreaterThan(0n);
    link.destroy();
    const after = count(obj, "SLOT_RAW_TP");
    await settle(10);
    expect(count(obj, "SLOT_RAW_TP")).toBe(after);
  });

  it("tp_btf/sched_process_exec resolves its BTF id and fires on exec", () => {
    using obj = openWith("on_tp_btf");
    obj.load();
    obj.program("on_tp_btf").attach();
    spawnSync("/bin/true");
    expect(count(obj, "SLOT_TP_BTF")).toBeGreaterThan(0n);
  });

  it("xdp and tcx on a veth pair see packets from a network namespace the test creates (tcx: a clear error before 6.6)", async () => {
    const ns = `tsbpf-${process.pid}`;
    const host = `tsbh${process.pid % 100000}`;
    const peer = `tsbp${process.pid % 100000}`;
    const ip = (...a: string[]) => execFileSync("ip", a);
    ip("netns", "add", ns);
    try {
      ip("link", "add", host, "type", "veth", "peer", "name", peer);
      ip("link", "set", peer, "netns", ns);
      ip("addr", "add", "10.199.0.1/24", "dev", host);
      ip("link", "set", host, "up");
      ip("netns", "exec", ns, "ip", "addr", "add", "10.199.0.2/24", "dev", peer);
      ip("netns", "exec", ns, "ip", "link", "set", peer, "up");
      using obj = openWith("on_xdp", "on_tcx");
      obj.load();
      obj.program("on_xdp").attach({ interface: host });
      const tcx = haveTcx();
      if (tcx) obj.program("on_tcx").attach({ interface: host });
      else {
        const err = thrownBy(() => obj.program("on_tcx").attach({ interface: host }));
        expect(err).toBeInstanceOf(UnsupportedError);
        expect((err as Error).message).toBe(
          `attaching on_tcx to tcx on interface ${host}: tcx needs Linux 6.6 or later, and this kernel is ${release()} ` +
            "(bpf(BPF_LINK_CREATE) failed: EINVAL); on older kernels a sched_cls program attaches through tc's clsact qdisc instead",
        );
      }
      // Five UDP datagrams from inside the namespace to the host end of the pair.
      const send = `for i in 1 2 3 4 5; do printf x > /dev/udp/10.199.0.1/9; done`;
      execFileSync("ip", ["netns", "exec", ns, "bash", "-c", send]);
      // XDP on a veth runs in NAPI (softirq), which a busy machine may defer to ksoftirqd: wait for it.
      await waitUntil(() => count(obj, "SLOT_XDP") >= 5n && (!tcx || count(obj, "SLOT_TCX") >= 5n), 5_000);
      expect(count(obj, "SLOT_XDP")).toBeGreaterThanOrEqual(5n);
      if (tcx) expect(count(obj, "SLOT_TCX")).toBeGreaterThanOrEqual(5n);
      else expect(count(obj, "SLOT_TCX")).toBe(0n);
    } finally {
      ip("netns", "del", ns); // takes the veth pair with it
    }
  });

  it("cgroup_skb/egress on a cgroup the test creates sees only its members' packets", async () => {
    const cg = join(cgroup2Root(), `tsbpf-test-${process.pid}`);
    mkdirSync(cg);
    try {
      using obj = openWith("on_cgroup_skb");
      obj.load();
      obj.program("on_cgroup_skb").attach({ cgroup: cg });
      await sendUdp(3); // this process is not in the cgroup
      expect(count(obj, "SLOT_CGROUP_SKB")).toBe(0n);
      // A shell that joins the cgroup, then sends five datagrams.
      execFileSync("bash", ["-c", `echo $$ > ${cg}/cgroup.procs; for i in 1 2 3 4 5; do printf x > /dev/udp/127.0.0.1/9; done`]);
      expect(count(obj, "SLOT_CGROUP_SKB")).toBeGreaterThanOrEqual(5n);
    } finally {
      await settle(50);
      rmdirSync(cg);
    }
  });

  it("socket filters attach to a socket the user gives (SO_ATTACH_BPF)", async () => {
    using obj = openWith("on_socket");
    obj.load();
    const rx = createSocket("udp4");
    await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
    const fd = (rx as unknown as { _handle: { fd: number } })._handle.fd;
    const link = obj.program("on_socket").attach({ socketFd: fd });
    const tx = createSocket("udp4");
    const got = new Promise<void>((r) => rx.once("message", () => r()));
    tx.send("hello", rx.address().port, "127.0.0.1");
    await got;
    expect(count(obj, "SLOT_SOCKET")).toBeGreaterThanOrEqual(1n);
    link.destroy();
    tx.close();
    rx.close();
  });

  it("iter/task lists this process", () => {
    using obj = openWith("dump_tasks");
    obj.load();
    const link = obj.program("dump_tasks").attach() as IterLink;
    const text = link.readText();
    expect(text.split("\n")).toContain(
      `${process.pid} ${spawnSync("cat", [`/proc/${process.pid}/comm`], { encoding: "utf8" }).stdout.trim()}`,
    );
  });

  it("fentry fires where the kernel allows trampolines; where it refuses them (libbpf too), a clear error", async () => {
    const verdict = fentryVerdict();
    if (verdict.allowed) {
      using obj = openWith("on_fentry");
      obj.setVariable("target_pid", process.pid);
      obj.load();
      const link = obj.program("on_fentry").attach();
      readFileSync("/proc/self/comm"); // an openat of this process
      expect(count(obj, "SLOT_FENTRY")).toBeGreaterThan(0n);
      link.destroy();
      const after = count(obj, "SLOT_FENTRY");
      readFileSync("/proc/self/comm");
      await settle(10);
      expect(count(obj, "SLOT_FENTRY")).toBe(after);
    } else {
      expect(verdict.refusal).toContain("prog 'probe_fentry': BPF program load failed: Operation not permitted");
      const err = thrownBy(() => openWith("on_fentry").load());
      expect(err).toBeInstanceOf(ProgramRefusedError);
      expect((err as Error).message).toMatch(/EPERM.*does not allow trampoline attachment/s);
    }
  });

  it("a missing tp_btf target is a clear error naming it", () => {
    const obj = BpfObject.open(ATTACH);
    for (const p of obj.spec.programs) obj.setAutoload(p.name, p.name === "on_tp_btf");
    obj.editProgram("on_tp_btf").setAttachTarget("no_such_tracepoint");
    expect(() => obj.load()).toThrow(/no raw tracepoint "no_such_tracepoint" in the kernel/);
  });

  it("leaves nothing behind", async () => {
    const before = kernelObjects();
    const fds = openFdCount();
    {
      using obj = openWith("on_raw_tp", "on_xdp", "dump_tasks");
      obj.load();
      obj.program("on_raw_tp").attach();
      obj.program("on_xdp").attach({ interface: "lo" });
      (obj.program("dump_tasks").attach() as IterLink).read();
    }
    await settle(200);
    expect(await remainingKernelObjects(before)).toEqual(NO_NEW_OBJECTS);
    expect(openFdCount()).toBe(fds);
  });
});
