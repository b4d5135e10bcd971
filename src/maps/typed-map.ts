/**
 * A map whose keys and values are JS values, encoded and decoded through the
 * map's BTF key/value types (map<pid_t, u64> reads as Map<number, bigint>).
 * The raw BpfMap stays available for Buffer in, Buffer out.
 */
import type { Btf } from "../btf/btf.js";
import { TsbpfError } from "../errors.js";
import type { BpfMap } from "./bpf-map.js";
import { BPF_ANY } from "./bpf-map.js";
import { isPerCpu } from "../spec/map-spec.js";
import { possibleCpuCount } from "../syscall/cpus.js";
import { makeDecoder } from "../btf/value-decoder.js";
import { makeEncoder } from "../btf/value-encoder.js";

export class TypedMap<K = unknown, V = unknown> {
  private readonly encodeKey: (k: K) => Uint8Array;
  private readonly decodeKey: (b: Uint8Array) => K;
  private readonly encodeValue: (v: V) => Uint8Array;
  private readonly decodeValue: (b: Uint8Array) => V;

  constructor(
    readonly raw: BpfMap,
    btf: Btf,
  ) {
    const { btfKeyTypeId, btfValueTypeId, name } = raw.spec;
    if (!btfValueTypeId) throw new TsbpfError(`map ${name} has no BTF value type (declare it with __type(value, ...)); use the raw map`);
    if (isPerCpu(raw.spec.type)) {
      // One value per possible CPU, each in an 8-byte aligned slot.
      const one = makeDecoder(btf, btfValueTypeId);
      const enc = makeEncoder(btf, btfValueTypeId);
      const stride = Math.ceil(raw.spec.valueSize / 8) * 8;
      this.decodeValue = (b) =>
        Array.from({ length: possibleCpuCount() }, (_, i) => one(b.subarray(i * stride, i * stride + raw.spec.valueSize))) as V;
      this.encodeValue = (v) => {
        const values = v as unknown as unknown[];
        const out = new Uint8Array(stride * possibleCpuCount());
        values.forEach((x, i) => {
          out.set(enc(x), i * stride);
        });
        return out;
      };
    } else {
      this.decodeValue = makeDecoder(btf, btfValueTypeId) as unknown as (b: Uint8Array) => V;
      this.encodeValue = makeEncoder(btf, btfValueTypeId) as (v: V) => Uint8Array;
    }
    if (btfKeyTypeId) {
      this.decodeKey = makeDecoder(btf, btfKeyTypeId) as unknown as (b: Uint8Array) => K;
      this.encodeKey = makeEncoder(btf, btfKeyTypeId) as (k: K) => Uint8Array;
    } else {
      this.decodeKey = (b) => b as K;
      this.encodeKey = (k) => k as Uint8Array;
    }
  }

  get name(): string {
    return this.raw.name;
  }

  /** The value for `key`; `flags` BPF_F_LOCK reads it with its spin lock held. */
  lookup(key: K, flags = 0): V | undefined {
    const v = this.raw.lookup(this.encodeKey(key), flags);
    return v === undefined ? undefined : this.decodeValue(v);
  }

  /** Removes `key` and returns its value (undefined when there was none). */
  lookupAndDelete(key: K, flags = 0): V | undefined {
    const v = this.raw.lookupAndDelete(this.encodeKey(key), flags);
    return v === undefined ? undefined : this.decodeValue(v);
  }

  /** QUEUE, STACK, BLOOM_FILTER: adds a value (BPF_EXIST on a full queue or stack drops the oldest). */
  push(value: V, flags = BPF_ANY): void {
    this.raw.push(this.encodeValue(value), flags);
  }

  /** QUEUE, STACK: the next value, left in place. */
  peek(): V | undefined {
    const v = this.raw.peek();
    return v === undefined ? undefined : this.decodeValue(v);
  }

  /** QUEUE, STACK: removes and returns the next value. */
  pop(): V | undefined {
    const v = this.raw.pop();
    return v === undefined ? undefined : this.decodeValue(v);
  }

  /** BLOOM_FILTER: false when `value` was certainly never pushed. */
  contains(value: V): boolean {
    return this.raw.contains(this.encodeValue(value));
  }

  /** The key after `key` (the first without one), undefined at the end. */
  getNextKey(key?: K): K | undefined {
    const k = this.raw.getNextKey(key === undefined ? undefined : this.encodeKey(key));
    return k === undefined ? undefined : this.decodeKey(k);
  }

  /** BPF_MAP_FREEZE: user space can no longer write the map. */
  freeze(): void {
    this.raw.freeze();
  }

  update(key: K, value: V, flags = BPF_ANY): void {
    this.raw.update(this.encodeKey(key), this.encodeValue(value), flags);
  }

  delete(key: K): boolean {
    return this.raw.delete(this.encodeKey(key));
  }

  *keys(): Generator<K> {
    for (const k of this.raw.keys()) yield this.decodeKey(k);
  }

  *entries(): Generator<[K, V]> {
    for (const [k, v] of this.raw.entries()) yield [this.decodeKey(k), this.decodeValue(v)];
  }

  [Symbol.iterator](): Generator<[K, V]> {
    return this.entries();
  }
}
