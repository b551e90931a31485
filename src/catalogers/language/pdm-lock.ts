/**
 * `pdm.lock` (https://pdm-project.org/latest/usage/lockfile/, lock format 4.x): `[[package]]` with
 * name, version, `dependencies` as PEP 508 strings (`"y[extra]>=2"`), `files` hashes, and, with the
 * `inherit_metadata` strategy (pdm's default since 2.11), `groups`: the groups whose resolution
 * installs that entry. A package installed with extras has a second entry of the same name and
 * version with `extras = [...]`, whose dependencies are the package itself and what those extras add.
 * pyproject.toml beside the lock names the project, its dependencies, its extras
 * (`[project.optional-dependencies]`, locked as groups of the same names) and its dependency groups
 * (`[dependency-groups]`, `[tool.pdm.dev-dependencies]`).
 *
 * Scopes: pdm computed the groups of each entry over the (package, extras) graph, with markers
 * evaluated against the project's Python range, so the lock's `groups` are used as written:
 * "default" is required; otherwise one of the project's optional-dependencies groups is optional;
 * any other group is dev. A lock without `groups` (older pdm) gets its scopes by reachability over
 * (package, extra) states from the pyproject, as uv.lock's and poetry.lock's catalogers do; with no
 * pyproject either nothing says otherwise, and every package is required.
 *
 * Edges: a package's extra is an edge where something turns it on: an entry the lock puts in some
 * group, or one reached from the project's and the lock's requirements (every extra, when there is
 * no pyproject to reach from: pdm locks only the extras something asked for).
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component, Scope } from "../../model/index.ts";
import { arrayTableLines, decodeUtf8, isObject, parseTomlText, str } from "../common/text.ts";
import { hashesOfFileEntries, makeComponent, pypiComponent } from "../common/component.ts";
import { normalizePythonName } from "../../ecosystem/pep503.ts";
import { companionToml } from "./poetry-lock.ts";
import { addPackage, newGraph, refsOf, requirement, scopesByReach, type PythonLockGraph, type PythonRequirement } from "./python-locks.ts";

const NAME = "pdm-lock";

interface PdmVariant {
  /** The extras of an entry with `extras = [...]` (normalized). */
  extras: string[];
  deps: PythonRequirement[];
  /** The entry's `groups` held at least one group. */
  grouped: boolean;
}

interface PdmPackage {
  c: Component;
  /** The dependencies of its entries without `extras`. */
  deps: PythonRequirement[];
  variants: PdmVariant[];
  /** The groups of all its entries (normalized). */
  groups: Set<string>;
  /** Some entry of it had `groups` (otherwise its scope comes from reachability). */
  hasGroups: boolean;
}

/** What a pyproject.toml declares, with the project's own extras ("proj[a]") and included groups expanded. */
interface PdmProject {
  name?: string;
  version?: string;
  required: PythonRequirement[];
  optional: PythonRequirement[];
  dev: PythonRequirement[];
  /** The names of [project.optional-dependencies] (normalized): pdm locks each as a group. */
  optionalGroups: Set<string>;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function requirements(v: unknown): PythonRequirement[] {
  const out: PythonRequirement[] = [];
  for (const s of stringList(v)) {
    const r = requirement(s);
    if (r) out.push(r);
  }
  return out;
}

function pdmProject(pyproject: Record<string, unknown>): PdmProject {
  const project = isObject(pyproject.project) ? pyproject.project : {};
  const tool = isObject(pyproject.tool) ? pyproject.tool : {};
  const pdm = isObject(tool.pdm) ? tool.pdm : {};
  const self = str(project.name) !== undefined ? normalizePythonName(str(project.name) as string) : undefined;
  const extras = new Map<string, unknown[]>();
  if (isObject(project["optional-dependencies"])) for (const [k, v] of Object.entries(project["optional-dependencies"])) if (Array.isArray(v)) extras.set(normalizePythonName(k), v);
  const groups = new Map<string, unknown[]>();
  const addGroups = (t: unknown): void => {
    if (isObject(t)) for (const [k, v] of Object.entries(t)) if (Array.isArray(v)) groups.set(normalizePythonName(k), [...(groups.get(normalizePythonName(k)) ?? []), ...v]);
  };
  addGroups(pyproject["dependency-groups"]);
  addGroups(pdm["dev-dependencies"]);
  /** A root list's requirements: "proj[a,b]" stands for the project's extras a and b, `{ include-group }` for that group. */
  const expand = (list: readonly unknown[], seenExtras: Set<string>, seenGroups: Set<string>, out: PythonRequirement[]): PythonRequirement[] => {
    for (const item of list) {
      if (isObject(item)) {
        const g = str(item["include-group"]);
        if (g !== undefined && !seenGroups.has(normalizePythonName(g))) {
          seenGroups.add(normalizePythonName(g));
          expand(groups.get(normalizePythonName(g)) ?? [], seenExtras, seenGroups, out);
        }
        continue;
      }
      const r = typeof item === "string" ? requirement(item) : undefined;
      if (!r) continue;
      if (self !== undefined && normalizePythonName(r.name) === self) {
        for (const e of r.extras) {
          if (seenExtras.has(e)) continue;
          seenExtras.add(e);
          expand(extras.get(e) ?? [], seenExtras, seenGroups, out);
        }
      } else out.push(r);
    }
    return out;
  };
  const out: PdmProject = {
    required: expand(Array.isArray(project.dependencies) ? project.dependencies : [], new Set(), new Set(), []),
    optional: [...extras.values()].flatMap((list) => expand(list, new Set(), new Set(), [])),
    dev: [...groups.values()].flatMap((list) => expand(list, new Set(), new Set(), [])),
    optionalGroups: new Set(extras.keys()),
  };
  const name = str(project.name);
  const version = str(project.version);
  if (name) out.name = name;
  if (version) out.version = version;
  return out;
}

export async function parsePdmLock(text: string, file: string, pyproject?: Record<string, unknown>): Promise<CatalogResult> {
  const doc = await parseTomlText(text, file);
  if (!Array.isArray(doc.package)) throw new InputError("not a pdm.lock (no [[package]] tables)", { file, line: 1 });
  const lines = arrayTableLines(text, "package");
  const g: PythonLockGraph = newGraph();
  const packages = new Map<string, PdmPackage>();
  doc.package.forEach((raw: unknown, i: number) => {
    if (!isObject(raw)) return;
    const name = str(raw.name);
    if (!name) return;
    const version = str(raw.version);
    const hashes = hashesOfFileEntries(raw.files);
    const c = addPackage(g, pypiComponent({ name, version, hashes, location: lines[i] !== undefined ? { path: file, line: lines[i] } : { path: file }, foundBy: NAME, unresolved: version === undefined }));
    let p = packages.get(c.ref);
    if (!p) packages.set(c.ref, (p = { c, deps: [], variants: [], groups: new Set(), hasGroups: false }));
    const groups = stringList(raw.groups).map(normalizePythonName);
    for (const x of groups) p.groups.add(x);
    if (groups.length > 0) p.hasGroups = true;
    // The entry of the package with extras lists the package itself ("x==1.0"): not a dependency.
    const deps = requirements(raw.dependencies).filter((r) => normalizePythonName(r.name) !== normalizePythonName(name));
    const extras = [...new Set(stringList(raw.extras).map(normalizePythonName))];
    if (extras.length > 0) p.variants.push({ extras, deps, grouped: groups.length > 0 });
    else p.deps.push(...deps);
  });
  const project = pyproject ? pdmProject(pyproject) : undefined;
  const targets = (r: PythonRequirement): string[] => refsOf(g, r.name);
  const extraDeps = (p: PdmPackage, extra: string): PythonRequirement[] => p.variants.filter((v) => v.extras.includes(extra)).flatMap((v) => v.deps);

  // The extras something turns on ("ref\0extra"), found from the always-on lists outwards.
  const activated = new Set<string>();
  const lists: PythonRequirement[][] = project ? [project.required, project.optional, project.dev] : [];
  for (const p of packages.values()) lists.push(p.deps);
  while (lists.length > 0) {
    for (const r of lists.pop() as PythonRequirement[]) for (const extra of r.extras) for (const to of targets(r)) {
      const key = `${to}\u0000${extra}`;
      const p = packages.get(to);
      if (activated.has(key) || !p) continue;
      activated.add(key);
      lists.push(extraDeps(p, extra));
    }
  }
  for (const p of packages.values()) {
    for (const r of p.deps) for (const to of targets(r)) g.set.addEdge(p.c.ref, to);
    for (const v of p.variants) {
      if (project && !v.grouped && !v.extras.some((e) => activated.has(`${p.c.ref}\u0000${e}`))) continue;
      for (const r of v.deps) for (const to of targets(r)) g.set.addEdge(p.c.ref, to);
    }
  }
  const components = g.set.list();

  // Scopes of packages without groups: the states (package, extra or "") each of the project's lists reaches.
  const reached = new Map<string, Scope>();
  if (project) {
    scopesByReach(
      packages,
      targets,
      [
        { scope: "required", lists: [project.required] },
        { scope: "optional", lists: [project.optional] },
        { scope: "dev", lists: [project.dev] },
      ],
      { extrasOf: extraDeps, onReach: (p, scope) => void (reached.has(p.c.ref) || reached.set(p.c.ref, scope)) },
    );
  }
  for (const p of packages.values()) {
    const c = p.c;
    delete c.scope;
    delete c.direct;
    if (p.hasGroups) c.scope = p.groups.has("default") ? "required" : [...p.groups].some((x) => project?.optionalGroups.has(x)) ? "optional" : "dev";
    else if (!project) c.scope = "required";
    else {
      const scope = reached.get(c.ref);
      if (scope !== undefined) c.scope = scope;
    }
  }
  if (!project) {
    // pdm.lock does not say which packages the project names itself.
    const root = makeComponent({ name: file, type: "application", ecosystem: "PyPI", location: { path: file }, foundBy: NAME, ref: `pypi-root:${file}` });
    return { components, root };
  }
  const direct = new Set([...project.required, ...project.optional, ...project.dev].flatMap(targets));
  for (const c of components) if (direct.has(c.ref)) c.direct = true;
  const root = makeComponent({
    name: project.name ?? file,
    version: project.version,
    purl: project.name ? pypiComponent({ name: project.name, version: project.version, location: { path: file }, foundBy: NAME }).purl : undefined,
    ecosystem: "PyPI",
    type: "application",
    location: { path: file },
    foundBy: NAME,
    ref: project.name ? undefined : `pypi-root:${file}`,
  });
  root.dependencies = [...direct].sort();
  return { components, root };
}

export const pdmLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "pdm.lock" || entry.path.endsWith("/pdm.lock"),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    return parsePdmLock(decodeUtf8(contents, entry.path), entry.path, await companionToml(fs, entry.path, "pyproject.toml"));
  },
};
