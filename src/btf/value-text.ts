/**
 * A value typed on a command line (`--set min_duration_ns=100_000_000`),
 * checked against the variable's BTF type and turned into the JS value
 * makeEncoder() takes. Unlike the encoder, which accepts what C would
 * (-1 into a u32), this refuses anything a person probably did not mean:
 *
 *   integers   decimal, 0x, 0o, 0b, `_` between digits; in the type's range
 *              and signedness (no negative into an unsigned); exact (bigint)
 *   _Bool      true, false, 1, 0
 *   enums      an enumerator's name, or an integer in the enum's range
 *   float      a decimal number (finite, in float's range for a 4-byte one)
 *   char[N]    a string of at most N - 1 bytes (UTF-8), leaving room for NUL
 *   arrays, structs, unions   JSON, checked member by member with the same
 *              rules (integers beyond 2^53 as JSON strings: "0xffff…")
 *
 * A refusal is a ValueTextError saying what was wrong; callers add which
 * variable and C type it was for.
 */
import type { Btf } from "./btf.js";
import { cTypeName } from "./type-name.js";
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, BtfKind, type BtfType } from "./types.js";
import { TsbpfError } from "../errors.js";

export class ValueTextError extends TsbpfError {
  override name = "ValueTextError";
}

const fail = (problem: string): never => {
  throw new ValueTextError(problem);
};

const INTEGER = /^([+-]?)(0x[0-9a-f]+(?:_[0-9a-f]+)*|0o[0-7]+(?:_[0-7]+)*|0b[01]+(?:_[01]+)*|\d+(?:_\d+)*)$/i;

/** An integer literal as an exact bigint, or undefined when `text` is not one. Leading zeros are refused: C reads them as octal. */
export function parseIntegerText(text: string): bigint | undefined {
  const m = INTEGER.exec(text.trim());
  if (!m) return undefined;
  const digits = m[2]!.replaceAll("_", "");
  if (/^0\d/.test(digits))
    fail(`"${text}" has a leading zero, which C reads as octal; write 0o${digits.slice(1)} or ${digits.replace(/^0+(?=\d)/, "")}`);
  const v = BigInt(digits);
  return m[1] === "-" ? -v : v;
}

function describeInteger(text: string): string {
  if (/^[+-]?\d*\.\d*(e[+-]?\d+)?$|^[+-]?\d+e[+-]?\d+$/i.test(text.trim()))
    return `"${text}" is not an integer (no fractions or exponents)`;
  return `"${text}" is not an integer (decimal, 0x…, 0o… or 0b…, with optional _ between digits)`;
}

function checkRange(v: bigint, bits: number, signed: boolean, shown: string): bigint {
  const b = BigInt(bits);
  const min = signed ? -(1n << (b - 1n)) : 0n;
  const max = signed ? (1n << (b - 1n)) - 1n : (1n << b) - 1n;
  if (v < 0n && !signed) fail(`it is unsigned; ${shown} is negative`);
  if (v < min || v > max) fail(`${shown} is out of range ${min}..${max}`);
  return v;
}

type Input = { kind: "text"; text: string } | { kind: "json"; value: unknown };

function integer(input: Input, bits: number, signed: boolean): bigint {
  if (input.kind === "json") {
    const v = input.value;
    if (typeof v === "number") {
      if (!Number.isInteger(v)) fail(`${v} is not an integer`);
      if (!Number.isSafeInteger(v)) fail(`${v} is beyond 2^53, where JSON numbers are not exact; give it as a string ("0x…")`);
      return checkRange(BigInt(v), bits, signed, String(v));
    }
    if (typeof v === "string") return integer({ kind: "text", text: v }, bits, signed);
    return fail(`${JSON.stringify(v)} is not an integer`);
  }
  const v = parseIntegerText(input.text);
  if (v === undefined) return fail(describeInteger(input.text));
  return checkRange(v, bits, signed, input.text.trim());
}

function isCharElement(t: BtfType): boolean {
  return t.kind === BtfKind.Int && t.size === 1 && !(t.encoding & BTF_INT_BOOL) && (t.name === "char" || (t.encoding & BTF_INT_CHAR) !== 0);
}

function convert(btf: Btf, id: number, input: Input, depth: number): unknown {
  if (depth > 32) fail("type nesting too deep");
  const t = btf.type(btf.skipModifiers(id));
  switch (t.kind) {
    case BtfKind.Int: {
      if (t.encoding & BTF_INT_BOOL) {
        const v = input.kind === "text" ? input.text.trim() : input.value;
        if (v === true || v === "true" || v === 1 || v === "1") return true;
        if (v === false || v === "false" || v === 0 || v === "0") return false;
        return fail(`${JSON.stringify(v)} is not a boolean (true, false, 1 or 0)`);
      }
      return integer(input, t.bits, (t.encoding & BTF_INT_SIGNED) !== 0);
    }
    case BtfKind.Ptr:
      return integer(input, 64, false);
    case BtfKind.Enum:
    case BtfKind.Enum64: {
      const raw = input.kind === "text" ? input.text.trim() : input.value;
      if (typeof raw === "string") {
        const e = t.values.find((x) => x.name === raw);
        if (e) return e.value;
        if (!INTEGER.test(raw))
          fail(`"${raw}" is neither an enumerator (${t.values.map((x) => x.name).join(", ") || "none"}) nor an integer`);
      }
      return integer(input, t.size * 8, t.signed);
    }
    case BtfKind.Float: {
      const raw = input.kind === "text" ? input.text.trim() : input.value;
      const v =
        typeof raw === "number"
          ? raw
          : typeof raw === "string" && /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(raw)
            ? Number(raw)
            : fail(`${JSON.stringify(raw)} is not a decimal number`);
      if (!Number.isFinite(v) || (t.size === 4 && Math.abs(v) > 3.4028234663852886e38))
        fail(`${raw} is out of range for a ${t.size}-byte float`);
      return v;
    }
    case BtfKind.Array: {
      const elem = btf.type(btf.skipModifiers(t.elemType));
      if (isCharElement(elem)) {
        const s = input.kind === "text" ? input.text : input.value;
        if (typeof s !== "string") return fail(`${JSON.stringify(s)} is not a string`);
        const n = new TextEncoder().encode(s).byteLength;
        if (n > t.nelems - 1) fail(`"${s}" is ${n} bytes; it holds at most ${t.nelems - 1} and a terminating NUL`);
        return s;
      }
      const list = json(input);
      if (!Array.isArray(list)) return fail(`expected a JSON array of ${t.nelems} ${cTypeName(btf, t.elemType)}`);
      if (list.length > t.nelems) fail(`${list.length} elements do not fit ${t.nelems}`);
      return list.map((v, i) => within(`[${i}]`, () => convert(btf, t.elemType, { kind: "json", value: v }, depth + 1)));
    }
    case BtfKind.Struct:
    case BtfKind.Union: {
      const obj = json(input);
      const what = `${t.kind === BtfKind.Struct ? "struct" : "union"} ${t.name || "(anon)"}`;
      if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return fail(`expected a JSON object for ${what}`);
      const members = new Map<string, { type: number; bits: number }>();
      collectMembers(btf, t.members, members, 0);
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(obj)) {
        const m = members.get(key);
        if (!m) fail(`${what} has no member ${key} (it has: ${[...members.keys()].join(", ")})`);
        out[key] = within(`.${key}`, () =>
          m!.bits
            ? integer({ kind: "json", value: v }, m!.bits, isSigned(btf, m!.type))
            : convert(btf, m!.type, { kind: "json", value: v }, depth + 1),
        );
      }
      return out;
    }
    default:
      return fail(`a ${cTypeName(btf, id)} cannot be set from the command line`);
  }
}

function isSigned(btf: Btf, id: number): boolean {
  const t = btf.type(btf.skipModifiers(id));
  if (t.kind === BtfKind.Int) return (t.encoding & BTF_INT_SIGNED) !== 0;
  return (t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64) && t.signed;
}

/** Members by name, anonymous structs and unions lifted (as makeEncoder names them). */
function collectMembers(
  btf: Btf,
  members: ReadonlyArray<{ name: string; type: number; bitfieldSize: number }>,
  out: Map<string, { type: number; bits: number }>,
  depth: number,
): void {
  for (const m of members) {
    if (m.name) out.set(m.name, { type: m.type, bits: m.bitfieldSize });
    else if (depth < 32) {
      const inner = btf.type(btf.skipModifiers(m.type));
      if (inner.kind === BtfKind.Struct || inner.kind === BtfKind.Union) collectMembers(btf, inner.members, out, depth + 1);
    }
  }
}

function json(input: Input): unknown {
  if (input.kind === "json") return input.value;
  try {
    return JSON.parse(input.text);
  } catch (e) {
    return fail(`not valid JSON: ${(e as Error).message}`);
  }
}

/** Prefixes a nested failure with where it was (".pid", "[3]"). */
function within<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValueTextError) throw new ValueTextError(`${where}: ${e.message}`);
    throw e;
  }
}

/**
 * `text` as a value of BTF type `typeId`, for makeEncoder(btf, typeId).
 * Throws ValueTextError saying what is wrong with it.
 */
export function parseValueText(btf: Btf, typeId: number, text: string): unknown {
  return convert(btf, typeId, { kind: "text", text }, 0);
}
