/**
 * --set NAME=VALUE parsed by the variable's BTF type (bpf/set_types.bpf.c has
 * one of each kind): accepted values become the bytes C would hold; anything
 * else is a usage error naming the variable, its C type and the problem, and
 * nothing is written.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../src/cli/args.js";
import { applySetOption } from "../src/cli/set-option.js";
import { BpfObject } from "../src/object/bpf-object.js";

const OBJ = "bpf/set_types.bpf.o";

/** The bytes of `name` after --set NAME=VALUE. */
function bytesAfter(name: string, value: string): number[] {
  const obj = BpfObject.open(OBJ);
  applySetOption(obj, [`${name}=${value}`]);
  return [...obj.variable(name)];
}

function refusal(name: string, value: string): string {
  const obj = BpfObject.open(OBJ);
  const before = [...obj.variable(name)];
  try {
    applySetOption(obj, [`${name}=${value}`]);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect([...obj.variable(name)]).toEqual(before); // nothing written
    return (e as Error).message;
  }
  throw new Error(`--set ${name}=${value} was accepted`);
}

const le = (v: bigint, size: number) =>
  Array.from({ length: size }, (_, i) => Number((BigInt.asUintN(size * 8, v) >> BigInt(8 * i)) & 0xffn));

describe("--set values checked against BTF types", () => {
  it("integers: decimal, 0x, 0o, 0b, _ separators, exact 64-bit, both signs where allowed", () => {
    expect(bytesAfter("u64_value", "100_000_000")).toEqual(le(100_000_000n, 8));
    expect(bytesAfter("u64_value", "0xffff_ffff_ffff_ffff")).toEqual(le(2n ** 64n - 1n, 8));
    expect(bytesAfter("u64_value", "18446744073709551615")).toEqual(le(2n ** 64n - 1n, 8));
    expect(bytesAfter("s64_value", "-9223372036854775808")).toEqual(le(-(2n ** 63n), 8));
    expect(bytesAfter("u32_value", "0o777")).toEqual(le(0o777n, 4));
    expect(bytesAfter("u8_value", "0b1010_1010")).toEqual([0xaa]);
    expect(bytesAfter("s8_value", "-128")).toEqual([0x80]);
    expect(bytesAfter("s16_value", "-0x10")).toEqual(le(-16n, 2));
    expect(bytesAfter("s32_value", "self")).toEqual(le(BigInt(process.pid), 4));
  });

  it("integers: anything else is refused with the variable, its C type and the reason", () => {
    expect(refusal("u64_value", "abc")).toBe(
      '--set u64_value=abc: u64_value is const volatile unsigned long long (.rodata); "abc" is not an integer (decimal, 0x…, 0o… or 0b…, with optional _ between digits)',
    );
    expect(refusal("u64_value", "1.5")).toContain('"1.5" is not an integer (no fractions or exponents)');
    expect(refusal("u64_value", "1e3")).toContain('"1e3" is not an integer (no fractions or exponents)');
    expect(refusal("u32_value", "-5")).toBe(
      "--set u32_value=-5: u32_value is const volatile unsigned int (.rodata); it is unsigned; -5 is negative",
    );
    expect(refusal("u8_value", "256")).toContain("256 is out of range 0..255");
    expect(refusal("s8_value", "128")).toContain("128 is out of range -128..127");
    expect(refusal("u64_value", "0x1_0000_0000_0000_0000")).toContain("out of range 0..18446744073709551615");
    expect(refusal("u32_value", "010")).toContain("leading zero, which C reads as octal");
    expect(refusal("u32_value", "1__0")).toContain("is not an integer");
    expect(refusal("u32_value", "")).toContain('"" is not an integer');
  });

  it("_Bool, enums by name or value, char arrays with their length", () => {
    expect(bytesAfter("flag", "true")).toEqual([1]);
    expect(bytesAfter("flag", "0")).toEqual([0]);
    expect(refusal("flag", "yes")).toBe(
      '--set flag=yes: flag is const volatile _Bool (.rodata); "yes" is not a boolean (true, false, 1 or 0)',
    );
    expect(bytesAfter("level", "LEVEL_HIGH")).toEqual(le(7n, 4));
    expect(bytesAfter("level", "3")).toEqual(le(3n, 4));
    expect(refusal("level", "LEVEL_MID")).toBe(
      '--set level=LEVEL_MID: level is const volatile enum level (.rodata); "LEVEL_MID" is neither an enumerator (LEVEL_LOW, LEVEL_HIGH) nor an integer',
    );
    expect(bytesAfter("label", "hi")).toEqual([0x68, 0x69, 0, 0, 0, 0, 0, 0]);
    expect(bytesAfter("label", "1234567")).toEqual([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0]);
    expect(refusal("label", "12345678")).toContain('"12345678" is 8 bytes; it holds at most 7 and a terminating NUL');
  });

  it("arrays and structs as JSON, member by member", () => {
    expect(bytesAfter("weights", "[10, -1, 0x7fffffff]".replace("0x7fffffff", '"0x7fffffff"'))).toEqual([
      ...le(10n, 4),
      ...le(-1n, 4),
      ...le(0x7fffffffn, 4),
    ]);
    expect(refusal("weights", "[1, 2, 3, 4]")).toContain("4 elements do not fit 3");
    expect(refusal("weights", "[1, 2.5]")).toContain("[1]: 2.5 is not an integer");
    expect(refusal("weights", "1,2")).toContain("not valid JSON");
    expect(bytesAfter("limits", '{"lo": 65535, "tag": "xyz", "hi": -2}')).toEqual([0xff, 0xff, 0x78, 0x79, 0x7a, 0, 0, 0, ...le(-2n, 4)]);
    expect(refusal("limits", '{"lo": -1}')).toContain(".lo: it is unsigned; -1 is negative");
    expect(refusal("limits", '{"low": 1}')).toContain("struct limits has no member low (it has: lo, tag, hi)");
    expect(refusal("limits", '{"tag": "abcd"}')).toContain('.tag: "abcd" is 4 bytes; it holds at most 3');
  });

  it("an unknown variable names the ones there are", () => {
    const obj = BpfObject.open(OBJ);
    expect(() => applySetOption(obj, ["nope=1"])).toThrow(/set_types has no global variable nope \(it has: flag, u8_value/);
  });
});
