/**
 * A small argument parser: long options with values (--opt V or --opt=V),
 * repeatable options, flags and positionals. Anything unknown is a usage error.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface OptionSpec {
  /** Takes a value. */
  value?: boolean;
  /** May be given several times (values collected in order). */
  repeat?: boolean;
  /** Short alias, e.g. "-d". */
  short?: string;
  /** A flag that may also take a value, only as --name=VALUE (e.g. --trace[=FILE]). */
  optionalValue?: boolean;
}

export interface ParsedArgs {
  options: Map<string, string[]>;
  flags: Set<string>;
  positionals: string[];
}

/** Options every verb accepts: -v/--verbose (stack traces on errors, which main.ts prints). */
const COMMON: Record<string, OptionSpec> = { verbose: { short: "-v" } };

export function parseArgs(argv: string[], verbSpec: Record<string, OptionSpec>): ParsedArgs {
  const spec = { ...COMMON, ...verbSpec };
  const options = new Map<string, string[]>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  const byShort = new Map(
    Object.entries(spec)
      .filter(([, s]) => s.short)
      .map(([n, s]) => [s.short!, n]),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      const long = byShort.get(arg);
      if (!long) throw new UsageError(`unknown option ${arg}`);
      name = long;
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name}`);
    if (s.optionalValue) {
      flags.add(name);
      if (inline !== undefined) options.set(name, [inline]);
      continue;
    }
    if (!s.value) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    const list = options.get(name) ?? [];
    if (list.length && !s.repeat) throw new UsageError(`--${name} given twice`);
    list.push(value);
    options.set(name, list);
  }
  return { options, flags, positionals };
}
