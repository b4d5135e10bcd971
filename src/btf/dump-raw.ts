/**
 * `bpftool btf dump file X format raw`, byte for byte (bpftool 7.1,
 * btf.c:dump_btf_type). Reads the raw records rather than decoding types:
 * vmlinux prints ~1M lines and decoding would allocate an object for each.
 */
import { BTF_HEADER_SIZE } from "./scan.js";
import type { Btf } from "./btf.js";
import { BtfKind } from "./types.js";

/** bpftool's kind names; they differ from the kernel's only for kind 0. */
const KIND = [
  "UNKNOWN",
  "INT",
  "PTR",
  "ARRAY",
  "STRUCT",
  "UNION",
  "ENUM",
  "FWD",
  "TYPEDEF",
  "VOLATILE",
  "CONST",
  "RESTRICT",
  "FUNC",
  "FUNC_PROTO",
  "VAR",
  "DATASEC",
  "FLOAT",
  "DECL_TAG",
  "TYPE_TAG",
  "ENUM64",
];

/** BTF_INT_ENCODING values are printed only when exactly one bit (or none) is set. */
function intEncoding(enc: number): string {
  switch (enc) {
    case 0:
      return "(none)";
    case 1:
      return "SIGNED";
    case 2:
      return "CHAR";
    case 4:
      return "BOOL";
    default:
      return "UNKN";
  }
}

/** FUNC linkage lives in vlen, VAR linkage in the trailer; both print the same names. */
function linkage(v: number): string {
  switch (v) {
    case 0:
      return "static";
    case 1:
      return "global";
    case 2:
      return "extern";
    default:
      return "(unknown)";
  }
}

/** An ASCII/byte writer: copying names straight from the string table avoids decoding ~1M strings. */
class Writer {
  buf = new Uint8Array(1 << 16);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  text(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }

  /** A non-negative integer below 2^53, or a negative one (for %d). */
  num(n: number): void {
    if (n < 0) {
      this.text("-");
      n = -n;
    }
    this.room(16);
    const start = this.len;
    do {
      this.buf[this.len++] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    this.buf.subarray(start, this.len).reverse();
  }

  /** Copies the NUL-terminated string at `at` in `table`. */
  cstr(table: Uint8Array, at: number): void {
    const end = table.indexOf(0, at);
    this.room(end - at);
    this.buf.set(table.subarray(at, end), this.len);
    this.len += end - at;
  }
}

/** Where a BTF's (and each base's) own strings live in its rawBytes(). */
interface StringTable {
  raw: Uint8Array;
  start: number;
  base: number;
}

function stringTables(btf: Btf): StringTable[] {
  const tables: StringTable[] = [];
  for (let b: Btf | undefined = btf; b; b = b.base) {
    const raw = b.rawBytes();
    const typeLen = new DataView(raw.buffer, raw.byteOffset).getUint32(12, true);
    tables.push({ raw, start: BTF_HEADER_SIZE + typeLen, base: b.base ? b.base.stringsSize : 0 });
  }
  return tables;
}

export function dumpRaw(btf: Btf): string {
  const raw = btf.rawBytes();
  const words = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength >>> 2);
  const tables = stringTables(btf);
  const out = new Writer();
  // bpftool's btf_str(): "(anon)" for offset 0. parse() validated every name offset.
  const name = (off: number): void => {
    out.text("'");
    if (off === 0) out.text("(anon)");
    else {
      const t = tables.find((t) => off >= t.base)!;
      out.cstr(t.raw, t.start + off - t.base);
    }
    out.text("'");
  };
  for (let id = btf.startId; id < btf.typeCount; id++) {
    const w = btf.typeOffset(id) >>> 2;
    const info = words[w + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const st = words[w + 2]!;
    out.text("[");
    out.num(id);
    out.text(`] ${KIND[kind]} `);
    name(words[w]!);
    switch (kind) {
      case BtfKind.Int: {
        const v = words[w + 3]!;
        out.text(" size=");
        out.num(st);
        out.text(" bits_offset=");
        out.num((v >>> 16) & 0xff);
        out.text(" nr_bits=");
        out.num(v & 0xff);
        out.text(` encoding=${intEncoding((v >>> 24) & 0x0f)}`);
        break;
      }
      case BtfKind.Ptr:
      case BtfKind.Const:
      case BtfKind.Volatile:
      case BtfKind.Restrict:
      case BtfKind.Typedef:
      case BtfKind.TypeTag:
        out.text(" type_id=");
        out.num(st);
        break;
      case BtfKind.Array:
        out.text(" type_id=");
        out.num(words[w + 3]!);
        out.text(" index_type_id=");
        out.num(words[w + 4]!);
        out.text(" nr_elems=");
        out.num(words[w + 5]!);
        break;
      case BtfKind.Struct:
      case BtfKind.Union:
        out.text(" size=");
        out.num(st);
        out.text(" vlen=");
        out.num(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 3) {
          // kind_flag: the offset packs bitfield size (high 8 bits) and bit offset (low 24).
          const off = words[p + 2]!;
          out.text("\n\t");
          name(words[p]!);
          out.text(" type_id=");
          out.num(words[p + 1]!);
          out.text(" bits_offset=");
          out.num(kflag ? off & 0xffffff : off);
          if (kflag && off >>> 24 !== 0) {
            out.text(" bitfield_size=");
            out.num(off >>> 24);
          }
        }
        break;
      case BtfKind.Enum:
        out.text(` encoding=${kflag ? "SIGNED" : "UNSIGNED"} size=`);
        out.num(st);
        out.text(" vlen=");
        out.num(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 2) {
          out.text("\n\t");
          name(words[p]!);
          out.text(" val=");
          out.num(kflag ? words[p + 1]! | 0 : words[p + 1]!);
        }
        break;
      case BtfKind.Enum64:
        out.text(` encoding=${kflag ? "SIGNED" : "UNSIGNED"} size=`);
        out.num(st);
        out.text(" vlen=");
        out.num(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 3) {
          const v = (BigInt(words[p + 2]!) << 32n) | BigInt(words[p + 1]!);
          out.text("\n\t");
          name(words[p]!);
          out.text(kflag ? ` val=${BigInt.asIntN(64, v)}LL` : ` val=${v}ULL`);
        }
        break;
      case BtfKind.Fwd:
        out.text(` fwd_kind=${kflag ? "union" : "struct"}`);
        break;
      case BtfKind.Func:
        out.text(" type_id=");
        out.num(st);
        out.text(` linkage=${linkage(vlen)}`);
        break;
      case BtfKind.FuncProto:
        out.text(" ret_type_id=");
        out.num(st);
        out.text(" vlen=");
        out.num(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 2) {
          out.text("\n\t");
          name(words[p]!);
          out.text(" type_id=");
          out.num(words[p + 1]!);
        }
        break;
      case BtfKind.Var:
        // The comma is bpftool's.
        out.text(" type_id=");
        out.num(st);
        out.text(`, linkage=${linkage(words[w + 3]!)}`);
        break;
      case BtfKind.Datasec:
        out.text(" size=");
        out.num(st);
        out.text(" vlen=");
        out.num(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 3) {
          const t = words[p]!;
          out.text("\n\ttype_id=");
          out.num(t);
          out.text(" offset=");
          out.num(words[p + 1]!);
          out.text(" size=");
          out.num(words[p + 2]!);
          // bpftool names the variable only when the id exists.
          if (t < btf.typeCount) {
            out.text(` (${KIND[btf.kind(t)]} `);
            name(btf.nameOffset(t));
            out.text(")");
          }
        }
        break;
      case BtfKind.Float:
        out.text(" size=");
        out.num(st);
        break;
      case BtfKind.DeclTag:
        out.text(" type_id=");
        out.num(st);
        out.text(" component_idx=");
        out.num(words[w + 3]! | 0);
        break;
    }
    out.text("\n");
  }
  return new TextDecoder().decode(out.buf.subarray(0, out.len));
}
