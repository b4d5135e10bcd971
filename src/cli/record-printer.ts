/**
 * Printing decoded records for `tsbpf load`: a table (header once, one row
 * per record) or JSON lines. bigints print as decimal strings in JSON (JSON
 * has no 64-bit integers); byte arrays as hex.
 */
export type RecordFormat = "table" | "json";

function cell(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (typeof v === "object" && v !== null) return JSON.stringify(v, jsonReplacer);
  return String(v);
}

export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  return v;
}

export class RecordPrinter {
  private headerFor: string | undefined;
  private widths: number[] = [];

  constructor(
    private readonly format: RecordFormat,
    private readonly write: (s: string) => void,
  ) {}

  print(source: string, record: Record<string, unknown> | Uint8Array): void {
    if (this.format === "json") {
      const value = record instanceof Uint8Array ? { bytes: Buffer.from(record).toString("hex") } : record;
      this.write(JSON.stringify({ type: "record", map: source, ...value }, jsonReplacer) + "\n");
      return;
    }
    if (record instanceof Uint8Array) {
      this.write(`${source}: ${Buffer.from(record).toString("hex")}\n`);
      return;
    }
    const keys = Object.keys(record);
    const cells = keys.map((k) => cell(record[k]));
    const header = `${source}:${keys.join(",")}`;
    if (header !== this.headerFor) {
      this.headerFor = header;
      this.widths = keys.map((k, i) => Math.max(k.length, Math.min(cells[i]!.length, 24)));
      this.write(`[${source}] ${keys.map((k, i) => k.toUpperCase().padEnd(this.widths[i]!)).join(" ")}\n`);
    }
    this.write(`[${source}] ${cells.map((c, i) => c.padEnd(this.widths[i]!)).join(" ")}\n`);
  }
}
