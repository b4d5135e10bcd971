/**
 * --explain: the load narrated for someone learning BPF. Each kind of step
 * gets, the first time it happens, a short paragraph on why a loader does
 * it; then every occurrence is listed with what it did here.
 */
import type { StepListener } from "../object/bpf-object.js";

const WHY: Record<string, string> = {
  "load BTF":
    "BTF (BPF Type Format) describes the object's types: structs, map keys and values, functions. It is loaded into the kernel first because maps and programs refer to it by fd: the verifier uses it to check function signatures, and tools like bpftool use it to print map contents as C values.",
  BTF: "The kernel refused part of the setup; the load goes on without it.",
  "kernel BTF":
    "The object was compiled against some kernel's struct layouts. CO-RE (Compile Once, Run Everywhere) fixes that up here: the loader reads this kernel's own BTF and rewrites each field access to the offsets this kernel really uses.",
  "CO-RE":
    "Each CO-RE relocation names a field or type by its C access path; the loader looked it up in this kernel's BTF and patched the instruction with the answer.",
  "create map":
    "Maps are the kernel-side data structures programs and user space share. They must exist before the programs, because a program's instructions embed each map's fd.",
  "initialise map":
    "Global variables live in single-element ARRAY maps, one per section (.data, .rodata, .bss). Their initial values, as compiled (or as set before load), are written into the map.",
  "freeze map":
    ".rodata is frozen after its values are written: from then on not even user space can change it, so the verifier may treat its values as constants and prune code that depends on them.",
  "pin map": "A pinned map has a path in the BPF filesystem, so it outlives this process and other objects can share it.",
  "reuse pinned map": "A compatible map was already pinned under this name: it is reused, contents and all.",
  relocate:
    "Instructions that refer to maps, global variables, subprograms or kernel symbols are patched now that the targets exist: an ld_imm64 gets a map's fd, a call gets its relative offset.",
  "load program":
    "BPF_PROG_LOAD hands the instructions to the verifier, which proves the program safe (bounded loops, checked memory accesses, valid helper calls) before the kernel JIT-compiles it.",
  "program loaded": "The verifier accepted the program; the kernel returned an fd that represents it.",
  "mmap map":
    "Global-data maps are mapped into this process, so reading and writing a global variable from JavaScript touches the very memory the program sees — no syscall per access.",
  attach:
    "Loading does not run anything: attaching connects the program to an event. A tracepoint program gets a perf event for the tracepoint, and a bpf_link binds the program to it; closing the link detaches it.",
};

export function explainListener(write: (text: string) => void): StepListener {
  const seen = new Set<string>();
  let last = "";
  return (step, detail) => {
    if (!seen.has(step)) {
      seen.add(step);
      const why = WHY[step];
      write(why ? `\n== ${step} ==\n${wrap(why)}\n` : `\n== ${step} ==\n`);
    } else if (step !== last) {
      write(`-- ${step}\n`);
    }
    last = step;
    write(`  • ${detail ?? step}\n`);
  };
}

function wrap(text: string, width = 78): string {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join("\n");
}
