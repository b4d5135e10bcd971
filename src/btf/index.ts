/**
 * `tsbpf/btf`: BTF parse, query, encode, dump (raw and C), .BTF.ext, and
 * value codecs; kernel-free (the running kernel's BTF is read by
 * `loadKernelBtf` of the main entry, or `Btf.parse` of its bytes).
 */
export * from "./types.js";
export { Btf, BTF_HEADER_SIZE, BTF_MAGIC, BTF_TYPE_SIZE, BTF_VERSION } from "./btf.js";
export type { BtfParseOptions } from "./btf.js";
export { BtfBuilder, encodeBtf } from "./encode.js";
export type { BtfTypeSpec } from "./encode.js";
export { CoreReloKind, parseBtfExt } from "./ext.js";
export type { BtfExt, CoreRelo, FuncInfo, LineInfo } from "./ext.js";
export { dumpRaw } from "./dump-raw.js";
export { dumpC, dumpCBytes } from "./dump-c/index.js";
export type { DumpCOptions } from "./dump-c/index.js";
export { makeDecoder, findType } from "./value-decoder.js";
export type { Decoder, DecoderOptions } from "./value-decoder.js";
export { makeEncoder } from "./value-encoder.js";
export type { Encoder } from "./value-encoder.js";
export { cTypeName } from "./type-name.js";
export { ObjectFormatError, NotFoundError, TsbpfError } from "../errors.js";
