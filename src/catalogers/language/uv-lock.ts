/**
 * `uv.lock` (https://docs.astral.sh/uv/concepts/projects/layout/#the-lockfile): `[[package]]` with
 * `source` (registry, git, path; `editable`/`virtual` "." is the project itself), `dependencies`
 * (`{ name = …, extra = [...] }`), `optional-dependencies` (extras), `dev-dependencies` (the
 * dependency groups), and sdist/wheel hashes.
 *
 * What `uv sync` installs by default: the project's dependencies (required) and the `dev` group;
 * an extra only when asked for (`--extra`, `--all-extras`), and `{ name = "x", extra = ["y"] }` turns
 * on x's extra y. So a package only the project's extras reach is optional, one only its groups
 * reach is dev, and a package's extra is an edge only where something in the lock turns it on.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component, Hash } from "../../model/index.ts";
import { arrayTableLines, decodeUtf8, isObject, parseTomlText, str } from "../common/text.ts";
import { hashFromPrefixed, makeComponent, pypiComponent } from "../common/component.ts";
import { addPackage, newGraph, refsOf, scopesByReach, type PythonLockGraph } from "./python-locks.ts";

const NAME = "uv-lock";

/** One `{ name, version?, extra? }` entry of a dependency list. */
interface UvDep {
  name: string;
  version: string | undefined;
  extras: string[];
}

interface UvPackage {
  c: Component;
  isProject: boolean;
  /** The project at the lock's own folder (`editable`/`virtual` "."), the root of the SBOM. */
  isRoot: boolean;
  deps: UvDep[];
  /** extra name → its dependencies. */
  extras: Map<string, UvDep[]>;
  /** Every dependency group's entries (dev and the others). */
  groups: UvDep[];
}

function depList(v: unknown): UvDep[] {
  if (!Array.isArray(v)) return [];
  const out: UvDep[] = [];
  for (const d of v) {
    const name = isObject(d) ? str(d.name) : undefined;
    if (!isObject(d) || name === undefined) continue;
    const extras = Array.isArray(d.extra) ? d.extra.filter((e): e is string => typeof e === "string") : [];
    out.push({ name, version: str(d.version), extras });
  }
  return out;
}

function depTable(v: unknown): Map<string, UvDep[]> {
  const out = new Map<string, UvDep[]>();
  if (isObject(v)) for (const k in v) out.set(k, depList(v[k]));
  return out;
}

/** The packages a dependency entry names (a lock may hold several versions of one name; `version` picks one). */
function targetsOf(g: PythonLockGraph, byRef: Map<string, UvPackage>, d: UvDep): string[] {
  const refs = refsOf(g, d.name);
  if (d.version === undefined || refs.length < 2) return refs;
  const picked = refs.filter((r) => byRef.get(r)?.c.version === d.version);
  return picked.length > 0 ? picked : refs;
}

export async function parseUvLock(text: string, file: string): Promise<CatalogResult> {
  const doc = await parseTomlText(text, file);
  if (!Array.isArray(doc.package)) throw new InputError("not a uv.lock (no [[package]] tables)", { file, line: 1 });
  const lines = arrayTableLines(text, "package");
  const g = newGraph();
  const packages = new Map<string, UvPackage>();
  doc.package.forEach((raw: unknown, i: number) => {
    if (!isObject(raw)) return;
    const name = str(raw.name);
    if (!name) return;
    const version = str(raw.version);
    const source = isObject(raw.source) ? raw.source : {};
    const isProject = typeof source.editable === "string" || typeof source.virtual === "string" || typeof source.workspace === "string";
    const hashes: Hash[] = [];
    const files = [...(isObject(raw.sdist) ? [raw.sdist] : []), ...(Array.isArray(raw.wheels) ? raw.wheels : [])];
    for (const f of files) if (isObject(f) && typeof f.hash === "string") {
      const h = hashFromPrefixed(f.hash);
      if (h && !hashes.some((x) => x.content === h.content)) hashes.push(h);
    }
    const properties: Record<string, string> = {};
    if (typeof source.git === "string") properties["tollgate:python:source"] = `git:${source.git}`;
    else if (typeof source.path === "string" || typeof source.directory === "string") properties["tollgate:python:source"] = `path:${str(source.path) ?? str(source.directory) ?? ""}`;
    const location = lines[i] !== undefined ? { path: file, line: lines[i] } : { path: file };
    const c = addPackage(g, pypiComponent({ name, version, hashes: isProject ? [] : hashes, location, foundBy: NAME, type: isProject ? "application" : "library", unresolved: version === undefined && !isProject, properties }));
    const groups: UvDep[] = [];
    for (const list of depTable(raw["dev-dependencies"]).values()) for (const d of list) groups.push(d);
    const isRoot = source.editable === "." || source.virtual === ".";
    if (!packages.has(c.ref)) packages.set(c.ref, { c, isProject, isRoot, deps: depList(raw.dependencies), extras: depTable(raw["optional-dependencies"]), groups });
  });
  const projects = [...packages.values()].filter((p) => p.isProject);
  const targets = (d: UvDep): string[] => targetsOf(g, packages, d);
  // The extras something turns on ("ref\0extra"), found from the always-on lists outwards.
  const activated = new Set<string>();
  const lists: UvDep[][] = [];
  for (const p of packages.values()) lists.push(p.deps);
  for (const p of projects) {
    for (const list of p.extras.values()) lists.push(list);
    lists.push(p.groups);
  }
  while (lists.length > 0) {
    for (const d of lists.pop() as UvDep[]) for (const extra of d.extras) for (const to of targets(d)) {
      const key = `${to}\u0000${extra}`;
      const list = packages.get(to)?.extras.get(extra);
      if (activated.has(key) || !list) continue;
      activated.add(key);
      lists.push(list);
    }
  }
  const addEdges = (from: string, list: readonly UvDep[]): void => {
    for (const d of list) for (const to of targets(d)) g.set.addEdge(from, to);
  };
  for (const p of packages.values()) {
    addEdges(p.c.ref, p.deps);
    for (const [extra, list] of p.extras) if (p.isProject || activated.has(`${p.c.ref}\u0000${extra}`)) addEdges(p.c.ref, list);
    if (p.isProject) addEdges(p.c.ref, p.groups);
  }
  const components = g.set.list();
  const direct = new Set<string>();
  for (const p of projects) {
    p.c.scope = "required";
    for (const list of [p.deps, ...p.extras.values(), p.groups]) for (const d of list) for (const to of targets(d)) direct.add(to);
  }
  for (const c of components) if (direct.has(c.ref)) c.direct = true;
  // Scopes: the states (package, extra or "") each root list reaches, strongest list first; the
  // projects themselves are the roots, never entered.
  scopesByReach(
    packages,
    targets,
    [
      { scope: "required", lists: projects.map((p) => p.deps) },
      { scope: "optional", lists: projects.flatMap((p) => [...p.extras.values()]) },
      { scope: "dev", lists: projects.map((p) => p.groups) },
    ],
    { entered: projects.map((p) => `${p.c.ref}\u0000`) },
  );
  const rootProject = projects.find((p) => p.isRoot) ?? projects[0];
  if (rootProject) {
    const root = rootProject.c;
    return { components: components.filter((c) => c.ref !== root.ref), root };
  }
  const root = makeComponent({ name: file, type: "application", ecosystem: "PyPI", location: { path: file }, foundBy: NAME, ref: `pypi-root:${file}` });
  root.dependencies = [...direct].sort();
  return { components, root };
}

export const uvLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "uv.lock" || entry.path.endsWith("/uv.lock"),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parseUvLock(decodeUtf8(contents, entry.path), entry.path);
  },
};
