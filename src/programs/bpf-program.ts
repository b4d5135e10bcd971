/**
 * A program loaded in the kernel: its fd, attach by section convention,
 * and BPF_PROG_TEST_RUN.
 */
import { StateError } from "../errors.js";
import { bpfRequest, closeFd, readAttrU32 } from "../syscall/bpf.js";
import { syscall } from "../syscall/kernel.js";
import { BpfCmd, BpfProgType } from "../abi/uapi-enums.js";
import type { ProgramSpec } from "../spec/object-spec.js";
import { SECTION_DEFS, type SectionMatch, findSectionDef, unknownSectionError } from "../spec/section-types.js";
import { type ProgInfo, type ProgInfoOptions, fdById, kernelBuffer, progInfo } from "../syscall/obj-info.js";
import { PinState, openPinnedObject } from "../syscall/pin.js";
import { type AttachOptions, attachProgram, isAutoAttachable } from "./attach/index.js";
import type { Link } from "./link.js";
import type { UsdtManager } from "./attach/usdt-manager.js";

/** What a program knows of how it was loaded and of its object, for attach. */
export interface ProgramContext {
  /** The expected attach type it was loaded with, when not its section's (usdt: uprobe_multi). */
  expectedAttachType?: number;
  /** Its object's USDT maps (usdt.bpf.h), for usdt programs. */
  usdt?: UsdtManager;
}

/** Program types whose test run takes a context but no packet data. */
const CONTEXT_ONLY: ReadonlySet<BpfProgType> = new Set([BpfProgType.SYSCALL, BpfProgType.RAW_TRACEPOINT, BpfProgType.TRACING]);

/** BPF_PROG_TEST_RUN flags: run on the CPU given by `cpu` (raw_tp); send XDP frames for real (XDP, with repeat). */
export const BPF_F_TEST_RUN_ON_CPU = 1 << 0;
export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;

/** Every input of BPF_PROG_TEST_RUN. Which ones a program type accepts is the kernel's rule (see testRun). */
export interface TestRunOptions {
  /** Input packet (data_in). Default: 64 zero bytes for packet programs, none for context-only types. */
  data?: Uint8Array;
  /** Room for the output packet (data_size_out). Default: the input's size + 256 (0 with XDP live frames). */
  dataSizeOut?: number;
  /** Input context (ctx_in): a struct __sk_buff, xdp_md, the raw_tp arguments, a SYSCALL program's argument. */
  ctx?: Uint8Array;
  /** Room for the output context (ctx_size_out). Default: the input context's size (none for context-only types, which refuse it). */
  ctxSizeOut?: number;
  /** Runs (the kernel's default when 0 is 1); duration is the average. */
  repeat?: number;
  /** BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES. */
  flags?: number;
  /** With BPF_F_TEST_RUN_ON_CPU: the CPU (added to flags when given). */
  cpu?: number;
  /** With BPF_F_TEST_XDP_LIVE_FRAMES: frames per batch (kernel default 64). */
  batchSize?: number;
}

export interface TestRunResult {
  retval: number;
  /** Output packet, as many bytes as the kernel wrote (it may be larger than the input). */
  dataOut: Uint8Array;
  /** Output context (ctx_out); for SYSCALL programs, the argument as the program left it. Empty when none was asked for. */
  ctxOut: Uint8Array;
  /** Average run time, in ns. */
  durationNs: number;
}

/** An opened program's section: the one given, or the usual one for its type (tc programs attach through netlink). */
function sectionForType(type: BpfProgType, name: string, section?: string): SectionMatch {
  if (section !== undefined) {
    const match = findSectionDef(section);
    if (!match) throw unknownSectionError(section, name);
    return match;
  }
  if (type === BpfProgType.SCHED_CLS) return findSectionDef("tc")!;
  const def = SECTION_DEFS.find((d) => d.progType === type && d.attach !== "none") ?? SECTION_DEFS.find((d) => d.progType === type);
  return { def: def ?? { pattern: "", progType: type, expectedAttachType: 0, attach: "none" }, target: "" };
}

export interface OpenProgramOptions {
  /**
   * The section name the program would have in an object ("xdp", "tc",
   * "tcx/ingress", "tp/syscalls/sys_enter_write"): it says how attach()
   * attaches. Default: the usual section of its type.
   */
  section?: string;
}

export class BpfProgram {
  private closed = false;
  private readonly pins = new PinState(() => `program ${this.name}`);
  /** Links made by attach(): a program's links die with it. */
  private readonly links: Link[] = [];

  constructor(
    readonly spec: ProgramSpec,
    readonly fd: number,
    /** The instructions as loaded (after every relocation), for inspection and explain. */
    readonly loadedInsns: Uint8Array,
    /** The verifier's log of the load, when the spec asked for one (setLogLevel). */
    readonly verifierLog?: string,
    private readonly context: ProgramContext = {},
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /**
   * Wraps a program fd not loaded by this process (it is owned from now
   * on): name and type come from the kernel; `section` says how attach()
   * works. The spec has no instructions.
   */
  static fromKernelFd(fd: number, opts: OpenProgramOptions = {}): BpfProgram {
    try {
      const info = progInfo(fd);
      const section = sectionForType(info.type, info.name, opts.section);
      const spec: ProgramSpec = {
        name: info.name,
        sectionName: opts.section ?? section.def.pattern.replace(/\+$/, ""),
        section,
        insns: [],
        license: info.gplCompatible ? "GPL" : "",
        flags: 0,
        autoload: true,
        logLevel: 0,
      };
      return new BpfProgram(spec, fd, new Uint8Array(0));
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  /** Opens the program pinned at `path` (BPF_OBJ_GET). */
  static fromPinned(path: string, opts: OpenProgramOptions = {}): BpfProgram {
    const prog = BpfProgram.fromKernelFd(openPinnedObject(path, 0, "program"), opts);
    prog.pins.path = path;
    return prog;
  }

  /** Opens a program by id (BPF_PROG_GET_FD_BY_ID). */
  static fromId(id: number, opts: OpenProgramOptions = {}): BpfProgram {
    return BpfProgram.fromKernelFd(fdById("prog", id), opts);
  }

  /** The program's id in the kernel. */
  get id(): number {
    this.check();
    return progInfo(this.fd).id;
  }

  /** What the kernel reports of the program; options fetch instructions, func and line info. */
  info(opts: ProgInfoOptions = {}): ProgInfo {
    this.check();
    return progInfo(this.fd, opts);
  }

  /** Where this program was pinned by pin() or opened from by fromPinned(). */
  get pinnedPath(): string | undefined {
    return this.pins.path;
  }

  /** Pins the program at `path` in a BPF filesystem: it stays loaded until unpinned. */
  pin(path: string): void {
    this.check();
    this.pins.pin(this.fd, path);
  }

  /** Removes the pin at `path` (default: where this program was pinned or opened from). */
  unpin(path?: string): void {
    this.pins.unpin(path);
  }

  private check(): void {
    if (this.closed) throw new StateError(`program ${this.name} is closed`);
  }

  /**
   * Attaches as the section name says (tp/…, raw_tp/…, tp_btf/…, uprobe/…,
   * usdt/…), with `opts` for what a section cannot name (an interface, a
   * cgroup, a socket, a binary or USDT probe, a perf event).
   */
  attach(opts: AttachOptions = {}): Link {
    this.check();
    const { def, target } = this.spec.section;
    const link = attachProgram(
      def.attach,
      {
        progFd: this.fd,
        program: this.name,
        sectionName: this.spec.sectionName,
        target,
        expectedAttachType: this.context.expectedAttachType ?? def.expectedAttachType,
        retprobe: !!def.retprobe,
        ...(this.context.usdt ? { usdt: this.context.usdt } : {}),
      },
      opts,
    );
    this.links.push(link);
    return link;
  }

  /** Whether attach() works with no options, from the section name alone. */
  get autoAttachable(): boolean {
    return isAutoAttachable(this.spec.section.def.attach, this.spec.section.target);
  }

  /**
   * BPF_PROG_TEST_RUN, with every field of the command. Packet programs
   * (XDP, socket filters, tc) take `data` (64 zero bytes by default) and a
   * context (struct __sk_buff, xdp_md); context-only types (SYSCALL,
   * raw_tp, tracing) take no data, and the kernel refuses any data, output
   * buffer, repeat or batch size for them. raw_tp programs may run on a
   * chosen CPU (`cpu`). XDP with BPF_F_TEST_XDP_LIVE_FRAMES sends the frames
   * for real (`repeat` of them, `batchSize` at a time) and takes no output
   * buffers.
   *
   * `testRun(data)` and `testRun(data, { repeat, ctx })` remain as shorthands.
   */
  testRun(dataOrOptions?: Uint8Array | TestRunOptions, more: Omit<TestRunOptions, "data"> = {}): TestRunResult {
    this.check();
    const opts: TestRunOptions = dataOrOptions instanceof Uint8Array ? { ...more, data: dataOrOptions } : { ...dataOrOptions, ...more };
    const type = this.spec.section.def.progType;
    const contextOnly = CONTEXT_ONLY.has(type);
    const flags = (opts.flags ?? 0) | (opts.cpu !== undefined ? BPF_F_TEST_RUN_ON_CPU : 0);
    const live = (flags & BPF_F_TEST_XDP_LIVE_FRAMES) !== 0;
    const input = opts.data ?? (contextOnly ? new Uint8Array(0) : new Uint8Array(64));
    const dataOut = kernelBuffer(opts.dataSizeOut ?? (input.byteLength && !live ? input.byteLength + 256 : 0));
    // A SYSCALL program's context is read and written in place: give the kernel a copy and return it.
    const syscallCtx = type === BpfProgType.SYSCALL;
    const ctxIn = opts.ctx ? (syscallCtx ? opts.ctx.slice() : opts.ctx) : undefined;
    const ctxOut = kernelBuffer(opts.ctxSizeOut ?? (ctxIn && !contextOnly && !live ? ctxIn.byteLength : 0));
    const req = bpfRequest(BpfCmd.PROG_TEST_RUN, {
      prog_fd: this.fd,
      data_size_in: input.byteLength,
      data_size_out: dataOut.byteLength,
      data_in: input.byteLength ? input : null,
      data_out: dataOut.byteLength ? dataOut : null,
      repeat: opts.repeat ?? 0,
      ctx_size_in: ctxIn?.byteLength ?? 0,
      ctx_size_out: ctxOut.byteLength,
      ctx_in: ctxIn ?? null,
      ctx_out: ctxOut.byteLength ? ctxOut : null,
      flags,
      cpu: opts.cpu ?? 0,
      batch_size: opts.batchSize ?? 0,
    });
    syscall(req);
    const outSize = readAttrU32(req, "data_size_out");
    const ctxSize = readAttrU32(req, "ctx_size_out");
    return {
      retval: readAttrU32(req, "retval"),
      dataOut: dataOut.subarray(0, Math.min(outSize, dataOut.byteLength)),
      ctxOut: syscallCtx && ctxIn ? ctxIn : ctxOut.subarray(0, Math.min(ctxSize, ctxOut.byteLength)),
      durationNs: readAttrU32(req, "duration"),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.links.splice(0)) l.destroy();
    closeFd(this.fd);
  }
}
