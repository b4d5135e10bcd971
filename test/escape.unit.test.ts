/**
 * The escaping every human-readable output goes through (src/text/escape.ts):
 * strace's names and \\xNN for control bytes, printable UTF-8 kept, JSON
 * still JSON. test/terminal-escapes.test.ts runs it through every verb.
 */
import { describe, expect, it } from "vitest";
import { escapeBytes, escapeText, jsonSafe, terminalSafe } from "../src/text/escape.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("escapeText / escapeBytes / terminalSafe / jsonSafe", () => {
  it("escape control characters strace's way and keep printable UTF-8", () => {
    expect(escapeText("\x1b]0;OWNED\x07\x1b[31mx")).toBe("\\x1b]0;OWNED\\x07\\x1b[31mx");
    expect(escapeText("a\tb\nc\rd\\e\x7f")).toBe("a\\tb\\nc\\rd\\\\e\\x7f");
    expect(escapeText("café 进程 😀")).toBe("café 进程 😀");
    expect(escapeText("\u009b31m \u202eevil \ud800")).toBe("\\u{9b}31m \\u{202e}evil \\u{d800}");
    expect(escapeBytes(Buffer.from([0x63, 0xff, 0xc3, 0xa9, 0xc3, 0x41, 0x1b, 0, 0x41]), { cString: true })).toBe("c\\xffé\\xc3A\\x1b");
    expect(escapeBytes(Buffer.from([0xc2, 0x9b, 0xed, 0xa0, 0x80]))).toBe("\\u{9b}\\xed\\xa0\\x80");
  });

  it("terminalSafe keeps the layout's newlines and tabs and backslashes; jsonSafe stays JSON", () => {
    expect(terminalSafe("a\tb\n\x1b[31m\\x1b\n")).toBe("a\tb\n\\x1b[31m\\x1b\n");
    const value = { s: "\x1b\u009b\u202e\x7f", n: 1 };
    const json = jsonSafe(JSON.stringify(value));
    expect(json).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json)).toEqual(value);
  });
});
