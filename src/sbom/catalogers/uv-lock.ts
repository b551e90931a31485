/**
 * `uv.lock` (https://docs.astral.sh/uv/concepts/projects/layout/#the-lockfile): `[[package]]` with
 * `source` (registry, git, path; `editable`/`virtual` "." is the project itself), `dependencies`
 * (`{ name = … }`), `optional-dependencies`, `dev-dependencies` (per group), and sdist/wheel hashes.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component, Hash } from "../../model/index.ts";
import { arrayTableLines, decodeUtf8, hashFromPrefixed, isObject, makeComponent, parseTomlText, pypiComponent, str } from "./common.ts";
import { addPackage, finish, newGraph, refsOf } from "./python-locks.ts";

const NAME = "uv-lock";

function depNames(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((d) => (isObject(d) ? str(d.name) : undefined)).filter((x): x is string => x !== undefined);
}

function groupNames(v: unknown): string[] {
  return isObject(v) ? Object.values(v).flatMap(depNames) : [];
}

export async function parseUvLock(text: string, file: string): Promise<CatalogResult> {
  const doc = await parseTomlText(text, file);
  if (!Array.isArray(doc.package)) throw new InputError("not a uv.lock (no [[package]] tables)", { file, line: 1 });
  const lines = arrayTableLines(text, "package");
  const g = newGraph();
  const edges: [string, string[]][] = [];
  const projects: { c: Component; required: string[]; optional: string[]; dev: string[] }[] = [];
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
    const optional = isObject(raw["optional-dependencies"]) ? Object.values(raw["optional-dependencies"]).flatMap(depNames) : [];
    const dev = groupNames(raw["dev-dependencies"]);
    edges.push([c.ref, [...depNames(raw.dependencies), ...optional]]);
    if (isProject) projects.push({ c, required: depNames(raw.dependencies), optional, dev });
  });
  for (const [from, names] of edges) for (const n of names) for (const to of refsOf(g, n)) g.set.addEdge(from, to);
  const rootProject = projects.find((p) => p.c.locations.length > 0) ?? undefined;
  const required = projects.flatMap((p) => p.required.flatMap((n) => refsOf(g, n)));
  const optional = projects.flatMap((p) => p.optional.flatMap((n) => refsOf(g, n)));
  const dev = projects.flatMap((p) => p.dev.flatMap((n) => refsOf(g, n)));
  for (const p of projects) p.c.scope = "required";
  let components = finish(g, { required, dev, optional });
  let root: Component;
  if (rootProject) {
    root = rootProject.c;
    components = components.filter((c) => c.ref !== root.ref);
    root.dependencies = [...new Set([...root.dependencies, ...rootProject.dev.flatMap((n) => refsOf(g, n))])].sort();
  } else {
    root = makeComponent({ name: file, type: "application", ecosystem: "PyPI", location: { path: file }, foundBy: NAME, ref: `pypi-root:${file}` });
    root.dependencies = [...new Set([...required, ...optional, ...dev])].sort();
  }
  return { components, root };
}

export const uvLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "uv.lock" || entry.path.endsWith("/uv.lock"),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parseUvLock(decodeUtf8(contents, entry.path), entry.path);
  },
};
