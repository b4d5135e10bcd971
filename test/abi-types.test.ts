/**
 * The kernel ABI is typed: `npm run typecheck` compiles this file, and every
 * `@ts-expect-error` below must meet a real error, or the check fails
 * ("Unused '@ts-expect-error' directive"). So a misspelt attribute, a field of
 * another command, a value of the wrong type or a flattened union member does
 * not compile. At run time (on a fake kernel) the calls show what the types
 * prevent: the misspelt `max_entires` would have sent max_entries = 0.
 */
import { describe, expect, it } from "vitest";
import { BPF_PROG_INFO } from "../src/abi/bpf-info.js";
import { encodeStruct } from "../src/abi/layout.js";
import { BpfCmd, BpfMapType } from "../src/abi/uapi-enums.js";
import { bpf, readAttrU32, tryBpf } from "../src/syscall/bpf.js";
import { FakeKernel } from "../src/syscall/fake-kernel.js";
import { withKernelBackend } from "../src/syscall/kernel.js";
import { encodePerfEventAttr } from "../src/syscall/perf.js";
import { isBpfCmd } from "../src/syscall/requests.js";

const noAddress = () => 0n;

describe("typed kernel ABI", () => {
  it("bpf(cmd, attr) accepts only the fields of cmd's attributes, with their types", async () => {
    const fake = new FakeKernel();
    await withKernelBackend(fake, () => {
      bpf(BpfCmd.MAP_CREATE, { map_type: BpfMapType.ARRAY, key_size: 4, value_size: 4, max_entries: 1, map_name: "ok" });
      // @ts-expect-error max_entires is not a field of BPF_MAP_CREATE's attributes
      bpf(BpfCmd.MAP_CREATE, { map_type: BpfMapType.ARRAY, key_size: 4, value_size: 4, max_entires: 1 });
      // @ts-expect-error prog_type belongs to BPF_PROG_LOAD
      bpf(BpfCmd.MAP_CREATE, { prog_type: 1 });
      // @ts-expect-error map_name is a char array: a string (at run time, a TypeError)
      expect(() => bpf(BpfCmd.MAP_CREATE, { map_name: 5 })).toThrow(TypeError);
      // @ts-expect-error bpf_cookie is in link_create's perf_event member
      bpf(BpfCmd.LINK_CREATE, { prog_fd: 3, bpf_cookie: 1n });
      bpf(BpfCmd.LINK_CREATE, { prog_fd: 3, perf_event: { bpf_cookie: 1n } });
      const next = tryBpf(BpfCmd.PROG_GET_NEXT_ID, { start_id: 0 });
      expect(readAttrU32(next.req, "next_id")).toBe(0);
      // @ts-expect-error BPF_PROG_GET_NEXT_ID has no field next_idd
      expect(() => readAttrU32(next.req, "next_idd")).toThrow(/no field next_idd/);
    });
    const creates = fake.calls.filter((c) => isBpfCmd(c, BpfCmd.MAP_CREATE));
    const maxEntries = (a: Uint8Array) => new DataView(a.buffer, a.byteOffset).getUint32(12, true);
    expect(creates.map((c) => maxEntries(c.attr))).toEqual([1, 0, 0]);
    const links = fake.calls.filter((c) => isBpfCmd(c, BpfCmd.LINK_CREATE));
    expect(links.map((c) => new DataView(c.attr.buffer).getBigUint64(16, true))).toEqual([0n, 1n]);
  });

  it("perf_event_attr and the info structs are typed the same way", () => {
    const attr = encodePerfEventAttr({ type: 1, sample_freq: 99, freq: true, disabled: 1 });
    expect(new DataView(attr.buffer).getBigUint64(40, true)).toBe((1n << 10n) | 1n);
    // @ts-expect-error the C field is sample_period
    encodePerfEventAttr({ type: 1, samplePeriod: 1 });
    expect(encodeStruct(BPF_PROG_INFO, { xlated_prog_len: 8 }, noAddress).byteLength).toBe(BPF_PROG_INFO.size);
    // @ts-expect-error bpf_prog_info has xlated_prog_len, not xlated_len
    encodeStruct(BPF_PROG_INFO, { xlated_len: 8 }, noAddress);
  });
});
