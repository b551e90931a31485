/**
 * `pnpm-lock.yaml`, lockfileVersion 6.x and 9.x (https://github.com/pnpm/spec/tree/master/lockfile).
 * `packages` holds one entry per name@version (v6 keys start with "/"); v9 moves the dependency
 * edges to `snapshots`, keyed with the peer suffix ("react-dom@18.2.0(react@18.2.0)"). Importers are
 * the workspace projects; `link:` versions point at other importers; `catalog:` specifiers arrive
 * already resolved in `version`.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component } from "../../model/index.ts";
import { parseLockYaml } from "./lock-yaml.ts";
import { assignScopes, ComponentSet, hashesFromIntegrity, makeComponent, npmPurl } from "../common/component.ts";
import { companionJson } from "./manifest.ts";
import { decodeUtf8, isObject, str } from "../common/text.ts";

const NAME = "pnpm-lock";

/** "/@scope/name@1.0.0(peer@1)" → "@scope/name@1.0.0". */
function baseKey(key: string): string {
  let k = key.startsWith("/") ? key.slice(1) : key;
  const at = k.indexOf("@", 1);
  const paren = k.indexOf("(", at === -1 ? 0 : at);
  if (paren !== -1) k = k.slice(0, paren);
  return k;
}

function splitNameVersion(key: string): [string, string] {
  const at = key.indexOf("@", 1);
  return at === -1 ? [key, ""] : [key.slice(0, at), key.slice(at + 1)];
}

function joinPath(base: string, rel: string): string {
  const parts = base === "." ? [] : base.split("/");
  for (const p of rel.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return parts.length === 0 ? "." : parts.join("/");
}

/** Lines of the two-space keys under `packages:` (and `snapshots:` when absent there). */
function keyLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split("\n");
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (/^\S/.test(l)) {
      section = l.replace(/:.*$/, "");
      continue;
    }
    if (section !== "packages" && section !== "snapshots") continue;
    const m = /^ {2}(?! )'?([^']+?)'?:(\s|$)/.exec(l);
    if (m) {
      const k = baseKey(m[1] as string);
      if (!out.has(k)) out.set(k, i + 1);
    }
  }
  return out;
}

/** package.json of an importer (workspace project), by importer path, when readable. */
export type ImporterManifests = (importer: string) => Promise<Record<string, unknown> | undefined>;

export async function parsePnpmLock(text: string, file: string, manifest?: Record<string, unknown>, importerManifest?: ImporterManifests): Promise<CatalogResult> {
  // The fast reader first; the full yaml library (alias limits, error positions) for anything else.
  let doc: unknown = parseLockYaml(text);
  if (doc === undefined) {
    const { parse } = await import("yaml");
    try {
      doc = parse(text, { maxAliasCount: 100, uniqueKeys: false });
    } catch (e) {
      const pos = (e as { linePos?: { line: number; col: number }[] }).linePos?.[0];
      throw new InputError(`malformed YAML: ${(e as Error).message.split("\n")[0] ?? ""}`, { file, ...(pos ? { line: pos.line, column: pos.col } : {}) });
    }
  }
  if (!isObject(doc)) throw new InputError("not a pnpm lockfile (expected a mapping)", { file, line: 1 });
  const lockVersion = String(doc.lockfileVersion ?? "");
  if (!/^[5-9]/.test(lockVersion)) throw new InputError(`lockfileVersion ${lockVersion || "(missing)"} is not supported (5.4, 6.x, 9.x)`, { file, line: 1 });
  const lines = keyLines(text);
  const packages = isObject(doc.packages) ? doc.packages : {};
  const snapshots = isObject(doc.snapshots) ? doc.snapshots : undefined;
  const importers: Record<string, unknown> = isObject(doc.importers) ? doc.importers : { ".": { dependencies: doc.dependencies, devDependencies: doc.devDependencies, optionalDependencies: doc.optionalDependencies } };
  // The package.json files of importers and of file: folders, read all at once (a monorepo has
  // hundreds; one at a time, the walk would mostly wait).
  const manifests = new Map<string, Record<string, unknown> | undefined>();
  if (importerManifest) {
    const folders = new Set(Object.keys(importers).filter((p) => p !== "."));
    for (const raw of Object.values(packages)) {
      const resolution = isObject(raw) && isObject(raw.resolution) ? raw.resolution : undefined;
      if (typeof resolution?.directory === "string") folders.add(resolution.directory);
    }
    await Promise.all([...folders].map(async (f) => manifests.set(f, await importerManifest(f))));
  }
  const set = new ComponentSet();
  const keyToRef = new Map<string, string>();
  const devOnly = new Set<string>();
  for (const [key, raw] of Object.entries(packages)) {
    const k = baseKey(key);
    const [name, version] = splitNameVersion(k);
    const info = isObject(raw) ? raw : {};
    const resolution = isObject(info.resolution) ? info.resolution : {};
    const realName = str(info.name) ?? name;
    let realVersion: string | undefined = str(info.version) ?? version;
    let qualifiers: Record<string, string> | undefined;
    if (typeof resolution.tarball === "string" && !/registry\.npmjs\.org/.test(resolution.tarball)) qualifiers = { download_url: resolution.tarball };
    if (typeof resolution.repo === "string") qualifiers = { vcs_url: `${resolution.repo}${typeof resolution.commit === "string" ? `#${resolution.commit}` : ""}` };
    // A local folder (`file:dir`, resolution `{ directory }`): the key's "version" is the folder, not
    // a release. Its package.json, when the folder is in the tree, gives the version; else it has none
    // (and is never matched as if `file:…` were an npm version).
    const directory = typeof resolution.directory === "string" ? resolution.directory : undefined;
    const properties: Record<string, string> = {};
    if (directory !== undefined) {
      realVersion = str(info.version) ?? str(manifests.get(directory)?.version);
      properties["tollgate:pnpm:directory"] = directory;
    }
    const line = lines.get(k);
    const purl = npmPurl(realName, realVersion, qualifiers);
    const c = set.add(
      makeComponent({
        name: realName,
        version: realVersion,
        purl,
        ecosystem: "npm",
        hashes: hashesFromIntegrity(str(resolution.integrity)),
        location: line !== undefined ? { path: file, line } : { path: file },
        foundBy: NAME,
        properties,
        ref: directory !== undefined && realVersion === undefined ? `npm:${k}` : (purl ?? `npm:${k}`),
      }),
    );
    if (info.dev === true) devOnly.add(c.ref);
    keyToRef.set(k, c.ref);
  }
  // Importers (workspace projects) as application components.
  const importerRef = (path: string): string => `pnpm-importer:${path}`;
  const importerComponents = new Map<string, Component>();
  for (const path of Object.keys(importers)) {
    if (path === ".") continue;
    const pkg = manifests.get(path);
    const name = str(pkg?.name);
    const version = str(pkg?.version);
    importerComponents.set(
      path,
      makeComponent({
        name: name ?? path,
        version,
        purl: name ? npmPurl(name, version) : undefined,
        type: "application",
        ecosystem: "npm",
        location: { path: file },
        foundBy: NAME,
        ref: importerRef(path),
        scope: "required",
        properties: { "tollgate:pnpm:importer": path },
      }),
    );
  }
  /** A dependency's resolved version → the ref it names. */
  const resolve = (depName: string, version: string, from: string): string | undefined => {
    if (version.startsWith("link:")) {
      const target = joinPath(from, version.slice(5));
      return importerComponents.has(target) ? importerRef(target) : undefined;
    }
    const v = version.startsWith("/") ? baseKey(version) : version;
    const at = v.indexOf("@", 1);
    // v9 alias ("string-width@4.2.3") or v6 path ("/name@1.0.0"); else a bare version.
    const key = at > 0 && !/^\d/.test(v) ? baseKey(v) : baseKey(`${depName}@${v}`);
    return keyToRef.get(key);
  };
  const edgeSource = snapshots ?? packages;
  for (const [key, raw] of Object.entries(edgeSource)) {
    if (!isObject(raw)) continue;
    const from = keyToRef.get(baseKey(key));
    if (!from) continue;
    for (const field of ["dependencies", "optionalDependencies"]) {
      const deps = raw[field];
      if (!isObject(deps)) continue;
      for (const [depName, v] of Object.entries(deps)) {
        const to = typeof v === "string" ? resolve(depName, v, ".") : undefined;
        if (to) set.addEdge(from, to);
      }
    }
  }
  const required: string[] = [];
  const optional: string[] = [];
  const dev: string[] = [];
  const rootDirect = new Set<string>();
  const direct = new Set<string>();
  for (const [path, rawImporter] of Object.entries(importers)) {
    if (!isObject(rawImporter)) continue;
    const fromRef = path === "." ? undefined : importerRef(path);
    const importer = importerComponents.get(path);
    for (const [field, bucket] of [
      ["dependencies", required],
      ["optionalDependencies", optional],
      ["devDependencies", dev],
    ] as const) {
      const deps = rawImporter[field];
      if (!isObject(deps)) continue;
      for (const [depName, spec] of Object.entries(deps)) {
        const version = isObject(spec) ? str(spec.version) : str(spec);
        if (!version) continue;
        const to = resolve(depName, version, path);
        if (!to) continue;
        direct.add(to);
        if (fromRef && importer) importer.dependencies.push(to);
        else rootDirect.add(to);
        bucket.push(to);
      }
    }
  }
  for (const c of importerComponents.values()) {
    c.dependencies = [...new Set(c.dependencies)].sort();
    rootDirect.add(c.ref);
    direct.add(c.ref);
  }
  const components = [...set.list(new Set(importerComponents.keys())), ...importerComponents.values()];
  for (const c of components) if (direct.has(c.ref)) c.direct = true;
  assignScopes(components, { required, optional, dev: [...dev, ...devOnly] });
  const rootName = str(manifest?.name);
  const rootVersion = str(manifest?.version);
  const rootPurl = rootName ? npmPurl(rootName, rootVersion) : undefined;
  const root = makeComponent({ name: rootName ?? file, version: rootVersion, purl: rootPurl, type: "application", ecosystem: "npm", location: { path: file }, foundBy: NAME, ref: rootPurl ?? `npm-root:${file}` });
  root.dependencies = [...rootDirect].sort();
  return { components, root };
}

export const pnpmLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "pnpm-lock.yaml" || entry.path.endsWith("/pnpm-lock.yaml"),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    const dir = entry.path.includes("/") ? entry.path.slice(0, entry.path.lastIndexOf("/") + 1) : "";
    // Importer paths are relative to the lockfile; ones that climb out of the tree are not read.
    const importerManifest: ImporterManifests = async (importer) => (importer.split("/").includes("..") ? undefined : companionJson(fs, `${dir}${importer}/pnpm-lock.yaml`, "package.json"));
    return parsePnpmLock(decodeUtf8(contents, entry.path), entry.path, await companionJson(fs, entry.path, "package.json"), importerManifest);
  },
};
