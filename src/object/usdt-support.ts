/**
 * What an object needs from the kernel to attach USDT programs, decided at
 * load as libbpf decides it:
 *  - usdt programs are loaded for uprobe_multi links (expected attach type
 *    BPF_TRACE_UPROBE_MULTI) when the kernel has them with correct pid
 *    filtering, and then attach every probe site with one link;
 *  - the object's USDT manager reads LINUX_HAS_BPF_COOKIE from the same
 *    .kconfig value the BPF side reads, so both find specs the same way.
 */
import { BpfAttachType, BpfCmd, BpfProgType } from "../abi/uapi-enums.js";
import type { BpfMap } from "../maps/bpf-map.js";
import { UsdtManager } from "../programs/attach/usdt-manager.js";
import type { SectionDef } from "../spec/section-types.js";
import type { ObjectSpec } from "../spec/object-spec.js";
import { bpfRequest, closeFd, tryBpf } from "../syscall/bpf.js";
import { linkCreateUprobeMultiLayout } from "../syscall/bpf-attr.js";
import { cString } from "../syscall/c-string.js";
import { EBADF, EINVAL } from "../syscall/errno.js";
import { trySyscall } from "../syscall/kernel.js";
import { TRIVIAL_PROGRAM } from "./kernel-features.js";

/** `r0 = 0; exit` */

let uprobeMulti: boolean | undefined;

/**
 * libbpf's FEAT_UPROBE_MULTI_LINK: a uprobe_multi link on "/" fails with
 * EBADF where the link type exists; and with pid -1 it fails with EINVAL
 * only where the kernel filters by process, not by thread (the fix
 * libbpf waits for, since the choice is made before any pid is known).
 */
export function hasUprobeMulti(): boolean {
  if (uprobeMulti !== undefined) return uprobeMulti;
  const load = tryBpf(BpfCmd.PROG_LOAD, {
    prog_type: BpfProgType.KPROBE,
    insn_cnt: 2,
    insns: TRIVIAL_PROGRAM,
    license: cString("GPL"),
    expected_attach_type: BpfAttachType.TRACE_UPROBE_MULTI,
  });
  if (load.ret === -1) return (uprobeMulti = false);
  const progFd = Number(load.ret);
  try {
    const link = (pid: number) => {
      const offsets = new Uint8Array(8);
      const req = bpfRequest(
        BpfCmd.LINK_CREATE,
        { prog_fd: progFd, attach_type: BpfAttachType.TRACE_UPROBE_MULTI, uprobe_multi: { path: cString("/"), offsets, cnt: 1, pid } },
        linkCreateUprobeMultiLayout(),
      );
      const r = trySyscall(req);
      if (r.ret !== -1) closeFd(Number(r.ret));
      return r.ret === -1 ? r.errno : 0;
    };
    uprobeMulti = link(0) === EBADF && link(-1) === EINVAL;
  } finally {
    closeFd(progFd);
  }
  return uprobeMulti;
}

/** Forgets the probe's answer, or imposes one (tests exercise both attach paths on one kernel). */
export function setUprobeMultiFeature(value: boolean | undefined): void {
  uprobeMulti = value;
}

/** The expected attach type a program is loaded with: usdt programs' depends on the kernel. */
export function loadedAttachType(def: SectionDef): number {
  if (def.attach === "usdt" && hasUprobeMulti()) return BpfAttachType.TRACE_UPROBE_MULTI;
  return def.expectedAttachType;
}

/** The object's USDT manager, when it includes usdt.bpf.h (its two maps); call once the maps exist. */
export function objectUsdtManager(spec: ObjectSpec, map: (name: string) => BpfMap | undefined): UsdtManager | undefined {
  const cookie = spec.externs.find((e) => e.kind === "kconfig" && e.name === "LINUX_HAS_BPF_COOKIE");
  const kconfig = spec.maps.find((m) => m.data?.kind === "kconfig");
  // The values as loaded: the kernel map's spec carries them (the object's spec keeps the compiled zeros).
  const values = kconfig ? map(kconfig.name)?.spec.data?.initial : undefined;
  const cookies = cookie && values ? values[cookie.offset] !== 0 : true;
  return UsdtManager.forObject(map, spec.btf?.btf, cookies);
}
