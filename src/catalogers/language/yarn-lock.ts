/**
 * `yarn.lock`: yarn classic (v1, "# yarn lockfile v1": `key "value"` lines) and yarn berry (v2+,
 * YAML with `__metadata`, `resolution:` and `checksum:`). One line scanner serves both: a stanza per
 * top-level key (the descriptors, comma-separated), fields at two spaces, dependency maps at four.
 * Scopes come from package.json beside the lockfile (yarn.lock does not record them).
 *
 * Workspaces: berry's lockfile lists them (`workspace:` resolutions). A classic lockfile never does,
 * so their package.json files are found the way yarn 1 finds them: each pattern of the root
 * package.json's `workspaces` (an array, or `{ packages: [...] }`) is a glob naming folders, matched
 * through the VirtualFs's `listDirectory` (catalogers never walk).
 */
import { matchesGlob } from "node:path";
import type { Cataloger, CatalogResult, ExtractInput, VirtualFs } from "../../collect/index.ts";
import { formatErrorLine, InputError, LimitExceededError } from "../../errors.ts";
import type { CollectProblem, Component } from "../../model/index.ts";
import { assignScopes, ComponentSet, hashesFromIntegrity, makeComponent, npmPurl } from "../common/component.ts";
import { companionJson, manifestDeps } from "./manifest.ts";
import { decodeUtf8, isObject, parseJsonFile, str, stringRecord } from "../common/text.ts";

const NAME = "yarn-lock";

interface Stanza {
  descriptors: string[];
  line: number;
  fields: Record<string, string>;
  maps: Record<string, Record<string, string>>;
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1);
  return t;
}

/**
 * The descriptors of a top-level key. Yarn classic quotes each descriptor on its own
 * (`"a@>= 1, < 3", "a@^2.0.0":`, a comma inside the quotes belongs to the range); berry quotes the
 * whole key (`"a@npm:^1.0.0, a@npm:^1.2.0":`) and, as its own parser does, splits it on commas once
 * unquoted (its descriptors never hold a comma: berry URL-encodes them).
 */
function keyDescriptors(key: string, berry: boolean): string[] {
  const parts: string[] = [];
  let start = 0;
  let quote = "";
  for (let i = 0; i < key.length; i++) {
    const ch = key[i];
    if (quote !== "") {
      if (ch === "\\") i++;
      else if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ",") {
      parts.push(key.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(key.slice(start));
  const unquoted = parts.map(unquote);
  return (berry ? unquoted.flatMap((d) => d.split(",")) : unquoted).map((d) => d.trim()).filter(Boolean);
}

/** Splits `key value` (classic) or `key: value` (berry). */
function splitField(s: string): [string, string] {
  let key: string;
  let rest: string;
  if (s.startsWith('"')) {
    const end = s.indexOf('"', 1);
    if (end === -1) return [s, ""];
    key = s.slice(1, end);
    rest = s.slice(end + 1);
  } else {
    const m = /^([^\s:]+|[^\s]+?(?=:\s|:$))/.exec(s);
    key = m ? (m[1] as string) : s;
    rest = s.slice(key.length);
  }
  rest = rest.replace(/^:/, "").trim();
  return [key, unquote(rest)];
}

export function parseYarnStanzas(text: string, file: string): { stanzas: Stanza[]; berry: boolean } {
  const stanzas: Stanza[] = [];
  const lines = text.split("\n");
  let current: Stanza | undefined;
  let mapName: string | undefined;
  const berry = /^__metadata:/m.test(text);
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, "");
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) continue;
    const indent = raw.length - raw.trimStart().length;
    const body = raw.trim();
    if (indent === 0) {
      if (!body.endsWith(":")) throw new InputError(`expected a package entry ending with ":"`, { file, line: i + 1, column: 1 });
      const keys = body.slice(0, -1);
      current = { descriptors: keyDescriptors(keys, berry), line: i + 1, fields: {}, maps: {} };
      stanzas.push(current);
      mapName = undefined;
      continue;
    }
    if (!current) throw new InputError("indented line before any entry", { file, line: i + 1, column: indent + 1 });
    if (indent === 2) {
      if (body.endsWith(":") && !body.includes(" ")) {
        mapName = unquote(body.slice(0, -1));
        current.maps[mapName] = {};
      } else {
        const [k, v] = splitField(body);
        current.fields[k] = v;
        mapName = undefined;
      }
    } else if (indent >= 4 && mapName !== undefined) {
      const [k, v] = splitField(body);
      (current.maps[mapName] as Record<string, string>)[k] = v;
    } else if (indent >= 4) {
      // A nested value of a field we do not read (berry `bin:`, `dependenciesMeta:` sub-keys).
      continue;
    } else {
      throw new InputError("unexpected indentation", { file, line: i + 1, column: indent + 1 });
    }
  }
  return { stanzas, berry };
}

/** `name@range` → [name, range] (the name may start with @). */
function splitDescriptor(d: string): [string, string] {
  const at = d.indexOf("@", 1);
  return at === -1 ? [d, ""] : [d.slice(0, at), d.slice(at + 1)];
}

/** A yarn classic workspace: its folder, its package.json and that file's contents. */
export interface YarnClassicWorkspace {
  /** Folder relative to the lockfile's folder, POSIX ("packages/a"). */
  folder: string;
  /** Path of its package.json in the VirtualFs. */
  manifestPath: string;
  manifest: Record<string, unknown>;
}

/** More workspace folders than this in one project is refused (a problem; the first ones are kept). */
export const MAX_YARN_WORKSPACES = 10_000;
/** Folders listed while expanding one project's workspace globs. */
const MAX_WORKSPACE_LISTINGS = 100_000;
/** `**` descends at most this deep. */
const MAX_GLOB_DEPTH = 32;
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
const GLOB_MAGIC = /[*?[{(]/;

type ListingFs = VirtualFs & { listDirectory(path: string): Promise<string[]> };

/** The glob patterns of package.json's `workspaces`: an array of strings, or `{ packages: [...] }` (nohoist is not about membership). */
export function yarnWorkspacePatterns(manifest: Record<string, unknown> | undefined): string[] {
  const ws = manifest?.workspaces;
  const list = Array.isArray(ws) ? ws : isObject(ws) && Array.isArray(ws.packages) ? ws.packages : [];
  return list.filter((p): p is string => typeof p === "string");
}

/**
 * Adds to `found` the folders (relative to `base`, never the root itself) that one workspace pattern
 * names and that hold a package.json, as
 * yarn 1 finds them: it globs `<pattern>/+(package.json)` with node-glob 7, so `*`, `**`, `?`,
 * `[...]`, `{a,b}` and extglobs such as `!(legacy)` work, names starting with "." match only a pattern
 * that spells the dot, and folders named node_modules never match (the VirtualFs skips them). An
 * entry starting with "!" is no exclusion in yarn 1 (glob 7 turns negation off, so yarn reads it as a
 * path spelled with "!"); the caller skips it. Symlinks are not followed (the listing leaves them out).
 */
async function expandWorkspacePattern(fs: ListingFs, base: string, pattern: string, budget: { listings: number }, found: Set<string>): Promise<void> {
  const segments = pattern.split("/");
  let literal = 0;
  while (literal < segments.length && !GLOB_MAGIC.test(segments[literal] as string)) literal++;
  const prefix = segments.slice(0, literal).join("/");
  const glob = segments.slice(literal);
  const globstar = glob.some((g) => g.includes("**"));
  const maxDepth = globstar ? MAX_GLOB_DEPTH : glob.length;
  const dotAllowed = glob.some((g) => g.startsWith("."));
  // As yarn does: the pattern names folders whose package.json matches `<pattern>/package.json`
  // (so `dir/**` names `dir` itself too).
  const target = `${pattern}/package.json`;
  const visit = async (rel: string, depth: number): Promise<void> => {
    if (++budget.listings > MAX_WORKSPACE_LISTINGS) throw new LimitExceededError(`workspace patterns list more than ${MAX_WORKSPACE_LISTINGS} folders`);
    const names = await fs.listDirectory(base && rel ? `${base}/${rel}` : base || rel);
    if (rel !== "" && names.includes("package.json") && matchesGlob(`${rel}/package.json`, target)) found.add(rel);
    if (depth >= maxDepth) return;
    // Without `**`, a self-contained segment prunes the folders to enter at its depth.
    const segment = glob[depth] as string;
    const prune = !globstar && !/[{(]/.test(segment);
    for (const name of names) {
      if (name === "package.json" || (name.startsWith(".") && !dotAllowed)) continue;
      if (prune && !matchesGlob(name, segment)) continue;
      await visit(rel ? `${rel}/${name}` : name, depth + 1);
    }
  };
  await visit(prefix, 0);
}

/**
 * Yarn classic's workspaces of the project whose lockfile is `lockPath`: every folder its root
 * package.json's patterns name, with that folder's package.json. Folders whose package.json has no
 * name or version are left out, as yarn 1 leaves them out (with a warning). Absent folders are not a
 * problem; an unreadable or malformed package.json, a repeated name, a pattern reaching outside the
 * project and the limits are (one line each), never fatal.
 */
export async function readYarnClassicWorkspaces(fs: VirtualFs, lockPath: string, manifest: Record<string, unknown> | undefined): Promise<{ workspaces: YarnClassicWorkspace[]; problems: CollectProblem[] }> {
  const workspaces: YarnClassicWorkspace[] = [];
  const problems: CollectProblem[] = [];
  const patterns = yarnWorkspacePatterns(manifest);
  if (patterns.length === 0 || !fs.listDirectory) return { workspaces, problems };
  const listing = fs as ListingFs;
  const base = lockPath.includes("/") ? lockPath.slice(0, lockPath.lastIndexOf("/")) : "";
  const rootManifest = base ? `${base}/package.json` : "package.json";
  const folders = new Set<string>();
  const budget = { listings: 0 };
  for (const raw of patterns) {
    const pattern = raw.trim().replace(/\/+/g, "/").replace(/^(\.\/)+/, "").replace(/\/$/, "");
    if (pattern === "" || pattern === "." || pattern.startsWith("!")) continue;
    if (pattern.startsWith("/") || pattern.split("/").includes("..")) {
      problems.push({ source: NAME, file: rootManifest, message: `${rootManifest}: workspace pattern "${raw}" points outside the project; not followed` });
      continue;
    }
    try {
      await expandWorkspacePattern(listing, base, pattern, budget, folders);
    } catch (e) {
      // A folder reached through a symlink out of the tree (refused by the VirtualFs), or the limit.
      problems.push({ source: NAME, file: rootManifest, message: `${rootManifest}: workspace pattern "${raw}": ${formatErrorLine(e)}` });
      if (e instanceof LimitExceededError) break;
    }
  }
  let sorted = [...folders].sort();
  if (sorted.length > MAX_YARN_WORKSPACES) {
    problems.push({ source: NAME, file: rootManifest, message: `${rootManifest}: more than ${MAX_YARN_WORKSPACES} workspace folders; the first ${MAX_YARN_WORKSPACES} are read` });
    sorted = sorted.slice(0, MAX_YARN_WORKSPACES);
  }
  const names = new Map<string, string>();
  for (const folder of sorted) {
    const manifestPath = base ? `${base}/${folder}/package.json` : `${folder}/package.json`;
    let pkg: unknown;
    try {
      pkg = parseJsonFile(await fs.readFile(manifestPath, MAX_MANIFEST_BYTES), manifestPath);
    } catch (e) {
      const problem: CollectProblem = { source: NAME, file: manifestPath, message: formatErrorLine(e) };
      if (e instanceof InputError && e.line !== undefined) problem.line = e.line;
      problems.push(problem);
      continue;
    }
    if (!isObject(pkg)) {
      problems.push({ source: NAME, file: manifestPath, message: `${manifestPath}: not a JSON object` });
      continue;
    }
    const name = str(pkg.name);
    if (!name || !str(pkg.version)) continue;
    const first = names.get(name);
    if (first !== undefined) {
      problems.push({ source: NAME, file: manifestPath, message: `${manifestPath}: workspace name "${name}" is already used by ${first}; skipped` });
      continue;
    }
    names.set(name, folder);
    workspaces.push({ folder, manifestPath, manifest: pkg });
  }
  return { workspaces, problems };
}

export function parseYarnLock(text: string, file: string, manifest?: Record<string, unknown>, classicWorkspaces: readonly YarnClassicWorkspace[] = []): CatalogResult {
  const { stanzas, berry } = parseYarnStanzas(text, file);
  const set = new ComponentSet();
  const byDescriptor = new Map<string, string>();
  const pending: { ref: string; deps: Record<string, string> }[] = [];
  const workspaces: Component[] = [];
  let rootRef: string | undefined;
  for (const s of stanzas) {
    if (s.descriptors[0] === "__metadata") continue;
    const first = s.descriptors[0] as string;
    let [name] = splitDescriptor(first);
    let version = s.fields.version;
    const resolution = s.fields.resolution;
    let isWorkspace = false;
    let qualifiers: Record<string, string> | undefined;
    if (berry && resolution) {
      const [rName, rSpec] = splitDescriptor(resolution);
      name = rName;
      if (rSpec.startsWith("workspace:")) isWorkspace = true;
      else if (!rSpec.startsWith("npm:")) qualifiers = { vcs_url: rSpec };
    } else if (!berry) {
      const resolved = s.fields.resolved;
      if (resolved && !/^https?:\/\/registry\.(yarnpkg\.com|npmjs\.org)\//.test(resolved)) {
        qualifiers = /^git|^github:|\.git(#|$)/.test(resolved) ? { vcs_url: resolved } : { download_url: resolved.replace(/#.*$/, "") };
      }
      // An alias: "alias@npm:real@^1".
      const [, range] = splitDescriptor(first);
      if (range.startsWith("npm:")) name = splitDescriptor(range.slice(4))[0];
    }
    if (version === "0.0.0-use.local") version = undefined;
    const integrity = s.fields.integrity;
    const hashes = integrity ? hashesFromIntegrity(integrity) : [];
    const checksum = s.fields.checksum;
    const properties: Record<string, string> = {};
    if (checksum) properties["tollgate:yarn:checksum"] = checksum;
    if (isWorkspace && resolution) properties["tollgate:yarn:workspace"] = splitDescriptor(resolution)[1].slice("workspace:".length);
    const c = makeComponent({
      name,
      version,
      purl: npmPurl(name, version, qualifiers),
      ecosystem: "npm",
      type: isWorkspace ? "application" : "library",
      hashes,
      location: { path: file, line: s.line },
      foundBy: NAME,
      unresolved: version === undefined && !isWorkspace,
      properties,
    });
    const added = set.add(c);
    if (isWorkspace) {
      if (properties["tollgate:yarn:workspace"] === ".") rootRef = added.ref;
      else workspaces.push(added);
    }
    for (const d of s.descriptors) byDescriptor.set(d, added.ref);
    if (berry) for (const d of s.descriptors) if (d.includes("@npm:")) byDescriptor.set(d.replace("@npm:", "@"), added.ref);
    pending.push({ ref: added.ref, deps: { ...s.maps.dependencies, ...s.maps.optionalDependencies } });
  }
  // Yarn classic's workspaces (found beside the lockfile): one application component each.
  const workspaceByName = new Map<string, string>();
  const classic: { ref: string; manifest: Record<string, unknown> }[] = [];
  if (!berry) {
    for (const w of classicWorkspaces) {
      const name = str(w.manifest.name);
      const version = str(w.manifest.version);
      if (!name || workspaceByName.has(name)) continue;
      const c = makeComponent({
        name,
        version,
        purl: npmPurl(name, version),
        ecosystem: "npm",
        type: "application",
        location: { path: w.manifestPath },
        foundBy: NAME,
        properties: { "tollgate:yarn:workspace": w.folder },
      });
      const added = set.add(c);
      workspaces.push(added);
      workspaceByName.set(name, added.ref);
      classic.push({ ref: added.ref, manifest: w.manifest });
    }
  }
  // A lockfile entry for name@range first (a workspace whose version does not satisfy the range is
  // fetched from the registry, so the lockfile has it), else the workspace of that name.
  const lookup = (depName: string, range: string): string | undefined =>
    byDescriptor.get(`${depName}@${range}`) ??
    byDescriptor.get(`${depName}@npm:${range}`) ??
    (range.startsWith("npm:") ? byDescriptor.get(`${depName}@${range.slice(4)}`) : undefined) ??
    workspaceByName.get(depName);
  for (const p of pending) for (const [depName, range] of Object.entries(p.deps)) {
    const to = lookup(depName, range);
    if (to) set.addEdge(p.ref, to);
  }
  // Each classic workspace's declared dependencies, by kind (for the edges and the scopes).
  const workspaceRoots = { required: [] as string[], optional: [] as string[], dev: [] as string[] };
  for (const w of classic) {
    for (const [field, kind] of [["dependencies", "required"], ["optionalDependencies", "optional"], ["devDependencies", "dev"]] as const) {
      for (const [depName, range] of Object.entries(stringRecord(w.manifest[field]))) {
        const to = lookup(depName, range);
        if (!to || to === w.ref) continue;
        set.addEdge(w.ref, to);
        workspaceRoots[kind].push(to);
      }
    }
  }
  let components = set.list();
  const rootComponent = rootRef ? set.get(rootRef) : undefined;
  if (rootComponent) components = components.filter((c) => c.ref !== rootRef);
  const pkgName = str(manifest?.name);
  const pkgVersion = str(manifest?.version);
  const root =
    rootComponent ??
    makeComponent({ name: pkgName ?? file, version: pkgVersion, purl: pkgName ? npmPurl(pkgName, pkgVersion) : undefined, ecosystem: "npm", type: "application", location: { path: file }, foundBy: NAME, ref: pkgName ? undefined : `npm-root:${file}` });
  // The root's declared dependencies (package.json), resolved through the descriptors.
  const declared = manifestDeps(manifest);
  const ranges = { ...(manifest?.devDependencies as Record<string, string>), ...(manifest?.optionalDependencies as Record<string, string>), ...(manifest?.dependencies as Record<string, string>) };
  const resolveAll = (names: string[]): string[] => names.map((n) => lookup(n, String(ranges[n] ?? ""))).filter((x): x is string => x !== undefined);
  const required = rootComponent && !manifest ? rootComponent.dependencies : resolveAll(declared.required);
  const dev = resolveAll(declared.dev);
  const optional = resolveAll(declared.optional);
  const direct = new Set([...required, ...dev, ...optional, ...workspaces.map((w) => w.ref)]);
  for (const c of components) if (direct.has(c.ref)) c.direct = true;
  root.dependencies = [...new Set([...root.dependencies, ...direct])].sort();
  for (const w of workspaces) w.scope = "required";
  // Berry's workspaces: their lockfile entries do not separate kinds, so all their edges count as runtime.
  const classicRefs = new Set(classic.map((c) => c.ref));
  const berryWorkspaceDeps = workspaces.filter((w) => !classicRefs.has(w.ref)).flatMap((w) => w.dependencies);
  assignScopes(components, {
    required: [...required, ...berryWorkspaceDeps, ...workspaceRoots.required],
    optional: [...optional, ...workspaceRoots.optional],
    dev: [...dev, ...workspaceRoots.dev],
  });
  return { components, root };
}

export const yarnLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "yarn.lock" || entry.path.endsWith("/yarn.lock"),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    const manifest = await companionJson(fs, entry.path, "package.json");
    const text = decodeUtf8(contents, entry.path);
    // Berry lists its workspaces in the lockfile; classic needs them found beside it.
    const found = /^__metadata:/m.test(text) ? undefined : await readYarnClassicWorkspaces(fs, entry.path, manifest);
    const result = parseYarnLock(text, entry.path, manifest, found?.workspaces);
    if (found && found.problems.length > 0) result.problems = [...(result.problems ?? []), ...found.problems];
    return result;
  },
};
