/**
 * What this kernel supports, found by asking it, the way libbpf's
 * libbpf_probe_bpf_prog_type / _map_type / _helper ask (and so bpftool's
 * `feature probe`): each probe loads the smallest program or creates the
 * smallest map of a type, with whatever attribute the kernel insists on
 * for that type — an expected attach type, a flag, BTF, an inner map — and
 * reads success, or the one refusal that proves the type is known, as
 * "available". Nothing is answered without a syscall.
 */
import { BtfBuilder } from "../btf/encode.js";
import { BtfKind } from "../btf/types.js";
import { closeFd, tryBpf } from "../syscall/bpf.js";
import { EINVAL, ENOTSUPP } from "../syscall/errno.js";
import { BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_SLEEPABLE } from "../abi/uapi-flags.js";
import { runningKernelVersion } from "../syscall/kernel-version.js";
import { PAGE_SIZE } from "../syscall/mman.js";
import { BpfAttachType, BpfCmd, BpfMapType, BpfProgType } from "../abi/uapi-enums.js";

const MOV_R0_0 = [0xb7, 0, 0, 0, 0, 0, 0, 0];
const EXIT = [0x95, 0, 0, 0, 0, 0, 0, 0];
const GPL = new TextEncoder().encode("GPL\0");

function call(helper: number): number[] {
  return [0x85, 0, 0, 0, helper & 0xff, (helper >> 8) & 0xff, (helper >> 16) & 0xff, (helper >>> 24) & 0xff];
}

interface ProgProbe {
  /** Attribute fields the type needs beyond type, instructions and license. */
  attrs: Record<string, number>;
  /** For types that cannot load without a real target: the refusal (errno, and log text) that shows the kernel knows the type. */
  expect?: { errno: number; log?: string };
}

/**
 * What each program type needs to load at all. Types that must name a
 * kernel function (tracing, lsm, ext) name BTF id 1, which is never a
 * function: the kernel then refuses with a message only a kernel that knows
 * the type writes. struct_ops needs a struct_ops map: ENOTSUPP without one.
 */
function progProbe(type: number): ProgProbe {
  const T = BpfProgType;
  const A = BpfAttachType;
  switch (type) {
    case T.CGROUP_SOCK_ADDR:
      return { attrs: { expected_attach_type: A.CGROUP_INET4_CONNECT } };
    case T.CGROUP_SOCKOPT:
      return { attrs: { expected_attach_type: A.CGROUP_GETSOCKOPT } };
    case T.SK_LOOKUP:
      return { attrs: { expected_attach_type: A.SK_LOOKUP } };
    case T.LIRC_MODE2:
      return { attrs: { expected_attach_type: A.LIRC_MODE2 } };
    case T.NETFILTER:
      return { attrs: { expected_attach_type: A.NETFILTER } };
    case T.KPROBE:
      // Kernels before 5.0 checked kern_version for kprobes.
      return { attrs: { kern_version: runningKernelVersion() } };
    case T.SYSCALL:
      return { attrs: { prog_flags: BPF_F_SLEEPABLE } };
    case T.TRACING:
      return {
        attrs: { expected_attach_type: A.TRACE_FENTRY, attach_btf_id: 1 },
        expect: { errno: EINVAL, log: "attach_btf_id 1 is not a function" },
      };
    case T.LSM:
      // libbpf probes lsm with BPF_MODIFY_RETURN; the refusal is the same.
      return {
        attrs: { expected_attach_type: A.MODIFY_RETURN, attach_btf_id: 1 },
        expect: { errno: EINVAL, log: "attach_btf_id 1 is not a function" },
      };
    case T.EXT:
      return { attrs: { attach_btf_id: 1 }, expect: { errno: EINVAL, log: "Cannot replace kernel functions" } };
    case T.STRUCT_OPS:
      return { attrs: {}, expect: { errno: ENOTSUPP } };
    default:
      return { attrs: {} };
  }
}

interface LoadResult {
  ok: boolean;
  errno: number;
  log: string;
}

function load(type: number, insns: number[], attrs: Record<string, number>, withLog: boolean): LoadResult {
  const log = withLog ? new Uint8Array(4096) : null;
  const r = tryBpf(BpfCmd.PROG_LOAD, {
    prog_type: type,
    insn_cnt: insns.length / 8,
    insns: new Uint8Array(insns),
    license: GPL,
    log_level: log ? 1 : 0,
    log_size: log ? log.byteLength : 0,
    log_buf: log,
    ...attrs,
  });
  const text = log ? new TextDecoder().decode(log.subarray(0, Math.max(0, log.indexOf(0)))) : "";
  if (r.ret === -1) return { ok: false, errno: r.errno, log: text };
  closeFd(Number(r.ret));
  return { ok: true, errno: 0, log: text };
}

/** Whether the kernel loads programs of this type. */
export function probeProgType(type: number): boolean {
  const probe = progProbe(type);
  const r = load(type, [...MOV_R0_0, ...EXIT], probe.attrs, probe.expect?.log !== undefined);
  if (!probe.expect) return r.ok;
  return !r.ok && r.errno === probe.expect.errno && (probe.expect.log === undefined || r.log.includes(probe.expect.log));
}

/** Program types whose helpers cannot be probed with a plain load (they need a real attach target). */
const HELPERS_UNPROBEABLE = new Set<number>([BpfProgType.TRACING, BpfProgType.EXT, BpfProgType.LSM, BpfProgType.STRUCT_OPS]);

export type HelperVerdict = "yes" | "no" | "unknown";

/**
 * Whether programs of `type` may call helper `id`: a program that only
 * calls it is loaded, and the verifier's log says whether the helper was the
 * problem. It names an unknown id "invalid func unknown#N", a known helper
 * this type may not use "unknown func bpf_x#N" (before 6.14) or "program of
 * this type cannot use helper bpf_x#N" (since); any other refusal is about
 * the helper's arguments, which means the type may call it.
 */
export function probeHelper(type: number, id: number): HelperVerdict {
  if (HELPERS_UNPROBEABLE.has(type)) return "unknown";
  const r = load(type, [...call(id), ...EXIT], progProbe(type).attrs, true);
  if (r.ok) return "yes";
  return /invalid func |unknown func |program of this type cannot use helper /.test(r.log) ? "no" : "yes";
}

/**
 * The BTF a local-storage map's value needs: the kernel wants a value type
 * it can check for a spin lock, so the probe gives it
 * `struct val { int cnt; struct bpf_spin_lock l; }` (ids: 1 int, 3 struct val).
 */
function localStorageBtf(): number | undefined {
  const b = new BtfBuilder();
  const int = b.add({ kind: BtfKind.Int, name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 });
  const lock = b.add({
    kind: BtfKind.Struct,
    name: "bpf_spin_lock",
    size: 4,
    kindFlag: false,
    members: [{ name: "val", type: int, bitOffset: 0, bitfieldSize: 0 }],
  });
  b.add({
    kind: BtfKind.Struct,
    name: "val",
    size: 8,
    kindFlag: false,
    members: [
      { name: "cnt", type: int, bitOffset: 0, bitfieldSize: 0 },
      { name: "l", type: lock, bitOffset: 32, bitfieldSize: 0 },
    ],
  });
  const blob = b.encode();
  const r = tryBpf(BpfCmd.BTF_LOAD, { btf: blob, btf_size: blob.byteLength });
  return r.ret === -1 ? undefined : Number(r.ret);
}

function createMap(attrs: Record<string, number | bigint>): { fd?: number; errno: number } {
  const r = tryBpf(BpfCmd.MAP_CREATE, attrs);
  return r.ret === -1 ? { errno: r.errno } : { fd: Number(r.ret), errno: 0 };
}

/** Whether the kernel creates maps of this type (see the file comment). */
export function probeMapType(type: number): boolean {
  const M = BpfMapType;
  const attrs: Record<string, number | bigint> = { map_type: type, key_size: 4, value_size: 4, max_entries: 1, map_flags: 0 };
  const owned: number[] = [];
  let expectErrno: number | undefined;
  try {
    switch (type) {
      case M.STACK_TRACE:
        attrs.value_size = 8;
        break;
      case M.LPM_TRIE:
        Object.assign(attrs, { key_size: 8, value_size: 8, map_flags: BPF_F_NO_PREALLOC });
        break;
      case M.CGROUP_STORAGE:
      case M.PERCPU_CGROUP_STORAGE:
        // struct bpf_cgroup_storage_key: u64 inode id, u32 attach type, padded to 16.
        Object.assign(attrs, { key_size: 16, value_size: 8, max_entries: 0 });
        break;
      case M.QUEUE:
      case M.STACK:
        attrs.key_size = 0;
        break;
      case M.SK_STORAGE:
      case M.INODE_STORAGE:
      case M.TASK_STORAGE:
      case M.CGRP_STORAGE: {
        const btf = localStorageBtf();
        if (btf === undefined) return false;
        owned.push(btf);
        Object.assign(attrs, {
          value_size: 8,
          max_entries: 0,
          map_flags: BPF_F_NO_PREALLOC,
          btf_fd: btf,
          btf_key_type_id: 1,
          btf_value_type_id: 3,
        });
        break;
      }
      case M.RINGBUF:
      case M.USER_RINGBUF:
        Object.assign(attrs, { key_size: 0, value_size: 0, max_entries: PAGE_SIZE });
        break;
      case M.STRUCT_OPS:
        // BTF id 1 of vmlinux is no struct_ops type: a kernel that knows struct_ops maps says ENOTSUPP.
        attrs.btf_vmlinux_value_type_id = 1;
        expectErrno = ENOTSUPP;
        break;
      case M.BLOOM_FILTER:
        attrs.key_size = 0;
        break;
      case M.ARENA:
        Object.assign(attrs, { key_size: 0, value_size: 0, max_entries: 1, map_flags: BPF_F_MMAPABLE, map_extra: 0n });
        break;
      case M.ARRAY_OF_MAPS:
      case M.HASH_OF_MAPS: {
        const inner = createMap({ map_type: M.HASH, key_size: 4, value_size: 4, max_entries: 1, map_flags: 0 });
        if (inner.fd === undefined) return false;
        owned.push(inner.fd);
        attrs.inner_map_fd = inner.fd;
        break;
      }
    }
    const r = createMap(attrs);
    if (r.fd !== undefined) owned.push(r.fd);
    return expectErrno === undefined ? r.fd !== undefined : r.fd === undefined && r.errno === expectErrno;
  } finally {
    for (const fd of owned) closeFd(fd);
  }
}
