/**
 * perf_event_open(2) in strace 6.1's syntax (src/perf.c): the whole struct
 * perf_event_attr with -v, up to precise_ip and then `...` without.
 */
import { endOf, decodeStruct } from "../abi/layout.js";
import { PERF_EVENT_ATTR, type PerfEventAttrField } from "../abi/perf-event-attr.js";
import { PerfSampleFormat, PerfTypeId } from "../abi/uapi-enums.js";
import { E2BIG } from "../syscall/errno.js";
import type { PerfEventOpenRequest, SyscallResult } from "../syscall/requests.js";
import { type PrintContext, addr } from "./bpf-args.js";
import * as X from "./xlat.js";

/** The 1-bit flags strace 6.1 prints, in its order: up to watermark, then after precise_ip. */
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
] as const satisfies readonly PerfEventAttrField[];
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
] as const satisfies readonly PerfEventAttrField[];
const PRECISE_IP = ["arbitrary skid", "constant skid", "requested to have 0 skid", "must have 0 skid"];

const F = PERF_EVENT_ATTR.fields;
/** sizeof(struct perf_event_attr) in strace 6.1 (PERF_ATTR_SIZE_VER7: through sig_data). */
const STRACE_ATTR_SIZE = endOf(F.sig_data);
/** PERF_ATTR_SIZE_VER0: the first published struct, through config1. */
const PERF_ATTR_SIZE_VER0 = endOf(F.config1);
/** strace 6.1 names bits 38..63 of the flag word __reserved_1; later kernels use none of them yet. */
const RESERVED_1_BIT = 38;

/** " /* bytes 110..111: 0x5 *\/" for a non-zero reserved field. */
const reservedBytes = (field: typeof F.__reserved_2, v: number) =>
  v ? ` /* bytes ${field.offset}..${endOf(field) - 1}: ${X.hex(v)} */` : "";

function attrText(ctx: PrintContext, req: PerfEventOpenRequest, result: SyscallResult): string {
  const sent = req.attr;
  const dvs = new DataView(sent.buffer, sent.byteOffset, sent.byteLength);
  const entrySize = req.fields.size;
  let size = Math.min(entrySize, STRACE_ATTR_SIZE);
  if (!size) size = PERF_ATTR_SIZE_VER0;
  if (size < PERF_ATTR_SIZE_VER0) {
    const a = ctx.addressOf(req.attr);
    return a === undefined ? "0x?" : addr(a);
  }
  if (!ctx.verbose) size = F.wakeup_events.offset;

  const bytes = new Uint8Array(STRACE_ATTR_SIZE);
  bytes.set(sent.subarray(0, Math.min(size, sent.byteLength)));
  const a = decodeStruct(PERF_EVENT_ATTR, bytes);
  const { type, config, sample_type: sampleType } = a;

  const out: string[] = [];
  let size_ = `size=${X.printxval(X.PERF_ATTR_SIZE, entrySize, "PERF_ATTR_SIZE_???")}`;
  if (result.ret === -1 && result.errno === E2BIG && sent.byteLength >= endOf(F.size)) {
    size_ += ` => ${X.printxval(X.PERF_ATTR_SIZE, dvs.getUint32(F.size.offset, true), "PERF_ATTR_SIZE_???")}`;
  }
  out.push(`type=${X.printxval(X.PERF_TYPE_ID, type, "PERF_TYPE_???")}`, size_);

  switch (type) {
    case PerfTypeId.HARDWARE:
      out.push(
        `config=${config >> 32n ? `${X.hex(config >> 32n)}<<32|` : ""}${X.printxval(X.PERF_HW_ID, config & 0xffffffffn, "PERF_COUNT_HW_???")}`,
      );
      break;
    case PerfTypeId.SOFTWARE:
      out.push(`config=${X.printxval(X.PERF_SW_IDS, config, "PERF_COUNT_SW_???")}`);
      break;
    case PerfTypeId.TRACEPOINT:
      out.push(`config=${config}`);
      break;
    case PerfTypeId.HW_CACHE: {
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
  out.push(a.freq ? `sample_freq=${a.sample_freq}` : `sample_period=${a.sample_period}`);
  out.push(`sample_type=${X.printflags(X.PERF_EVENT_SAMPLE_FORMAT, sampleType, "PERF_SAMPLE_???")}`);
  out.push(`read_format=${X.printflags(X.PERF_EVENT_READ_FORMAT, a.read_format, "PERF_FORMAT_???")}`);
  const flag = (name: (typeof FLAG_BITS)[number] | (typeof FLAG_BITS_2)[number]) => {
    if (ctx.verbose || a[name]) out.push(`${name}=${a[name]}`);
  };
  for (const name of FLAG_BITS) flag(name);
  out.push(`precise_ip=${a.precise_ip} /* ${PRECISE_IP[a.precise_ip]} */`);
  for (const name of FLAG_BITS_2) flag(name);
  const flagWord = new DataView(bytes.buffer).getBigUint64(F.disabled.offset, true);
  const reserved1 = flagWord >> BigInt(RESERVED_1_BIT);
  if (reserved1) out.push(`__reserved_1=${X.hex(reserved1)} /* Bits 63..${RESERVED_1_BIT} */`);

  const finish = () => {
    const raw = entrySize;
    if ((raw && raw > size) || (!raw && size < PERF_ATTR_SIZE_VER0)) out.push("...");
    return `{${out.join(", ")}}`;
  };
  if (!ctx.verbose) return finish();

  out.push(a.watermark ? `wakeup_watermark=${a.wakeup_watermark}` : `wakeup_events=${a.wakeup_events}`);
  if (type === PerfTypeId.BREAKPOINT) {
    const bp = a.bp_type;
    out.push(`bp_type=${X.printxval(X.HW_BREAKPOINT_TYPE, bp, bp <= (4 | 3) ? "HW_BREAKPOINT_INVALID" : "HW_BREAKPOINT_???")}`);
    out.push(`bp_addr=${X.hex(a.bp_addr)}`);
  } else {
    out.push(`config1=${X.hex(a.config1)}`);
  }
  // Fields past config1 exist only if the size covers them.
  const has = (field: { offset: number }) => field.offset < size;
  if (!has(F.config2)) return finish();
  out.push(type === PerfTypeId.BREAKPOINT ? `bp_len=${a.bp_len}` : `config2=${X.hex(a.config2)}`);
  if (!has(F.branch_sample_type)) return finish();
  if (sampleType & BigInt(PerfSampleFormat.BRANCH_STACK)) {
    out.push(`branch_sample_type=${X.printflags(X.PERF_BRANCH_SAMPLE_TYPE, a.branch_sample_type, "PERF_SAMPLE_BRANCH_???")}`);
  }
  if (!has(F.sample_regs_user)) return finish();
  out.push(`sample_regs_user=${X.hex(a.sample_regs_user)}`);
  if (!has(F.sample_stack_user)) return finish();
  if (sampleType & BigInt(PerfSampleFormat.STACK_USER)) out.push(`sample_stack_user=${X.hex(a.sample_stack_user)}`);
  if (a.use_clockid) {
    if (!has(F.clockid)) return finish();
    out.push(`clockid=${X.printxval(X.CLOCK_NAMES, a.clockid, "CLOCK_???")}`);
  }
  if (!has(F.sample_regs_intr)) return finish();
  out.push(`sample_regs_intr=${X.hex(a.sample_regs_intr)}`);
  if (!has(F.aux_watermark)) return finish();
  out.push(`aux_watermark=${a.aux_watermark}`);
  if (!has(F.sample_max_stack)) return finish();
  out.push(`sample_max_stack=${a.sample_max_stack}`);
  if (!has(F.__reserved_2)) return finish();
  out[out.length - 1] += reservedBytes(F.__reserved_2, a.__reserved_2);
  if (!has(F.aux_sample_size)) return finish();
  out.push(`aux_sample_size=${a.aux_sample_size}`);
  // strace 6.1 knows the word after aux_sample_size as __reserved_3 (now aux_action).
  if (!has(F.aux_action)) return finish();
  out[out.length - 1] += reservedBytes(F.aux_action, a.aux_action);
  if (!has(F.sig_data)) return finish();
  out.push(`sig_data=${X.hex(a.sig_data)}`);
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
