/**
 * tsbpf's version, from the package.json two folders above dist/src/cli
 * (the same path from main.js and from the bundle.cjs bundle beside it).
 */
import { readFileSync } from "node:fs";

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}
