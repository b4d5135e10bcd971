/**
 * strace 6.1's string quoting (src/util.c: string_quote, printstr_ex,
 * print_quoted_string, print_quoted_cstring), byte for byte:
 *
 * - printable ASCII as is, `"` and `\` escaped, \f \n \r \t \v by name;
 * - other bytes as the shortest octal escape (`\0`, `\30`, `\237`), but as
 *   three digits when the next byte is an octal digit, so that `\0` followed
 *   by "0" prints `\0000` (the bytes 0x00 0x30) and not `\00`;
 * - at most `-s` (default 32) bytes of a user-memory string, then `...`.
 */

export const QUOTE_0_TERMINATED = 0x01;
export const QUOTE_OMIT_LEADING_TRAILING_QUOTES = 0x02;
export const QUOTE_OMIT_TRAILING_0 = 0x08;
export const QUOTE_FORCE_HEX = 0x10;
export const QUOTE_EXPECT_TRAILING_0 = 0x20;

const HEX = "0123456789abcdef";

function isOctalDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x37;
}

function octal(c: number, unabbrev: boolean): string {
  if (unabbrev) return String(c >> 6) + String((c >> 3) & 7) + String(c & 7);
  let s = "";
  if (c >> 3 !== 0) {
    if (c >> 6 !== 0) s += String(c >> 6);
    s += String((c >> 3) & 7);
  }
  return s + String(c & 7);
}

/**
 * string_quote(): quotes `size` bytes of `bytes` (reading past the end of
 * `bytes` gives 0). Returns the text and whether strace's function would
 * return 1 ("did not see the terminating NUL").
 */
export function stringQuote(bytes: Uint8Array, size: number, style: number): { text: string; unterminated: boolean } {
  const at = (i: number): number => (i < bytes.length ? bytes[i]! : 0);
  const eol = style & QUOTE_0_TERMINATED ? 0 : 0x100;
  const quotes = !(style & QUOTE_OMIT_LEADING_TRAILING_QUOTES);
  let s = quotes ? '"' : "";
  const end = (unterminated: boolean) => ({ text: s + (quotes ? '"' : ""), unterminated });

  if (style & QUOTE_FORCE_HEX) {
    for (let i = 0; i < size; i++) {
      const c = at(i);
      if (c === eol) return end(false);
      s += "\\x" + HEX[c >> 4]! + HEX[c & 15]!;
    }
  } else {
    for (let i = 0; i < size; i++) {
      const c = at(i);
      if (c === eol) return end(false);
      if (i === size - 1 && style & QUOTE_OMIT_TRAILING_0 && c === 0) return end(false);
      switch (c) {
        case 0x22:
          s += '\\"';
          break;
        case 0x5c:
          s += "\\\\";
          break;
        case 0x0c:
          s += "\\f";
          break;
        case 0x0a:
          s += "\\n";
          break;
        case 0x0d:
          s += "\\r";
          break;
        case 0x09:
          s += "\\t";
          break;
        case 0x0b:
          s += "\\v";
          break;
        default:
          if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
          else s += "\\" + octal(c, i + 1 < size && isOctalDigit(at(i + 1)));
      }
    }
  }
  // Whole buffer printed: "terminated" only if the byte just past it is NUL.
  return end(!(style & QUOTE_0_TERMINATED && at(size) === 0));
}

/** print_quoted_string(): with QUOTE_0_TERMINATED at most size - 1 bytes. */
export function quotedString(bytes: Uint8Array, size: number, style: number): string {
  if (size && style & QUOTE_0_TERMINATED) size--;
  const r = stringQuote(bytes, size, style);
  const more =
    (style & (QUOTE_0_TERMINATED | QUOTE_EXPECT_TRAILING_0)) === (QUOTE_0_TERMINATED | QUOTE_EXPECT_TRAILING_0) && r.unterminated;
  return r.text + (more ? "..." : "");
}

/** print_quoted_cstring(): a char array of `size` bytes that should hold a NUL; `...` if it does not. */
export function quotedCString(bytes: Uint8Array, size: number): string {
  const r = stringQuote(bytes, size ? size - 1 : 0, QUOTE_0_TERMINATED);
  return r.text + (r.unterminated ? "..." : "");
}

/**
 * printstr_ex() on bytes already fetched from user memory. `fetched` holds
 * what strace's umoven/umovestr would have read: min(maxStrlen + 1, len)
 * bytes (a NUL-terminated fetch may stop early at the NUL). `len` is the
 * length argument (2**64 - 1 for plain printstr).
 */
export function printstrFetched(fetched: Uint8Array, len: bigint, style: number, maxStrlen: number): string {
  let size = Number(BigInt(maxStrlen + 1) < len ? BigInt(maxStrlen + 1) : len);
  let buf = fetched;
  if (size > maxStrlen) size = maxStrlen;
  else {
    // strace writes '\xff' just past the fetched bytes.
    buf = new Uint8Array(size + 1);
    buf.set(fetched.subarray(0, size));
    buf[size] = 0xff;
  }
  if (
    (style & (QUOTE_0_TERMINATED | QUOTE_EXPECT_TRAILING_0)) === (QUOTE_0_TERMINATED | QUOTE_EXPECT_TRAILING_0) &&
    BigInt(size) === len &&
    size
  ) {
    size--;
  }
  const r = stringQuote(buf, size, style);
  const ellipsis =
    r.unterminated && len !== 0n && ((style & (QUOTE_0_TERMINATED | QUOTE_EXPECT_TRAILING_0)) !== 0 || len > BigInt(maxStrlen));
  return r.text + (ellipsis ? "..." : "");
}

/** How many bytes printstr_ex fetches for a string of length argument `len`. */
export function printstrFetchSize(len: bigint, maxStrlen: number): number {
  return Number(BigInt(maxStrlen + 1) < len ? BigInt(maxStrlen + 1) : len);
}
