/**
 * Printing decoded records for `tsbpf load`: a table (a header whenever the
 * source map changes, one row per record, columns laid out from the record
 * type: record-columns.ts) or JSON lines. bigints print as decimal strings
 * in JSON (JSON has no 64-bit integers); byte arrays as hex. Strings come
 * from whoever the program watched (a comm, a file name) and are escaped;
 * char arrays are printed from their bytes, so bytes that are not UTF-8
 * show as \xNN.
 */
import { escapeBytes, escapeText } from "../text/escape.js";
import { toJson } from "./output.js";
import type { RecordColumn } from "./record-columns.js";

export type RecordFormat = "table" | "json";

function cell(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (typeof v === "string") return escapeText(v);
  if (typeof v === "object" && v !== null) return toJson(v);
  return String(v);
}

/** How one source's records are shown: the decoded value and its columns, or raw bytes. */
export interface DecodedRecord {
  /** The decoded record (a struct's members by name, or one value), or undefined to show hex bytes. */
  value: unknown;
  /** The record's bytes, as the ring gave them. */
  bytes: Uint8Array;
  /** The table's columns (from the record type), when `value` is set. */
  columns?: readonly RecordColumn[];
}

export class RecordPrinter {
  private headerFor: string | undefined;

  constructor(
    private readonly format: RecordFormat,
    private readonly write: (s: string) => void,
  ) {}

  print(source: string, record: DecodedRecord): void {
    const { value, bytes, columns } = record;
    if (this.format === "json") {
      const fields = value === undefined ? { bytes } : typeof value === "object" && value !== null ? value : { value };
      this.write(`${toJson({ type: "record", map: source, ...fields })}\n`);
      return;
    }
    const tag = `[${escapeText(source)}]`;
    if (value === undefined || !columns) {
      this.write(`${tag} ${Buffer.from(bytes).toString("hex")}\n`);
      return;
    }
    if (this.headerFor !== source) {
      this.headerFor = source;
      this.write(`${tag} ${this.row(columns, (c) => escapeText(c.name).toUpperCase())}\n`);
    }
    const fields = columns[0]?.whole ? { value } : (value as Record<string, unknown>);
    this.write(
      `${tag} ${this.row(columns, (c) => (c.chars ? escapeBytes(bytes.subarray(c.chars.offset, c.chars.offset + c.chars.size), { cString: true }) : cell(fields[c.name])))}\n`,
    );
  }

  /** Cells padded to their column's width, except the last, which has nothing after it to align. */
  private row(columns: readonly RecordColumn[], text: (c: RecordColumn) => string): string {
    return columns.map((c, i) => (i === columns.length - 1 ? text(c) : text(c).padEnd(c.width))).join(" ");
  }
}
