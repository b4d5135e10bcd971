/**
 * Records that point outside what they describe are malformed objects, named
 * by section and offset: func_info and line_info records past the end of
 * their code section (before, they were dropped silently; CO-RE records
 * already threw), and a map symbol whose st_value lies past .maps (before,
 * it was matched by name all the same).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { layoutOf } from "../fuzz/mutate.mjs";
import { ObjectFormatError } from "../src/errors.js";
import { parseObject } from "../src/spec/object-spec.js";
import { thrownBy } from "./helpers/thrown.js";

interface Layout {
  sections: Array<{ name: string; offset: number; size: number }>;
  symtab: { offset: number; size: number };
  strtab: { offset: number };
  ext: { at: number; subs: Array<{ name: string; blocks: Array<{ records: number[] }> }> };
}

const original = new Uint8Array(readFileSync("bpf/bootstrap.bpf.o"));
const layout = layoutOf("bootstrap.bpf.o", original) as Layout;

function patched(at: number, value: number | bigint): Uint8Array {
  const bytes = original.slice();
  const v = new DataView(bytes.buffer);
  if (typeof value === "bigint") v.setBigUint64(at, value, true);
  else v.setUint32(at, value, true);
  return bytes;
}

function formatError(bytes: Uint8Array): ObjectFormatError {
  const e = thrownBy(() => parseObject(bytes, { path: "bootstrap.bpf.o" }));
  expect(e).toBeInstanceOf(ObjectFormatError);
  return e as ObjectFormatError;
}

describe("out-of-range records are typed errors naming section and offset", () => {
  it("the intact object parses", () => {
    expect(parseObject(original, { path: "bootstrap.bpf.o" }).programs.length).toBe(2);
  });

  for (const kind of ["func_info", "line_info"]) {
    it(`a ${kind} record past the end of its code section`, () => {
      const record = layout.ext.subs.find((s) => s.name === kind)!.blocks[0]!.records.at(-1)!;
      const e = formatError(patched(record, 0x10000 * 8)); // insn_off: instruction 65536
      expect(e.where).toBe("section .BTF.ext");
      expect(e.offset).toBe(record - layout.ext.at);
      expect(e.message).toMatch(
        new RegExp(
          `^section \\.BTF\\.ext at offset ${e.offset}: ${kind} record for \\S+ instruction 65536 is past the end of the section \\(\\d+ instructions\\)$`,
        ),
      );
    });
  }

  it("a map symbol whose st_value lies past .maps", () => {
    const maps = layout.sections.find((s) => s.name === ".maps")!;
    const strs = layout.strtab.offset;
    const name = (off: number) => {
      let end = strs + off;
      while (original[end] !== 0) end++;
      return new TextDecoder().decode(original.subarray(strs + off, end));
    };
    const dv = new DataView(original.buffer, original.byteOffset);
    let sym = -1;
    for (let at = layout.symtab.offset; at < layout.symtab.offset + layout.symtab.size; at += 24) {
      if (name(dv.getUint32(at, true)) === "exec_start") sym = at;
    }
    expect(sym).toBeGreaterThan(0);
    const past = maps.size + 64;
    const e = formatError(patched(sym + 8, BigInt(past)));
    expect(e.where).toBe("section .maps");
    expect(e.offset).toBe(past);
    expect(e.message).toMatch(
      /^section \.maps at offset \d+: map symbol exec_start \(symbol #\d+\) lies past the end of the \d+-byte section$/,
    );
  });
});
