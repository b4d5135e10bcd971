/**
 * An object's USDT state, as libbpf keeps it per object: the two maps that
 * <bpf/usdt.bpf.h> declares in the object — `__bpf_usdt_specs` (spec id →
 * struct __bpf_usdt_spec) and `__bpf_usdt_ip_to_spec_id` (probe address →
 * spec id, used only where the kernel has no BPF cookies) — and the spec
 * ids in use. Ids are small integers (array map keys); a detached USDT
 * attachment gives its ids back for the next one.
 */
import type { Btf } from "../../btf/btf.js";
import { TsbpfError } from "../../errors.js";
import { BPF_NOEXIST, type BpfMap } from "../../maps/bpf-map.js";
import { EEXIST } from "../../syscall/errno.js";
import { SyscallError } from "../../syscall/syscall-error.js";
import { UsdtSpecEncoder } from "./usdt-spec.js";

export const USDT_SPECS_MAP = "__bpf_usdt_specs";
const USDT_IP_MAP = "__bpf_usdt_ip_to_spec_id";

export class UsdtManager {
  private nextId = 0;
  private readonly freeIds: number[] = [];
  readonly encoder: UsdtSpecEncoder;

  constructor(
    private readonly specs: BpfMap,
    private readonly ipToSpecId: BpfMap,
    btf: Btf,
    /**
     * Whether the BPF side reads the spec id from the BPF cookie
     * (LINUX_HAS_BPF_COOKIE as the object was given it); if not, from the
     * address map.
     */
    readonly cookies: boolean,
  ) {
    this.encoder = new UsdtSpecEncoder(btf, specs.spec.btfValueTypeId);
  }

  /** The manager for an object that has usdt.bpf.h's maps, or undefined. */
  static forObject(map: (name: string) => BpfMap | undefined, btf: Btf | undefined, cookies: boolean): UsdtManager | undefined {
    const specs = map(USDT_SPECS_MAP);
    const ips = map(USDT_IP_MAP);
    if (!specs || !ips || !btf || !specs.spec.btfValueTypeId) return undefined;
    return new UsdtManager(specs, ips, btf, cookies);
  }

  /** A free spec id: a returned one first, else the next unused (up to the specs map's size). */
  allocate(): number {
    const reused = this.freeIds.pop();
    if (reused !== undefined) return reused;
    if (this.nextId >= this.specs.spec.maxEntries) {
      throw new TsbpfError(
        `all ${this.specs.spec.maxEntries} USDT spec slots of ${USDT_SPECS_MAP} are in use ` +
          "(define BPF_USDT_MAX_SPEC_CNT larger before including usdt.bpf.h)",
      );
    }
    return this.nextId++;
  }

  release(ids: Iterable<number>): void {
    this.freeIds.push(...ids);
  }

  writeSpec(id: number, spec: Uint8Array): void {
    this.specs.update(u32(id), spec);
  }

  /** Without BPF cookies: the probe at `address` uses spec `id`. Two attachments cannot share an address. */
  mapAddress(address: number, id: number, probe: string): void {
    try {
      this.ipToSpecId.update(u64(address), u32(id), BPF_NOEXIST);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === EEXIST) {
        throw new TsbpfError(`USDT probe ${probe}: address 0x${address.toString(16)} is already attached by this object`);
      }
      throw e;
    }
  }

  unmapAddress(address: number): void {
    this.ipToSpecId.delete(u64(address));
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}
