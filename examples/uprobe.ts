/**
 * A uprobe attached by symbol name: count the calls of FUNCTION in BINARY
 * (an executable or a shared library, found on PATH or by soname) made by
 * COMMAND, and sum their first argument.
 *
 *   node dist/examples/uprobe.js BINARY FUNCTION COMMAND [ARGS...]     (as root)
 *   node dist/examples/uprobe.js libc.so.6 getenv sh -c 'echo $HOME'
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BpfObject } from "../src/index.js";

const [binary, func, command, ...args] = process.argv.slice(2);
if (!binary || !func || !command) {
  process.stderr.write("usage: uprobe BINARY FUNCTION COMMAND [ARGS...]\n");
  process.exit(2);
}

interface Calls {
  count: bigint;
  arg_sum: bigint;
}

const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/uprobe_count.bpf.o")));
try {
  obj.load();
  // SEC("uprobe") names no target: the options do. The symbol is resolved in the binary's ELF tables.
  const link = obj.program("count_call").attach({ binary, func });
  console.log(`probing ${link.target}`);
  const child = spawn(command, args, { stdio: "inherit" });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const calls = obj.typedMap<number, Calls>("calls_by_pid").lookup(child.pid!);
  console.log(`${func}: ${calls?.count ?? 0n} calls, argument sum ${calls?.arg_sum ?? 0n} (pid ${child.pid}, exit ${code})`);
} finally {
  obj.destroy();
}
