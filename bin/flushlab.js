#!/usr/bin/env node
// The CLI lives in the built library (dist/): a clone that was never built gets one line saying how, not a trace.
const fs = require("fs");
const path = require("path");
const main = path.join(__dirname, "..", "dist", "lib", "cli", "main.js");
if (!fs.existsSync(main)) {
  process.stderr.write("flushlab: not built yet (no dist/): run npm run build\n");
  process.exit(2);
}
require(main).main(process.argv.slice(2));
