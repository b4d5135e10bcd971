/**
 * Load-time values of externs, from the running kernel:
 *   .kconfig: LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE,
 *             LINUX_HAS_SYSCALL_WRAPPER (the answer ksyscall attach uses
 *             too), and CONFIG_* from /proc/config.gz
 *             (or /boot/config-$(uname -r)); absent __weak ones read as 0;
 *   .ksyms:   kfuncs and typed variables by kernel BTF id, untyped
 *             variables by address from /proc/kallsyms.
 */
import { createRequire } from "node:module";
import { release } from "node:os";
import type { Btf } from "../btf/btf.js";
import { BtfKind } from "../btf/types.js";
import { NotFoundError, TsbpfError } from "../errors.js";
import type { ExternBinding } from "../spec/bind-references.js";
import { writeLittleEndian } from "../btf/value-encoder.js";
import { pathAccessible, readHostBytes, readHostFile } from "../syscall/host-files.js";
import { runningKernelVersion } from "../syscall/kernel-version.js";
import { readKallsyms } from "../syscall/kallsyms.js";
import type { ExternSpec } from "../spec/externs.js";
import { hasSyscallWrapper } from "../programs/attach/syscall-wrapper.js";
import { essentialName } from "../core/names.js";
import { typesAreCompatible } from "../core/compat.js";

let configCache: Map<string, string> | undefined;
/** Where kernelConfig() read the config, or what it looked for when there was none (for messages). */
let configSource = "";

/** CONFIG_FOO → "y" / "m" / "250" / "\"str\"" from the kernel's config. */
export function kernelConfig(): Map<string, string> {
  if (configCache) return configCache;
  let text: string | undefined;
  // As libbpf: /proc/config.gz, else the distribution's copy (Debian's kernels have only that one).
  const boot = `/boot/config-${release()}`;
  if (pathAccessible("/proc/config.gz")) {
    // Required here, not imported: node:zlib costs ~5 ms at start-up, and few objects read CONFIG_*.
    const { gunzipSync } = createRequire(import.meta.url)("node:zlib") as typeof import("node:zlib");
    text = gunzipSync(readHostBytes("/proc/config.gz", 64 << 10)).toString("utf8");
    configSource = "/proc/config.gz";
  } else if (pathAccessible(boot)) {
    text = new TextDecoder().decode(readHostFile(boot));
    configSource = boot;
  } else configSource = `no config found: neither /proc/config.gz nor ${boot} exists`;
  const map = new Map<string, string>();
  for (const line of (text ?? "").split("\n")) {
    const m = line.match(/^(CONFIG_\w+)=(.*)$/);
    if (m) map.set(m[1]!, m[2]!);
  }
  configCache = map;
  return map;
}

/**
 * Fills the .kconfig map's initial value; `btf` is the object's (for each
 * extern's type). `warn` hears what libbpf would warn about (a string
 * truncated to its array).
 */
export function fillKconfig(
  initial: Uint8Array,
  externs: readonly ExternSpec[],
  btf: Btf,
  warn: (message: string) => void = () => {},
): void {
  const config = kernelConfig();
  for (const e of externs) {
    if (e.kind !== "kconfig") continue;
    let raw: string | undefined;
    if (e.name === "LINUX_KERNEL_VERSION") raw = String(runningKernelVersion());
    else if (e.name === "LINUX_HAS_BPF_COOKIE") raw = "1";
    else if (e.name === "LINUX_HAS_SYSCALL_WRAPPER") raw = hasSyscallWrapper() ? "1" : "0";
    else raw = config.get(e.name);
    if (raw === undefined) {
      if (e.weak) continue; // absent __weak externs read as zero
      throw new NotFoundError(
        `extern ${e.name} is not set in this kernel's config (${configSource}); declare it __weak to accept its absence`,
      );
    }
    const t = btf.type(btf.skipModifiers(e.typeId));
    if (t.kind === BtfKind.Array) {
      const m = raw.match(/^"(.*)"$/s);
      if (!m)
        throw new TsbpfError(`extern ${e.name}: the kernel's value ${JSON.stringify(raw)} is not a string, but ${e.name} is a char array`);
      let bytes = new TextEncoder().encode(m[1]);
      // As libbpf: a string longer than the array is cut to fit with its NUL, with a warning.
      if (bytes.length >= e.size) {
        warn(
          `extern ${e.name}: the kernel's value ${JSON.stringify(m[1])} (${bytes.length} bytes) does not fit char[${e.size}]; ` +
            `truncated to ${e.size - 1} bytes and a NUL, as libbpf does`,
        );
        bytes = bytes.subarray(0, e.size - 1);
      }
      initial.set(bytes, e.offset);
      initial[e.offset + bytes.length] = 0;
      continue;
    }
    let value: bigint;
    if (raw === "y") value = 1n;
    // libbpf's tristate enum: n = 0, y = 1, m = 2; a bool reads a module as true.
    else if (raw === "m") value = t.kind === BtfKind.Enum ? 2n : 1n;
    else if (raw === "n") value = 0n;
    else if (/^-?(0x[0-9a-f]+|\d+)$/i.test(raw)) value = BigInt(raw);
    else throw new TsbpfError(`extern ${e.name}: cannot read "${raw}" as a number`);
    writeLittleEndian(initial, e.offset, e.size, value);
  }
}

let kallsymsCache: Map<string, bigint> | undefined;

function kallsyms(): Map<string, bigint> {
  if (kallsymsCache) return kallsymsCache;
  const map = new Map<string, bigint>();
  for (const { name, address } of readKallsyms()) if (!map.has(name)) map.set(name, address);
  kallsymsCache = map;
  return map;
}

/**
 * How each .ksyms extern is bound, resolved against the kernel's BTF and
 * kallsyms. As libbpf does, a kfunc's `___flavour` suffix is dropped to find
 * the kernel's function, and it binds only when its local prototype is
 * CO-RE-compatible with the kernel's (a __weak one that is not reads as 0, so
 * code can declare one flavour per kernel); a typed variable's type must be
 * compatible with the kernel variable's.
 */
export function resolveKsyms(externs: readonly ExternSpec[], kernelBtf: () => Btf, localBtf: Btf | undefined): Map<string, ExternBinding> {
  const out = new Map<string, ExternBinding>();
  for (const e of externs) {
    if (e.kind === "kconfig") continue;
    if (e.kind === "ksym_func" || e.typed) {
      const isFunc = e.kind === "ksym_func";
      const missing: ExternBinding = isFunc ? { kind: "kfunc", btfId: 0 } : { kind: "btf_var", btfId: 0 };
      const btf = kernelBtf();
      const kernelName = isFunc ? essentialName(e.name) : e.name;
      const id = btf.idsByName(kernelName).find((i) => btf.kind(i) === (isFunc ? BtfKind.Func : BtfKind.Var));
      if (id === undefined) {
        if (e.weak) {
          out.set(e.name, missing);
          continue;
        }
        throw new NotFoundError(
          isFunc
            ? `kfunc ${kernelName} does not exist in this kernel (no FUNC ${kernelName} in kernel BTF)`
            : `typed ksym ${e.name} has no VAR in this kernel's BTF (per-CPU and data symbols need CONFIG_DEBUG_INFO_BTF with variables, and CONFIG_KALLSYMS_ALL)`,
        );
      }
      if (localBtf && !externTypeCompatible(e, localBtf, btf, id)) {
        if (isFunc && e.weak) {
          out.set(e.name, missing);
          continue;
        }
        throw new TsbpfError(
          `extern ${e.name}: its ${isFunc ? "prototype" : "type"} is incompatible with the kernel's ${isFunc ? "kfunc" : "variable"} ${kernelName} (BTF id ${id})`,
        );
      }
      out.set(e.name, isFunc ? { kind: "kfunc", btfId: id } : { kind: "btf_var", btfId: id });
      continue;
    }
    const addr = kallsyms().get(e.name);
    if (addr === undefined && !e.weak) {
      throw new NotFoundError(`ksym ${e.name} is not in /proc/kallsyms (data symbols are listed only with CONFIG_KALLSYMS_ALL)`);
    }
    out.set(e.name, { kind: "address", address: addr ?? 0n });
  }
  return out;
}

/** libbpf's check: the FUNC_PROTOs (kfuncs) or the variables' types (typed ksyms) are bpf_core_types_are_compat. */
function externTypeCompatible(e: ExternSpec, local: Btf, kernel: Btf, kernelId: number): boolean {
  const kernelType = kernel.type(kernelId);
  const localType = local.type(e.typeId);
  if (e.kind === "ksym_func") {
    if (localType.kind !== BtfKind.Func || kernelType.kind !== BtfKind.Func) return false;
    return typesAreCompatible(local, localType.type, kernel, kernelType.type);
  }
  if (kernelType.kind !== BtfKind.Var) return false;
  return typesAreCompatible(local, local.skipModifiers(e.typeId), kernel, kernel.skipModifiers(kernelType.type));
}
