/** BTF: parse, query, encode, dump; .BTF.ext; the kernel's BTF. */
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
