/**
 * Every error class carries errno and code, as SyscallError does: the ones
 * a syscall caused carry its errno, the others their class's (ENOENT for
 * NotFoundError, ENOEXEC for a malformed object, EOPNOTSUPP, EINVAL).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  BpfMap,
  BpfObject,
  BtfLoadError,
  ElfFile,
  NotFoundError,
  ObjectFormatError,
  RelocationError,
  StateError,
  SyscallError,
  TsbpfError,
  UnsupportedError,
  VerifierError,
  parseObject,
} from "tsbpf";
import { describeError, report, thrown } from "./report.js";

const path = (name: string) => fileURLToPath(import.meta.resolve(`tsbpf/bpf/${name}`));
const classes = {
  BtfLoadError,
  NotFoundError,
  ObjectFormatError,
  RelocationError,
  StateError,
  SyscallError,
  UnsupportedError,
  VerifierError,
};
const instanceOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    return [
      ...(e instanceof TsbpfError ? ["TsbpfError"] : []),
      ...Object.entries(classes)
        .filter(([, c]) => e instanceof c)
        .map(([n]) => n),
    ];
  }
  return [];
};

/** A call to a subprogram retargeted into the middle of a function: a relocation that cannot be done. */
function badCall(): Uint8Array {
  const bytes = new Uint8Array(readFileSync(path("globals.bpf.o")));
  const elf = new ElfFile(bytes);
  for (const s of elf.sections) {
    if (!(s.flags & 0x4n)) continue; // SHF_EXECINSTR
    for (let at = 0; at + 8 <= s.size; at += 8) {
      const o = s.offset + at;
      if (bytes[o] === 0x85 && (bytes[o + 1]! & 0xf0) === 0x10) {
        const v = new DataView(bytes.buffer, o + 4, 4);
        v.setInt32(0, v.getInt32(0, true) + 1, true);
        try {
          parseObject(bytes);
        } catch (e) {
          if (e instanceof RelocationError) return bytes;
        }
        v.setInt32(0, v.getInt32(0, true) - 1, true);
      }
    }
  }
  throw new Error("no call to retarget");
}

const loaded = BpfObject.open(path("minimal.bpf.o"));
const cases = {
  notFound: () => loaded.variableSpec("no_such_variable"),
  state: () => {
    const o = BpfObject.open(path("minimal.bpf.o"));
    o.load();
    try {
      o.load();
    } finally {
      o.destroy();
    }
  },
  format: () => parseObject(new Uint8Array(16)),
  relocation: () => parseObject(badCall()),
  unsupported: () => {
    const o = BpfObject.open(path("tc.bpf.o"));
    o.load();
    try {
      o.program("tc_ingress").attach({ interface: "lo", direction: "sideways" as "ingress" });
    } finally {
      o.destroy();
    }
  },
  syscall: () => BpfMap.fromId(0x7fffffff),
  verifier: () => BpfObject.open(path("reject.bpf.o")).load(),
  missingInterface: () => {
    const o = BpfObject.open(path("attach.bpf.o"));
    for (const p of o.spec.programs) o.setAutoload(p.name, p.name === "on_xdp");
    o.load();
    try {
      o.program("on_xdp").attach({ interface: "no-such-if0" });
    } finally {
      o.destroy();
    }
  },
};
const results: Record<string, unknown> = {};
for (const [name, fn] of Object.entries(cases)) results[name] = { ...thrown(fn), classes: instanceOf(fn) };
let verifierCause: unknown;
try {
  BpfObject.open(path("reject.bpf.o")).load();
} catch (e) {
  verifierCause = describeError((e as VerifierError).cause);
}
report({ results, verifierCause });
