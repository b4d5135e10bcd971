/**
 * struct_ops on the real kernel: bpf/struct_ops.bpf.o (SEC(".struct_ops"))
 * and bpf/struct_ops_link.bpf.o (SEC(".struct_ops.link")) each hold a TCP
 * congestion control written in BPF (bpf/tcp_cc.h). Registered by
 * attach(), it appears in tcp_available_congestion_control; a TCP
 * connection over loopback in a network namespace of its own (a small C
 * program built here) selects it with setsockopt(TCP_CONGESTION) and sends
 * data, and the callbacks' counters show the kernel ran them; destroy()
 * unregisters it. libbpf (bpftool prog loadall) loads the same instructions.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BpfMapType, BpfProgType } from "../src/abi/uapi-enums.js";
import { BtfKind, type EnumType } from "../src/btf/types.js";
import { NotFoundError, UnsupportedError } from "../src/errors.js";
import { BpfObject } from "../src/object/bpf-object.js";
import type { LoadStep } from "../src/object/load-steps.js";
import { StructOpsPlan } from "../src/object/struct-ops.js";
import { loadKernelBtf } from "../src/object/kernel-btf.js";
import { parseObject } from "../src/spec/object-spec.js";
import { BPF_F_LINK } from "../src/spec/struct-ops.js";
import { mapInfo } from "../src/syscall/obj-info.js";
import { kernelHasSymbol } from "./helpers/kernel-facts.js";
import { kernelObjects, remainingKernelObjects } from "./helpers/kernel.js";
import { HAVE_BPFTOOL, libbpfXlated, normalisedXlated } from "./helpers/oracle.js";
import { thrownBy } from "./helpers/thrown.js";

const PLAIN = "bpf/struct_ops.bpf.o";
const LINKED = "bpf/struct_ops_link.bpf.o";
const AVAILABLE = "/proc/sys/net/ipv4/tcp_available_congestion_control";
const BYTES = 4 << 20;

/**
 * In a new network namespace: brings lo up, connects to itself over TCP
 * with congestion control argv[1], sends argv[2] bytes, and prints the
 * congestion control the socket ended up with and the byte counts.
 */
const TCP_CLIENT_C = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  long total = atol(argv[2]);
  if (unshare(CLONE_NEWNET)) die("unshare");
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr)) die("SIOCGIFFLAGS");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr)) die("SIOCSIFFLAGS");
  close(s);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t alen = sizeof a;
  if (bind(l, (void *)&a, sizeof a) || listen(l, 1) || getsockname(l, (void *)&a, &alen)) die("listen");
  /* Chosen before the receiver is forked, so an unknown name ends everything at once. */
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, argv[1], strlen(argv[1]))) die("setsockopt TCP_CONGESTION");
  pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(c);
    c = accept(l, NULL, NULL);
    if (c < 0) die("accept");
    static char buf[65536];
    long got = 0;
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) got += n;
    printf("received=%ld\n", got);
    return 0;
  }
  if (connect(c, (void *)&a, sizeof a)) die("connect");
  char cc[32] = {0};
  socklen_t cclen = sizeof cc;
  if (getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, &cclen)) die("getsockopt TCP_CONGESTION");
  static char buf[65536];
  long sent = 0;
  while (sent < total) {
    ssize_t n = write(c, buf, total - sent < (long)sizeof buf ? total - sent : (long)sizeof buf);
    if (n <= 0) die("write");
    sent += n;
  }
  shutdown(c, SHUT_WR);
  int status;
  waitpid(child, &status, 0);
  printf("congestion_control=%s sent=%ld\n", cc, sent);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
`;

let dir: string;
let client: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-struct-ops-"));
  writeFileSync(join(dir, "tcp_client.c"), TCP_CLIENT_C);
  client = join(dir, "tcp_client");
  execFileSync("gcc", ["-O2", "-Wall", "-o", client, join(dir, "tcp_client.c")]);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function available(): string[] {
  return readFileSync(AVAILABLE, "utf8").trim().split(/\s+/);
}

/** calls[] of tcp_cc.h, by callback name (CB_INIT → "init"). */
function calls(obj: BpfObject): Record<string, bigint> {
  const names = (obj.spec.btf!.btf.typeByName("callback", BtfKind.Enum) as EnumType).values
    .map((v) => v.name)
    .filter((n) => n !== "CB_COUNT");
  const bytes = obj.variable("calls");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Object.fromEntries(names.map((n, i) => [n.slice(3).toLowerCase(), view.getBigUint64(i * 8, true)]));
}

/** Runs the client with congestion control `cc`; returns its output. */
function connectWith(cc: string): string {
  return execFileSync(client, [cc, String(BYTES)], { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
}

describe("struct_ops: a TCP congestion control written in BPF", () => {
  for (const [file, ccName, viaLink] of [
    [PLAIN, "tsbpf_cc", false],
    [LINKED, "tsbpf_cc_link", true],
  ] as const) {
    it(`${file}: registered, used by a TCP connection, unregistered on destroy (links: a clear error before 6.4)`, async () => {
      expect(available()).not.toContain(ccName);
      if (viaLink && !kernelHasSymbol("bpf_struct_ops_link_create")) {
        const before = kernelObjects();
        expect(() => BpfObject.open(file).load()).toThrow(
          `struct_ops maps registered through a link (SEC(".struct_ops.link"), BPF_F_LINK) need Linux 6.4 or later, and this kernel is ${release()}`,
        );
        expect(await remainingKernelObjects(before)).toEqual({ prog: [], map: [], link: [], btf: [] });
        return;
      }
      const before = kernelObjects();
      const obj = BpfObject.open(file);
      try {
        obj.load();
        const map = obj.map(ccName);
        const info = mapInfo(map.fd);
        expect(info.type).toBe(BpfMapType.STRUCT_OPS);
        // The kernel's value type: struct bpf_struct_ops_tcp_congestion_ops, not the object's struct.
        const kernel = loadKernelBtf();
        expect(info.valueSize).toBe(kernel.resolveSize(kernel.typeByName("bpf_struct_ops_tcp_congestion_ops", BtfKind.Struct).id));
        expect(info.flags & BPF_F_LINK).toBe(viaLink ? BPF_F_LINK : 0);
        // Not registered until attach.
        expect(available()).not.toContain(ccName);
        const links = obj.attach();
        expect(links.map((l) => [l.kind, l.program, l.target])).toEqual([["struct_ops", ccName, "struct tcp_congestion_ops"]]);
        expect(links[0]!.fd !== undefined).toBe(viaLink);
        expect(available()).toContain(ccName);

        const out = connectWith(ccName);
        expect(out).toContain(`congestion_control=${ccName} sent=${BYTES}`);
        expect(out).toContain(`received=${BYTES}`);
        const c = calls(obj);
        expect(c.init).toBeGreaterThan(0n);
        expect(c.cong_avoid).toBeGreaterThan(0n);
      } finally {
        await obj.destroyAsync();
      }
      expect(available()).not.toContain(ccName);
      // Gone: the setsockopt of a fresh connection now fails.
      expect(String((thrownBy(() => connectWith(ccName)) as { stderr?: string }).stderr)).toMatch(
        /setsockopt TCP_CONGESTION: No such file or directory/,
      );
      expect(await remainingKernelObjects(before)).toEqual({ prog: [], map: [], link: [], btf: [] });
    });
  }

  it("registerStructOps() registers one map, narrated as a step; its link unregisters it", () => {
    const steps: LoadStep[] = [];
    using obj = BpfObject.open(PLAIN, { onStep: (s) => steps.push(s) });
    obj.load();
    const link = obj.registerStructOps("tsbpf_cc");
    expect(steps.filter((s) => s.kind === "struct-ops-register")).toEqual([
      { kind: "struct-ops-register", map: "tsbpf_cc", type: "tcp_congestion_ops", link: false },
    ]);
    expect(available()).toContain("tsbpf_cc");
    link.destroy();
    expect(available()).not.toContain("tsbpf_cc");
    expect(thrownBy(() => obj.registerStructOps("struct_o.bss"))).toBeInstanceOf(NotFoundError);
  });

  it("the map's programs are loaded for their member: attach_btf_id of tcp_congestion_ops, member index as attach type", () => {
    const spec = parseObject(readFileSync(PLAIN), { path: PLAIN });
    const map = spec.maps.find((m) => m.name === "tsbpf_cc")!;
    expect(map.type).toBe(BpfMapType.STRUCT_OPS);
    expect(map.structOps?.typeName).toBe("tcp_congestion_ops");
    const byMember = [...map.structOps!.programs].map(([i, p]) => [i, p]);
    const kernel = loadKernelBtf();
    const kernType = kernel.typeByName("tcp_congestion_ops", BtfKind.Struct);
    if (kernType.kind !== BtfKind.Struct) throw new Error("not a struct");
    const own = spec.btf!.btf.type(map.structOps!.typeId);
    if (own.kind !== BtfKind.Struct) throw new Error("not a struct");
    const plan = StructOpsPlan.prepare(spec.maps, spec.programs, spec.btf!.btf, kernel);
    for (const [i, program] of byMember) {
      const member = own.members[i as number]!.name;
      expect(plan.programAttach(program as string), `${program}`).toEqual({
        attachBtfId: kernType.id,
        expectedAttachType: kernType.members.findIndex((m) => m.name === member),
      });
    }
    expect(byMember.map(([, p]) => p).sort()).toEqual(spec.programs.map((p) => p.name).sort());
    expect(spec.programs.every((p) => p.section.def.progType === BpfProgType.STRUCT_OPS)).toBe(true);
  });

  it("a struct_ops program no map uses, or a struct the kernel lacks, is a clear error", () => {
    const spec = parseObject(readFileSync(PLAIN), { path: PLAIN });
    const kernel = loadKernelBtf();
    const withoutMap = spec.maps.filter((m) => !m.structOps);
    const e = thrownBy(() => StructOpsPlan.prepare(withoutMap, spec.programs, spec.btf!.btf, kernel));
    expect(e).toBeInstanceOf(UnsupportedError);
    expect((e as Error).message).toMatch(/struct_ops program that no SEC\("\.struct_ops"\) variable uses/);
    const renamed = spec.maps.map((m) => (m.structOps ? { ...m, structOps: { ...m.structOps, typeName: "tsbpf_no_such_ops" } } : m));
    const e2 = thrownBy(() => StructOpsPlan.prepare(renamed, spec.programs, spec.btf!.btf, kernel));
    expect(e2).toBeInstanceOf(NotFoundError);
    expect((e2 as Error).message).toMatch(/no struct bpf_struct_ops_tsbpf_no_such_ops in its BTF/);
  });

  it("tsbpf inspect lists the struct_ops map", () => {
    const out = execFileSync("node", ["dist/src/cli/main.js", "inspect", LINKED], { encoding: "utf8" });
    expect(out).toContain(
      "  tsbpf_cc_link: BPF_MAP_TYPE_STRUCT_OPS, max_entries 1, flags BPF_F_LINK\n" +
        "    key 4 B, value 192 B (struct tcp_congestion_ops)\n" +
        "    callbacks: ssthresh → tsbpf_cc_ssthresh, cong_avoid → tsbpf_cc_cong_avoid, set_state → tsbpf_cc_set_state, " +
        "undo_cwnd → tsbpf_cc_undo_cwnd, init → tsbpf_cc_init\n",
    );
  });
});

describe.runIf(HAVE_BPFTOOL)("struct_ops: tsbpf vs libbpf (bpftool prog loadall)", () => {
  it("loads the same instructions for every callback", () => {
    const theirs = libbpfXlated(PLAIN);
    expect([...theirs.keys()].sort()).toEqual([
      "tsbpf_cc_cong_avoid",
      "tsbpf_cc_init",
      "tsbpf_cc_set_state",
      "tsbpf_cc_ssthresh",
      "tsbpf_cc_undo_cwnd",
    ]);
    expect(theirs.get("tsbpf_cc_cong_avoid")!.length).toBeGreaterThan(20);
    using obj = BpfObject.open(PLAIN);
    obj.load();
    for (const [name, insns] of theirs) expect(normalisedXlated(obj.program(name).fd), name).toEqual(insns);
  });
});
