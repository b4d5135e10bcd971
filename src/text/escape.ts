/**
 * Untrusted text made safe for a terminal. Names in an object (sections,
 * programs, maps, BTF types), strings in ring-buffer records (a process's
 * comm, a file name) and kernel strings are chosen by whoever built the
 * object or named the binary: printed raw, `\e]0;…\a` retitles the
 * operator's terminal and `\e[31m` recolours it.
 *
 * The convention is strace's (string_quote() in its src/util.c) with
 * `-x`'s hex form for bytes it has no name for, applied per character so
 * that printable UTF-8 ("café", "进程") stays readable:
 *
 *   \t \n \v \f \r \\      by name, as strace and C write them
 *   other C0 bytes, DEL   \xNN  (ESC is \x1b, BEL \x07)
 *   invalid UTF-8 bytes   \xNN  (escapeBytes only; a JS string has none)
 *   C1 controls (U+0080–U+009F: U+009B is a CSI to some terminals), line and
 *   paragraph separators, bidirectional overrides (U+202A–U+202E,
 *   U+2066–U+2069, U+200E/F, U+061C) and lone surrogates   \u{NNNN}
 *
 * The backslash is doubled, so the escaped text reads back unambiguously.
 * JSON output does not use this: JSON.stringify escapes C0 by JSON's rules,
 * and jsonSafe() adds the rest as \uNNNN, which is still JSON.
 */

const HEX = "0123456789abcdef";
const hex2 = (c: number): string => `\\x${HEX[c >> 4]}${HEX[c & 15]}`;

const NAMED: Record<number, string> = { 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 92: "\\\\" };

/** Code points above ASCII that a terminal acts on, or that reorder or split what is shown. */
function isInvisibleControl(cp: number): boolean {
  return (
    (cp >= 0x80 && cp <= 0x9f) ||
    cp === 0x061c ||
    cp === 0x200e ||
    cp === 0x200f ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    (cp >= 0xd800 && cp <= 0xdfff)
  );
}

/** Characters escapeText changes; a fast path skips strings without any. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/u;

function escapeCodePoint(cp: number, out: string[]): void {
  const named = NAMED[cp];
  if (named !== undefined) out.push(named);
  else if (cp < 0x20 || cp === 0x7f) out.push(hex2(cp));
  else if (isInvisibleControl(cp)) out.push(`\\u{${cp.toString(16)}}`);
  else out.push(String.fromCodePoint(cp));
}

/** `s` with every control character escaped (see the file comment); printable text unchanged. */
export function escapeText(s: string): string {
  if (!UNSAFE.test(s)) return s;
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A well-formed surrogate pair is one printable character; a lone half is escaped.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out.push(s.slice(i, i + 2));
        i++;
        continue;
      }
    }
    escapeCodePoint(c, out);
  }
  return out.join("");
}

/** Length of the UTF-8 sequence starting at `i` if it is well-formed (shortest form, no surrogates), else 0. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const c1 = b[i + 1];
    if (c1 === undefined || (c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const c1 = b[i + 1];
    if (c1 === undefined || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

const utf8 = new TextDecoder();

/**
 * Bytes as escaped text: well-formed UTF-8 decoded and escaped as
 * escapeText does, each byte of an ill-formed sequence as \xNN (as strace
 * shows bytes it cannot print). Stops at the first NUL when `cString` is set
 * (a C char array).
 */
export function escapeBytes(bytes: Uint8Array, opts: { cString?: boolean } = {}): string {
  let end = bytes.length;
  if (opts.cString) {
    const nul = bytes.indexOf(0);
    if (nul >= 0) end = nul;
  }
  const out: string[] = [];
  for (let i = 0; i < end; ) {
    const c = bytes[i]!;
    if (c < 0x80) {
      escapeCodePoint(c, out);
      i++;
      continue;
    }
    const n = utf8SequenceLength(bytes.subarray(0, end), i);
    if (n === 0) {
      out.push(hex2(c));
      i++;
      continue;
    }
    const cp = utf8.decode(bytes.subarray(i, i + n)).codePointAt(0)!;
    escapeCodePoint(cp, out);
    i += n;
  }
  return out.join("");
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_IN_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/gu;

/**
 * Text the program itself composed (messages, tables), whose interpolated
 * parts may still hold untrusted characters: every control character except
 * the line ends and tabs of the layout is escaped; backslashes are left
 * alone, so already-escaped parts are not escaped twice. The last line of
 * defence before a write to a terminal.
 */
export function terminalSafe(text: string): string {
  UNSAFE_IN_LAYOUT.lastIndex = 0;
  if (!UNSAFE_IN_LAYOUT.test(text)) return text;
  return text.replace(UNSAFE_IN_LAYOUT, (ch) => {
    const out: string[] = [];
    escapeCodePoint(ch.codePointAt(0)!, out);
    return out.join("");
  });
}

const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * JSON text (from JSON.stringify, which already escapes C0 characters and
 * lone surrogates) with DEL, C1 controls, separators and bidi overrides
 * escaped too, as \uNNNN: still valid JSON, meaning the same values, and
 * safe to show on a terminal.
 */
export function jsonSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
