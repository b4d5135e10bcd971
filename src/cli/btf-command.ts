/**
 * `tsbpf btf dump <file|obj.bpf.o> [--format raw|c]`: bpftool's
 * `btf dump file X format raw|c`. A file is raw BTF (/sys/kernel/btf/vmlinux)
 * or a BPF ELF object, whose .BTF section is dumped. The output is built in
 * memory and written with one write, as a ~3 MB vmlinux.h should be.
 */
import { Buffer } from "node:buffer";
import { basename, dirname } from "node:path";
import { Btf } from "../btf/btf.js";
import { dumpCBytes } from "../btf/dump-c/index.js";
import { dumpRaw } from "../btf/dump-raw.js";
import { KERNEL_BTF_PATH, loadKernelBtf } from "../object/kernel-btf.js";
import { ElfFile } from "../elf/elf-file.js";
import { NotFoundError } from "../errors.js";
import { parseArgs, UsageError } from "./args.js";
import { readInputFile } from "./input-file.js";
import { print, printBytes } from "./output.js";

export const BTF_HELP = `usage: tsbpf btf dump <file|obj.bpf.o> [options]

Prints the BTF of a raw BTF file (such as ${KERNEL_BTF_PATH}) or of a BPF
object's .BTF section, like "bpftool btf dump file X format raw|c".

options:
  --format raw|c     raw: one line per type, as bpftool prints it (default)
                     c:   a compilable C header, the vmlinux.h of CO-RE programs
  --base FILE        base BTF for split BTF; kernel module BTF under
                     /sys/kernel/btf/ uses ${KERNEL_BTF_PATH} without it
  --no-enum-modes    with --format c, leave out mode(byte)/mode(word) on 1- and
                     8-byte enums, reproducing Debian 12's bpftool 7.1 exactly
                     (its headers give such enums, and structs holding them,
                     the wrong size)
  -h, --help         this text

bpftool's own spelling also works: tsbpf btf dump file <FILE> format c
`;

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

export async function btfCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) throw new UsageError("btf needs a subcommand: dump");
  if (sub !== "dump") throw new UsageError(`unknown btf subcommand "${sub}" (known: dump)`);
  const args = parseArgs(rest, {
    format: { value: true },
    base: { value: true },
    "no-enum-modes": {},
    help: { short: "-h" },
  });
  if (args.flags.has("help")) {
    print(BTF_HELP);
    return 0;
  }
  const pos = [...args.positionals];
  // bpftool's form: `dump file PATH [format raw|c]`.
  if (pos[0] === "file" && pos.length >= 2) pos.shift();
  const path = pos.shift();
  if (path === undefined) throw new UsageError("btf dump needs a file: raw BTF or a BPF object");
  let format = args.options.get("format")?.[0];
  if (pos[0] === "format" && pos.length === 2) {
    if (format !== undefined) throw new UsageError("format given twice");
    format = pos[1];
    pos.length = 0;
  }
  if (pos.length) throw new UsageError(`unexpected argument ${pos[0]}`);
  format ??= "raw";
  if (format !== "raw" && format !== "c") throw new UsageError(`--format must be raw or c, got ${format}`);
  if (args.flags.has("no-enum-modes") && format !== "c") throw new UsageError("--no-enum-modes applies to --format c only");

  const btf = readBtf(path, args.options.get("base")?.[0]);
  const out = format === "c" ? dumpCBytes(btf, { enumModes: !args.flags.has("no-enum-modes") }) : Buffer.from(dumpRaw(btf), "utf8");
  await printBytes(out);
  return 0;
}

/** Raw BTF or an ELF object's .BTF, split against `basePath` (or vmlinux, for module BTF in sysfs). */
function readBtf(path: string, basePath: string | undefined): Btf {
  const bytes = new Uint8Array(readInputFile(path));
  if (ELF_MAGIC.every((b, i) => bytes[i] === b)) {
    const section = new ElfFile(bytes).section(".BTF");
    if (!section) throw new NotFoundError(`${path} has no .BTF section`);
    const base = basePath === undefined ? undefined : Btf.parse(readInputFile(basePath), { where: basePath });
    return Btf.parse(section.data, { where: `${path} section .BTF`, ...(base ? { base } : {}) });
  }
  let base: Btf | undefined;
  if (basePath !== undefined) base = Btf.parse(readInputFile(basePath), { where: basePath });
  else if (dirname(path) === dirname(KERNEL_BTF_PATH) && basename(path) !== basename(KERNEL_BTF_PATH)) base = loadKernelBtf();
  return Btf.parse(bytes, { where: path, ...(base ? { base } : {}) });
}
