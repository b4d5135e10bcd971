/**
 * BTF as a compilable C header (`bpftool btf dump format c`). The
 * implementation lives in ./dump-c/, one pass or concern per file; this
 * re-export keeps existing imports of "./dump-c.js" working.
 */
export * from "./dump-c/index.js";
