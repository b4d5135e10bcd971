#!/usr/bin/env node
// The `tsbpf` bin: compiles the bundled CLI (tsbpf.cjs, one function
// expression built by scripts/bundle-cli.mjs) from the V8 code cache written
// at build time beside it, which skips parsing and compiling it again (~40 ms
// of each start). A cache V8 rejects (another Node version, other V8 flags)
// costs nothing but that time: the bundle is compiled from source as usual.
//
// Built-ins come through require(): an ES import of node:fs builds its ES
// facade, whose getters load fs's ReadStream/WriteStream, unused here.
import { createRequire } from "node:module";

const url = new URL("./tsbpf.cjs", import.meta.url);
const require = createRequire(url);
const { readFileSync, writeFileSync } = require("node:fs");
const { Script } = require("node:vm");
const file = url.pathname;
const cacheFile = `${file}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {}
// latin1: the bundle is ASCII (esbuild escapes the rest; the build checks), and latin1 is a plain
// copy where UTF-8 is decoded and validated (~1.3 ms of 650 kB).
const script = new Script(readFileSync(file, "latin1"), { filename: file, cachedData });
// For the test that the build's cache is one this Node takes (a rejected one only costs time, silently).
if (process.env.TSBPF_CODE_CACHE_REPORT === "1")
  process.stderr.write(`code cache: ${cachedData === undefined ? "none" : script.cachedDataRejected ? "rejected" : "accepted"}\n`);
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, file, file.slice(0, file.lastIndexOf("/")), url.href);
if (process.env.TSBPF_WRITE_CODE_CACHE === "1") {
  // Build time only: after the run, every function it compiled is in the cache.
  process.once("beforeExit", () => writeFileSync(cacheFile, script.createCachedData()));
}
