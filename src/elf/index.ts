/**
 * `tsbpf/elf`: the ELF64 reader, with nothing of the kernel side (no FFI,
 * no host reads), for tools that inspect objects where koffi is absent.
 */
export * from "./elf-file.js";
export { ObjectFormatError, TsbpfError } from "../errors.js";
