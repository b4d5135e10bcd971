/**
 * BPF_PROG_LOAD. The first attempt carries no log buffer (fast, like
 * libbpf); if the kernel refuses the program, it is loaded again with a
 * verifier log that grows until the whole log fits, and the log goes into
 * the error.
 */
import { TsbpfError } from "../errors.js";
import type { ProgLoadAttr } from "../abi/bpf-attr.js";
import { tryBpf } from "../syscall/bpf.js";
import { cString } from "../syscall/c-string.js";
import { EAGAIN, ENOSPC, EPERM } from "../syscall/errno.js";
import { SyscallError } from "../syscall/syscall-error.js";
import { isRealKernel } from "../syscall/kernel.js";
import { withProfilerSignalBlocked } from "../syscall/native.js";
import { BpfCmd, type BpfAttachType, type BpfProgType } from "../abi/uapi-enums.js";

const LOG_LEVEL_VERBOSE = 1;
const FIRST_LOG_SIZE = 64 * 1024;
/** The kernel caps log_size at UINT32_MAX >> 2; 256 MiB is plenty. */
const MAX_LOG_SIZE = 256 * 1024 * 1024;
/**
 * The verifier gives up with EAGAIN when a signal arrives while it runs (a
 * Ctrl-C during the load, SIGCHLD, a profiler's SIGPROF): try again, as
 * libbpf does (5 attempts).
 */
const PROG_LOAD_ATTEMPTS = 5;

function tryProgLoad(attr: ProgLoadAttr): ReturnType<typeof tryBpf<BpfCmd.PROG_LOAD>> {
  let r = tryBpf(BpfCmd.PROG_LOAD, attr);
  if (r.ret !== -1 || r.errno !== EAGAIN) return r;
  const retry = () => {
    for (let attempt = 1; attempt < PROG_LOAD_ATTEMPTS && r.ret === -1 && r.errno === EAGAIN; attempt++) {
      r = tryBpf(BpfCmd.PROG_LOAD, attr);
    }
    return r;
  };
  // Retries run with a profiler's SIGPROF held back, or they would be interrupted too.
  return isRealKernel() ? withProfilerSignalBlocked(retry) : retry();
}

export interface ProgLoadRequest {
  name: string;
  type: BpfProgType;
  expectedAttachType: BpfAttachType | 0;
  insns: Uint8Array;
  license: string;
  kernelVersion: number;
  flags?: number;
  btfFd?: number;
  funcInfo?: { recSize: number; bytes: Uint8Array; count: number };
  lineInfo?: { recSize: number; bytes: Uint8Array; count: number };
  attachBtfId?: number;
  attachProgFd?: number;
  fdArray?: Uint8Array;
  /** Verifier log level from the first attempt (libbpf's bpf_program__set_log_level); the log is returned. */
  logLevel?: number;
}

export interface LoadedProgram {
  fd: number;
  /** The verifier's log of the successful load, when a log level was asked for. */
  log?: string;
}

/** The verifier refused the program. `log` is the whole verifier log. */
export class VerifierError extends TsbpfError {
  override name = "VerifierError";
  constructor(
    readonly program: string,
    override readonly cause: SyscallError,
    readonly log: string,
    /** Explanation added by the caller (e.g. which CO-RE relocation was poisoned). */
    readonly explanation?: string,
  ) {
    const lines = log.trimEnd().split("\n");
    const tail = lines.slice(-20).join("\n");
    super(
      `program ${program} was rejected by the verifier (${cause.code})` +
        (explanation ? `\n${explanation}` : "") +
        (log
          ? `\nverifier log (last ${Math.min(20, lines.length)} of ${lines.length} lines):\n${tail}`
          : "\n(the kernel gave no verifier log)"),
      { cause },
    );
  }
}

function attrFor(req: ProgLoadRequest, log?: Uint8Array): ProgLoadAttr {
  return {
    prog_type: req.type,
    insn_cnt: req.insns.byteLength / 8,
    insns: req.insns,
    license: cString(req.license),
    log_level: log ? req.logLevel || LOG_LEVEL_VERBOSE : 0,
    log_size: log ? log.byteLength : 0,
    log_buf: log ?? null,
    kern_version: req.kernelVersion,
    prog_flags: req.flags ?? 0,
    prog_name: req.name,
    expected_attach_type: req.expectedAttachType,
    prog_btf_fd: req.btfFd ?? 0,
    func_info_rec_size: req.funcInfo?.recSize ?? 0,
    func_info: req.funcInfo?.bytes ?? null,
    func_info_cnt: req.funcInfo?.count ?? 0,
    line_info_rec_size: req.lineInfo?.recSize ?? 0,
    line_info: req.lineInfo?.bytes ?? null,
    line_info_cnt: req.lineInfo?.count ?? 0,
    attach_btf_id: req.attachBtfId ?? 0,
    attach_prog_fd: req.attachProgFd ?? 0,
    fd_array: req.fdArray ?? null,
  };
}

function logText(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? buf.subarray(0, end) : buf);
}

/** The kernel refused a program before verifying it (EPERM, empty log) for a reason the caller can name. */
export class ProgramRefusedError extends TsbpfError {
  override name = "ProgramRefusedError";
  constructor(
    readonly program: string,
    override readonly cause: SyscallError,
    reason: string,
  ) {
    super(`program ${program} was refused (${cause.code}): ${reason}`, { cause });
  }
}

/**
 * Loads a program. Throws VerifierError (with the log) if the verifier
 * refuses it; `refusedReason` explains an EPERM without a log.
 */
export function loadProgram(req: ProgLoadRequest, explain?: (log: string) => string | undefined, refusedReason?: string): LoadedProgram {
  // Without a log level asked for, the first attempt has no log buffer (fast, like libbpf).
  const first = req.logLevel ? undefined : tryProgLoad(attrFor(req));
  if (first && first.ret !== -1) return { fd: Number(first.ret) };

  let size = FIRST_LOG_SIZE;
  for (;;) {
    const log = new Uint8Array(size);
    const r = tryProgLoad(attrFor(req, log));
    if (r.ret !== -1) {
      // Without a log level, rare: the program loads when verified with a log.
      return { fd: Number(r.ret), ...(req.logLevel ? { log: logText(log) } : {}) };
    }
    if (r.errno === ENOSPC && size < MAX_LOG_SIZE) {
      size *= 4;
      continue;
    }
    if (r.errno === EAGAIN) {
      // Not a verdict: signals kept interrupting the verifier (e.g. a profiler's SIGPROF).
      throw new SyscallError(
        r.req,
        r.errno,
        `loading program ${req.name} (the verifier was interrupted by a signal ${PROG_LOAD_ATTEMPTS} times in a row)`,
      );
    }
    const text = logText(log);
    const cause = new SyscallError(r.req, r.errno, `loading program ${req.name}`);
    if (refusedReason && r.errno === EPERM && !text.trim()) throw new ProgramRefusedError(req.name, cause, refusedReason);
    if (first && !text && r.errno !== first.errno) {
      // The retry failed differently (e.g. EPERM without log): report the first failure.
      throw new SyscallError(first.req, first.errno, `loading program ${req.name}`);
    }
    // Refused before the verifier ran (no log): a missing capability (EPERM), an invalid
    // name or attribute (EINVAL), not a rejection. The SyscallError's hint says which.
    if (!text.trim()) throw cause;
    throw new VerifierError(req.name, cause, text, explain?.(text));
  }
}
