/**
 * Kernel feature probes, run once per process and cached (as libbpf does):
 * each loads a tiny BTF blob using one kind, and success means the kernel
 * knows it. Their answers drive BTF sanitisation.
 */
import { BtfBuilder } from "../btf/encode.js";
import type { LoadStep } from "./load-steps.js";
import type { BtfFeatures } from "../btf/sanitize.js";
import { BtfKind, BtfLinkage } from "../btf/types.js";
import { closeFd, tryBpf } from "../syscall/bpf.js";
import { BpfCmd, BpfMapType, BpfProgType } from "../abi/uapi-enums.js";

/** `r0 = 0; exit`: the smallest program every kernel accepts, for probes. */
export const TRIVIAL_PROGRAM = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

type Probe = (b: BtfBuilder) => void;

const intType = (b: BtfBuilder) => b.add({ kind: BtfKind.Int, name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 });

const PROBES: Record<keyof BtfFeatures, Probe> = {
  btf: (b) => intType(b),
  func: (b) => {
    const i = intType(b);
    const proto = b.add({ kind: BtfKind.FuncProto, name: "", returnType: 0, params: [{ name: "x", type: i }] });
    b.add({ kind: BtfKind.Func, name: "a", type: proto, linkage: BtfLinkage.Static });
  },
  globalFunc: (b) => {
    const i = intType(b);
    const proto = b.add({ kind: BtfKind.FuncProto, name: "", returnType: 0, params: [{ name: "x", type: i }] });
    b.add({ kind: BtfKind.Func, name: "a", type: proto, linkage: BtfLinkage.Global });
  },
  datasec: (b) => {
    const i = intType(b);
    const v = b.add({ kind: BtfKind.Var, name: "x", type: i, linkage: BtfLinkage.Global });
    b.add({ kind: BtfKind.Datasec, name: ".data", size: 4, vars: [{ type: v, offset: 0, size: 4 }] });
  },
  float: (b) => b.add({ kind: BtfKind.Float, name: "float", size: 4 }),
  declTag: (b) => {
    const i = intType(b);
    const v = b.add({ kind: BtfKind.Var, name: "x", type: i, linkage: BtfLinkage.Global });
    b.add({ kind: BtfKind.DeclTag, name: "tag", type: v, componentIdx: -1 });
  },
  typeTag: (b) => {
    const i = intType(b);
    const t = b.add({ kind: BtfKind.TypeTag, name: "tag", type: i });
    b.add({ kind: BtfKind.Ptr, name: "", type: t });
  },
  enum64: (b) => b.add({ kind: BtfKind.Enum64, name: "enum64", size: 8, signed: false, values: [{ name: "v", value: 1n }] }),
};

/** Loads a BTF blob; returns whether the kernel accepted it (closing the fd). */
export function probeBtfBlob(blob: Uint8Array): boolean {
  const r = tryBpf(BpfCmd.BTF_LOAD, { btf: blob, btf_size: blob.byteLength });
  if (r.ret === -1) return false;
  closeFd(Number(r.ret));
  return true;
}

/** What each probe asks, for the narration: an object's BTF using a kind the kernel lacks is refused whole. */
const ASKS: Record<keyof BtfFeatures, string> = {
  btf: "BTF at all (a lone int)",
  func: "BTF FUNC and FUNC_PROTO (function signatures, func_info)",
  globalFunc: "BTF global FUNC linkage (subprograms verified on their own)",
  datasec: "BTF VAR and DATASEC (global variables' sections)",
  float: "BTF FLOAT",
  declTag: "BTF DECL_TAG (__attribute__((btf_decl_tag)))",
  typeTag: "BTF TYPE_TAG (__user, __rcu, __kptr pointers)",
  enum64: "BTF ENUM64 (64-bit enums)",
};

let cached: BtfFeatures | undefined;

/**
 * The BTF kinds this kernel accepts; probed on first call (each probe a tiny
 * BTF_LOAD, announced to `step` first), then cached. What it lacks is
 * rewritten out of the object's BTF before its load (btf/sanitize.ts).
 */
export function btfFeatures(step: (s: LoadStep) => void = () => {}): BtfFeatures {
  if (cached) return cached;
  const result = {} as BtfFeatures;
  for (const [name, build] of Object.entries(PROBES) as Array<[keyof BtfFeatures, Probe]>) {
    const b = new BtfBuilder();
    build(b);
    step({ kind: "feature-probe", feature: ASKS[name] });
    result[name] = probeBtfBlob(b.encode());
  }
  cached = result;
  return result;
}

/** Forgets cached probe results (tests that swap in a fake kernel use this). */
export function resetFeatureCache(): void {
  cached = undefined;
  progBindMap = undefined;
}

let progBindMap: boolean | undefined;

/**
 * Whether BPF_PROG_BIND_MAP works (5.10+), probed as libbpf does: a small
 * array map, a trivial socket filter, and the bind. Cached.
 */
export function canBindMaps(step: (s: LoadStep) => void = () => {}): boolean {
  if (progBindMap !== undefined) return progBindMap;
  step({ kind: "feature-probe", feature: "BPF_PROG_BIND_MAP (a map, a socket filter, and the bind)" });
  progBindMap = false;
  const map = tryBpf(BpfCmd.MAP_CREATE, {
    map_type: BpfMapType.ARRAY,
    key_size: 4,
    value_size: 32,
    max_entries: 1,
    map_name: "tsbpf_det_bind",
  });
  if (map.ret === -1) return false;
  const license = new TextEncoder().encode("GPL\0");
  const prog = tryBpf(BpfCmd.PROG_LOAD, { prog_type: BpfProgType.SOCKET_FILTER, insn_cnt: 2, insns: TRIVIAL_PROGRAM, license });
  if (prog.ret !== -1) {
    progBindMap = tryBpf(BpfCmd.PROG_BIND_MAP, { prog_fd: Number(prog.ret), map_fd: Number(map.ret), flags: 0 }).ret !== -1;
    closeFd(Number(prog.ret));
  }
  closeFd(Number(map.ret));
  return progBindMap;
}
