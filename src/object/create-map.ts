/**
 * One map of an object into the kernel, as load() makes it: reused (an fd
 * the user gave, or a compatible pinned map), or created — with its inner
 * map template, pin, initial global data and freeze — each step narrated
 * just before its syscall.
 */
import { TsbpfError } from "../errors.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import type { Btf } from "../btf/btf.js";
import { cTypeName } from "../btf/type-name.js";
import { BpfMap } from "../maps/bpf-map.js";
import { checkPinnedCompatible, ensureBpffs, mapIncompatibilities, openPinned, pinMapUnlessTaken, pinPath } from "../maps/pinning.js";
import { type MapSpec, PinningType } from "../spec/map-spec.js";
import { bpf } from "../syscall/bpf.js";
import { EINVAL } from "../syscall/errno.js";
import { pathAccessible } from "../syscall/host-files.js";
import { fdById, mapInfo } from "../syscall/obj-info.js";
import { SyscallError } from "../syscall/syscall-error.js";
import type { StepListener } from "./load-steps.js";

export interface MapCreation {
  /** The object's BTF in the kernel, if it was loaded. */
  btfFd: number | undefined;
  /** The object's BTF, for the narration's type names. */
  btf: Btf | undefined;
  pinRoot: string;
  onStep: StepListener | undefined;
}

/** The kernel map for `spec`; on failure nothing it made is left open. */
export function createMap(spec: MapSpec, ctx: MapCreation): BpfMap {
  const step: StepListener = ctx.onStep ?? (() => {});
  // A reused map keeps its contents: no initial values.
  if (spec.reuseFd !== undefined) return reuseMap(spec, spec.reuseFd, step);
  const pinned = spec.pinning === PinningType.ByName ? reusePinned(spec, ctx.pinRoot, step) : undefined;
  if (pinned) return pinned;
  const btf = ctx.btfFd !== undefined ? { btfFd: ctx.btfFd } : {};
  // Map-in-map: the kernel needs a template of the inner map at creation (unless the spec names one by fd).
  let inner: BpfMap | undefined;
  if (spec.innerMap && spec.innerMapFd === undefined) {
    step({ kind: "inner-map-create", map: spec.name, inner: spec.innerMap });
    inner = BpfMap.create(spec.innerMap, btf);
  }
  let map: BpfMap;
  try {
    step({ kind: "map-create", map: spec, ...(ctx.onStep ? keyValueTypes(spec, ctx.btf) : {}) });
    const innerMapFd = spec.innerMapFd ?? inner?.fd;
    map = BpfMap.create(spec, { ...btf, ...(innerMapFd !== undefined ? { innerMapFd } : {}) });
  } catch (e) {
    throw sizedFromUserSpace(e, spec);
  } finally {
    inner?.close();
  }
  try {
    if (spec.pinning === PinningType.ByName) {
      const path = pinPath(ctx.pinRoot, spec);
      step({ kind: "map-pin", map: spec.name, path });
      if (!pinMapUnlessTaken(map.fd, path)) {
        // A concurrent load of this object pinned its map since we looked: use that one, drop ours.
        map.close();
        const raced = reusePinned(spec, ctx.pinRoot, step);
        if (!raced)
          throw new TsbpfError(`map ${spec.name}: ${path} was pinned and unpinned again by another process while this load pinned it`);
        return raced;
      }
    }
    if (spec.data) {
      // Initial contents. Zeros never written (a .bss) are not sent: the kernel
      // zero-fills a new array map, and a large .bss must not be allocated here.
      if (!spec.data.zeroFilled) {
        step({ kind: "map-init", map: spec.name, section: spec.sectionName!, bytes: spec.valueSize });
        bpf(
          BpfCmd.MAP_UPDATE_ELEM,
          { map_fd: map.fd, key: new Uint8Array(4), value: spec.data.read(0, spec.valueSize), flags: 0 },
          `initialising ${spec.name}`,
        );
      }
      if (spec.freeze) {
        step({ kind: "map-freeze", map: spec.name });
        map.freeze();
      }
    }
  } catch (e) {
    map.close();
    throw e;
  }
  return map;
}

/** C type names of a map's key and value, for the narration. */
function keyValueTypes(spec: MapSpec, btf: Btf | undefined): { keyType?: string; valueType?: string } {
  if (!btf) return {};
  return {
    ...(spec.btfKeyTypeId ? { keyType: cTypeName(btf, spec.btfKeyTypeId) } : {}),
    ...(spec.btfValueTypeId ? { valueType: cTypeName(btf, spec.btfValueTypeId) } : {}),
  };
}

/** A compatible map already pinned under this name, if any. */
function reusePinned(spec: MapSpec, pinRoot: string, step: StepListener): BpfMap | undefined {
  const path = pinPath(pinRoot, spec);
  step({ kind: "pin-lookup", map: spec.name, path });
  ensureBpffs(pinRoot);
  if (!pathAccessible(path)) return undefined;
  step({ kind: "map-reuse", map: spec.name, pinned: path });
  const fd = openPinned(path);
  if (fd === undefined) return undefined; // unpinned since
  checkPinnedCompatible(fd, spec, path);
  return BpfMap.fromFd(spec, fd);
}

/**
 * The map behind the caller's `userFd` (MapEditor.reuseFd), through an fd
 * of the object's own — opened by the map's id, so destroy() closes it and
 * leaves the caller's — after checking it can stand in for `spec`.
 */
function reuseMap(spec: MapSpec, userFd: number, step: StepListener): BpfMap {
  step({ kind: "map-reuse", map: spec.name, fd: userFd });
  const info = mapInfo(userFd);
  const diffs = mapIncompatibilities(info, spec);
  if (diffs.length)
    throw new TsbpfError(`the map of fd ${userFd} (${info.name}) cannot stand in for map ${spec.name}: ${diffs.join(", ")}`);
  return BpfMap.fromFd(spec, fdById("map", info.id));
}

/**
 * A map the object sizes from user space (max_entries 0, as libbpf-tools
 * declare them) that nobody sized: the kernel's bare EINVAL, explained.
 */
function sizedFromUserSpace(e: unknown, spec: MapSpec): unknown {
  if (!(e instanceof SyscallError) || e.errno !== EINVAL || spec.maxEntries !== 0) return e;
  return new TsbpfError(
    `map ${spec.name} has max_entries 0: the object leaves its size to user space; set it before load ` +
      `(obj.editMap("${spec.name}").setMaxEntries(n))`,
    { cause: e },
  );
}
