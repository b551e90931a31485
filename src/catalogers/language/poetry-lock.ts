/**
 * `poetry.lock` (Poetry 1.x and 2.x): `[[package]]` with name, version, `files` (sha256 hashes),
 * `[package.dependencies]`, `[package.extras]`, and the groups (`groups = ["main", "dev"]`, or the
 * older `category = "dev"`). Direct dependencies come from pyproject.toml beside it
 * (`[project.dependencies]` and `[project.optional-dependencies]`, `[tool.poetry.dependencies]`,
 * `[tool.poetry.group.<g>.dependencies]`, `[tool.poetry.extras]`, `[dependency-groups]`).
 *
 * What `poetry install` installs by default: the project's dependencies (required) and its groups;
 * its extras only when asked for (`--extras`, `--all-extras`). A dependency entry `{ optional = true }`
 * of a package is installed only when one of that package's extras that lists it is turned on, by
 * an entry `pkg = { extras = ["x"] }` or a requirement `"pkg[x] (>=1)"`. So, as for uv.lock, scopes
 * come from reachability over (package, extra) states: what the project's dependencies reach is
 * required, what only its optional dependencies and extras reach optional, what only its groups
 * other than main reach dev; and a package's extra is an edge only where something turns it on.
 */
import { appendAll, type Cataloger, type CatalogResult, type ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component } from "../../model/index.ts";
import { arrayTableLines, decodeUtf8, isObject, parseTomlText, str } from "../common/text.ts";
import { hashesOfFileEntries, makeComponent, pypiComponent } from "../common/component.ts";
import { normalizePythonName } from "../../ecosystem/pep503.ts";
import { addPackage, newGraph, refsOf, requirement, scopesByReach, type PythonLockGraph, type PythonRequirement } from "./python-locks.ts";

const NAME = "poetry-lock";

async function companionToml(fs: ExtractInput["fs"], lockPath: string, name: string): Promise<Record<string, unknown> | undefined> {
  const path = `${lockPath.includes("/") ? lockPath.slice(0, lockPath.lastIndexOf("/") + 1) : ""}${name}`;
  if (!(await fs.exists(path))) return undefined;
  try {
    return await parseTomlText(decodeUtf8(await fs.readFile(path, 16 * 1024 * 1024), path), path);
  } catch {
    return undefined;
  }
}
export { companionToml };

/** The constraints of one dependency entry: `"^1"`, `{ version, optional, extras, markers }` or a list of those. */
function constraintsOf(v: unknown): Record<string, unknown>[] {
  if (typeof v === "string") return [{ version: v }];
  if (isObject(v)) return [v];
  if (Array.isArray(v)) return v.flatMap((x) => (typeof x === "string" ? [{ version: x }] : isObject(x) ? [x] : []));
  return [];
}

function extrasOf(constraint: Record<string, unknown>): string[] {
  return Array.isArray(constraint.extras) ? constraint.extras.filter((e): e is string => typeof e === "string").map(normalizePythonName) : [];
}

/** The extras a marker names (`extra == "x"`, `extra == 'x'`). */
function markerExtras(constraint: Record<string, unknown>): string[] {
  const markers = str(constraint.markers);
  return markers ? [...markers.matchAll(/\bextra\s*==\s*["']([^"']+)["']/g)].map((m) => normalizePythonName(m[1] as string)) : [];
}

/** The project's declared dependencies (with the extras each asks for), by how they are installed. */
export interface PoetryRoots {
  name?: string;
  version?: string;
  required: PythonRequirement[];
  optional: PythonRequirement[];
  dev: PythonRequirement[];
}

/** Declared dependencies of a pyproject.toml: runtime, optional (extras) and groups. */
export function pyprojectDeclared(pyproject: Record<string, unknown> | undefined): PoetryRoots {
  const out: PoetryRoots = { required: [], optional: [], dev: [] };
  if (!pyproject) return out;
  const project = isObject(pyproject.project) ? pyproject.project : {};
  const tool = isObject(pyproject.tool) ? pyproject.tool : {};
  const poetry = isObject(tool.poetry) ? tool.poetry : {};
  const name = str(project.name) ?? str(poetry.name);
  const version = str(project.version) ?? str(poetry.version);
  if (name) out.name = name;
  if (version) out.version = version;
  const specs = (list: unknown, into: PythonRequirement[]): void => {
    if (Array.isArray(list)) for (const d of list) if (typeof d === "string") {
      const r = requirement(d);
      if (r) into.push(r);
    }
  };
  /** A `name = constraint(s)` table; `optional = true` entries go to `optional` when given. */
  const table = (t: unknown, into: PythonRequirement[], optional?: PythonRequirement[]): void => {
    if (!isObject(t)) return;
    for (const [k, v] of Object.entries(t)) {
      if (k.toLowerCase() === "python") continue;
      for (const c of constraintsOf(v)) (optional && c.optional === true ? optional : into).push({ name: k, extras: extrasOf(c) });
    }
  };
  specs(project.dependencies, out.required);
  if (isObject(project["optional-dependencies"])) for (const list of Object.values(project["optional-dependencies"])) specs(list, out.optional);
  table(poetry.dependencies, out.required, out.optional);
  if (isObject(poetry.extras)) for (const list of Object.values(poetry.extras)) if (Array.isArray(list)) for (const n of list) if (typeof n === "string") out.optional.push({ name: n, extras: [] });
  table(poetry["dev-dependencies"], out.dev);
  if (isObject(poetry.group)) {
    for (const [g, v] of Object.entries(poetry.group)) if (isObject(v)) table(v.dependencies, g === "main" ? out.required : out.dev);
  }
  const groups = pyproject["dependency-groups"];
  if (isObject(groups)) for (const list of Object.values(groups)) specs(list, out.dev);
  return out;
}

interface PoetryPackage {
  c: Component;
  /** The dependencies always installed with it. */
  deps: PythonRequirement[];
  /** extra → the dependencies it turns on. */
  extras: Map<string, PythonRequirement[]>;
}

/** `[package.dependencies]` and `[package.extras]` of one package. */
function dependenciesOf(raw: Record<string, unknown>): Pick<PoetryPackage, "deps" | "extras"> {
  const deps: PythonRequirement[] = [];
  const extras = new Map<string, PythonRequirement[]>();
  /** normalized name → the extras its entries ask for (optional or not). */
  const entryExtras = new Map<string, string[]>();
  const addTo = (extra: string, r: PythonRequirement): void => {
    const list = extras.get(extra) ?? [];
    const same = list.find((x) => normalizePythonName(x.name) === normalizePythonName(r.name));
    if (same) for (const e of r.extras) {
      if (!same.extras.includes(e)) same.extras.push(e);
    }
    else list.push({ name: r.name, extras: [...r.extras] });
    extras.set(extra, list);
  };
  const byMarker: [string, PythonRequirement][] = [];
  if (isObject(raw.dependencies)) {
    for (const [name, v] of Object.entries(raw.dependencies)) {
      const all = constraintsOf(v);
      const on = all.filter((c) => c.optional !== true);
      entryExtras.set(normalizePythonName(name), [...new Set(all.flatMap(extrasOf))]);
      if (on.length > 0) deps.push({ name, extras: [...new Set(on.flatMap(extrasOf))] });
      for (const c of all) if (c.optional === true) for (const extra of markerExtras(c)) byMarker.push([extra, { name, extras: extrasOf(c) }]);
    }
  }
  if (isObject(raw.extras)) {
    for (const [extra, list] of Object.entries(raw.extras)) {
      if (!Array.isArray(list)) continue;
      for (const spec of list) {
        const r = typeof spec === "string" ? requirement(spec) : undefined;
        if (r) addTo(normalizePythonName(extra), { name: r.name, extras: [...r.extras, ...(entryExtras.get(normalizePythonName(r.name)) ?? [])] });
      }
    }
  }
  // An optional entry whose marker names an extra that [package.extras] does not list it under.
  for (const [extra, r] of byMarker) addTo(extra, r);
  return { deps, extras };
}

export async function parsePoetryLock(text: string, file: string, pyproject?: Record<string, unknown>): Promise<CatalogResult> {
  const doc = await parseTomlText(text, file);
  if (!Array.isArray(doc.package)) throw new InputError("not a poetry.lock (no [[package]] tables)", { file, line: 1 });
  const lines = arrayTableLines(text, "package");
  const g: PythonLockGraph = newGraph();
  const packages = new Map<string, PoetryPackage>();
  const devOnly = new Set<string>();
  doc.package.forEach((raw: unknown, i: number) => {
    if (!isObject(raw)) return;
    const name = str(raw.name);
    if (!name) return;
    const version = str(raw.version);
    const hashes = hashesOfFileEntries(raw.files);
    const source = isObject(raw.source) ? raw.source : undefined;
    const properties: Record<string, string> = {};
    if (source && typeof source.type === "string" && source.type !== "legacy") properties["tollgate:python:source"] = `${source.type}:${str(source.url) ?? ""}${str(source.resolved_reference) ? `@${str(source.resolved_reference)}` : ""}`;
    const c = addPackage(
      g,
      pypiComponent({ name, version, hashes, location: lines[i] !== undefined ? { path: file, line: lines[i] } : { path: file }, foundBy: NAME, unresolved: version === undefined, properties }),
    );
    const groups = Array.isArray(raw.groups) ? raw.groups.filter((x): x is string => typeof x === "string") : raw.category === "dev" ? ["dev"] : ["main"];
    if (!groups.includes("main")) devOnly.add(c.ref);
    const p = packages.get(c.ref);
    const { deps, extras } = dependenciesOf(raw);
    if (!p) packages.set(c.ref, { c, deps, extras });
    else {
      // The same name and version twice (a lock written by hand): both tables count.
      appendAll(p.deps, deps);
      for (const [k, list] of extras) p.extras.set(k, [...(p.extras.get(k) ?? []), ...list]);
    }
  });
  const declared = pyprojectDeclared(pyproject);
  const targets = (r: PythonRequirement): string[] => refsOf(g, r.name);
  // The extras something turns on ("ref\0extra"), found from the always-on lists outwards.
  const activated = new Set<string>();
  const lists: PythonRequirement[][] = [declared.required, declared.optional, declared.dev];
  for (const p of packages.values()) lists.push(p.deps);
  while (lists.length > 0) {
    for (const r of lists.pop() as PythonRequirement[]) for (const extra of r.extras) for (const to of targets(r)) {
      const key = `${to}\u0000${extra}`;
      const list = packages.get(to)?.extras.get(extra);
      if (activated.has(key) || !list) continue;
      activated.add(key);
      lists.push(list);
    }
  }
  for (const p of packages.values()) {
    for (const r of p.deps) for (const to of targets(r)) g.set.addEdge(p.c.ref, to);
    for (const [extra, list] of p.extras) if (activated.has(`${p.c.ref}\u0000${extra}`)) for (const r of list) for (const to of targets(r)) g.set.addEdge(p.c.ref, to);
  }
  const components = g.set.list();
  // Scopes: the states (package, extra or "") each root list reaches, strongest list first.
  scopesByReach(packages, targets, [
    { scope: "required", lists: [declared.required] },
    { scope: "optional", lists: [declared.optional] },
    { scope: "dev", lists: [declared.dev] },
  ]);
  // A package the lock puts only in groups other than main is dev unless the project's dependencies reach it.
  for (const c of components) if (devOnly.has(c.ref) && c.scope !== "required") c.scope = "dev";
  const direct = new Set([...declared.required, ...declared.optional, ...declared.dev].flatMap(targets));
  for (const c of components) if (direct.has(c.ref)) c.direct = true;
  const root = makeComponent({
    name: declared.name ?? file,
    version: declared.version,
    purl: declared.name ? pypiComponent({ name: declared.name, version: declared.version, location: { path: file }, foundBy: NAME }).purl : undefined,
    ecosystem: "PyPI",
    type: "application",
    location: { path: file },
    foundBy: NAME,
    ref: declared.name ? undefined : `pypi-root:${file}`,
  });
  root.dependencies = [...direct].sort();
  return { components, root };
}

export const poetryLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "poetry.lock" || entry.path.endsWith("/poetry.lock"),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    return parsePoetryLock(decodeUtf8(contents, entry.path), entry.path, await companionToml(fs, entry.path, "pyproject.toml"));
  },
};
