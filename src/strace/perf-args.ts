/**
 * perf_event_open(2) in strace 6.1's syntax (src/perf.c): the whole struct
 * perf_event_attr with -v, up to precise_ip and then `...` without.
 */
import type { PerfEventOpenRequest, SyscallResult } from "../syscall/requests.js";
import { type PrintContext, addr } from "./bpf-args.js";
import * as X from "./xlat.js";

const FLAG_BITS = [
  "disabled",
  "inherit",
  "pinned",
  "exclusive",
  "exclude_user",
  "exclude_kernel",
  "exclude_hv",
  "exclude_idle",
  "mmap",
  "comm",
  "freq",
  "inherit_stat",
  "enable_on_exec",
  "task",
  "watermark",
];
/** Bits after the 2-bit precise_ip (bits 15-16). */
const FLAG_BITS_2 = [
  "mmap_data",
  "sample_id_all",
  "exclude_host",
  "exclude_guest",
  "exclude_callchain_kernel",
  "exclude_callchain_user",
  "mmap2",
  "comm_exec",
  "use_clockid",
  "context_switch",
  "write_backward",
  "namespaces",
  "ksymbol",
  "bpf_event",
  "aux_output",
  "cgroup",
  "text_poke",
  "build_id",
  "inherit_thread",
  "remove_on_exec",
  "sigtrap",
];
const PRECISE_IP = ["arbitrary skid", "constant skid", "requested to have 0 skid", "must have 0 skid"];

const PERF_TYPE_HARDWARE = 0;
const PERF_TYPE_SOFTWARE = 1;
const PERF_TYPE_TRACEPOINT = 2;
const PERF_TYPE_HW_CACHE = 3;
const PERF_TYPE_BREAKPOINT = 5;
const PERF_SAMPLE_BRANCH_STACK = 1n << 11n;
const PERF_SAMPLE_STACK_USER = 1n << 13n;
const E2BIG = 7;
/** sizeof(struct perf_event_attr) in strace 6.1 (PERF_ATTR_SIZE_VER7). */
const STRACE_ATTR_SIZE = 128;
const PERF_ATTR_SIZE_VER0 = 64;

function attrText(ctx: PrintContext, req: PerfEventOpenRequest, result: SyscallResult): string {
  const sent = req.attr;
  const dvs = new DataView(sent.buffer, sent.byteOffset, sent.byteLength);
  const entrySize = req.fields.size !== undefined ? Number(req.fields.size) : sent.byteLength >= 8 ? dvs.getUint32(4, true) : 0;
  let size = Math.min(entrySize, STRACE_ATTR_SIZE);
  if (!size) size = PERF_ATTR_SIZE_VER0;
  if (size < PERF_ATTR_SIZE_VER0) {
    const a = ctx.addressOf(req.attr);
    return a === undefined ? "0x?" : addr(a);
  }
  if (!ctx.verbose) size = 48; // offsetof(struct perf_event_attr, wakeup_events)

  const a = new Uint8Array(STRACE_ATTR_SIZE);
  a.set(sent.subarray(0, Math.min(size, sent.byteLength)));
  const v = new DataView(a.buffer);
  v.setUint32(4, entrySize, true);
  const u32 = (o: number) => v.getUint32(o, true);
  const u64 = (o: number) => v.getBigUint64(o, true);
  const type = u32(0);
  const config = u64(8);
  const sampleType = u64(24);
  const flags = u64(40);
  const bit = (n: number) => Number((flags >> BigInt(n)) & 1n);

  const out: string[] = [];
  let size_ = `size=${X.printxval(X.PERF_ATTR_SIZE, entrySize, "PERF_ATTR_SIZE_???")}`;
  if (result.ret === -1 && result.errno === E2BIG && sent.byteLength >= 8) {
    size_ += ` => ${X.printxval(X.PERF_ATTR_SIZE, dvs.getUint32(4, true), "PERF_ATTR_SIZE_???")}`;
  }
  out.push(`type=${X.printxval(X.PERF_TYPE_ID, type, "PERF_TYPE_???")}`, size_);

  switch (type) {
    case PERF_TYPE_HARDWARE:
      out.push(
        `config=${config >> 32n ? `${X.hex(config >> 32n)}<<32|` : ""}${X.printxval(X.PERF_HW_ID, config & 0xffffffffn, "PERF_COUNT_HW_???")}`,
      );
      break;
    case PERF_TYPE_SOFTWARE:
      out.push(`config=${X.printxval(X.PERF_SW_IDS, config, "PERF_COUNT_SW_???")}`);
      break;
    case PERF_TYPE_TRACEPOINT:
      out.push(`config=${config}`);
      break;
    case PERF_TYPE_HW_CACHE: {
      let s = "config=";
      if (config >> 32n) s += `${X.hex(config >> 32n)}<<32|`;
      if ((config & 0xffffffffn) >> 24n) s += `${X.hex((config & 0xffffffffn) >> 24n)}<<24|`;
      s += `${X.printxval(X.PERF_HW_CACHE_OP_RESULT_ID, (config >> 16n) & 0xffn, "PERF_COUNT_HW_CACHE_RESULT_???")}<<16|`;
      s += `${X.printxval(X.PERF_HW_CACHE_OP_ID, (config >> 8n) & 0xffn, "PERF_COUNT_HW_CACHE_OP_???")}<<8|`;
      s += X.printxval(X.PERF_HW_CACHE_ID, config & 0xffn, "PERF_COUNT_HW_CACHE_???");
      out.push(s);
      break;
    }
    default:
      out.push(`config=${X.hex(config)}`);
  }
  out.push(bit(10) ? `sample_freq=${u64(16)}` : `sample_period=${u64(16)}`);
  out.push(`sample_type=${X.printflags(X.PERF_EVENT_SAMPLE_FORMAT, sampleType, "PERF_SAMPLE_???")}`);
  out.push(`read_format=${X.printflags(X.PERF_EVENT_READ_FORMAT, u64(32), "PERF_FORMAT_???")}`);
  const flag = (name: string, n: number) => {
    if (ctx.verbose || bit(n)) out.push(`${name}=${bit(n)}`);
  };
  FLAG_BITS.forEach((name, i) => {
    flag(name, i);
  });
  const precise = Number((flags >> 15n) & 3n);
  out.push(`precise_ip=${precise} /* ${PRECISE_IP[precise]} */`);
  FLAG_BITS_2.forEach((name, i) => {
    flag(name, 17 + i);
  });
  const reserved1 = flags >> 38n;
  if (reserved1) out.push(`__reserved_1=${X.hex(reserved1)} /* Bits 63..38 */`);

  const finish = () => {
    const raw = entrySize;
    if ((raw && raw > size) || (!raw && size < PERF_ATTR_SIZE_VER0)) out.push("...");
    return `{${out.join(", ")}}`;
  };
  if (!ctx.verbose) return finish();

  out.push(bit(14) ? `wakeup_watermark=${u32(48)}` : `wakeup_events=${u32(48)}`);
  if (type === PERF_TYPE_BREAKPOINT) {
    const bp = u32(52);
    out.push(`bp_type=${X.printxval(X.HW_BREAKPOINT_TYPE, bp, bp <= (4 | 3) ? "HW_BREAKPOINT_INVALID" : "HW_BREAKPOINT_???")}`);
    out.push(`bp_addr=${X.hex(u64(56))}`);
  } else {
    out.push(`config1=${X.hex(u64(56))}`);
  }
  // Fields past config1 exist only if the size covers them.
  const has = (offset: number) => offset < size;
  if (!has(64)) return finish();
  out.push(type === PERF_TYPE_BREAKPOINT ? `bp_len=${u64(64)}` : `config2=${X.hex(u64(64))}`);
  if (!has(72)) return finish();
  if (sampleType & PERF_SAMPLE_BRANCH_STACK) {
    out.push(`branch_sample_type=${X.printflags(X.PERF_BRANCH_SAMPLE_TYPE, u64(72), "PERF_SAMPLE_BRANCH_???")}`);
  }
  if (!has(80)) return finish();
  out.push(`sample_regs_user=${X.hex(u64(80))}`);
  if (!has(88)) return finish();
  if (sampleType & PERF_SAMPLE_STACK_USER) out.push(`sample_stack_user=${X.hex(u32(88))}`);
  if (bit(25)) {
    if (!has(92)) return finish();
    out.push(`clockid=${X.printxval(X.CLOCK_NAMES, v.getInt32(92, true), "CLOCK_???")}`);
  }
  if (!has(96)) return finish();
  out.push(`sample_regs_intr=${X.hex(u64(96))}`);
  if (!has(104)) return finish();
  out.push(`aux_watermark=${u32(104)}`);
  if (!has(108)) return finish();
  out.push(`sample_max_stack=${v.getUint16(108, true)}`);
  if (!has(110)) return finish();
  const reserved2 = v.getUint16(110, true);
  if (reserved2) out[out.length - 1] += ` /* bytes 110..111: ${X.hex(reserved2)} */`;
  if (!has(112)) return finish();
  out.push(`aux_sample_size=${u32(112)}`);
  if (!has(116)) return finish();
  const reserved3 = u32(116);
  if (reserved3) out[out.length - 1] += ` /* bytes 116..119: ${X.hex(reserved3)} */`;
  if (!has(120)) return finish();
  out.push(`sig_data=${X.hex(u64(120))}`);
  return finish();
}

export function formatPerfEventOpenArgs(ctx: PrintContext, req: PerfEventOpenRequest, result: SyscallResult): string {
  return [
    attrText(ctx, req, result),
    String(req.pid | 0),
    String(req.cpu | 0),
    String(req.groupFd | 0),
    X.printflags(X.PERF_EVENT_OPEN_FLAGS, req.flags, "PERF_FLAG_???"),
  ].join(", ");
}
