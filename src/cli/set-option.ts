/**
 * `--set NAME=VALUE`: a global variable set before load, its value parsed
 * and checked against the variable's BTF type (src/btf/value-text.ts). A
 * value that does not fit is a usage error naming the variable, its C type
 * and what was wrong — never bytes silently written.
 */
import { cTypeName } from "../btf/type-name.js";
import { parseIntegerText, parseValueText, ValueTextError } from "../btf/value-text.js";
import type { BpfObject } from "../object/bpf-object.js";
import { variableType } from "../spec/inspect.js";
import { escapeText } from "../text/escape.js";
import { UsageError } from "./args.js";

export const SET_HELP = `  --set NAME=VALUE   set a global variable before load (repeatable), checked
                     against its C type: integers as 42, -1, 0x2a, 0o52,
                     0b101010, 1_000_000 (in range, no negative into an
                     unsigned); "self" (this process's pid); true/false for
                     _Bool; an enumerator's name or value; a string for char
                     arrays; JSON for other arrays and structs`;

/** Applies every --set; returns the names set. */
export function applySetOption(obj: BpfObject, assignments: readonly string[]): Set<string> {
  const given = new Set<string>();
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set needs NAME=VALUE, got ${escapeText(assignment)}`);
    const name = assignment.slice(0, eq);
    const text = assignment.slice(eq + 1);
    const variable = obj.spec.variables.find((v) => v.name === name);
    if (!variable) {
      const known = obj.spec.variables.map((v) => v.name).join(", ") || "none";
      throw new UsageError(
        `--set ${escapeText(name)}: ${escapeText(obj.name)} has no global variable ${escapeText(name)} (it has: ${escapeText(known)})`,
      );
    }
    const btf = obj.spec.btf?.btf;
    const typeId = variableType(btf, name);
    const typeName = btf && typeId !== undefined ? cTypeName(btf, typeId) : `${variable.size}-byte value`;
    const bad = (problem: string): UsageError =>
      new UsageError(
        `--set ${escapeText(name)}=${escapeText(text)}: ${escapeText(name)} is ${escapeText(typeName)} (${variable.section}); ${problem}`,
      );
    const value = text === "self" ? String(process.pid) : text;
    try {
      if (btf && typeId !== undefined) obj.writeVariable(name, parseValueText(btf, typeId, value));
      else obj.setVariable(name, untypedInteger(value, variable.size));
    } catch (e) {
      if (e instanceof ValueTextError) throw bad(e.message);
      throw e;
    }
    given.add(name);
  }
  return given;
}

/** Without BTF only the size is known: an integer that fits it, either signedness. */
function untypedInteger(text: string, size: number): bigint {
  const v = parseIntegerText(text);
  if (v === undefined) throw new ValueTextError(`"${text}" is not an integer (the object has no BTF for this variable)`);
  const bits = BigInt(size * 8);
  if (size > 8 || v < -(1n << (bits - 1n)) || v >= 1n << bits) throw new ValueTextError(`${text} does not fit ${size} bytes`);
  return v;
}
