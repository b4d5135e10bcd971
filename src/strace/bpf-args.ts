/**
 * bpf(2) in strace 6.1's syntax (src/bpf.c at tag v6.1): the fields of
 * bpf-attr-fields.ts, at the offsets of the generated bpf_attr layouts,
 * nested by `group`, formatted by `as`, filtered by `printIf`. What is
 * specific to strace 6.1 lives here: which commands it decodes, where its own
 * struct for each ends (fields past it are not shown; non-zero bytes past it
 * print as `extra_data`), the link_create union rule, and its structures for
 * OBJ_GET_INFO_BY_FD.
 */
import { BPF_ATTR_LAYOUTS } from "../abi/bpf-attr.js";
import { BPF_MAP_INFO, BPF_PROG_INFO } from "../abi/bpf-info.js";
import { type AbiField, decodeStruct, endOf, fieldBytes, valueAt } from "../abi/layout.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { attrField, encodeAttr } from "../syscall/bpf-attr.js";
import type { BpfRequest } from "../syscall/requests.js";
import { type PrintedField, type Profile, printedFields, profileOf } from "./bpf-attr-fields.js";
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

/**
 * The attr as it was on entry: `values` encoded again, pointers taken from
 * the attr that was sent (the kernel writes results into `req.attr`, e.g.
 * next_id, test.retval; strace shows most fields as they were on entry).
 */
function entryAttr(req: BpfRequest): Uint8Array {
  const sent = new Map<Uint8Array, bigint>();
  for (const [path, field] of Object.entries(req.layout.struct.fields as Record<string, AbiField>)) {
    const v = valueAt(req.values, path);
    if (field.kind === "pointer" && v instanceof Uint8Array) sent.set(v, u64(req.attr, field.offset));
  }
  try {
    const image = encodeAttr(req.layout, req.values, (b) => sent.get(b) ?? 0n);
    return image.byteLength === req.attr.byteLength ? image : req.attr.slice();
  } catch {
    return req.attr.slice();
  }
}

function readField(attr: Uint8Array, field: AbiField): bigint {
  return field.size === 8 ? u64(attr, field.offset) : BigInt(u32(attr, field.offset));
}

function lengthOf(attr: Uint8Array, f: PrintedField): bigint {
  return f.lengthField ? readField(attr, f.lengthField) : 0n;
}

function formatField(ctx: PrintContext, attr: Uint8Array, f: PrintedField, len: number, exitAttr: Uint8Array): string {
  const v = readField(attr, f.field);
  const n = Number(v & 0xffffffffn);
  switch (f.as) {
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
      return userString(ctx, v, f.maxLen !== undefined ? BigInt(f.maxLen) : 0xffffffffffffffffn, QUOTE_0_TERMINATED);
    case "path":
      return userPath(ctx, v);
    case "log_buf": {
      // strace reads the log buffer on entry, before the kernel wrote the
      // log. tsbpf always passes a fresh zero-filled buffer, so on entry it
      // holds an empty string.
      if (v === 0n) return "NULL";
      const size = printstrFetchSize(lengthOf(attr, f), ctx.maxStrlen);
      return printstrFetched(new Uint8Array(size), lengthOf(attr, f), QUOTE_0_TERMINATED, ctx.maxStrlen);
    }
    case "btf_blob":
      return userString(ctx, v, lengthOf(attr, f), 0);
    case "insns":
      return ebpfProg(ctx, v, Number(lengthOf(attr, f)));
    case "iter_info":
      // strace 6.1 prints this array even without -v, and takes iter_info_len
      // (a byte count) as the number of 4-byte elements.
      return userArray(ctx, v, lengthOf(attr, f), 4, (b) => `{map={map_fd=${dv(b).getInt32(0, true)}}}`);
    case "obj_info":
      return objInfo(ctx, exitAttr);
    case "name":
      return quotedCString(fieldBytes(attr, f.field), Math.min(f.field.size, len - f.field.offset));
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
function formatAttr(ctx: PrintContext, req: BpfRequest, profile: Profile): string {
  const size = req.layout.size;
  const entry = entryAttr(req);
  const exit = req.attr;
  const len = Math.min(size, profile.structSize);
  const root: Group = { name: "", items: [] };
  for (const f of printedFields(req.layout)) {
    if (f.field.offset >= len) continue;
    if (f.printIf && !f.printIf(req.values)) continue;
    let g = root;
    for (const name of f.group ?? []) {
      const last = g.items[g.items.length - 1];
      if (typeof last === "object" && last.name === name) g = last;
      else {
        const child: Group = { name, items: [] };
        g.items.push(child);
        g = child;
      }
    }
    let text = formatField(ctx, entry, f, len, exit);
    if (f.showUpdate && profile.exit === "inline") {
      const after = readField(exit, f.field);
      if (after !== readField(entry, f.field)) text += " => " + formatField(ctx, exit, f, len, exit);
    }
    g.items.push(`${f.name}=${text}`);
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
    const count = attrField(req.layout.struct, "count");
    if (readField(exit, count) !== readField(entry, count)) out += ` => {batch={count=${readField(exit, count)}}}`;
  }
  return out;
}

/** The arguments of a bpf() call, between the parentheses. */
export function formatBpfArgs(ctx: PrintContext, req: BpfRequest): string {
  const cmd = X.printxval(X.BPF_COMMANDS, req.cmd, "BPF_???");
  const size = req.layout.size;
  const profile = profileOf(req.layout);
  let attr: string;
  if (profile && size > 0 && size <= 4096) attr = formatAttr(ctx, req, profile);
  else {
    const a = ctx.addressOf(req.attr);
    attr = a === undefined ? "0x?" : addr(a);
  }
  return `${cmd}, ${attr}, ${size}`;
}

// ---- OBJ_GET_INFO_BY_FD ------------------------------------------------------

const infoAttr = BPF_ATTR_LAYOUTS[BpfCmd.OBJ_GET_INFO_BY_FD].fields;

function objInfo(ctx: PrintContext, exit: Uint8Array): string {
  const infoAddr = u64(exit, infoAttr.info.offset);
  if (!ctx.verbose) return addr(infoAddr);
  const fd = u32(exit, infoAttr.bpf_fd.offset) | 0;
  const path = ctx.fdPath(fd);
  const printer = path === "anon_inode:bpf-map" ? mapInfo : path === "anon_inode:bpf-prog" ? progInfo : undefined;
  const size = u32(exit, infoAttr.info_len.offset);
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

const M = BPF_MAP_INFO.fields;
/** strace 6.1's struct bpf_map_info ends at map_extra; it prints through btf_value_type_id. */
const STRACE_MAP_INFO_SIZE = endOf(M.map_extra);

/** print_bpf_map_info: each group of fields only when the size covers it (strace's checks against older structs). */
function mapInfo(ctx: PrintContext, b: Uint8Array, size: number): string {
  const len = Math.min(size, STRACE_MAP_INFO_SIZE);
  const i = decodeStruct(BPF_MAP_INFO, b);
  const f: string[] = [
    `type=${X.printxval(X.BPF_MAP_TYPES, i.type, "BPF_MAP_TYPE_???")}`,
    `id=${i.id}`,
    `key_size=${i.key_size}`,
    `value_size=${i.value_size}`,
    `max_entries=${i.max_entries}`,
    `map_flags=${X.printflags(X.BPF_MAP_FLAGS, i.map_flags, "BPF_F_???")}`,
  ];
  const done = () => `{${f.join(", ")}}`;
  if (len <= M.name.offset) return done();
  f.push(`name=${quotedCString(fieldBytes(b, M.name), M.name.size)}`);
  if (len <= M.ifindex.offset) return done();
  f.push(
    `ifindex=${ifindex(ctx, i.ifindex)}`,
    `btf_vmlinux_value_type_id=${i.btf_vmlinux_value_type_id}`,
    `netns_dev=${makedev(i.netns_dev)}`,
    `netns_ino=${i.netns_ino}`,
  );
  if (len <= M.btf_id.offset) return done();
  f.push(`btf_id=${i.btf_id}`, `btf_key_type_id=${i.btf_key_type_id}`, `btf_value_type_id=${i.btf_value_type_id}`);
  const extra = extraData(ctx, b, size, STRACE_MAP_INFO_SIZE);
  if (extra) f.push(extra);
  return done();
}

const P = BPF_PROG_INFO.fields;
/** strace 6.1's struct bpf_prog_info ends at verified_insns. */
const STRACE_PROG_INFO_SIZE = endOf(P.verified_insns);

/**
 * print_bpf_prog_info. strace shows `entry => exit` for the counts the
 * kernel fills in; the tracer cannot see the info buffer as it was on entry,
 * so it takes a count as 0 on entry when its array pointer was NULL (nothing
 * asked for) and as unchanged otherwise (the caller asked for that many).
 */
function progInfo(ctx: PrintContext, b: Uint8Array, size: number): string {
  const len = Math.min(size, STRACE_PROG_INFO_SIZE);
  const i = decodeStruct(BPF_PROG_INFO, b);
  const f: string[] = [];
  const changed = (now: number, ptr: bigint): string => {
    const before = ptr === 0n ? 0 : now;
    return before !== now ? `${before} => ${now}` : String(now);
  };
  const saved = (count: number, ptr: bigint) => (ptr === 0n ? 0 : count);
  f.push(`type=${X.printxval(X.BPF_PROG_TYPES, i.type, "BPF_PROG_TYPE_???")}`, `id=${i.id}`);
  f.push(`tag=${quotedString(i.tag, i.tag.byteLength, QUOTE_FORCE_HEX)}`);
  f.push(`jited_prog_len=${changed(i.jited_prog_len, i.jited_prog_insns)}`);
  f.push(`jited_prog_insns=${userString(ctx, i.jited_prog_insns, BigInt(i.jited_prog_len), QUOTE_FORCE_HEX)}`);
  f.push(`xlated_prog_len=${changed(i.xlated_prog_len, i.xlated_prog_insns)}`);
  const xlatedLen = Math.min(saved(i.xlated_prog_len, i.xlated_prog_insns), i.xlated_prog_len);
  f.push(`xlated_prog_insns=${ebpfProg(ctx, i.xlated_prog_insns, Math.floor(xlatedLen / 8))}`);
  const done = () => `{${f.join(", ")}}`;
  if (len <= P.load_time.offset) return done();
  const comment = ctx.bootTimeComment(i.load_time);
  f.push(`load_time=${i.load_time}${comment ? ` /* ${comment} */` : ""}`);
  f.push(`created_by_uid=${i.created_by_uid === 0xffffffff ? -1 : i.created_by_uid}`);
  f.push(`nr_map_ids=${changed(i.nr_map_ids, i.map_ids)}`);
  const mapIds = Math.min(saved(i.nr_map_ids, i.map_ids), i.nr_map_ids);
  f.push(`map_ids=${userArray(ctx, i.map_ids, BigInt(mapIds), 4, (e) => String(dv(e).getUint32(0, true)))}`);
  f.push(`name=${quotedCString(fieldBytes(b, P.name), P.name.size)}`);
  if (len <= P.ifindex.offset) return done();
  f.push(
    `ifindex=${ifindex(ctx, i.ifindex)}`,
    `gpl_compatible=${i.gpl_compatible}`,
    `netns_dev=${makedev(i.netns_dev)}`,
    `netns_ino=${i.netns_ino}`,
  );
  if (len <= P.nr_jited_ksyms.offset) return done();
  f.push(
    `nr_jited_ksyms=${changed(i.nr_jited_ksyms, i.jited_ksyms)}`,
    `nr_jited_func_lens=${changed(i.nr_jited_func_lens, i.jited_func_lens)}`,
  );
  f.push(`jited_ksyms=${addr(i.jited_ksyms)}`, `jited_func_lens=${addr(i.jited_func_lens)}`);
  if (len <= P.btf_id.offset) return done();
  f.push(`btf_id=${i.btf_id}`);
  f.push(
    `func_info_rec_size=${changed(i.func_info_rec_size, i.func_info)}`,
    `func_info=${addr(i.func_info)}`,
    `nr_func_info=${changed(i.nr_func_info, i.func_info)}`,
  );
  f.push(
    `nr_line_info=${changed(i.nr_line_info, i.line_info)}`,
    `line_info=${addr(i.line_info)}`,
    `jited_line_info=${addr(i.jited_line_info)}`,
  );
  f.push(
    `nr_jited_line_info=${changed(i.nr_jited_line_info, i.jited_line_info)}`,
    `line_info_rec_size=${changed(i.line_info_rec_size, i.line_info)}`,
    `jited_line_info_rec_size=${changed(i.jited_line_info_rec_size, i.jited_line_info)}`,
  );
  f.push(`nr_prog_tags=${changed(i.nr_prog_tags, i.prog_tags)}`, `prog_tags=${addr(i.prog_tags)}`);
  if (len <= P.run_time_ns.offset) return done();
  f.push(`run_time_ns=${i.run_time_ns}`, `run_cnt=${i.run_cnt}`);
  if (len <= P.recursion_misses.offset) return done();
  f.push(`recursion_misses=${u64max(i.recursion_misses)}`);
  if (len <= P.verified_insns.offset) return done();
  f.push(`verified_insns=${i.verified_insns}`);
  const extra = extraData(ctx, b, size, STRACE_PROG_INFO_SIZE);
  if (extra) f.push(extra);
  return done();
}
