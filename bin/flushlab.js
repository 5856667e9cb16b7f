#!/usr/bin/env node
// The CLI lives in the built library: run `npm run build` (or `npm install`) first.
require("../dist/lib/cli/main.js").main(process.argv.slice(2));
