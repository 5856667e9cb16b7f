#!/usr/bin/env node
// `npm install`'s prepare step: node_modules/flushlab → .. so that a notebook anywhere in the project, opened by any
// Jupyter client with a tslab kernel, resolves `flushlab` and `flushlab/display` (npm prunes links it did not make).
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(process.argv[2] || path.join(__dirname, ".."));
const link = path.join(root, "node_modules", "flushlab");
fs.mkdirSync(path.dirname(link), { recursive: true });
let current = null;
try {
  current = fs.readlinkSync(link);
} catch {
  // absent, or a real directory left by something else: replaced below
}
if (current !== "..") {
  fs.rmSync(link, { recursive: true, force: true });
  // "junction" only matters on Windows, where it needs no privilege; elsewhere a relative symlink.
  fs.symlinkSync("..", link, process.platform === "win32" ? "junction" : "dir");
}
