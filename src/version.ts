import { readFileSync } from "node:fs";

/** The package version, read once from package.json (one level above src/ and dist/). */
export const TOLLGATE_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** The Node.js versions tollgate supports, as in package.json `engines.node`. */
export const SUPPORTED_NODE = "^22.22.2 || >=24.15.0";
