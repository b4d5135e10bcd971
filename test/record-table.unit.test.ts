/**
 * The record table of `tsbpf load` is laid out from the record's BTF type,
 * not from the first record: a narrow first row (pid 1, comm "sh") and
 * wide later rows (the largest values the types hold) start every column
 * at the header's offsets.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { makeDecoder } from "../src/btf/value-decoder.js";
import { makeEncoder } from "../src/btf/value-encoder.js";
import { recordColumns } from "../src/cli/record-columns.js";
import { RecordPrinter } from "../src/cli/record-printer.js";
import { parseObject } from "../src/spec/object-spec.js";

const spec = parseObject(readFileSync("bpf/bootstrap.bpf.o"), { path: "bpf/bootstrap.bpf.o" });
const btf = spec.btf!.btf;
const decode = makeDecoder(btf, "struct event");
const encode = makeEncoder(btf, decode.typeId);

function table(events: Array<Record<string, unknown>>): string[] {
  const columns = recordColumns(btf, decode.typeId);
  let out = "";
  const printer = new RecordPrinter("table", (s) => (out += s));
  for (const e of events) {
    const bytes = encode(e);
    printer.print("rb", { value: decode(bytes), bytes, columns });
  }
  return out.trimEnd().split("\n");
}

/** Where each column of the header starts. */
function starts(header: string): number[] {
  return [...header.matchAll(/(?<= )\S/g)].map((m) => m.index!);
}

describe("record table columns", () => {
  it("are sized from struct event's member types", () => {
    expect(recordColumns(btf, decode.typeId).map((c) => [c.name, c.width])).toEqual([
      ["pid", 11], // int: -2147483648
      ["ppid", 11],
      ["exit_code", 10], // unsigned: 4294967295
      ["duration_ns", 20], // unsigned long long: 18446744073709551615
      ["comm", 15], // char[16]: 15 and a NUL
      ["filename", 32], // char[127]: capped
      ["exit_event", 10], // bool, but the name is wider
    ]);
  });

  it("keep later, wider rows aligned with the header", () => {
    const lines = table([
      { pid: 1, ppid: 0, exit_code: 0, duration_ns: 0n, comm: "sh", filename: "/bin/sh", exit_event: false },
      {
        pid: -2147483648,
        ppid: 2147483647,
        exit_code: 4294967295,
        duration_ns: 2n ** 64n - 1n,
        comm: "a_fifteen_char_",
        filename: "/x",
        exit_event: true,
      },
      { pid: 123456, ppid: 1, exit_code: 3, duration_ns: 123456789n, comm: "\x1b[31mred", filename: "", exit_event: true },
    ]);
    expect(lines[0]).toBe(
      "[rb] PID         PPID        EXIT_CODE  DURATION_NS          COMM            FILENAME                         EXIT_EVENT",
    );
    const at = starts(lines[0]!);
    for (const row of lines.slice(1, 3)) {
      // Every cell of the narrow and the widest row starts where its header does.
      for (const [i, s] of at.entries()) {
        expect(row[s - 1], `${row}\ncolumn ${i}`).toBe(" ");
        expect(row[s], `${row}\ncolumn ${i}`).not.toBe(" ");
      }
    }
    expect(lines[2]).toBe(
      "[rb] -2147483648 2147483647  4294967295 18446744073709551615 a_fifteen_char_ /x                               true",
    );
    // Strings are escaped (and so may overflow their cell: the escape is wider than the byte).
    expect(lines[3]).toContain(" \\x1b[31mred ");
  });
});
