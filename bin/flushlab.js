#!/usr/bin/env node
// The CLI lives in the built library (`npm install` builds it; `npm run build` rebuilds it).
const path = require("path");
const fs = require("fs");
const main = path.join(__dirname, "..", "dist", "lib", "cli", "main.js");
if (!fs.existsSync(main)) {
  console.error("flushlab: the library is not built: run npm run build");
  process.exit(2);
}
require(main).main(process.argv.slice(2));
