/**
 * The least work any `tollgate sbom` that meets issue 3's requirements must do on an npm lockfile,
 * with nothing of tollgate's own: Node starts, reads and JSON.parse-s the lockfile, makes every entry's
 * purl with packageurl-js and builds and serializes the CycloneDX document with
 * @cyclonedx/cyclonedx-library (components with purl and hash, one dependency list each), both
 * libraries being what the issue asks for. No line numbers, scopes, graph resolution, licenses,
 * CLI or config. Run by bench/sbom/bench.ts as `node library-floor.ts <package-lock.json>`; prints
 * the milliseconds of each step as JSON.
 */
import { readFileSync } from "node:fs";
import { createRequire, enableCompileCache } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as EnumsModule from "@cyclonedx/cyclonedx-library/Enums";
import type * as ModelsModule from "@cyclonedx/cyclonedx-library/Models";
import type * as SerializeModule from "@cyclonedx/cyclonedx-library/Serialize";
import type * as SpecModule from "@cyclonedx/cyclonedx-library/Spec";
import type * as PurlModule from "packageurl-js";

// As bin/tollgate.cjs does: the libraries' compiled code comes from Node's compile cache after the first run.
enableCompileCache(join(dirname(fileURLToPath(import.meta.url)), "..", ".work", "compile-cache"));
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "package.json"));
const t0 = performance.now();
const lock = JSON.parse(readFileSync(process.argv[2] as string, "utf8")) as { packages: Record<string, { name?: string; version?: string; integrity?: string; dependencies?: Record<string, string> }> };
const t1 = performance.now();
const { PackageURL } = require("packageurl-js") as typeof PurlModule;
const t2 = performance.now();
const entries: { name: string; version: string | undefined; purl: string; integrity: string | undefined; deps: string[] }[] = [];
for (const [path, e] of Object.entries(lock.packages)) {
  if (path === "") continue;
  const name = e.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
  const slash = name.startsWith("@") ? name.indexOf("/") : -1;
  const purl = new PackageURL("npm", slash > 0 ? name.slice(0, slash) : undefined, slash > 0 ? name.slice(slash + 1) : name, e.version, undefined, undefined).toString();
  entries.push({ name, version: e.version, purl, integrity: e.integrity, deps: Object.keys(e.dependencies ?? {}) });
}
const t3 = performance.now();
const Models = require("@cyclonedx/cyclonedx-library/Models") as typeof ModelsModule;
const Enums = require("@cyclonedx/cyclonedx-library/Enums") as typeof EnumsModule;
const Serialize = require("@cyclonedx/cyclonedx-library/Serialize") as typeof SerializeModule;
const Spec = require("@cyclonedx/cyclonedx-library/Spec") as typeof SpecModule;
const t4 = performance.now();
const bom = new Models.Bom();
const byName = new Map<string, ModelsModule.Component>();
for (const e of entries) {
  if (byName.has(`${e.name}@${e.version}`)) continue;
  const c = new Models.Component(Enums.ComponentType.Library, e.name, { bomRef: e.purl });
  if (e.version !== undefined) c.version = e.version;
  c.purl = e.purl;
  if (e.integrity?.startsWith("sha512-")) c.hashes.set(Enums.HashAlgorithm["SHA-512"], Buffer.from(e.integrity.slice(7), "base64").toString("hex"));
  bom.components.add(c);
  byName.set(e.name, c);
  byName.set(`${e.name}@${e.version}`, c);
}
for (const e of entries) {
  const c = byName.get(`${e.name}@${e.version}`);
  for (const d of e.deps) {
    const target = byName.get(d);
    if (c && target) c.dependencies.add(target.bomRef);
  }
}
const json = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6)).serialize(bom, { sortLists: false, space: 2 });
const t5 = performance.now();
console.log(JSON.stringify({ parse: t1 - t0, loadPurl: t2 - t1, purls: t3 - t2, loadCycloneDx: t4 - t3, buildAndSerialize: t5 - t4, components: bom.components.size, bytes: json.length }));
