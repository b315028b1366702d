#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm run build`.
"use strict";

const compiledMain = "../dist/src/cli/main.js";

function isBuilt() {
  try {
    require.resolve(compiledMain);
    return true;
  } catch {
    return false;
  }
}

if (!isBuilt()) {
  process.stderr.write("cmk-monitor is not built yet: run `npm run build` (or `npm ci`, which builds) first.\n");
  process.exitCode = 1;
} else {
  require(compiledMain)
    .main(process.argv.slice(2))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error) => {
        process.stderr.write(`cmk-monitor: ${error && error.stack ? error.stack : String(error)}\n`);
        process.exitCode = 1;
      },
    );
}
