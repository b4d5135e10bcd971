/**
 * A probe's parsed arguments as the BPF side of libbpf's USDT library
 * (<bpf/usdt.bpf.h>) reads them: one `struct __bpf_usdt_spec` per distinct
 * argument specification, stored in the `__bpf_usdt_specs` map and found
 * by the BPF cookie (or the probe's address) when the probe fires.
 *
 * The struct is encoded through the object's own BTF, not a layout written
 * here: usdt.bpf.h has changed its arg-spec layout between libbpf releases
 * (1.7 added indexed "SIB" arguments with bitfields), and the object was
 * compiled against one of them. An argument the object's header cannot
 * express is an error naming the header version that can.
 */
import type { Btf } from "../../btf/btf.js";
import { BtfKind } from "../../btf/types.js";
import { makeEncoder } from "../../btf/value-encoder.js";
import type { UsdtArg } from "../../elf/stapsdt.js";
import { ObjectFormatError, TsbpfError, UnsupportedError } from "../../errors.js";

/** enum __bpf_usdt_arg_type */
const ARG_CONST = 0;
const ARG_REG = 1;
const ARG_REG_DEREF = 2;
const ARG_SIB = 3;

/**
 * x86-64 register names (64-, 32-, 16- and 8-bit) → offset in the kernel's
 * struct pt_regs, which a uprobe program gets as its context. Sub-registers
 * read the whole register; the size then narrows the value.
 */
const X86_64_PT_REGS: ReadonlyMap<string, number> = new Map(
  (
    [
      [["r15", "r15d", "r15w", "r15b"], 0],
      [["r14", "r14d", "r14w", "r14b"], 8],
      [["r13", "r13d", "r13w", "r13b"], 16],
      [["r12", "r12d", "r12w", "r12b"], 24],
      [["rbp", "ebp", "bp", "bpl"], 32],
      [["rbx", "ebx", "bx", "bl"], 40],
      [["r11", "r11d", "r11w", "r11b"], 48],
      [["r10", "r10d", "r10w", "r10b"], 56],
      [["r9", "r9d", "r9w", "r9b"], 64],
      [["r8", "r8d", "r8w", "r8b"], 72],
      [["rax", "eax", "ax", "al"], 80],
      [["rcx", "ecx", "cx", "cl"], 88],
      [["rdx", "edx", "dx", "dl"], 96],
      [["rsi", "esi", "si", "sil"], 104],
      [["rdi", "edi", "di", "dil"], 112],
      [["rip", "eip"], 128],
      [["rsp", "esp", "sp", "spl"], 152],
    ] as const
  ).flatMap(([names, off]) => names.map((n): [string, number] => [n, off])),
);

function ptRegsOffset(reg: string, arg: UsdtArg, index: number): number {
  const off = X86_64_PT_REGS.get(reg);
  if (off === undefined) throw new UnsupportedError(`USDT argument #${index} "${arg.text}": register %${reg} cannot be read from pt_regs`);
  return off;
}

/** One `struct __bpf_usdt_arg_spec`, as a JS object for the BTF encoder. */
function argSpec(arg: UsdtArg, index: number): Record<string, number | bigint | boolean> {
  const common = { arg_signed: arg.signed, arg_bitshift: 64 - arg.size * 8 };
  const loc = arg.location;
  switch (loc.kind) {
    case "const":
      return { ...common, arg_type: ARG_CONST, val_off: BigInt.asUintN(64, loc.value), reg_off: 0 };
    case "reg":
      return { ...common, arg_type: ARG_REG, val_off: 0n, reg_off: ptRegsOffset(loc.reg, arg, index) };
    case "deref":
      return { ...common, arg_type: ARG_REG_DEREF, val_off: BigInt.asUintN(64, loc.offset), reg_off: ptRegsOffset(loc.reg, arg, index) };
    case "sib":
      return {
        ...common,
        arg_type: ARG_SIB,
        val_off: BigInt.asUintN(64, loc.offset),
        reg_off: ptRegsOffset(loc.reg, arg, index),
        idx_reg_off: ptRegsOffset(loc.indexReg, arg, index),
        scale_bitshift: Math.log2(loc.scale),
      };
  }
}

/** How to write specs for one object: its `struct __bpf_usdt_spec`. */
export class UsdtSpecEncoder {
  /** BPF_USDT_MAX_ARG_CNT of the object's header: the length of `args`. */
  readonly maxArgs: number;
  private readonly encode: (value: unknown) => Uint8Array;

  constructor(btf: Btf, specTypeId: number) {
    const t = btf.type(btf.skipModifiers(specTypeId));
    const args = t.kind === BtfKind.Struct ? t.members.find((m) => m.name === "args") : undefined;
    const argsType = args ? btf.type(btf.skipModifiers(args.type)) : undefined;
    if (t.kind !== BtfKind.Struct || argsType?.kind !== BtfKind.Array) {
      throw new ObjectFormatError(
        "map __bpf_usdt_specs",
        0,
        "its value type is not usdt.bpf.h's struct __bpf_usdt_spec (a struct with an args[] array)",
      );
    }
    this.maxArgs = argsType.nelems;
    this.encode = makeEncoder(btf, specTypeId);
  }

  /** The map value for a probe with these arguments; `cookie` is what bpf_usdt_cookie() returns. */
  spec(args: readonly UsdtArg[], cookie: bigint, probe: string): Uint8Array {
    if (args.length > this.maxArgs) {
      throw new UnsupportedError(`USDT probe ${probe} has ${args.length} arguments; usdt.bpf.h reads at most ${this.maxArgs}`);
    }
    const specs = args.map(argSpec);
    try {
      return this.encode({ args: specs, usdt_cookie: BigInt.asUintN(64, cookie), arg_cnt: args.length });
    } catch (e) {
      if (e instanceof TsbpfError && args.some((a) => a.location.kind === "sib") && /idx_reg_off|scale_bitshift/.test(e.message)) {
        const sib = args.find((a) => a.location.kind === "sib")!;
        throw new UnsupportedError(
          `USDT probe ${probe}: argument "${sib.text}" is indexed memory (base + index * scale), which the object's usdt.bpf.h ` +
            `cannot read; rebuild it with libbpf 1.7 or later's header`,
        );
      }
      throw e;
    }
  }
}
