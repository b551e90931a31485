/**
 * npm `package-lock.json` (lockfileVersion 1, 2, 3) and `npm-shrinkwrap.json`.
 * Format: https://docs.npmjs.com/cli/v11/configuring-npm/package-lock-json
 *
 * v2/v3 list every installed folder under `packages`, keyed by its path ("" is the root,
 * "node_modules/a/node_modules/b" a nested copy, "packages/x" a workspace folder); v1 nests
 * `dependencies`. Both become one path-keyed table, and each dependency is resolved the way Node
 * resolves it: the nearest `node_modules/<name>` walking up from the dependent's folder.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component, DeclaredRange, Scope } from "../../model/index.ts";
import { ComponentSet, hashesFromIntegrity, licensesOf, makeComponent, npmPurl } from "../common/component.ts";
import { decodeUtf8, isObject, jsonKeyLines, MAX_NESTING, parseJsonText, str } from "../common/text.ts";

const NAME = "npm-lock";
const FILES = new Set(["package-lock.json", "npm-shrinkwrap.json"]);
/** Above this size a lockfile's declared ranges are not indexed (`Component.declaredRanges` is null): bounded memory. */
const MAX_RANGES_INDEX_BYTES = 64 * 1024 * 1024;

interface LockEntry {
  path: string;
  name: string;
  version?: string | undefined;
  resolved?: string | undefined;
  integrity?: string | undefined;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  license?: unknown;
  /**
   * name → range (or alias/url spec), by kind, as the lockfile has them (not copied: only the names
   * are used, read by dependencyNames, which skips anything that is not a string).
   */
  deps: unknown;
  optionalDeps: unknown;
  peerDeps: unknown;
  devDeps: unknown;
  line?: number | undefined;
}

function baseName(path: string): string {
  const i = path.lastIndexOf("node_modules/");
  return i === -1 ? path.slice(path.lastIndexOf("/") + 1) : path.slice(i + "node_modules/".length);
}

/** The folder that contains a node_modules path's package (its parent package's folder). */
function parentFolder(path: string): string | undefined {
  const i = path.lastIndexOf("/node_modules/");
  if (i !== -1) return path.slice(0, i);
  if (path.startsWith("node_modules/")) return "";
  return undefined;
}

/**
 * Lines of the `packages` keys of a v2/v3 lockfile as npm writes it (JSON.stringify with an indent):
 * the keys are searched in document order (the order JSON.parse keeps them in), each as
 * `\n<indent>"<key>":`, with newlines counted in between. Much cheaper than jsonKeyLines' walk over
 * every line. Undefined when the text is not laid out that way (then jsonKeyLines is used).
 */
function packageKeyLines(text: string, keys: readonly string[]): Map<string, number> | undefined {
  const head = /\n([ \t]*)"packages"[ \t]*:[ \t]*\{[ \t]*\r?\n([ \t]*)"/.exec(text);
  if (!head) return undefined;
  const indent = head[2] as string;
  const lines = new Map<string, number>();
  let line = 1;
  let counted = 0;
  let from = head.index;
  for (const key of keys) {
    const at = text.indexOf(`\n${indent}${JSON.stringify(key)}:`, from);
    if (at === -1) return undefined;
    for (let nl = text.indexOf("\n", counted); nl !== -1 && nl <= at; nl = text.indexOf("\n", nl + 1)) {
      line++;
      counted = nl + 1;
    }
    lines.set(`packages\u0000${key}`, line);
    from = at + 1;
  }
  return lines;
}

function entriesFromV2(packages: Record<string, unknown>, lines: Map<string, number>): Map<string, LockEntry> {
  const out = new Map<string, LockEntry>();
  for (const [path, raw] of Object.entries(packages)) {
    if (!isObject(raw)) continue;
    const e: LockEntry = {
      path,
      name: str(raw.name) ?? (path === "" ? "" : baseName(path)),
      version: str(raw.version),
      resolved: str(raw.resolved),
      integrity: str(raw.integrity),
      license: raw.license,
      deps: raw.dependencies,
      optionalDeps: raw.optionalDependencies,
      peerDeps: raw.peerDependencies,
      devDeps: raw.devDependencies,
      line: lines.get(`packages\u0000${path}`),
      // Every flag set, so that all entries share one shape (the loops below stay monomorphic).
      link: raw.link === true,
      dev: raw.dev === true,
      optional: raw.optional === true,
      devOptional: raw.devOptional === true,
      peer: raw.peer === true,
    };
    out.set(path, e);
  }
  return out;
}

/** v1: nested `dependencies` → the v2 path table (iteratively, with a depth limit). */
function entriesFromV1(lock: Record<string, unknown>, lines: Map<string, number>): Map<string, LockEntry> {
  const out = new Map<string, LockEntry>();
  out.set("", { path: "", name: str(lock.name) ?? "", version: str(lock.version), deps: {}, optionalDeps: {}, peerDeps: {}, devDeps: {} });
  const stack: { prefix: string; keyPath: string; deps: unknown; depth: number }[] = [{ prefix: "", keyPath: "dependencies", deps: lock.dependencies, depth: 0 }];
  while (stack.length > 0) {
    const { prefix, keyPath, deps, depth } = stack.pop() as (typeof stack)[number];
    if (!isObject(deps)) continue;
    if (depth > MAX_NESTING) throw new InputError(`dependencies nested deeper than ${MAX_NESTING} levels`);
    for (const [name, raw] of Object.entries(deps)) {
      if (!isObject(raw)) continue;
      const path = `${prefix}node_modules/${name}`;
      let version = str(raw.version);
      let realName = name;
      // An alias: "version": "npm:real-name@1.2.3".
      if (version?.startsWith("npm:")) {
        const spec = version.slice(4);
        const at = spec.lastIndexOf("@");
        if (at > 0) {
          realName = spec.slice(0, at);
          version = spec.slice(at + 1);
        }
      }
      let resolved = str(raw.resolved);
      // v1 writes a git, file: or URL dependency's source as its "version": keep it as the source, never as a version.
      if (version !== undefined && /^(file:|git[+:]|github:|gitlab:|bitbucket:|https?:)/.test(version)) {
        resolved ??= version;
        version = undefined;
      }
      const e: LockEntry = {
        path,
        name: realName,
        version,
        resolved,
        integrity: str(raw.integrity),
        deps: raw.requires,
        optionalDeps: undefined,
        peerDeps: undefined,
        devDeps: undefined,
        line: lines.get(`${keyPath}\u0000${name}`),
      };
      if (raw.dev === true) e.dev = true;
      if (raw.optional === true) e.optional = true;
      out.set(path, e);
      if (raw.dependencies !== undefined) stack.push({ prefix: `${path}/`, keyPath: `${keyPath}\u0000${name}\u0000dependencies`, deps: raw.dependencies, depth: depth + 1 });
    }
  }
  return out;
}

/** Node's resolution: from folder `from`, the nearest node_modules/<name> up the tree. */
function resolveDep(entries: Map<string, LockEntry>, from: string, name: string): LockEntry | undefined {
  let folder: string | undefined = from;
  for (let guard = 0; guard <= MAX_NESTING && folder !== undefined; guard++) {
    const hit = entries.get(folder === "" ? `node_modules/${name}` : `${folder}/node_modules/${name}`);
    if (hit) return hit;
    if (folder === "") return undefined;
    const parent = parentFolder(folder);
    // A workspace folder ("packages/x") falls back to the root.
    folder = parent ?? "";
  }
  return undefined;
}

/**
 * npm's flags (arborist's calc-dep-flags) each say a package is reachable *only* through that kind
 * of edge, and they combine: `dev` with `peer` is a peer of a dev dependency, `dev` with `optional`
 * an optional dependency of one. `--omit=dev` leaves out every `dev` package whatever else is set
 * (as syft and cyclonedx-npm treat it), so dev comes first. `devOptional` (dev, and also optional
 * for production) and `optional` go with `--omit=optional`; a `peer` alone is installed (npm 7+).
 */
function scopeOf(e: LockEntry): Scope {
  if (e.dev) return "dev";
  if (e.optional || e.devOptional) return "optional";
  if (e.peer) return "peer";
  return "required";
}

/** `git+ssh://…#sha`, `file:…`, tarball URLs: recorded as a qualifier so the source is not mistaken for the registry. */
function sourceQualifiers(resolved: string | undefined): Record<string, string> | undefined {
  if (!resolved) return undefined;
  if (/^git(\+[a-z]+)?:|^github:/.test(resolved)) return { vcs_url: resolved };
  if (/^https?:/.test(resolved) && !/^https?:\/\/registry\.(npmjs\.org|yarnpkg\.com)\//.test(resolved)) return { download_url: resolved };
  return undefined;
}

/**
 * The ranges a lockfile's `packages` table declares, by dependency name: for each folder in table
 * order ("" is the project), its dependencies, optional and peer dependencies, and the project's dev
 * dependencies. Remediation checks an npm upgrade against every range that pulls the package in.
 */
export function declaredRangesByName(packages: object): Map<string, DeclaredRange[]> {
  const byName = new Map<string, DeclaredRange[]>();
  for (const [requester, entry] of Object.entries(packages)) {
    if (!isObject(entry)) continue;
    for (const deps of [entry.dependencies, entry.optionalDependencies, entry.peerDependencies, requester === "" ? entry.devDependencies : undefined]) {
      if (!isObject(deps)) continue;
      for (const name in deps) {
        const range = deps[name];
        const declared: DeclaredRange = typeof range === "string" ? { requester, range } : { requester, range: String(range), malformed: true };
        const list = byName.get(name);
        if (list) list.push(declared);
        else byName.set(name, [declared]);
      }
    }
  }
  return byName;
}

/** `indexRanges`: record the declared ranges on the packages (false: `declaredRanges` is null). */
export function parseNpmLock(text: string, file: string, indexRanges = true): CatalogResult {
  const lock = parseJsonText(text, file);
  if (!isObject(lock)) throw new InputError("not a package-lock (expected a JSON object)", { file, line: 1 });
  // From any `packages` table, whatever lockfileVersion says.
  const ranges = indexRanges && typeof lock.packages === "object" && lock.packages !== null ? declaredRangesByName(lock.packages) : undefined;
  const version = typeof lock.lockfileVersion === "number" ? lock.lockfileVersion : 1;
  const v2 = isObject(lock.packages) && version >= 2;
  const lines = (v2 ? packageKeyLines(text, Object.keys(lock.packages as Record<string, unknown>)) : undefined) ?? jsonKeyLines(text, version >= 2 ? 2 : MAX_NESTING);
  const entries = v2 ? entriesFromV2(lock.packages as Record<string, unknown>, lines) : entriesFromV1(lock, lines);
  const rootEntry = entries.get("") ?? { path: "", name: "", deps: {}, optionalDeps: {}, peerDeps: {}, devDeps: {} };
  const rootName = rootEntry.name || str(lock.name) || "";
  const rootVersion = rootEntry.version ?? str(lock.version);
  const rootPurl = rootName ? npmPurl(rootName, rootVersion) : undefined;
  const root = makeComponent({
    name: rootName || file,
    version: rootVersion,
    purl: rootPurl,
    ecosystem: "npm",
    type: "application",
    location: { path: file, line: 1 },
    foundBy: NAME,
    licenses: licensesOf(rootEntry.license),
    ref: rootPurl ?? `npm-root:${file}`,
  });

  const set = new ComponentSet();
  /** lock path → component ref, for edges. */
  const refOf = new Map<string, string>();
  const workspaceFolders = new Set<string>();
  for (const e of entries.values()) if (e.link && e.resolved !== undefined) workspaceFolders.add(e.resolved);

  for (const e of entries.values()) {
    if (e.path === "" || e.link) continue;
    const isWorkspace = workspaceFolders.has(e.path) || !e.path.includes("node_modules/");
    if (!e.name) continue;
    const qualifiers = isWorkspace ? undefined : sourceQualifiers(e.resolved);
    const purl = npmPurl(e.name, e.version, qualifiers);
    const properties: Record<string, string> = {};
    if (isWorkspace) properties["tollgate:npm:workspace"] = e.path;
    if (e.path !== e.name && baseName(e.path) !== e.name) properties["tollgate:npm:alias"] = baseName(e.path);
    const c = set.add(
      makeComponent({
        name: e.name,
        version: e.version,
        purl,
        ecosystem: "npm",
        type: isWorkspace ? "application" : "library",
        scope: scopeOf(e),
        hashes: hashesFromIntegrity(e.integrity),
        licenses: licensesOf(e.license),
        location: e.line !== undefined ? { path: file, line: e.line } : { path: file },
        foundBy: NAME,
        unresolved: e.version === undefined && !isWorkspace,
        properties,
      }),
    );
    c.declaredRanges = ranges ? (ranges.get(e.name) ?? []) : null;
    refOf.set(e.path, c.ref);
  }
  // Links point at their workspace folder's component.
  for (const e of entries.values()) {
    if (e.link && e.resolved !== undefined) {
      const target = refOf.get(e.resolved);
      if (target) refOf.set(e.path, target);
    }
  }

  const rootDeps = new Set<string>();
  const addEdges = (e: LockEntry, fromRef: string, isRoot: boolean): void => {
    const kinds = [e.deps, e.optionalDeps, e.peerDeps, isRoot || workspaceFolders.has(e.path) ? e.devDeps : undefined];
    for (const deps of kinds) {
      if (!isObject(deps)) continue;
      for (const depName in deps) {
        if (typeof deps[depName] !== "string") continue;
        const target = resolveDep(entries, e.path, depName);
        if (!target) continue;
        const to = refOf.get(target.path);
        if (!to) continue;
        if (isRoot) rootDeps.add(to);
        else set.addEdge(fromRef, to);
      }
    }
  };
  for (const e of entries.values()) {
    if (e.link) continue;
    if (e.path === "") addEdges(e, root.ref, true);
    else {
      const ref = refOf.get(e.path);
      if (ref) addEdges(e, ref, false);
    }
  }
  // Workspace folders are direct dependencies of the root, as npm installs them.
  for (const w of workspaceFolders) {
    const r = refOf.get(w);
    if (r) rootDeps.add(r);
  }
  for (const ref of rootDeps) {
    const c = set.get(ref);
    if (c) c.direct = true;
  }
  root.dependencies = [...rootDeps].sort();
  const components: Component[] = set.list();
  return { components, root };
}

export const npmLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => FILES.has(entry.path.slice(entry.path.lastIndexOf("/") + 1)),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parseNpmLock(decodeUtf8(contents, entry.path), entry.path, contents.length <= MAX_RANGES_INDEX_BYTES);
  },
};
