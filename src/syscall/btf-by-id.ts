/**
 * The raw bytes of a BTF object in the kernel, by id (what `bpftool btf dump
 * id N` reads): BPF_BTF_GET_FD_BY_ID, then BPF_OBJ_GET_INFO_BY_FD twice —
 * the first call says btf_size, the second copies that many bytes.
 */
import { BPF_BTF_INFO } from "../abi/bpf-info.js";
import { decodeStruct, encodeStruct } from "../abi/layout.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { bpf, closeFd } from "./bpf.js";
import { addressOf } from "./libc.js";
import { fdById } from "./obj-info.js";

export function btfBytesById(id: number): Uint8Array {
  const fd = fdById("btf", id);
  try {
    const info = encodeStruct(BPF_BTF_INFO, {}, addressOf, BPF_BTF_INFO.size);
    bpf(BpfCmd.OBJ_GET_INFO_BY_FD, { bpf_fd: fd, info_len: info.byteLength, info }, `reading BTF id ${id}`);
    const bytes = new Uint8Array(decodeStruct(BPF_BTF_INFO, info).btf_size);
    const again = encodeStruct(BPF_BTF_INFO, { btf: bytes, btf_size: bytes.byteLength }, addressOf, BPF_BTF_INFO.size);
    bpf(BpfCmd.OBJ_GET_INFO_BY_FD, { bpf_fd: fd, info_len: again.byteLength, info: again }, `reading BTF id ${id}`);
    return bytes;
  } finally {
    closeFd(fd);
  }
}
