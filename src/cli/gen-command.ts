/**
 * `tsbpf gen skeleton <obj> [-o file.ts] [--path] [--record NAME]...`
 */
import { writeFileSync } from "node:fs";
import { parseObject } from "../spec/object-spec.js";
import { generateSkeleton } from "../object/skeleton-gen.js";
import { parseArgs, UsageError } from "./args.js";
import { readInputFile } from "./input-file.js";
import { print } from "./output.js";

export const GEN_HELP = `usage: tsbpf gen skeleton <obj.bpf.o> [-o FILE.ts] [--path] [--record NAME]... [--import FROM]

Writes a TypeScript module with a typed skeleton of the object: maps with
key/value types, programs, .rodata/.data/.bss globals (rodata settable before
load), and interfaces + decoders for record structs (default: struct event).

  -o, --output FILE   write there instead of stdout
  --path              reference the object by its path instead of embedding it
  --record NAME       generate an interface and decoder for struct NAME
  --import FROM       module to import tsbpf from (default "tsbpf")
`;

export async function genCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "skeleton") throw new UsageError(`gen: unknown subcommand ${sub ?? "(none)"}; try "tsbpf gen skeleton <obj>"`);
  const args = parseArgs(rest, {
    output: { value: true, short: "-o" },
    path: {},
    record: { value: true, repeat: true },
    import: { value: true },
  });
  const path = args.positionals[0];
  if (!path) throw new UsageError("gen skeleton needs an object file");
  const bytes = readInputFile(path);
  const spec = parseObject(bytes, { path });
  const records = args.options.get("record");
  const text = generateSkeleton(spec, {
    ...(args.flags.has("path") ? { path } : { bytes }),
    ...(records ? { recordTypes: records } : {}),
    ...(args.options.get("import") ? { importFrom: args.options.get("import")![0]! } : {}),
  });
  const out = args.options.get("output")?.[0];
  if (out) writeFileSync(out, text);
  else print(text);
  return 0;
}
