// Runs a bundle built by scripts/bundle-cli.mjs or scripts/bundle-lib.mjs (one
// function expression taking CommonJS's arguments) compiled from the V8 code
// cache written beside it at build time: parsing and compiling ~600 kB of
// JavaScript, and compiling again each function a load runs, is most of a
// cold start. A cache V8 rejects (another Node version, other V8 flags) costs
// nothing but that time: the bundle is compiled from source as usual. Node 20
// has no code cache for ES modules, hence classic scripts. Copied beside each
// bundle by the build.
"use strict";
const { closeSync, fstatSync, openSync, readSync, writeFileSync } = require("node:fs");
const { pathToFileURL } = require("node:url");
const { Script } = require("node:vm");

function openOrUndefined(path) {
  try {
    return openSync(path, "r");
  } catch {
    return undefined;
  }
}

/** Compiles `file` (from `file`.cache when there is one), runs it with `require`, returns its exports. */
function runCachedBundle(file, require) {
  const cacheFile = `${file}.cache`;
  // Both files pass through one buffer: the bundle is copied out of it into a string, then the
  // cache is read over it (V8 needs the cache only while compiling). Every fresh page a process
  // touches costs ~11 µs on the VMs this runs on (a fault, then the first access itself):
  // reading the cache into a buffer of its own was ~160 more of them.
  const sourceFd = openSync(file, "r");
  const cacheFd = openOrUndefined(cacheFile);
  const sourceSize = fstatSync(sourceFd).size;
  const cacheSize = cacheFd === undefined ? 0 : fstatSync(cacheFd).size;
  const buffer = Buffer.allocUnsafeSlow(Math.max(sourceSize, cacheSize));
  // The whole file into `buffer`; its length (a short file reads short, not wrong).
  const readInto = (fd, size) => {
    let got = 0;
    for (let n; got < size && (n = readSync(fd, buffer, got, size - got, got)) > 0; ) got += n;
    closeSync(fd);
    return got;
  };
  // latin1: the bundle is ASCII (esbuild escapes the rest; the build checks), and latin1 is a
  // plain copy where UTF-8 is decoded and validated (~1.3 ms of 650 kB).
  const source = buffer.latin1Slice(0, readInto(sourceFd, sourceSize));
  const cachedData = cacheFd === undefined ? undefined : buffer.subarray(0, readInto(cacheFd, cacheSize));
  const script = new Script(source, { filename: file, cachedData });
  // For the tests that the build's cache is one this Node takes (a rejected one only costs time, silently).
  if (process.env.TSBPF_CODE_CACHE_REPORT === "1") {
    process.stderr.write(`code cache: ${cachedData === undefined ? "none" : script.cachedDataRejected ? "rejected" : "accepted"}\n`);
  }
  const mod = { exports: {} };
  const dir = file.slice(0, file.lastIndexOf("/"));
  script.runInThisContext()(mod.exports, require, mod, file, dir, pathToFileURL(file).href);
  if (process.env.TSBPF_WRITE_CODE_CACHE === "1") {
    // Build time only: after the run, every function it compiled is in the cache.
    process.once("beforeExit", () => writeFileSync(cacheFile, script.createCachedData()));
  }
  return mod.exports;
}

module.exports = { runCachedBundle };
