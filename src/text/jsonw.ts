/**
 * bpftool's JSON writer (tools/bpf/bpftool/json_writer.c), reproduced so
 * that tsbpf's map dumps equal bpftool's byte for byte. Its pretty mode is
 * not JSON.stringify's: a value that opens an array or object stays on the
 * line of its `[`/`{` or name, only names start new lines (indented four
 * spaces per depth), and a closing bracket goes on its own line only when
 * its container is not empty: `[{` … `},{` … `}\n]`, `[0,0,0\n]`.
 */
export class JsonWriter {
  private out = "";
  private depth = 0;
  /** No element written yet at this depth (so no comma before the next). */
  private first = true;

  constructor(private readonly pretty: boolean) {}

  /** What was written so far. */
  text(): string {
    return this.out;
  }

  startObject(): void {
    this.begin("{");
  }

  endObject(): void {
    this.end("}");
  }

  startArray(): void {
    this.begin("[");
  }

  endArray(): void {
    this.end("]");
  }

  name(name: string): void {
    this.separate();
    this.newline();
    this.first = true;
    this.out += `${quote(name)}:${this.pretty ? " " : ""}`;
  }

  /** A value already in JSON syntax: a number, true/false/null, or a quoted string. */
  raw(literal: string): void {
    this.separate();
    this.out += literal;
  }

  string(value: string): void {
    this.raw(quote(value));
  }

  private begin(c: string): void {
    this.separate();
    this.out += c;
    this.depth++;
    this.first = true;
  }

  private end(c: string): void {
    this.depth--;
    if (!this.first) this.newline();
    this.first = false;
    this.out += c;
  }

  private separate(): void {
    if (!this.first) this.out += ",";
    this.first = false;
  }

  private newline(): void {
    if (this.pretty) this.out += `\n${"    ".repeat(this.depth)}`;
  }
}

/** jsonw_puts: `"`, `\\`, and \b \f \n \r \t escaped by name; other bytes as they are (bpftool does not \u-escape). */
function quote(s: string): string {
  let q = '"';
  for (const ch of s) {
    switch (ch) {
      case '"':
        q += '\\"';
        break;
      case "\\":
        q += "\\\\";
        break;
      case "\b":
        q += "\\b";
        break;
      case "\f":
        q += "\\f";
        break;
      case "\n":
        q += "\\n";
        break;
      case "\r":
        q += "\\r";
        break;
      case "\t":
        q += "\\t";
        break;
      default:
        // Other control bytes would make the output invalid JSON; bpftool lets them through, tsbpf does not.
        q += ch < " " ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}` : ch;
    }
  }
  return `${q}"`;
}
