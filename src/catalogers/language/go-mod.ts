/**
 * Go modules: `go.mod` (https://go.dev/ref/mod#go-mod-file) with `require` (direct, or `// indirect`),
 * `replace` (a module replaced by another module version, or by a local directory) and `exclude`;
 * `go.sum` beside it adds each module's `h1:` checksum as a property (it hashes the module tree, not a
 * file, so it is not a component hash).
 *
 * The graph. go.mod records requirements, not who requires whom; for go >= 1.17 its require list
 * holds every module of the build at the version minimal version selection picked. Who requires whom
 * is in each dependency's own go.mod, which the Go toolchain keeps in the module cache
 * (https://go.dev/ref/mod#module-cache) as `cache/download/<escaped path>/@v/<escaped version>.mod`.
 * When a module cache is there, each required module version's `.mod` is read (never `go` itself)
 * and gives edges M@v -> R at the version the main go.mod selects (what `go mod graph` prints, with
 * its targets moved to the selected versions); the main module then depends on its direct requires,
 * plus any require no edge reaches (its parent's `.mod` is missing), so that nothing hangs loose.
 * A directory replacement's go.mod is read from the scanned tree when the directory is inside it.
 * With no cache, the main module depends on every require, as go.mod alone says. The root's
 * `tollgate:go:graph` property says which: `module-cache`, `module-cache-partial` (some `.mod`
 * missing), `requires-only`.
 */
import { realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, isAbsolute, join, posix, relative, resolve, sep } from "node:path";
import type { Cataloger, CatalogResult, ExtractInput, VirtualFs } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import { readRegularFile } from "../../io/files.ts";
import type { Component } from "../../model/index.ts";
import { ComponentSet, makeComponent, purlOf } from "../common/component.ts";
import { decodeUtf8 } from "../common/text.ts";

const NAME = "go-mod";

export function goPurl(path: string, version: string | undefined): string | undefined {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? purlOf("golang", undefined, path, version) : purlOf("golang", path.slice(0, slash), path.slice(slash + 1), version);
}

interface Directive {
  verb: string;
  args: string[];
  comment: string;
  line: number;
}

function unquoteGo(s: string): string {
  return s.startsWith('"') || s.startsWith("`") ? s.slice(1, -1) : s;
}

function directives(text: string, file: string): Directive[] {
  const out: Directive[] = [];
  let block: string | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, "");
    const ci = raw.indexOf("//");
    const comment = ci === -1 ? "" : raw.slice(ci + 2).trim();
    const body = (ci === -1 ? raw : raw.slice(0, ci)).trim();
    if (!body) continue;
    if (block !== undefined) {
      if (body === ")") {
        block = undefined;
        continue;
      }
      out.push({ verb: block, args: body.split(/\s+/).map(unquoteGo), comment, line: i + 1 });
      continue;
    }
    const m = /^(\w+)\s*(.*)$/.exec(body);
    if (!m) throw new InputError("expected a go.mod directive", { file, line: i + 1, column: 1 });
    const verb = m[1] as string;
    const rest = (m[2] as string).trim();
    if (rest === "(") {
      block = verb;
      continue;
    }
    out.push({ verb, args: rest.split(/\s+/).filter(Boolean).map(unquoteGo), comment, line: i + 1 });
  }
  if (block !== undefined) throw new InputError(`unterminated ${block} ( block`, { file, line: lines.length });
  return out;
}

/** go.sum: "module version h1:…" → checksum, by "module@version". */
function goSum(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [mod, ver, sum] = line.trim().split(/\s+/);
    if (mod && ver && sum && !ver.endsWith("/go.mod")) out.set(`${mod}@${ver}`, sum);
  }
  return out;
}

/** One require of the main go.mod, as the graph needs it. */
interface GoRequire {
  /** The module path the require names (before replacement): what other go.mod files require. */
  path: string;
  ref: string;
  direct: boolean;
  /** Where its own go.mod is: a module version in the cache, or a directory replacement. */
  mod: { path: string; version: string } | { dir: string };
}

export function parseGoMod(text: string, file: string, sumText?: string): CatalogResult {
  return parseGoModRequires(text, file, sumText).result;
}

function parseGoModRequires(text: string, file: string, sumText?: string): { result: CatalogResult; requires: GoRequire[] } {
  const ds = directives(text, file);
  const module = ds.find((d) => d.verb === "module")?.args[0];
  const replaces = new Map<string, { path: string; version?: string; line: number }>();
  for (const d of ds) {
    if (d.verb !== "replace") continue;
    const arrow = d.args.indexOf("=>");
    if (arrow < 1) throw new InputError('replace without "=>"', { file, line: d.line });
    const from = d.args.slice(0, arrow);
    const to = d.args.slice(arrow + 1);
    const key = from.length > 1 ? `${from[0]}@${from[1]}` : (from[0] as string);
    const r: { path: string; version?: string; line: number } = { path: to[0] as string, line: d.line };
    if (to[1] !== undefined) r.version = to[1];
    replaces.set(key, r);
  }
  const sums = sumText ? goSum(sumText) : new Map<string, string>();
  const set = new ComponentSet();
  const direct: string[] = [];
  const requires: GoRequire[] = [];
  for (const d of ds) {
    if (d.verb !== "require") continue;
    const [path, version] = d.args;
    if (!path || !version) throw new InputError("require needs a module path and a version", { file, line: d.line });
    const rep = replaces.get(`${path}@${version}`) ?? replaces.get(path);
    const properties: Record<string, string> = {};
    let modPath = path;
    let modVersion: string | undefined = version;
    if (rep) {
      properties["tollgate:go:replaced"] = `${path}@${version}`;
      if (rep.version !== undefined) {
        modPath = rep.path;
        modVersion = rep.version;
      } else {
        // A local directory replacement: the code is in the tree, no module version.
        properties["tollgate:go:replace-dir"] = rep.path;
        modVersion = undefined;
      }
    }
    if (/^v\d+\.\d+\.\d+-(\d+\.)?(0\.)?\d{14}-[0-9a-f]{12}/.test(modVersion ?? "")) properties["tollgate:go:pseudo-version"] = "true";
    const h1 = modVersion ? sums.get(`${modPath}@${modVersion}`) : undefined;
    if (h1) properties["tollgate:go:h1"] = h1;
    const indirect = /(^|;)\s*indirect\b/.test(d.comment);
    const c = set.add(
      makeComponent({
        name: modPath,
        version: modVersion,
        purl: goPurl(modPath, modVersion),
        ecosystem: "Go",
        scope: "required",
        location: { path: file, line: d.line },
        foundBy: NAME,
        direct: !indirect,
        properties,
        ...(modVersion === undefined ? { ref: `go-local:${modPath}` } : {}),
      }),
    );
    if (modVersion === undefined) c.type = "library";
    direct.push(c.ref);
    requires.push({ path, ref: c.ref, direct: !indirect, mod: modVersion === undefined ? { dir: rep?.path ?? "" } : { path: modPath, version: modVersion } });
  }
  const goVersion = ds.find((d) => d.verb === "go")?.args[0];
  const root: Component = makeComponent({
    name: module ?? file,
    purl: module ? goPurl(module, undefined) : undefined,
    ecosystem: "Go",
    type: "application",
    location: { path: file, line: ds.find((d) => d.verb === "module")?.line ?? 1 },
    foundBy: NAME,
    properties: goVersion ? { "tollgate:go:version": goVersion } : {},
    ref: module ? undefined : `go-root:${file}`,
  });
  root.dependencies = [...new Set(direct)].sort();
  return { result: { components: set.list(), root }, requires };
}

/** The largest `.mod` / go.mod of a dependency that is read (real ones are a few KiB). */
export const MAX_GO_MOD_BYTES = 1024 * 1024;

/**
 * The Go module cache tollgate reads dependencies' go.mod files from: $TOLLGATE_GO_MOD_CACHE, else
 * `configured` (tollgate.yaml `sbom.go.mod_cache`), else what the go command uses: $GOMODCACHE, else
 * the first $GOPATH entry's pkg/mod, else ~/go/pkg/mod (https://go.dev/ref/mod#module-cache).
 */
export function goModCacheDir(env: NodeJS.ProcessEnv = process.env, configured?: string): string {
  const home = env.HOME || homedir();
  // `~/x` as in tollgate.yaml (vulndb's expandHome does the same for db.path; not imported, it is heavy).
  const expand = (p: string) => resolve(p === "~" || p.startsWith("~/") ? join(home, p.slice(1)) : p);
  if (env.TOLLGATE_GO_MOD_CACHE) return expand(env.TOLLGATE_GO_MOD_CACHE);
  if (configured) return expand(configured);
  if (env.GOMODCACHE) return resolve(env.GOMODCACHE);
  const gopath = env.GOPATH?.split(delimiter).find((p) => p !== "");
  if (gopath) return join(resolve(gopath), "pkg", "mod");
  return join(home, "go", "pkg", "mod");
}

/** Module path and version escaping of the module cache and GOPROXY protocol: "A" becomes "!a". */
function escapeModule(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** A module path element: no empty, ".", "..", leading dot or trailing dot (module.CheckPath, simplified). */
const PATH_ELEMENT = /^[A-Za-z0-9_~+-][A-Za-z0-9._~+-]*$/;
/** A version as the cache stores it: one file name, no separators. */
const VERSION = /^v[A-Za-z0-9._+-]+$/;

function safeModulePath(path: string): boolean {
  return path.length <= 1024 && path.split("/").every((e) => PATH_ELEMENT.test(e) && !e.endsWith("."));
}

/**
 * Reads `<cache>/cache/download/<path>/@v/<version>.mod`, or undefined when it is not there, is not a
 * regular file, is over MAX_GO_MOD_BYTES, or is not inside the cache (a module path or version that
 * could climb out is refused before any I/O, and the file's real path, symlinks resolved, must stay
 * inside the cache's real path).
 */
export async function readCachedGoMod(cacheRoot: string, modulePath: string, version: string): Promise<string | undefined> {
  try {
    return await readGoModInRealCache(await realpath(cacheRoot), modulePath, version);
  } catch {
    return undefined;
  }
}

/** readCachedGoMod, with the cache's real path already resolved (once per go.mod, not per module). */
async function readGoModInRealCache(realRoot: string, modulePath: string, version: string): Promise<string | undefined> {
  if (!safeModulePath(modulePath) || !VERSION.test(version) || version.includes("..")) return undefined;
  const file = join(realRoot, "cache", "download", ...escapeModule(modulePath).split("/"), "@v", `${escapeModule(version)}.mod`);
  try {
    const real = await realpath(file);
    const r = relative(realRoot, real);
    if (r === "" || r === ".." || r.startsWith(`..${sep}`) || isAbsolute(r)) return undefined;
    // A regular file only, opened without blocking (a FIFO in the cache must not hang the run).
    const buf = await readRegularFile(real, MAX_GO_MOD_BYTES);
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    return undefined;
  }
}

/** A directory replacement's go.mod, read through the scanned tree when the directory is inside it. */
async function readReplacementGoMod(fs: VirtualFs, goModPath: string, dir: string): Promise<string | undefined> {
  // Go: a replacement is a directory when it starts with ./ or ../ (or is absolute, which is never read).
  if (!(dir.startsWith("./") || dir.startsWith("../")) || dir.includes("\\")) return undefined;
  const rel = posix.normalize(posix.join(posix.dirname(goModPath), dir, "go.mod"));
  if (rel === ".." || rel.startsWith("../") || rel.startsWith("/")) return undefined;
  try {
    if (!(await fs.exists(rel))) return undefined;
    return decodeUtf8(await fs.readFile(rel, MAX_GO_MOD_BYTES), rel);
  } catch {
    return undefined;
  }
}

/** The module paths a dependency's go.mod requires (its replace and exclude apply only in a main module). */
function requiredPaths(text: string, file: string): string[] | undefined {
  try {
    return directives(text, file)
      .filter((d) => d.verb === "require" && d.args[0])
      .map((d) => d.args[0] as string);
  } catch {
    return undefined;
  }
}

/** How many `.mod` files are read at once. */
const READ_CONCURRENCY = 16;

/**
 * Adds the module graph from the module cache to a parsed go.mod: edges between the required
 * modules, and the root depending on the direct ones (see the file comment). False when the cache
 * cannot be read at all (nothing changed).
 */
async function addModuleGraph(result: CatalogResult, requires: GoRequire[], cacheRoot: string, fs: VirtualFs, goModPath: string): Promise<boolean> {
  const root = result.root;
  if (!root) return false;
  const selected = new Map<string, string>();
  for (const r of requires) if (!selected.has(r.path)) selected.set(r.path, r.ref);
  const byRef = new Map(result.components.map((c) => [c.ref, c]));
  const edges = new Map<string, Set<string>>();
  let missing = 0;
  let realRoot: string;
  try {
    realRoot = await realpath(cacheRoot);
  } catch {
    return false;
  }
  // One read per distinct require: the number of reads is bounded by the main go.mod's requires.
  const todo = [...new Map(requires.map((r) => [r.ref, r])).values()];
  for (let i = 0; i < todo.length; i += READ_CONCURRENCY) {
    await Promise.all(
      todo.slice(i, i + READ_CONCURRENCY).map(async (r) => {
        const text = "dir" in r.mod ? await readReplacementGoMod(fs, goModPath, r.mod.dir) : await readGoModInRealCache(realRoot, r.mod.path, r.mod.version);
        const paths = text === undefined ? undefined : requiredPaths(text, `${r.path}/go.mod`);
        if (paths === undefined) {
          missing++;
          return;
        }
        const to = new Set<string>();
        for (const p of paths) {
          const ref = selected.get(p);
          if (ref !== undefined && ref !== r.ref) to.add(ref);
        }
        edges.set(r.ref, to);
      }),
    );
  }
  for (const [ref, to] of edges) {
    const c = byRef.get(ref);
    if (c) c.dependencies = [...to].sort();
  }
  // The root: its direct requires, then whatever they do not reach.
  const deps = new Set(requires.filter((r) => r.direct).map((r) => r.ref));
  const reached = new Set<string>();
  const stack = [...deps];
  while (stack.length > 0) {
    const ref = stack.pop() as string;
    if (reached.has(ref)) continue;
    reached.add(ref);
    for (const next of edges.get(ref) ?? []) stack.push(next);
  }
  for (const r of requires) if (!reached.has(r.ref)) deps.add(r.ref);
  root.dependencies = [...deps].sort();
  root.properties = { ...root.properties, "tollgate:go:graph": missing > 0 ? "module-cache-partial" : "module-cache" };
  return true;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export interface GoModCatalogerOptions {
  /**
   * The module cache to read dependencies' go.mod files from (config `sbom.go.mod_cache`; the
   * environment's TOLLGATE_GO_MOD_CACHE wins over it), or false for none (images: the host's cache
   * says nothing about them). Default: goModCacheDir().
   */
  goModCache?: string | false;
  /** Where TOLLGATE_GO_MOD_CACHE, GOMODCACHE, GOPATH and HOME are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The go.mod cataloger, reading the module graph from a module cache when there is one. */
export function createGoModCataloger(options: GoModCatalogerOptions = {}): Cataloger {
  return {
    name: NAME,
    fileRequired: (entry) => entry.path === "go.mod" || entry.path.endsWith("/go.mod"),
    async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
      const sumPath = `${entry.path.slice(0, -"go.mod".length)}go.sum`;
      const sum = (await fs.exists(sumPath)) ? decodeUtf8(await fs.readFile(sumPath, 64 * 1024 * 1024), sumPath) : undefined;
      const { result, requires } = parseGoModRequires(decodeUtf8(contents, entry.path), entry.path, sum);
      const cache = options.goModCache === false ? undefined : goModCacheDir(options.env ?? process.env, options.goModCache);
      const graphed = cache !== undefined && requires.length > 0 && (await isDirectory(cache)) && (await addModuleGraph(result, requires, cache, fs, entry.path));
      if (!graphed && result.root) {
        result.root.properties = { ...result.root.properties, "tollgate:go:graph": "requires-only" };
      }
      return result;
    },
  };
}

/** The go.mod cataloger with the default module cache (see goModCacheDir). */
export const goModCataloger: Cataloger = createGoModCataloger();
