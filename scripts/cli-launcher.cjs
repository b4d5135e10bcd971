#!/usr/bin/env node
// The `tsbpf` bin: runs the bundled CLI (bundle.cjs, built by
// scripts/bundle-cli.mjs) compiled from its code cache (cached-bundle.cjs).
//
// CommonJS, not an ES module: Node then starts without its ES module loader
// (~7 ms and ~75 page faults of each start), and nothing here imports one.
"use strict";
require("./cached-bundle.cjs").runCachedBundle(`${__dirname}/bundle.cjs`, require);
