/**
 * A program loaded in the kernel: its fd, attach by section convention,
 * and BPF_PROG_TEST_RUN.
 */
import { StateError } from "../errors.js";
import { bpfRequest, closeFd, readAttrU32 } from "../syscall/bpf.js";
import { syscall } from "../syscall/kernel.js";
import { BpfCmd, BpfProgType } from "../abi/uapi-enums.js";
import type { ProgramSpec } from "../spec/object-spec.js";
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

export interface TestRunResult {
  retval: number;
  /** Output packet/data, when the program type produces one. */
  dataOut: Uint8Array;
  durationNs: number;
}

export class BpfProgram {
  private closed = false;
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
   * BPF_PROG_TEST_RUN. Packet programs (XDP, socket filters, tc) take `data`
   * (64 zero bytes by default); context-only types (syscall, raw_tp,
   * tracing) take no data, and the kernel rejects any data or output buffer.
   */
  testRun(data?: Uint8Array, opts: { repeat?: number; ctx?: Uint8Array } = {}): TestRunResult {
    this.check();
    const input = data ?? (CONTEXT_ONLY.has(this.spec.section.def.progType) ? new Uint8Array(0) : new Uint8Array(64));
    const dataOut = input.byteLength ? new Uint8Array(input.byteLength + 256) : new Uint8Array(0);
    const req = bpfRequest(BpfCmd.PROG_TEST_RUN, {
      prog_fd: this.fd,
      data_size_in: input.byteLength,
      data_size_out: dataOut.byteLength,
      data_in: input.byteLength ? input : null,
      data_out: dataOut.byteLength ? dataOut : null,
      repeat: opts.repeat ?? 0,
      ctx_size_in: opts.ctx?.byteLength ?? 0,
      ctx_in: opts.ctx ?? null,
    });
    syscall(req);
    const outSize = readAttrU32(req, "data_size_out");
    return {
      retval: readAttrU32(req, "retval"),
      dataOut: dataOut.subarray(0, Math.min(outSize, dataOut.byteLength)),
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
