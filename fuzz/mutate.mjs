/**
 * Deterministic test-case generation for the fuzz harness: pure, no tsbpf
 * imports. Case `index` of seed `seed` is always the same bytes: its PRNG is
 * seeded from (seed, index) alone, so cases can run in any order, on any
 * worker, and one case can be regenerated on its own.
 *
 * Inputs are mutations of the committed objects in bpf/*.bpf.o (targeted at
 * the ELF header, section headers, symbols, SHT_REL entries, instructions,
 * the .BTF header, type records and strings, and .BTF.ext records), plus
 * plain random bytes.
 */

// ---- PRNG ----------------------------------------------------------------

/** 32-bit integer hash (murmur3 finaliser). */
function mix32(h) {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A seed given on the command line as any non-negative integer (up to 2^53). */
export function normaliseSeed(seed) {
  const n = Number(seed);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  return n;
}

export class Rng {
  constructor(seed, index) {
    const s = normaliseSeed(seed);
    const lo = s >>> 0;
    const hi = Math.floor(s / 0x100000000) >>> 0;
    // xoshiro128** state, from four different hashes of (seed, index).
    this.a = mix32(lo ^ 0x9e3779b9) ^ mix32(index + 0x632be5ab);
    this.b = mix32(hi ^ 0x85ebca6b) ^ mix32(Math.imul(index, 0x27d4eb2f) + 1);
    this.c = mix32(lo + index) ^ 0xdeadbeef;
    this.d = mix32(hi + Math.floor(index / 0x100000000) + 0x165667b1) | 1;
    for (let i = 0; i < 8; i++) this.u32();
  }
  u32() {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }
  /** Integer in [0, n). */
  int(n) {
    return n <= 0 ? 0 : Math.floor((this.u32() / 0x100000000) * n);
  }
  chance(p) {
    return this.u32() / 0x100000000 < p;
  }
  pick(list) {
    return list[this.int(list.length)];
  }
  /** Picks by weight from [[weight, value], ...]. */
  weighted(list) {
    let total = 0;
    for (const [w] of list) total += w;
    let r = this.int(total);
    for (const [w, v] of list) {
      if (r < w) return v;
      r -= w;
    }
    return list[list.length - 1][1];
  }
}
function rotl(x, k) {
  return (x << k) | (x >>> (32 - k));
}

// ---- layout of an (intact) object, read independently of tsbpf ------------

const SHT_SYMTAB = 2;
const SHT_REL = 9;
const SHF_EXECINSTR = 4n;

/** Trailer bytes of a BTF type record by kind (vlen-scaled where it applies). */
function btfTrailer(kind, vlen) {
  switch (kind) {
    case 1:
    case 14:
    case 17:
      return 4; // INT, VAR, DECL_TAG
    case 3:
      return 12; // ARRAY
    case 4:
    case 5:
    case 15:
    case 19:
      return 12 * vlen; // STRUCT, UNION, DATASEC, ENUM64
    case 6:
    case 13:
      return 8 * vlen; // ENUM, FUNC_PROTO
    default:
      return 0;
  }
}

/** Where everything is in a well-formed object: the targets of the mutators. */
export function layoutOf(name, bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    raw.push({
      index: i,
      hdr: h,
      nameOff: dv.getUint32(h, true),
      type: dv.getUint32(h + 4, true),
      flags: dv.getBigUint64(h + 8, true),
      offset: Number(dv.getBigUint64(h + 24, true)),
      size: Number(dv.getBigUint64(h + 32, true)),
      link: dv.getUint32(h + 40, true),
      info: dv.getUint32(h + 44, true),
    });
  }
  const strs = raw[shstrndx];
  const cstr = (at) => {
    let end = at;
    while (end < bytes.length && bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(at, end));
  };
  for (const s of raw) s.name = cstr(strs.offset + s.nameOff);
  const byName = (n) => raw.find((s) => s.name === n);
  const symtab = raw.find((s) => s.type === SHT_SYMTAB);
  const strtab = symtab ? raw[symtab.link] : undefined;
  const rels = raw.filter((s) => s.type === SHT_REL);
  const code = raw.filter((s) => (s.flags & SHF_EXECINSTR) !== 0n && s.size > 0);
  const L = {
    name,
    size: bytes.length,
    shoff,
    shnum,
    shstrndx,
    sections: raw,
    shstrtab: strs,
    symtab,
    strtab,
    rels,
    code,
    btf: undefined,
    ext: undefined,
  };

  const btfSec = byName(".BTF");
  if (btfSec) {
    const b = btfSec.offset;
    const hdrLen = dv.getUint32(b + 4, true);
    const typeOff = dv.getUint32(b + 8, true);
    const typeLen = dv.getUint32(b + 12, true);
    const strOff = dv.getUint32(b + 16, true);
    const strLen = dv.getUint32(b + 20, true);
    const typesAt = b + hdrLen + typeOff;
    const types = [];
    for (let p = typesAt; p < typesAt + typeLen; ) {
      const info = dv.getUint32(p + 4, true);
      const kind = (info >>> 24) & 0x1f;
      const len = 12 + btfTrailer(kind, info & 0xffff);
      types.push({ at: p, kind, len });
      p += len;
    }
    L.btf = {
      section: btfSec,
      at: b,
      size: btfSec.size,
      hdrLen,
      typeOff,
      typeLen,
      strOff,
      strLen,
      typesAt,
      strAt: b + hdrLen + strOff,
      types,
    };
  }
  const extSec = byName(".BTF.ext");
  if (extSec && L.btf) {
    const e = extSec.offset;
    const hdrLen = dv.getUint32(e + 4, true);
    const subs = [];
    for (const [subName, headerAt] of [
      ["func_info", 8],
      ["line_info", 16],
      ["core_relo", 24],
    ]) {
      if (headerAt + 8 > hdrLen) continue;
      const off = dv.getUint32(e + headerAt, true);
      const len = dv.getUint32(e + headerAt + 4, true);
      if (len === 0) continue;
      const start = e + hdrLen + off;
      const recSize = dv.getUint32(start, true);
      const blocks = [];
      for (let p = start + 4; p < start + len; ) {
        const num = dv.getUint32(p + 4, true);
        const records = [];
        for (let i = 0; i < num; i++) records.push(p + 8 + i * recSize);
        blocks.push({ at: p, num, records });
        p += 8 + num * recSize;
      }
      subs.push({ name: subName, headerAt: e + headerAt, start, len, recSize, blocks });
    }
    L.ext = { section: extSec, at: e, size: extSec.size, hdrLen, subs };
  }
  return L;
}

// ---- values ---------------------------------------------------------------

const INTERESTING_U32 = [
  0, 1, 2, 3, 4, 7, 8, 12, 15, 16, 23, 24, 31, 32, 63, 64, 100, 127, 128, 255, 256, 4095, 4096, 0x7fff, 0x8000, 0xffff, 0x10000, 0xffffff,
  0x1000000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffe, 0xffffffff,
];
const INTERESTING_U64 = [
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 32n + 8n,
  2n ** 40n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 62n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 8n,
  2n ** 64n - 1n,
];
const INTERESTING_U8 = [0, 1, 2, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0x85, 0x95, 0x18, 0xfe, 0xff];

/** A u32 replacement for a field whose current value is `orig`. */
function u32Value(rng, orig, fileSize) {
  switch (rng.int(7)) {
    case 0:
    case 1:
      return rng.pick(INTERESTING_U32);
    case 2:
      return (orig + rng.pick([1, 2, 3, 4, 8, 12, 16, 24, 64]) * (rng.chance(0.5) ? 1 : -1)) >>> 0;
    case 3:
      return (fileSize + rng.int(9) - 4) >>> 0;
    case 4:
      return rng.u32();
    case 5:
      return (orig ^ (1 << rng.int(32))) >>> 0;
    default:
      return rng.chance(0.5) ? (orig * 2) >>> 0 : orig >>> rng.int(8);
  }
}

function u64Value(rng, orig, fileSize) {
  if (rng.chance(0.35)) return rng.pick(INTERESTING_U64);
  return BigInt(u32Value(rng, Number(orig & 0xffffffffn), fileSize));
}

// ---- writers (bounds-checked: a write past the end is dropped) -------------

function put(bytes, at, width, value) {
  if (at < 0 || at + width > bytes.length) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 1) dv.setUint8(at, Number(value) & 0xff);
  else if (width === 2) dv.setUint16(at, Number(value) & 0xffff, true);
  else if (width === 4) dv.setUint32(at, Number(value) >>> 0, true);
  else dv.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
  return true;
}
function get(bytes, at, width) {
  if (at < 0 || at + width > bytes.length) return width === 8 ? 0n : 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 1) return dv.getUint8(at);
  if (width === 2) return dv.getUint16(at, true);
  if (width === 4) return dv.getUint32(at, true);
  return dv.getBigUint64(at, true);
}
/** Edits one field: a fresh value suited to its width. */
function editField(rng, bytes, at, width, L) {
  const orig = get(bytes, at, width);
  let v;
  if (width === 8) v = u64Value(rng, orig, L.size);
  else if (width === 4) v = u32Value(rng, orig, L.size);
  else if (width === 2)
    v = rng.chance(0.5)
      ? rng.pick([0, 1, 2, 0xff, 0xff00, 0xfff1, 0xfff2, 0xfffe, 0xffff, L.shnum, L.shnum + 1])
      : (orig + rng.int(9) - 4) & 0xffff;
  else v = rng.chance(0.6) ? rng.pick(INTERESTING_U8) : rng.int(256);
  put(bytes, at, width, v);
  return `${width * 8}-bit @${at} ${orig} -> ${v}`;
}

// ---- mutators: (rng, state) => description; state.bytes may be replaced ------

const SHDR_FIELDS = [
  ["sh_name", 0, 4],
  ["sh_type", 4, 4],
  ["sh_flags", 8, 8],
  ["sh_offset", 24, 8],
  ["sh_size", 32, 8],
  ["sh_link", 40, 4],
  ["sh_info", 44, 4],
  ["sh_addralign", 48, 8],
  ["sh_entsize", 56, 8],
];
const SECTION_TYPES = [0, 1, 2, 3, 4, 8, 9, 11, 0x6fff4c03, 0x6ffffff5, 0x70000000];

function anySection(rng, L) {
  return rng.pick(L.sections);
}

const MUTATORS = [
  [
    10,
    function bitFlips(rng, s) {
      const n = 1 + rng.int(8);
      const at = [];
      for (let i = 0; i < n; i++) {
        const p = rng.int(s.bytes.length);
        s.bytes[p] ^= 1 << rng.int(8);
        at.push(p);
      }
      return `bit flips @${at.join(",")}`;
    },
  ],
  [
    6,
    function byteSets(rng, s) {
      const n = 1 + rng.int(4);
      const at = [];
      for (let i = 0; i < n; i++) {
        const p = rng.int(s.bytes.length);
        s.bytes[p] = rng.pick(INTERESTING_U8);
        at.push(p);
      }
      return `byte sets @${at.join(",")}`;
    },
  ],
  [
    6,
    function truncate(rng, s, L) {
      let len;
      const sec = anySection(rng, L);
      switch (rng.int(4)) {
        case 0:
          len = rng.int(s.bytes.length);
          break;
        case 1:
          len = sec.offset + rng.int(sec.size + 1);
          break;
        case 2:
          len = L.btf ? L.btf.at + rng.int(L.btf.size + 1) : rng.int(64);
          break;
        default:
          len = s.bytes.length - 1 - rng.int(Math.min(256, s.bytes.length));
      }
      len = Math.max(0, Math.min(len, s.bytes.length));
      s.bytes = s.bytes.slice(0, len);
      return `truncate to ${len}`;
    },
  ],
  [
    2,
    function extend(rng, s) {
      const extra = new Uint8Array(1 + rng.int(512));
      if (rng.chance(0.5)) for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
      const out = new Uint8Array(s.bytes.length + extra.length);
      out.set(s.bytes);
      out.set(extra, s.bytes.length);
      s.bytes = out;
      return `append ${extra.length} bytes`;
    },
  ],
  [
    14,
    function sectionHeader(rng, s, L) {
      const sec = anySection(rng, L);
      const [field, off, width] = rng.pick(SHDR_FIELDS);
      const at = sec.hdr + off;
      if (field === "sh_type" && rng.chance(0.6)) {
        const v = rng.pick(SECTION_TYPES);
        put(s.bytes, at, 4, v);
        return `section #${sec.index} ${sec.name} sh_type -> ${v}`;
      }
      if ((field === "sh_link" || field === "sh_info") && rng.chance(0.5)) {
        const v = rng.chance(0.7) ? rng.int(L.shnum + 2) : rng.pick(INTERESTING_U32);
        put(s.bytes, at, 4, v);
        return `section #${sec.index} ${sec.name} ${field} -> ${v}`;
      }
      if ((field === "sh_offset" || field === "sh_size") && rng.chance(0.3)) {
        // Another section's value: overlapping or swapped extents.
        const other = anySection(rng, L);
        const v = field === "sh_offset" ? other.offset : other.size;
        put(s.bytes, at, 8, v);
        return `section #${sec.index} ${sec.name} ${field} -> ${v} (from #${other.index})`;
      }
      return `section #${sec.index} ${sec.name} ${field} ${editField(rng, s.bytes, at, width, L)}`;
    },
  ],
  [
    8,
    function elfHeader(rng, s, L) {
      const field = rng.pick([
        ["e_shoff", 40, 8],
        ["e_shoff", 40, 8],
        ["e_shnum", 60, 2],
        ["e_shnum", 60, 2],
        ["e_shstrndx", 62, 2],
        ["e_shstrndx", 62, 2],
        ["e_shentsize", 58, 2],
        ["e_type", 16, 2],
        ["e_machine", 18, 2],
        ["EI_CLASS", 4, 1],
        ["EI_DATA", 5, 1],
        ["e_phoff", 32, 8],
        ["e_phnum", 56, 2],
      ]);
      const [name, at, width] = field;
      if (name === "e_shoff" && rng.chance(0.4)) {
        const v = L.shoff + rng.pick([-64, -8, -1, 1, 8, 64]) * (1 + rng.int(3));
        put(s.bytes, at, 8, Math.max(0, v));
        return `e_shoff -> ${v}`;
      }
      if (name === "e_shnum" && rng.chance(0.5)) {
        const v = rng.pick([0, 1, L.shnum - 1, L.shnum + 1, L.shnum + 2, 0xffff]);
        put(s.bytes, at, 2, v);
        return `e_shnum -> ${v}`;
      }
      if (name === "e_shstrndx" && rng.chance(0.5)) {
        const v = rng.pick([0, 0xffff, L.shnum, L.shnum - 1, rng.int(L.shnum)]);
        put(s.bytes, at, 2, v);
        return `e_shstrndx -> ${v}`;
      }
      return `${name} ${editField(rng, s.bytes, at, width, L)}`;
    },
  ],
  [
    10,
    function btfHeader(rng, s, L) {
      if (!L.btf) return undefined;
      const [name, off, width] = rng.pick([
        ["magic", 0, 2],
        ["version", 2, 1],
        ["flags", 3, 1],
        ["hdr_len", 4, 4],
        ["type_off", 8, 4],
        ["type_len", 12, 4],
        ["str_off", 16, 4],
        ["str_len", 20, 4],
        ["type_len", 12, 4],
        ["str_len", 20, 4],
      ]);
      const at = L.btf.at + off;
      if ((name === "type_len" || name === "str_len" || name === "str_off") && rng.chance(0.5)) {
        const orig = get(s.bytes, at, 4);
        const v = Math.max(0, orig + rng.pick([-12, -8, -4, -1, 1, 4, 12, 16]) * (1 + rng.int(4)));
        put(s.bytes, at, 4, v);
        return `BTF ${name} ${orig} -> ${v}`;
      }
      return `BTF ${name} ${editField(rng, s.bytes, at, width, L)}`;
    },
  ],
  [
    16,
    function btfType(rng, s, L) {
      if (!L.btf || !L.btf.types.length) return undefined;
      const idx = rng.int(L.btf.types.length);
      const t = L.btf.types[idx];
      const id = idx + 1;
      switch (rng.int(6)) {
        case 0: {
          // info: kind, vlen, kind_flag
          const info = get(s.bytes, t.at + 4, 4);
          let v;
          const what = rng.int(4);
          if (what === 0) v = (info & ~(0x1f << 24)) | (rng.int(32) << 24);
          else if (what === 1)
            v = (info & ~0xffff) | (rng.chance(0.5) ? rng.pick([0, 1, 2, 0x100, 0xffff]) : ((info & 0xffff) + rng.int(5) - 2) & 0xffff);
          else if (what === 2) v = info ^ 0x80000000;
          else v = rng.u32();
          put(s.bytes, t.at + 4, 4, v >>> 0);
          return `BTF type [${id}] info 0x${info.toString(16)} -> 0x${(v >>> 0).toString(16)}`;
        }
        case 1:
        case 2: {
          // size/type: a type id (self, neighbour, past the end) or a size
          const count = L.btf.types.length;
          const v = rng.pick([0, id, id - 1, id + 1, count, count + 1, rng.int(count + 1), 0xffffffff, 0x7fffffff, rng.u32()]) >>> 0;
          put(s.bytes, t.at + 8, 4, v);
          return `BTF type [${id}] size/type -> ${v}`;
        }
        case 3:
        case 4: {
          // a trailer word: member/param type, member offset, nelems, var offset/size
          if (t.len <= 12) return `BTF type [${id}] name_off ${editField(rng, s.bytes, t.at, 4, L)}`;
          const w = 3 + rng.int((t.len - 12) / 4);
          const count = L.btf.types.length;
          const at = t.at + w * 4;
          if (rng.chance(0.5)) {
            const v = rng.pick([0, id, id - 1, count, count + 1, rng.int(count + 1)]);
            put(s.bytes, at, 4, v);
            return `BTF type [${id}] word ${w} -> ${v}`;
          }
          return `BTF type [${id}] word ${w} ${editField(rng, s.bytes, at, 4, L)}`;
        }
        default: {
          const at = t.at + (t.len > 12 && rng.chance(0.5) ? 12 : 0);
          const v = rng.chance(0.5) ? rng.int(L.btf.strLen + 2) : rng.pick([L.btf.strLen, L.btf.strLen - 1, 0xffffffff]);
          put(s.bytes, at, 4, v >>> 0);
          return `BTF type [${id}] name_off @${at} -> ${v}`;
        }
      }
    },
  ],
  [
    4,
    function btfCycle(rng, s, L) {
      // A modifier or pointer pointing at a struct, union or function prototype whose members
      // or parameters all point back at it: cycles and exponential fan-out for whatever walks
      // types recursively (type names, CO-RE compatibility and matching), reached through a
      // global variable's VAR or a CO-RE relocation's root type.
      if (!L.btf) return undefined;
      const all = L.btf.types.map((t, i) => ({ ...t, id: i + 1 }));
      const aggregates = all.filter((t) => (t.kind === 4 || t.kind === 5 || t.kind === 13) && t.len >= 12 + 16);
      const carriers = all.filter((t) => [2, 8, 9, 10, 11, 18].includes(t.kind));
      if (!aggregates.length || !carriers.length) return undefined;
      const a = rng.pick(aggregates);
      const x = rng.pick(carriers);
      put(s.bytes, x.at + 8, 4, a.id);
      const stride = a.kind === 13 ? 8 : 12;
      const n = (a.len - 12) / stride;
      for (let i = 0; i < n; i++) put(s.bytes, a.at + 12 + i * stride + 4, 4, rng.chance(0.9) ? x.id : a.id);
      let via = "";
      const vars = all.filter((t) => t.kind === 14);
      if (vars.length && rng.chance(0.6)) {
        const v = rng.pick(vars);
        put(s.bytes, v.at + 8, 4, x.id);
        via += `, VAR [${v.id}] -> [${x.id}]`;
      }
      const core = L.ext?.subs.find((sub) => sub.name === "core_relo");
      if (core && rng.chance(0.5)) {
        const rec = rng.pick(rng.pick(core.blocks).records);
        const root = rng.chance(0.5) ? a.id : x.id;
        put(s.bytes, rec + 4, 4, root);
        via += `, CO-RE record @${rec} root -> [${root}]`;
      }
      return `BTF cycle: [${x.id}] -> [${a.id}], its ${n} members/params -> [${x.id}]${via}`;
    },
  ],
  [
    6,
    function stringCut(rng, s, L) {
      // An unterminated or cut string in .BTF strings, .strtab or the section-name table.
      const tables = [L.shstrtab, L.strtab, L.btf && { offset: L.btf.strAt, size: L.btf.strLen }].filter(Boolean);
      const tab = rng.pick(tables);
      if (!tab.size) return undefined;
      const p = tab.offset + rng.int(tab.size);
      switch (rng.int(3)) {
        case 0: {
          // remove the NUL at or after p
          let q = p;
          while (q < tab.offset + tab.size && s.bytes[q] !== 0) q++;
          if (q < s.bytes.length) s.bytes[q] = 0x41;
          return `string table @${tab.offset}: NUL @${q} -> 'A'`;
        }
        case 1:
          if (p < s.bytes.length) s.bytes[p] = 0;
          return `string table @${tab.offset}: byte @${p} -> NUL`;
        default: {
          // fill to the end with non-NUL bytes
          for (let q = p; q < tab.offset + tab.size && q < s.bytes.length; q++) s.bytes[q] = 0x5a;
          return `string table @${tab.offset}: no NUL from @${p}`;
        }
      }
    },
  ],
  [
    6,
    function accessString(rng, s, L) {
      // A CO-RE access string: digits and colons, huge numbers, garbage.
      const sub = L.ext?.subs.find((x) => x.name === "core_relo");
      if (!sub) return undefined;
      const rec = rng.pick(rng.pick(sub.blocks).records);
      const off = get(s.bytes, rec + 8, 4);
      const at = L.btf.strAt + off;
      let len = 0;
      while (at + len < s.bytes.length && s.bytes[at + len] !== 0) len++;
      if (len === 0) return undefined;
      const text = rng.pick([
        "99999999999",
        "4294967296",
        "0:",
        ":",
        "0::1",
        "a",
        "-1",
        "0:0:0:0:0:0:0:0:0:0:0:0:0:0:0",
        "1e9",
        "0:1:2:3",
        "00",
        " 0",
      ]);
      let out = "";
      if (rng.chance(0.5)) out = text.slice(0, len);
      else for (let i = 0; i < len; i++) out += rng.pick("0123456789::".split(""));
      for (let i = 0; i < out.length; i++) put(s.bytes, at + i, 1, out.charCodeAt(i));
      return `access string @${at} -> "${out}"`;
    },
  ],
  [
    14,
    function btfExt(rng, s, L) {
      if (!L.ext) return undefined;
      const e = L.ext;
      const sub = e.subs.length ? rng.pick(e.subs) : undefined;
      switch (rng.int(sub ? 6 : 1)) {
        case 0: {
          const [name, off, width] = rng.pick([
            ["magic", 0, 2],
            ["version", 2, 1],
            ["hdr_len", 4, 4],
            ["func_info_off", 8, 4],
            ["func_info_len", 12, 4],
            ["line_info_off", 16, 4],
            ["line_info_len", 20, 4],
            ["core_relo_off", 24, 4],
            ["core_relo_len", 28, 4],
          ]);
          return `BTF.ext ${name} ${editField(rng, s.bytes, e.at + off, width, L)}`;
        }
        case 1: {
          const v = rng.pick([0, 1, 4, 7, 8, 12, 16, 20, 24, 32, sub.recSize - 4, sub.recSize + 4, 0xffffffff, 0x80000000]) >>> 0;
          put(s.bytes, sub.start, 4, v);
          return `BTF.ext ${sub.name} record size -> ${v}`;
        }
        case 2: {
          const b = rng.pick(sub.blocks);
          const v = rng.pick([0, 1, b.num - 1, b.num + 1, b.num * 2, 0x10000000, 0x7fffffff, 0xffffffff, 0x20000000]) >>> 0;
          put(s.bytes, b.at + 4, 4, v);
          return `BTF.ext ${sub.name} block @${b.at} num_info ${b.num} -> ${v}`;
        }
        case 3: {
          const b = rng.pick(sub.blocks);
          return `BTF.ext ${sub.name} block sec_name_off ${editField(rng, s.bytes, b.at, 4, L)}`;
        }
        default: {
          // a record field: insn_off, type_id / file_name_off, access_str_off / line_off, kind / line_col
          const rec = rng.pick(rng.pick(sub.blocks).records);
          const w = rng.int(Math.min(4, sub.recSize / 4));
          const at = rec + w * 4;
          if (w === 0 && rng.chance(0.5)) {
            const orig = get(s.bytes, at, 4);
            const v = rng.pick([orig + 8, orig - 8, orig + 1, orig + 8 * 1000, 0xfffffff8, 0]) >>> 0;
            put(s.bytes, at, 4, v);
            return `BTF.ext ${sub.name} record @${rec} insn_off ${orig} -> ${v}`;
          }
          if (sub.name === "core_relo" && w === 3 && rng.chance(0.6)) {
            const v = rng.int(16);
            put(s.bytes, at, 4, v);
            return `BTF.ext core_relo record @${rec} kind -> ${v}`;
          }
          if (sub.name !== "line_info" && w === 1 && rng.chance(0.6)) {
            const v = rng.int(L.btf.types.length + 3);
            put(s.bytes, at, 4, v);
            return `BTF.ext ${sub.name} record @${rec} type_id -> ${v}`;
          }
          return `BTF.ext ${sub.name} record @${rec} word ${w} ${editField(rng, s.bytes, at, 4, L)}`;
        }
      }
    },
  ],
  [
    8,
    function relocation(rng, s, L) {
      const rels = L.rels.filter((r) => r.size >= 16);
      if (!rels.length) return undefined;
      const sec = rng.pick(rels);
      const at = sec.offset + 16 * rng.int(sec.size / 16);
      const nsyms = L.symtab ? L.symtab.size / 24 : 0;
      switch (rng.int(4)) {
        case 0: {
          const orig = get(s.bytes, at, 8);
          const v = rng.chance(0.6) ? BigInt.asUintN(64, orig + BigInt(rng.pick([-8, -1, 1, 4, 8, 16, 8000]))) : rng.pick(INTERESTING_U64);
          put(s.bytes, at, 8, v);
          return `${sec.name} r_offset @${at} ${orig} -> ${v}`;
        }
        case 1: {
          const v = rng.pick([0, 1, nsyms - 1, nsyms, nsyms + 1, rng.int(nsyms), 0xffffffff]);
          put(s.bytes, at + 12, 4, v);
          return `${sec.name} @${at} symbol -> ${v}`;
        }
        case 2: {
          const v = rng.pick([0, 1, 2, 3, 4, 10, 11, 255, rng.u32()]);
          put(s.bytes, at + 8, 4, v);
          return `${sec.name} @${at} type -> ${v}`;
        }
        default:
          // duplicate another entry over this one
          s.bytes.copyWithin(at, sec.offset + 16 * rng.int(sec.size / 16), 16);
          return `${sec.name} @${at} entry duplicated`;
      }
    },
  ],
  [
    6,
    function symbol(rng, s, L) {
      if (!L.symtab || L.symtab.size < 24) return undefined;
      const i = rng.int(L.symtab.size / 24);
      const at = L.symtab.offset + 24 * i;
      const [name, off, width] = rng.pick([
        ["st_name", 0, 4],
        ["st_info", 4, 1],
        ["st_other", 5, 1],
        ["st_shndx", 6, 2],
        ["st_shndx", 6, 2],
        ["st_value", 8, 8],
        ["st_value", 8, 8],
        ["st_size", 16, 8],
      ]);
      if (name === "st_shndx" && rng.chance(0.5)) {
        const v = rng.pick([0, 0xfff1, 0xfff2, 0xffff, L.shnum, rng.int(L.shnum)]);
        put(s.bytes, at + off, 2, v);
        return `symbol #${i} st_shndx -> ${v}`;
      }
      if (name === "st_info" && rng.chance(0.6)) {
        const v = (rng.int(4) << 4) | rng.int(7);
        put(s.bytes, at + off, 1, v);
        return `symbol #${i} st_info -> 0x${v.toString(16)}`;
      }
      return `symbol #${i} ${name} ${editField(rng, s.bytes, at + off, width, L)}`;
    },
  ],
  [
    8,
    function instruction(rng, s, L) {
      if (!L.code.length) return undefined;
      const sec = rng.pick(L.code);
      const at = sec.offset + 8 * rng.int(sec.size / 8);
      switch (rng.int(5)) {
        case 0: {
          const v = rng.pick([0x18, 0x85, 0x95, 0x05, 0x06, 0x15, 0x07, 0xb7, 0x61, 0x79, 0x7b, 0x00, 0xff, rng.int(256)]);
          put(s.bytes, at, 1, v);
          return `insn @${at} opcode -> 0x${v.toString(16)}`;
        }
        case 1: {
          const v = (rng.pick([0, 1, 2, 3, 4, 5, 6, 15]) << 4) | rng.int(16);
          put(s.bytes, at + 1, 1, v);
          return `insn @${at} regs -> 0x${v.toString(16)}`;
        }
        case 2: {
          const v = rng.pick([0, 1, -1, -2, 0x7fff, -0x8000, rng.int(64) - 32]);
          put(s.bytes, at + 2, 2, v & 0xffff);
          return `insn @${at} off -> ${v}`;
        }
        case 3:
          return `insn @${at} imm ${editField(rng, s.bytes, at + 4, 4, L)}`;
        default: {
          // an ld_imm64 cut in half, or a copy of another instruction
          const src = sec.offset + 8 * rng.int(sec.size / 8);
          s.bytes.copyWithin(at, src, src + 8);
          return `insn @${at} := insn @${src}`;
        }
      }
    },
  ],
  [
    3,
    function splice(rng, s, _L, corpus) {
      const other = rng.pick(corpus);
      const len = 1 + rng.int(256);
      const from = rng.int(Math.max(1, other.bytes.length - len));
      const to = rng.int(Math.max(1, s.bytes.length - len));
      const chunk = other.bytes.subarray(from, Math.min(from + len, other.bytes.length));
      const n = Math.min(chunk.length, s.bytes.length - to);
      s.bytes.set(chunk.subarray(0, n), to);
      return `splice ${n} bytes of ${other.name} @${from} -> @${to}`;
    },
  ],
  [
    2,
    function swapSections(rng, s, L) {
      const a = anySection(rng, L);
      const b = anySection(rng, L);
      if (a === b || a.hdr + 64 > s.bytes.length || b.hdr + 64 > s.bytes.length) return undefined;
      const tmp = s.bytes.slice(a.hdr, a.hdr + 64);
      s.bytes.copyWithin(a.hdr, b.hdr, b.hdr + 64);
      s.bytes.set(tmp, b.hdr);
      return `swap section headers #${a.index} and #${b.index}`;
    },
  ],
];

/** A random-bytes case: pure noise, or noise behind a plausible ELF header. */
function randomCase(rng, corpus) {
  const len = rng.chance(0.3) ? rng.int(80) : rng.int(4096);
  const bytes = new Uint8Array(len);
  for (let i = 0; i < len; i++) bytes[i] = rng.int(256);
  const kind = rng.int(3);
  if (kind >= 1) {
    // ELF magic, ELFCLASS64, little-endian
    const hdr = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1];
    for (let i = 0; i < hdr.length && i < len; i++) bytes[i] = hdr[i];
  }
  if (kind === 2 && len >= 64) {
    // and a real BPF object's ELF header
    const src = rng.pick(corpus).bytes;
    bytes.set(src.subarray(0, 64));
    if (rng.chance(0.7)) put(bytes, 40, 8, rng.int(Math.max(1, len)));
  }
  return { bytes, object: "random", steps: [`random bytes (${len}, ${["noise", "ELF ident", "BPF ELF header"][kind]})`] };
}

/**
 * Loads the corpus: [{ name, bytes, layout }] from a list of { name, bytes }.
 */
export function makeCorpus(files) {
  return files.map(({ name, bytes }) => ({ name, bytes, layout: layoutOf(name, bytes) }));
}

/** Case `index` of `seed`: { bytes, object (corpus name or "random"), steps (what was done) }. */
export function generateCase(corpus, seed, index) {
  const rng = new Rng(seed, index);
  if (rng.chance(0.03)) return randomCase(rng, corpus);
  const base = rng.pick(corpus);
  const s = { bytes: base.bytes.slice() };
  const n = rng.weighted([
    [50, 1],
    [25, 2],
    [15, 3],
    [10, 4 + rng.int(5)],
  ]);
  const steps = [];
  for (let attempts = 0; steps.length < n && attempts < n * 4; attempts++) {
    const m = rng.weighted(MUTATORS);
    const d = m(rng, s, base.layout, corpus);
    if (d !== undefined) steps.push(d);
  }
  return { bytes: s.bytes, object: base.name, steps };
}
