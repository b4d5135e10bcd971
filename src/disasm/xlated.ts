/**
 * A loaded program's translated instructions as `bpftool prog dump xlated`
 * prints them: the kernel verifier's own syntax (kernel/bpf/disasm.c,
 * print_bpf_insn) — `(bf) r6 = r1`, `*(u32 *)(r10 -4) = r0`, `if r1 != 0x0
 * goto pc+43` — with bpftool's additions: maps as `map[id:N]`, calls named
 * from kallsyms (`call bpf_get_current_pid_tgid#281440`), each function's
 * C signature from its func_info, and `; source` lines from line_info.
 * Pure: the caller resolves call targets (kallsyms is the kernel's).
 */
import type { Btf } from "../btf/btf.js";
import { BtfKind } from "../btf/types.js";
import { helperName } from "../abi/helper-names.js";

export interface XlatedFuncInfo {
  insnOff: number;
  typeId: number;
}

export interface XlatedLineInfo {
  insnOff: number;
  fileNameOff: number;
  lineOff: number;
  line: number;
  column: number;
}

export interface XlatedOptions {
  /** The program's BTF, for func_info signatures and line_info text. */
  btf?: Btf | undefined;
  funcInfo?: readonly XlatedFuncInfo[] | undefined;
  lineInfo?: readonly XlatedLineInfo[] | undefined;
  /** bpftool's `linum`: the file, line and column after each source line. */
  linum?: boolean;
  /** bpftool's `opcodes`: each instruction's bytes under it. */
  opcodes?: boolean;
  /**
   * The name of a call's target: a helper or kfunc (`bpf_ktime_get_ns`,
   * or "0x…" when kallsyms has no symbol there), or for a BPF-to-BPF call
   * the text after "pc" (`+5` or `+5#bpf_prog_…_sub`; `off` is the
   * relative offset, `imm` the subprogram's index once JITed).
   */
  callTarget(imm: number, pseudoCall: boolean, off: number): string;
}

const ALU = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"];
const ALU_SIGNED: Record<number, string> = { 3: "s/=", 9: "s%=" };
const JMP = ["jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<="];
const SIZE = ["u32", "u16", "u8", "u64"];
const SIGNED_SIZE = ["s32", "s16", "s8", "s64"];
const MOVSX = ["(s8)", "(s16)", "(s32)"];
const BPF_FETCH = 1;
const BPF_XCHG = 0xe0 | BPF_FETCH;
const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
const ATOMIC_OPS: Record<number, string> = { 0: "+=", 64: "|=", 80: "&=", 160: "^=" };
const ATOMIC_FETCH_OPS: Record<number, string> = { 0: "add", 64: "or", 80: "and", 160: "xor" };

const hex2 = (code: number) => code.toString(16).padStart(2, "0");
/** printf's %+d. */
const signed = (n: number) => (n < 0 ? String(n) : `+${n}`);

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function insnAt(view: DataView, i: number): Insn {
  const regs = view.getUint8(i * 8 + 1);
  return {
    code: view.getUint8(i * 8),
    dst: regs & 0xf,
    src: regs >> 4,
    off: view.getInt16(i * 8 + 2, true),
    imm: view.getInt32(i * 8 + 4, true),
  };
}

/** print_bpf_insn's text for one instruction (without the "(code) " prefix's line number). */
function insnText(insns: DataView, i: number, opts: XlatedOptions): string {
  const n = insnAt(insns, i);
  const cls = n.code & 7;
  const op = n.code >> 4;
  const head = `(${hex2(n.code)})`;
  if (cls === 4 || cls === 7) {
    const r = cls === 4 ? "w" : "r";
    if (op === 13) {
      if (cls === 7) return `${head} r${n.dst} = bswap${n.imm} r${n.dst}`;
      return `${head} r${n.dst} = ${n.code & 8 ? "be" : "le"}${n.imm} r${n.dst}`;
    }
    if (op === 8) return `${head} ${r}${n.dst} = -${r}${n.dst}`;
    const signedDivMod = (op === 3 || op === 9) && n.off === 1;
    const name = signedDivMod ? ALU_SIGNED[op]! : ALU[op]!;
    if (n.code & 8) {
      const movsx = op === 11 && n.off ? (MOVSX[(n.off >> 3) - 1] ?? "") : "";
      return `${head} ${r}${n.dst} ${name} ${movsx}${r}${n.src}`;
    }
    return `${head} ${r}${n.dst} ${name} ${n.imm}`;
  }
  const mode = n.code & 0xe0;
  const size = (n.code >> 3) & 3;
  if (cls === 3) {
    if (mode === 0x60) return `${head} *(${SIZE[size]} *)(r${n.dst} ${signed(n.off)}) = r${n.src}`;
    if (mode === 0xc0) {
      const at = `*(${SIZE[size]} *)(r${n.dst} ${signed(n.off)})`;
      if (ATOMIC_OPS[n.imm] !== undefined) return `${head} lock ${at} ${ATOMIC_OPS[n.imm]} r${n.src}`;
      const fetch = ATOMIC_FETCH_OPS[n.imm & ~BPF_FETCH];
      if (fetch !== undefined && n.imm & BPF_FETCH) {
        const r = size === 3 ? "r" : "w";
        return `${head} ${r}${n.src} = atomic${size === 3 ? "64" : ""}_fetch_${fetch}((${SIZE[size]} *)(r${n.dst} ${signed(n.off)}), ${r}${n.src})`;
      }
      if (n.imm === BPF_CMPXCHG) {
        const r = size === 3 ? "r" : "w";
        return `${head} r0 = atomic${size === 3 ? "64" : ""}_cmpxchg((${SIZE[size]} *)(r${n.dst} ${signed(n.off)}), r0, ${r}${n.src})`;
      }
      if (n.imm === BPF_XCHG) {
        const r = size === 3 ? "r" : "w";
        return `${head} ${r}${n.src} = atomic${size === 3 ? "64" : ""}_xchg((${SIZE[size]} *)(r${n.dst} ${signed(n.off)}), ${r}${n.src})`;
      }
    }
    return `${head} BUG_stx_${hex2(n.code)}`;
  }
  if (cls === 2) {
    if (mode === 0x60) return `${head} *(${SIZE[size]} *)(r${n.dst} ${signed(n.off)}) = ${n.imm}`;
    if (mode === 0xc0) return `${head} nospec`;
    return `${head} BUG_st_${hex2(n.code)}`;
  }
  if (cls === 1) {
    const sz = mode === 0x80 ? SIGNED_SIZE[size] : SIZE[size];
    return `${head} r${n.dst} = *(${sz} *)(r${n.src} ${signed(n.off)})`;
  }
  if (cls === 0) {
    if (mode === 0x20) return `${head} r0 = *(${SIZE[size]} *)skb[${n.imm}]`;
    if (mode === 0x40) return `${head} r0 = *(${SIZE[size]} *)skb[r${n.src} + ${n.imm}]`;
    if (mode === 0x00 && size === 3) {
      const next = insnAt(insns, i + 1);
      return `${head} r${n.dst} = ${ldImm64(n, next)}`;
    }
    return `${head} BUG_ld_${hex2(n.code)}`;
  }
  // BPF_JMP (5) and BPF_JMP32 (6)
  const r = cls === 6 ? "w" : "r";
  if (op === 8) {
    if (n.src === 1) return `${head} call pc${opts.callTarget(n.imm, true, n.off)}`;
    // Helpers the kernel did not rewrite to an address keep their id: the verifier's own name for it.
    const helper = n.src === 0 && n.imm >= 0 ? helperName(n.imm) : undefined;
    return `${head} call ${helper ?? opts.callTarget(n.imm, false, n.off)}#${n.imm}`;
  }
  if (n.code === 0x05) return `${head} goto pc${signed(n.off)}`;
  if (n.code === 0x06) return `${head} gotol pc${signed(n.imm)}`;
  if (n.code === 0x95) return `${head} exit`;
  if (n.code & 8) return `${head} if ${r}${n.dst} ${JMP[op]} ${r}${n.src} goto pc${signed(n.off)}`;
  return `${head} if ${r}${n.dst} ${JMP[op]} 0x${(n.imm >>> 0).toString(16)} goto pc${signed(n.off)}`;
}

/** bpftool's print_imm. */
function ldImm64(n: Insn, next: Insn): string {
  switch (n.src) {
    case 1:
      return `map[id:${n.imm >>> 0}]`;
    case 2:
      return `map[id:${n.imm >>> 0}][0]+${next.imm >>> 0}`;
    case 6:
      return `map[idx:${n.imm >>> 0}]+${next.imm >>> 0}`;
    case 4:
      return `subprog[${signed(n.imm)}]`;
    default: {
      const full = (BigInt(next.imm >>> 0) << 32n) | BigInt(n.imm >>> 0);
      return `0x${full.toString(16)}`;
    }
  }
}

/** bpftool's btf_dumper_type_only: a type as it prefixes a name ("struct task_struct * "). */
function typePrefix(btf: Btf, id: number): string {
  if (id === 0) return "void ";
  const t = btf.type(id);
  switch (t.kind) {
    case BtfKind.Int:
    case BtfKind.Typedef:
    case BtfKind.Float:
      return `${t.name} `;
    case BtfKind.Struct:
      return `struct ${t.name} `;
    case BtfKind.Union:
      return `union ${t.name} `;
    case BtfKind.Enum:
    case BtfKind.Enum64:
      return `enum ${t.name} `;
    case BtfKind.Array:
      return `${typePrefix(btf, t.elemType)}[${t.nelems}]`;
    case BtfKind.Ptr:
      return `${typePrefix(btf, t.type)}* `;
    case BtfKind.Fwd:
      return `${t.union ? "union" : "struct"} ${t.name} `;
    case BtfKind.Volatile:
      return `volatile ${typePrefix(btf, t.type)}`;
    case BtfKind.Const:
      return `const ${typePrefix(btf, t.type)}`;
    case BtfKind.Restrict:
      return `restrict ${typePrefix(btf, t.type)}`;
    case BtfKind.TypeTag:
      return typePrefix(btf, t.type);
    case BtfKind.FuncProto:
      return funcSignature(btf, id, undefined);
    default:
      return "";
  }
}

/** bpftool's btf_dump_func: "int handle_exec(struct trace_event_raw_sched_process_exec * ctx)". */
function funcSignature(btf: Btf, protoId: number, name: string | undefined): string {
  const proto = btf.type(protoId);
  if (proto.kind !== BtfKind.FuncProto) return "";
  let sig = `${typePrefix(btf, proto.returnType)}${name ?? ""}(`;
  proto.params.forEach((p, i) => {
    if (i) sig += ", ";
    if (!p.type) {
      sig += "...";
      return;
    }
    sig += typePrefix(btf, p.type);
    if (p.name) sig += p.name;
    else if (sig.endsWith(" ")) sig = sig.slice(0, -1);
  });
  return `${sig})`;
}

/** The text of `bpftool prog dump xlated` for these translated instructions. */
export function formatXlated(xlated: Uint8Array, opts: XlatedOptions): string {
  const view = new DataView(xlated.buffer, xlated.byteOffset, xlated.byteLength);
  const count = Math.floor(xlated.byteLength / 8);
  const funcs = new Map((opts.funcInfo ?? []).map((f) => [f.insnOff, f.typeId]));
  const lines = new Map<number, XlatedLineInfo>();
  for (const l of opts.lineInfo ?? []) if (!lines.has(l.insnOff)) lines.set(l.insnOff, l);
  const btf = opts.btf;
  let out = "";
  for (let i = 0; i < count; i++) {
    const typeId = funcs.get(i);
    if (btf && typeId !== undefined) {
      const fn = btf.type(typeId);
      const sig = fn.kind === BtfKind.Func ? funcSignature(btf, fn.type, fn.name) : "";
      if (sig) out += `${sig}:\n`;
    }
    const li = btf ? lines.get(i) : undefined;
    if (btf && li) {
      const text = btf.string(li.lineOff).trimStart();
      if (text || li.lineOff) {
        out += opts.linum ? `; ${text} [file:${btf.string(li.fileNameOff)} line_num:${li.line} line_col:${li.column}]\n` : `; ${text}\n`;
      }
    }
    const double = view.getUint8(i * 8) === 0x18;
    out += `${String(i).padStart(4)}: ${insnText(view, i, opts)}\n`;
    if (opts.opcodes) {
      const bytes = (at: number) => Array.from(xlated.subarray(at * 8, at * 8 + 8), (b) => hex2(b)).join(" ");
      out += `       ${bytes(i)}${double && i + 1 < count ? ` ${bytes(i + 1)}` : ""}\n`;
    }
    if (double) i++;
  }
  return out;
}
