/**
 * USDT: one program on every site of a SystemTap probe (provider:name) in
 * an executable or library, as libbpf's bpf_program__attach_usdt does.
 * Each site becomes a uprobe at the probe's file offset, carrying as BPF
 * cookie the id of its argument spec in the object's `__bpf_usdt_specs`
 * map (sites with the same argument text share one spec); a probe with a
 * semaphore gets it counted up by the kernel while attached
 * (ref_ctr_offset), so the traced program sees it is being watched.
 *
 * Programs loaded for uprobe_multi links (Linux 6.6+; see
 * usdtExpectedAttachType) get every site in one BPF_LINK_CREATE; others
 * one perf-event uprobe per site.
 *
 * What to probe comes from the options ({ binary, provider, name, pid,
 * cookie }) or from the section name, `usdt/PATH:PROVIDER:NAME`. The
 * options' cookie is the USDT cookie the program reads with
 * bpf_usdt_cookie(): the BPF cookie itself carries the spec id.
 */
import { UnsupportedError } from "../../errors.js";
import { BpfAttachType, BpfCmd } from "../../abi/uapi-enums.js";
import { bpfRequest } from "../../syscall/bpf.js";
import { linkCreateUprobeMultiLayout } from "../../syscall/bpf-attr.js";
import { cString } from "../../syscall/c-string.js";
import { trySyscall } from "../../syscall/kernel.js";
import { SyscallError } from "../../syscall/syscall-error.js";
import { Link } from "../link.js";
import { HostBinary, resolveBinaryPath } from "./host-binary.js";
import type { AttachOptions, AttachTarget } from "./options.js";
import { openProbeEvent } from "./pmu.js";
import { attachToPerfEvent } from "./tracepoint.js";
import { USDT_SPECS_MAP, type UsdtManager } from "./usdt-manager.js";
import { type UsdtTarget, collectUsdtTargets } from "./usdt-targets.js";

interface UsdtProbe {
  binary: string;
  provider: string;
  name: string;
}

/** Parses what follows "usdt/" in a section name: PATH:PROVIDER:NAME (libbpf's format; no ':' inside a part). */
export function parseUsdtTarget(target: string): UsdtProbe {
  const parts = target.split(":");
  if (parts.length !== 3 || parts.some((p) => p === "")) {
    throw new UnsupportedError(`USDT section target ${JSON.stringify(target)} is not PATH:PROVIDER:NAME`);
  }
  const [binary, provider, name] = parts as [string, string, string];
  return { binary, provider, name };
}

function usdtProbe(t: AttachTarget, opts: AttachOptions): UsdtProbe {
  if (opts.binary !== undefined || opts.provider !== undefined || opts.name !== undefined) {
    const missing = (["binary", "provider", "name"] as const).filter((k) => opts[k] === undefined);
    if (missing.length) {
      throw new UnsupportedError(`${t.program}: USDT attach options need binary, provider and name; ${missing.join(" and ")} missing`);
    }
    return { binary: opts.binary!, provider: opts.provider!, name: opts.name! };
  }
  if (!t.target) {
    throw new UnsupportedError(
      `${t.program}: section ${t.sectionName} names no probe; pass { binary, provider, name } (and optionally pid, cookie) ` +
        `to attach(), or name it in the section: usdt/PATH:PROVIDER:NAME`,
    );
  }
  try {
    return parseUsdtTarget(t.target);
  } catch (e) {
    if (e instanceof UnsupportedError) throw new UnsupportedError(`${t.program} (section ${t.sectionName}): ${e.message}`);
    throw e;
  }
}

export function attachUsdt(t: AttachTarget, opts: AttachOptions): Link {
  const manager = t.usdt;
  if (!manager) {
    throw new UnsupportedError(
      `${t.program}: USDT programs read their arguments through <bpf/usdt.bpf.h>, whose maps (${USDT_SPECS_MAP}, ...) ` +
        "this object lacks; include it in the BPF source",
    );
  }
  const probe = usdtProbe(t, opts);
  // As libbpf: pid 0 is this process, any negative pid every process.
  const pid = opts.pid === undefined || opts.pid < 0 ? -1 : opts.pid === 0 ? process.pid : opts.pid;
  if (!Number.isSafeInteger(pid))
    throw new UnsupportedError(`${t.program}: pid must be a process id or -1 (every process), not ${opts.pid}`);
  const path = resolveBinaryPath(probe.binary);
  const where = `${path}:${probe.provider}:${probe.name}`;
  const targets = collectUsdtTargets(HostBinary.open(path), probe.provider, probe.name, { pid, byAddress: !manager.cookies });

  const ids = new Map<string, number>();
  const mapped: number[] = [];
  const links: Link[] = [];
  const release = () => {
    for (const l of links.splice(0)) l.destroy();
    for (const a of mapped.splice(0)) manager.unmapAddress(a);
    manager.release(ids.values());
    ids.clear();
  };
  try {
    const cookies = targets.map((target) => specId(manager, ids, target, opts.cookie ?? 0n, where));
    if (!manager.cookies) {
      targets.forEach((target, i) => {
        manager.mapAddress(target.address, cookies[i]!, where);
        mapped.push(target.address);
      });
    }
    const sites = `${targets.length} site${targets.length === 1 ? "" : "s"}`;
    const description = `${where}${pid !== -1 ? ` pid ${pid}` : ""} (${sites})`;
    let linkFd: number | undefined;
    if (t.expectedAttachType === BpfAttachType.TRACE_UPROBE_MULTI) {
      linkFd = attachMulti(t, path, targets, cookies, pid, description);
    } else {
      targets.forEach((target, i) => {
        let perfFd: number;
        try {
          perfFd = openProbeEvent({
            pmu: "uprobe",
            retprobe: false,
            name: path,
            offset: target.fileOffset,
            pid,
            refCtrOffset: target.semaphoreOffset,
          });
        } catch (e) {
          if (!(e instanceof SyscallError)) throw e;
          throw new SyscallError(e.request, e.errno, `creating uprobe for USDT site ${i} of ${description} for ${t.program}`);
        }
        const cookie = manager.cookies ? BigInt(cookies[i]!) : 0n;
        links.push(attachToPerfEvent(t.progFd, perfFd, "uprobe", t.program, `${path}:0x${target.fileOffset.toString(16)}`, cookie));
      });
    }
    const own = [...links];
    links.length = 0;
    const ownMapped = [...mapped];
    mapped.length = 0;
    const ownIds = [...ids.values()];
    ids.clear();
    return new Link("usdt", t.program, description, {
      ...(linkFd !== undefined ? { linkFd } : {}),
      cleanup: () => {
        for (const l of own) l.destroy();
        for (const a of ownMapped) manager.unmapAddress(a);
        manager.release(ownIds);
      },
    });
  } catch (e) {
    release();
    throw e;
  }
}

/** The spec id of a site: shared by sites with the same argument text within one attachment, as libbpf does. */
function specId(manager: UsdtManager, ids: Map<string, number>, target: UsdtTarget, cookie: bigint, where: string): number {
  const known = ids.get(target.argsText);
  if (known !== undefined) return known;
  const spec = manager.encoder.spec(target.args, cookie, where);
  const id = manager.allocate();
  ids.set(target.argsText, id);
  manager.writeSpec(id, spec);
  return id;
}

/** One uprobe_multi link for every site: offsets, semaphores and cookies as parallel u64 arrays. */
function attachMulti(t: AttachTarget, path: string, targets: UsdtTarget[], ids: number[], pid: number, description: string): number {
  const array = (values: readonly number[]) => {
    const b = new Uint8Array(values.length * 8);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => {
      v.setBigUint64(i * 8, BigInt(x), true);
    });
    return b;
  };
  const refCtrs = targets.map((x) => x.semaphoreOffset);
  const req = bpfRequest(
    BpfCmd.LINK_CREATE,
    {
      prog_fd: t.progFd,
      target_fd: 0,
      attach_type: BpfAttachType.TRACE_UPROBE_MULTI,
      uprobe_multi: {
        path: cString(path),
        offsets: array(targets.map((x) => x.fileOffset)),
        ref_ctr_offsets: refCtrs.some((x) => x !== 0) ? array(refCtrs) : null,
        cookies: array(ids),
        cnt: targets.length,
        flags: 0,
        pid: pid === -1 ? 0 : pid,
      },
    },
    linkCreateUprobeMultiLayout(),
  );
  const r = trySyscall(req);
  if (r.ret === -1) throw new SyscallError(req, r.errno, `attaching ${t.program} to USDT ${description} (uprobe_multi link)`);
  return Number(r.ret);
}
