/**
 * A BPF iterator: the kernel runs the program once per task and the text it
 * prints (BPF_SEQ_PRINTF) is read back like a file — here, a process list.
 *
 *   node dist/examples/iterator.js        (as root)
 */
import { fileURLToPath } from "node:url";
import { BpfObject, type IterLink } from "../src/index.js";

const obj = BpfObject.open(fileURLToPath(import.meta.resolve("tsbpf/bpf/tasks_iter.bpf.o")));
try {
  obj.load();
  // Attaching an iter/ program gives an IterLink; each read runs the iterator anew.
  const iter = obj.program("list_tasks").attach() as IterLink;
  console.log("PID PPID COMM");
  process.stdout.write(iter.readText());
} finally {
  obj.destroy();
}
