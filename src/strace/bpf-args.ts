/**
 * bpf(2) in strace 6.1's syntax (src/bpf.c at tag v6.1), printed from the
 * declarative bpf_attr layout (bpf-attr.ts): fields in layout order, nested
 * by `group`, formatted by `kind`, filtered by `printIf`. What is specific to
 * strace 6.1 lives here: which commands it decodes, the size of its own
 * struct for each (fields past it are not shown; non-zero bytes past it print
 * as `extra_data`), the link_create union rule, and its structures for
 * OBJ_GET_INFO_BY_FD.
 */
import { type AttrField, type AttrLayout, type AttrValues, encodeAttr, isPointerKind } from "../syscall/bpf-attr.js";
import type { BpfRequest } from "../syscall/requests.js";
import { BpfAttachType, BpfCmd } from "../abi/uapi-enums.js";
import type { Memory } from "./memory.js";
import { QUOTE_0_TERMINATED, QUOTE_FORCE_HEX, printstrFetchSize, printstrFetched, quotedCString, quotedString } from "./quote.js";
import * as X from "./xlat.js";

/** Everything the printers need besides the request. */
export interface PrintContext {
  /** strace's -s: bytes of a string shown before "...". */
  maxStrlen: number;
  /** strace -v: decode instructions, info structs, all perf_event_attr fields. */
  verbose: boolean;
  memory: Memory;
  /** readlink of /proc/self/fd/N ("anon_inode:bpf-map"), for OBJ_GET_INFO_BY_FD. */
  fdPath: (fd: number) => string | undefined;
  /** Name of a network interface by index. */
  ifName: (index: number) => string | undefined;
  /** Address of a buffer the request passes by pointer (the attr itself, epoll's events). */
  addressOf: (buf: Uint8Array) => bigint | undefined;
  /** Local time of a boot-time stamp in ns, as strace's comment prints it (prog info load_time). */
  bootTimeComment: (ns: bigint) => string | undefined;
}

/** printaddr: NULL or 0x…. */
export function addr(a: bigint): string {
  return a === 0n ? "NULL" : "0x" + a.toString(16);
}

/** print_ifindex. */
export function ifindex(ctx: PrintContext, i: number): string {
  const name = i ? ctx.ifName(i) : undefined;
  return name !== undefined ? `if_nametoindex(${quotedString(new TextEncoder().encode(name), name.length, 0)})` : String(i);
}

/** printstr / printstr_ex: a string in user memory, at most -s bytes. */
export function userString(ctx: PrintContext, a: bigint, len: bigint, style: number): string {
  if (a === 0n) return "NULL";
  const n = printstrFetchSize(len, ctx.maxStrlen);
  const bytes = style & QUOTE_0_TERMINATED ? ctx.memory.readStr(a, n) : ctx.memory.read(a, n);
  if (!bytes) return addr(a);
  return printstrFetched(bytes, len, style, ctx.maxStrlen);
}

/** printpath: a path in user memory, not cut at -s (PATH_MAX). */
export function userPath(ctx: PrintContext, a: bigint): string {
  if (a === 0n) return "NULL";
  const bytes = ctx.memory.readStr(a, 4096);
  if (!bytes) return addr(a);
  const nulSeen = bytes.indexOf(0) >= 0;
  const path = new Uint8Array(4096);
  path.set(bytes.subarray(0, 4095));
  const n = nulSeen ? bytes.indexOf(0) : 4095;
  path[n] = nulSeen ? 0 : 1;
  return quotedCString(path, n + 1);
}

/**
 * print_array: elements of `elemSize` bytes read from user memory, all of
 * them with -v, at most -s of them otherwise.
 */
export function userArray(
  ctx: PrintContext,
  start: bigint,
  count: bigint,
  elemSize: number,
  print: (elem: Uint8Array, index: number) => string | false,
): string {
  if (start === 0n) return "NULL";
  if (count === 0n) return "[]";
  const size = count * BigInt(elemSize);
  if (size / BigInt(elemSize) !== count || start + size > 0xffffffffffffffffn) return addr(start);
  const out: string[] = [];
  for (let i = 0n; i < count; i++) {
    const at = start + i * BigInt(elemSize);
    const elem = ctx.memory.read(at, elemSize);
    if (!elem) {
      if (i === 0n) return addr(at);
      out.push(`... /* ${addr(at)} */`);
      break;
    }
    if (!ctx.verbose && i >= BigInt(ctx.maxStrlen)) {
      out.push("...");
      break;
    }
    const s = print(elem, Number(i));
    if (s === false) {
      out.push("...");
      break;
    }
    out.push(s);
  }
  return `[${out.join(", ")}]`;
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u32 = (b: Uint8Array, off: number) => (off + 4 <= b.byteLength ? dv(b).getUint32(off, true) : 0);
const u64 = (b: Uint8Array, off: number) => (off + 8 <= b.byteLength ? dv(b).getBigUint64(off, true) : 0n);
const u64max = (v: bigint) => (v === 0xffffffffffffffffn ? "UINT64_MAX" : String(v));

/** print_bpf_filter_code(code, extended = true). */
function ebpfCode(code: number): string {
  const cls = code & 7;
  const i = code & ~7;
  let s = X.printxval(X.EBPF_CLASS, cls, "BPF_???");
  switch (cls) {
    case 0: // LD
    case 1: // LDX
    case 2: // ST
    case 3: // STX
      s += "|" + X.printxvals(code & 0x18, "BPF_???", X.BPF_SIZE, X.EBPF_SIZE) + "|" + X.printxval(X.EBPF_MODE, code & 0xe0, "BPF_???");
      break;
    case 4: // ALU
    case 7: // ALU64
      s += "|" + X.printxval(X.BPF_SRC, code & 0x08, "BPF_???") + "|" + X.printxvals(code & 0xf0, "BPF_???", X.BPF_OP_ALU, X.EBPF_OP_ALU);
      break;
    case 5: // JMP
      s += "|" + X.printxval(X.BPF_SRC, code & 0x08, "BPF_???") + "|" + X.printxvals(code & 0xf0, "BPF_???", X.BPF_OP_JMP, X.EBPF_OP_JMP);
      break;
    case 6: // JMP32: classic BPF's BPF_RET, "reserved in eBPF" for strace 6.1
      if (i) s += `|${X.hex(i)} /* BPF_??? */`;
      break;
  }
  return s;
}

/** One struct bpf_insn as strace prints it. */
export function ebpfInsn(b: Uint8Array): string {
  const v = dv(b);
  const regs = b[1]!;
  return (
    `{code=${ebpfCode(b[0]!)}, dst_reg=${X.printxval(X.EBPF_REGS, regs & 0xf, "BPF_REG_???")}, ` +
    `src_reg=${X.printxval(X.EBPF_REGS, regs >> 4, "BPF_REG_???")}, off=${v.getInt16(2, true)}, imm=${X.hex(v.getUint32(4, true))}}`
  );
}

const BPF_MAXINSNS = 4096;

/** print_ebpf_prog: the pointer, or with -v the decoded instructions. */
export function ebpfProg(ctx: PrintContext, a: bigint, count: number): string {
  if (!ctx.verbose) return addr(a);
  return userArray(ctx, a, BigInt(count), 8, (b, i) => (i >= BPF_MAXINSNS ? false : ebpfInsn(b)));
}

/** strace 6.1's view of one bpf command: the size of its struct, or undecoded (printed as a pointer). */
interface CmdProfile {
  /** sizeof strace 6.1's struct for the command; fields past it are not shown. */
  structSize: number;
  /** Where decode_attr_extra_data starts, when the decoder moves it (LINK_CREATE's union). */
  extraFrom?: (attr: Uint8Array) => number;
  /** The decoder runs on exit too (fields with showUpdate, OBJ_GET_INFO_BY_FD's info). */
  exit?: "inline" | "batch";
}

const P = (structSize: number, extra: Partial<CmdProfile> = {}): CmdProfile => ({ structSize, ...extra });

/** The commands strace 6.1 decodes (bpf_cmd_decoders[] in src/bpf.c), with bpf_attr.h's struct sizes. */
const STRACE61: ReadonlyMap<number, CmdProfile> = new Map([
  [BpfCmd.MAP_CREATE, P(72)],
  [BpfCmd.MAP_LOOKUP_ELEM, P(32)],
  [BpfCmd.MAP_UPDATE_ELEM, P(32)],
  [BpfCmd.MAP_DELETE_ELEM, P(16)],
  [BpfCmd.MAP_GET_NEXT_KEY, P(24)],
  [BpfCmd.PROG_LOAD, P(128)],
  [BpfCmd.OBJ_PIN, P(16)],
  [BpfCmd.OBJ_GET, P(16)],
  [BpfCmd.PROG_ATTACH, P(20)],
  [BpfCmd.PROG_DETACH, P(12)],
  [BpfCmd.PROG_TEST_RUN, P(76)],
  [BpfCmd.PROG_GET_NEXT_ID, P(12, { exit: "inline" })],
  [BpfCmd.MAP_GET_NEXT_ID, P(12, { exit: "inline" })],
  [BpfCmd.PROG_GET_FD_BY_ID, P(12)],
  [BpfCmd.MAP_GET_FD_BY_ID, P(12)],
  [BpfCmd.OBJ_GET_INFO_BY_FD, P(16, { exit: "inline" })],
  [BpfCmd.PROG_QUERY, P(28)],
  [BpfCmd.RAW_TRACEPOINT_OPEN, P(12)],
  [BpfCmd.BTF_LOAD, P(28)],
  [BpfCmd.BTF_GET_FD_BY_ID, P(4)],
  [BpfCmd.TASK_FD_QUERY, P(48)],
  [BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, P(32)],
  [BpfCmd.MAP_FREEZE, P(4)],
  [BpfCmd.BTF_GET_NEXT_ID, P(12, { exit: "inline" })],
  [BpfCmd.MAP_LOOKUP_BATCH, P(56, { exit: "batch" })],
  [BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH, P(56, { exit: "batch" })],
  [BpfCmd.MAP_UPDATE_BATCH, P(56, { exit: "batch" })],
  [BpfCmd.MAP_DELETE_BATCH, P(56, { exit: "batch" })],
  [
    BpfCmd.LINK_CREATE,
    P(48, {
      // The union member strace decodes decides where its struct ends.
      extraFrom: (a) => {
        switch (u32(a, 8)) {
          case 0:
            return 20; // target_btf_id
          case BpfAttachType.TRACE_ITER:
            return 28; // iter_info, iter_info_len
          case BpfAttachType.PERF_EVENT:
            return 24; // perf_event.bpf_cookie
          case BpfAttachType.TRACE_KPROBE_MULTI:
            return 48; // kprobe_multi
          default:
            return 16;
        }
      },
    }),
  ],
  [BpfCmd.LINK_UPDATE, P(16)],
  [BpfCmd.LINK_GET_FD_BY_ID, P(4)],
  [BpfCmd.LINK_GET_NEXT_ID, P(12, { exit: "inline" })],
]);

/**
 * The attr as it was on entry: `values` encoded again, pointers taken from
 * the attr that was sent (the kernel writes results into `req.attr`, e.g.
 * next_id, test.retval; strace shows most fields as they were on entry).
 */
function entryAttr(req: BpfRequest): Uint8Array {
  const sent = new Map<Uint8Array, bigint>();
  for (const field of req.layout.fields) {
    const v = req.values[field.name];
    if (isPointerKind(field.kind) && v instanceof Uint8Array) sent.set(v, u64(req.attr, field.offset));
  }
  try {
    const image = encodeAttr(req.layout, req.values, (b) => sent.get(b) ?? 0n);
    return image.byteLength === req.attr.byteLength ? image : req.attr.slice();
  } catch {
    return req.attr.slice();
  }
}

function readField(attr: Uint8Array, field: AttrField): bigint {
  return field.size === 8 ? u64(attr, field.offset) : BigInt(u32(attr, field.offset));
}

const fieldOf = (layout: AttrLayout, name: string) => layout.fields.find((x) => x.name === name);

function lengthOf(layout: AttrLayout, attr: Uint8Array, field: AttrField): bigint {
  const lf = field.lengthField ? fieldOf(layout, field.lengthField) : undefined;
  return lf ? readField(attr, lf) : 0n;
}

function formatField(ctx: PrintContext, req: BpfRequest, attr: Uint8Array, field: AttrField, len: number, exitAttr: Uint8Array): string {
  const v = readField(attr, field);
  const n = Number(v & 0xffffffffn);
  switch (field.kind) {
    case "u32":
      return String(n);
    case "s32":
    case "fd":
      return String(n | 0);
    case "u64":
      return u64max(v);
    case "x32":
    case "x64":
      return X.hex(v);
    case "ifindex":
      return ifindex(ctx, n);
    case "numa_node":
      return n === 0xffffffff ? `${n} /* NUMA_NO_NODE */` : String(n);
    case "ptr":
      return addr(v);
    case "str":
      return userString(ctx, v, field.maxLen !== undefined ? BigInt(field.maxLen) : 0xffffffffffffffffn, QUOTE_0_TERMINATED);
    case "path":
      return userPath(ctx, v);
    case "log_buf": {
      // strace reads the log buffer on entry, before the kernel wrote the
      // log. tsbpf always passes a fresh zero-filled buffer, so on entry it
      // holds an empty string.
      if (v === 0n) return "NULL";
      const size = printstrFetchSize(lengthOf(req.layout, attr, field), ctx.maxStrlen);
      return printstrFetched(new Uint8Array(size), lengthOf(req.layout, attr, field), QUOTE_0_TERMINATED, ctx.maxStrlen);
    }
    case "btf_blob":
      return userString(ctx, v, lengthOf(req.layout, attr, field), 0);
    case "insns":
      return ebpfProg(ctx, v, Number(lengthOf(req.layout, attr, field)));
    case "iter_info":
      // strace 6.1 prints this array even without -v, and takes iter_info_len
      // (a byte count) as the number of 4-byte elements.
      return userArray(ctx, v, lengthOf(req.layout, attr, field), 4, (b) => `{map={map_fd=${dv(b).getInt32(0, true)}}}`);
    case "obj_info":
      return objInfo(ctx, exitAttr);
    case "name": {
      const bytes = attr.subarray(field.offset, field.offset + 16);
      return quotedCString(bytes, Math.min(16, len - field.offset));
    }
    case "map_type":
      return X.printxval(X.BPF_MAP_TYPES, n, "BPF_MAP_TYPE_???");
    case "prog_type":
      return X.printxval(X.BPF_PROG_TYPES, n, "BPF_PROG_TYPE_???");
    case "attach_type":
      return X.printxval(X.BPF_ATTACH_TYPES, n, "BPF_???");
    case "map_flags":
      return X.printflags(X.BPF_MAP_FLAGS, n, "BPF_F_???");
    case "prog_flags":
      return X.printflags(X.BPF_PROG_FLAGS, n, "BPF_F_???");
    case "elem_flags":
      return X.printxval(X.BPF_MAP_UPDATE_ELEM_FLAGS, v, "BPF_???");
    case "lookup_flags":
      return X.printflags(X.BPF_MAP_LOOKUP_ELEM_FLAGS, v, "BPF_???");
    case "file_flags":
      return X.printflags(X.BPF_FILE_MODE_FLAGS, n, "BPF_F_???");
    case "attach_flags":
      return X.printflags(X.BPF_ATTACH_FLAGS, n, "BPF_F_???");
    case "test_run_flags":
      return X.printflags(X.BPF_TEST_RUN_FLAGS, n, "BPF_F_???");
    case "kern_version":
      return `KERNEL_VERSION(${n >>> 16}, ${(n >>> 8) & 0xff}, ${n & 0xff})`;
  }
}

/** decode_attr_extra_data: non-zero bytes past strace's struct. */
function extraData(ctx: PrintContext, attr: Uint8Array, size: number, from: number): string | undefined {
  if (size <= from) return undefined;
  const rest = attr.subarray(from, size);
  if (rest.every((b) => b === 0)) return undefined;
  if (!ctx.verbose) return "...";
  return `extra_data=${quotedString(rest, rest.byteLength, QUOTE_FORCE_HEX)} /* bytes ${from}..${size - 1} */`;
}

/** A `{...}` being built: items are "name=value" strings or nested groups. */
interface Group {
  name: string;
  items: Array<string | Group>;
}

function render(g: Group): string {
  return `{${g.items.map((i) => (typeof i === "string" ? i : `${i.name}=${render(i)}`)).join(", ")}}`;
}

/** The second argument of bpf(2) and, for the batch commands, what strace appends on exit. */
function formatAttr(ctx: PrintContext, req: BpfRequest, profile: CmdProfile): string {
  const size = req.layout.size;
  const entry = entryAttr(req);
  const exit = req.attr;
  const len = Math.min(size, profile.structSize);
  const root: Group = { name: "", items: [] };
  const values: AttrValues = req.values;
  for (const field of req.layout.fields) {
    if (field.offset >= len) continue;
    if (field.printIf && !field.printIf(values)) continue;
    let g = root;
    for (const name of field.group ?? []) {
      const last = g.items[g.items.length - 1];
      if (typeof last === "object" && last.name === name) g = last;
      else {
        const child: Group = { name, items: [] };
        g.items.push(child);
        g = child;
      }
    }
    let text = formatField(ctx, req, entry, field, len, exit);
    if (field.showUpdate && profile.exit === "inline") {
      const after = readField(exit, field);
      if (after !== readField(entry, field)) text += " => " + formatField(ctx, req, exit, field, len, exit);
    }
    g.items.push(`${field.name}=${text}`);
  }
  const extra = extraData(
    ctx,
    profile.exit === "inline" ? exit : entry,
    size,
    profile.extraFrom ? profile.extraFrom(entry) : profile.structSize,
  );
  if (extra) root.items.push(extra);
  let out = render(root);
  if (profile.exit === "batch") {
    const count = fieldOf(req.layout, "count");
    if (count && readField(exit, count) !== readField(entry, count)) out += ` => {batch={count=${readField(exit, count)}}}`;
  }
  return out;
}

/** The arguments of a bpf() call, between the parentheses. */
export function formatBpfArgs(ctx: PrintContext, req: BpfRequest): string {
  const cmd = X.printxval(X.BPF_COMMANDS, req.cmd, "BPF_???");
  const size = req.layout.size;
  const profile = STRACE61.get(req.cmd);
  let attr: string;
  if (profile && size > 0 && size <= 4096) attr = formatAttr(ctx, req, profile);
  else {
    const a = ctx.addressOf(req.attr);
    attr = a === undefined ? "0x?" : addr(a);
  }
  return `${cmd}, ${attr}, ${size}`;
}

// ---- OBJ_GET_INFO_BY_FD ------------------------------------------------------

function objInfo(ctx: PrintContext, exit: Uint8Array): string {
  const infoAddr = u64(exit, 8);
  if (!ctx.verbose) return addr(infoAddr);
  const fd = u32(exit, 0) | 0;
  const path = ctx.fdPath(fd);
  const printer = path === "anon_inode:bpf-map" ? mapInfo : path === "anon_inode:bpf-prog" ? progInfo : undefined;
  const size = u32(exit, 4);
  if (!printer || size === 0 || size > 4096) return addr(infoAddr);
  const fetched = ctx.memory.read(infoAddr, size);
  if (!fetched) return addr(infoAddr);
  const buf = new Uint8Array(4096);
  buf.set(fetched);
  return printer(ctx, buf, size);
}

/** print_dev_t: makedev(major, minor) with glibc's major()/minor(). */
export function makedev(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn & 0xffffffffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn & 0xffffffffn);
  return `makedev(${X.hex(major)}, ${X.hex(minor)})`;
}

function mapInfo(ctx: PrintContext, b: Uint8Array, size: number): string {
  const len = Math.min(size, 88);
  const f: string[] = [
    `type=${X.printxval(X.BPF_MAP_TYPES, u32(b, 0), "BPF_MAP_TYPE_???")}`,
    `id=${u32(b, 4)}`,
    `key_size=${u32(b, 8)}`,
    `value_size=${u32(b, 12)}`,
    `max_entries=${u32(b, 16)}`,
    `map_flags=${X.printflags(X.BPF_MAP_FLAGS, u32(b, 20), "BPF_F_???")}`,
  ];
  const done = () => `{${f.join(", ")}}`;
  if (len <= 24) return done();
  f.push(`name=${quotedCString(b.subarray(24, 40), 16)}`);
  if (len <= 40) return done();
  f.push(
    `ifindex=${ifindex(ctx, u32(b, 40))}`,
    `btf_vmlinux_value_type_id=${u32(b, 44)}`,
    `netns_dev=${makedev(u64(b, 48))}`,
    `netns_ino=${u64(b, 56)}`,
  );
  if (len <= 64) return done();
  f.push(`btf_id=${u32(b, 64)}`, `btf_key_type_id=${u32(b, 68)}`, `btf_value_type_id=${u32(b, 72)}`);
  const extra = extraData(ctx, b, size, 88);
  if (extra) f.push(extra);
  return done();
}

/**
 * print_bpf_prog_info. strace shows `entry => exit` for the counts the
 * kernel fills in; the tracer cannot see the info buffer as it was on entry,
 * so it takes a count as 0 on entry when its array pointer was NULL (nothing
 * asked for) and as unchanged otherwise (the caller asked for that many).
 */
function progInfo(ctx: PrintContext, b: Uint8Array, size: number): string {
  const len = Math.min(size, 220);
  const f: string[] = [];
  const changed = (off: number, ptrOff: number): string => {
    const now = u32(b, off);
    const before = u64(b, ptrOff) === 0n ? 0 : now;
    return before !== now ? `${before} => ${now}` : String(now);
  };
  const saved = (off: number, ptrOff: number) => (u64(b, ptrOff) === 0n ? 0 : u32(b, off));
  f.push(`type=${X.printxval(X.BPF_PROG_TYPES, u32(b, 0), "BPF_PROG_TYPE_???")}`, `id=${u32(b, 4)}`);
  f.push(`tag=${quotedString(b.subarray(8, 16), 8, QUOTE_FORCE_HEX)}`);
  f.push(`jited_prog_len=${changed(16, 24)}`);
  f.push(`jited_prog_insns=${userString(ctx, u64(b, 24), BigInt(u32(b, 16)), QUOTE_FORCE_HEX)}`);
  f.push(`xlated_prog_len=${changed(20, 32)}`);
  f.push(`xlated_prog_insns=${ebpfProg(ctx, u64(b, 32), Math.floor(Math.min(saved(20, 32), u32(b, 20)) / 8))}`);
  const done = () => `{${f.join(", ")}}`;
  if (len <= 40) return done();
  const loadTime = u64(b, 40);
  const comment = ctx.bootTimeComment(loadTime);
  f.push(`load_time=${loadTime}${comment ? ` /* ${comment} */` : ""}`);
  const uid = u32(b, 48);
  f.push(`created_by_uid=${uid === 0xffffffff ? -1 : uid}`);
  f.push(`nr_map_ids=${changed(52, 56)}`);
  f.push(`map_ids=${userArray(ctx, u64(b, 56), BigInt(Math.min(saved(52, 56), u32(b, 52))), 4, (e) => String(dv(e).getUint32(0, true)))}`);
  f.push(`name=${quotedCString(b.subarray(64, 80), 16)}`);
  if (len <= 80) return done();
  f.push(
    `ifindex=${ifindex(ctx, u32(b, 80))}`,
    `gpl_compatible=${u32(b, 84) & 1}`,
    `netns_dev=${makedev(u64(b, 88))}`,
    `netns_ino=${u64(b, 96)}`,
  );
  if (len <= 104) return done();
  f.push(`nr_jited_ksyms=${changed(104, 112)}`, `nr_jited_func_lens=${changed(108, 120)}`);
  f.push(`jited_ksyms=${addr(u64(b, 112))}`, `jited_func_lens=${addr(u64(b, 120))}`);
  if (len <= 128) return done();
  f.push(`btf_id=${u32(b, 128)}`);
  f.push(`func_info_rec_size=${changed(132, 136)}`, `func_info=${addr(u64(b, 136))}`, `nr_func_info=${changed(144, 136)}`);
  f.push(`nr_line_info=${changed(148, 152)}`, `line_info=${addr(u64(b, 152))}`, `jited_line_info=${addr(u64(b, 160))}`);
  f.push(
    `nr_jited_line_info=${changed(168, 160)}`,
    `line_info_rec_size=${changed(172, 152)}`,
    `jited_line_info_rec_size=${changed(176, 160)}`,
  );
  f.push(`nr_prog_tags=${changed(180, 184)}`, `prog_tags=${addr(u64(b, 184))}`);
  if (len <= 192) return done();
  f.push(`run_time_ns=${u64(b, 192)}`, `run_cnt=${u64(b, 200)}`);
  if (len <= 208) return done();
  f.push(`recursion_misses=${u64max(u64(b, 208))}`);
  if (len <= 216) return done();
  f.push(`verified_insns=${u32(b, 216)}`);
  const extra = extraData(ctx, b, size, 220);
  if (extra) f.push(extra);
  return done();
}
