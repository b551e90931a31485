/**
 * `pdm.lock` (https://pdm-project.org/latest/usage/lockfile/): `[[package]]` with name, version,
 * `groups` ("default" is runtime), `dependencies` as PEP 508 strings, and `files` hashes.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import { arrayTableLines, decodeUtf8, hashesOfFileEntries, isObject, makeComponent, parseTomlText, pypiComponent, str } from "./common.ts";
import { addPackage, finish, newGraph, refsOf, requirementName } from "./python-locks.ts";

const NAME = "pdm-lock";

export async function parsePdmLock(text: string, file: string): Promise<CatalogResult> {
  const doc = await parseTomlText(text, file);
  if (!Array.isArray(doc.package)) throw new InputError("not a pdm.lock (no [[package]] tables)", { file, line: 1 });
  const lines = arrayTableLines(text, "package");
  const g = newGraph();
  const edges: [string, string[]][] = [];
  const required: string[] = [];
  const dev: string[] = [];
  doc.package.forEach((raw: unknown, i: number) => {
    if (!isObject(raw)) return;
    const name = str(raw.name);
    if (!name) return;
    const version = str(raw.version);
    const hashes = hashesOfFileEntries(raw.files);
    const c = addPackage(g, pypiComponent({ name, version, hashes, location: lines[i] !== undefined ? { path: file, line: lines[i] } : { path: file }, foundBy: NAME, unresolved: version === undefined }));
    const groups = Array.isArray(raw.groups) ? raw.groups.filter((x): x is string => typeof x === "string") : ["default"];
    (groups.includes("default") ? required : dev).push(c.ref);
    const deps = Array.isArray(raw.dependencies) ? raw.dependencies.filter((x): x is string => typeof x === "string").map((d) => requirementName(d) ?? d) : [];
    edges.push([c.ref, deps]);
  });
  for (const [from, names] of edges) for (const n of names) for (const to of refsOf(g, n)) g.set.addEdge(from, to);
  // pdm.lock does not say which packages the project names itself; groups give the scope.
  const components = finish(g, { required, dev });
  for (const c of components) delete c.direct;
  const root = makeComponent({ name: file, type: "application", ecosystem: "PyPI", location: { path: file }, foundBy: NAME, ref: `pypi-root:${file}` });
  return { components, root };
}

export const pdmLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "pdm.lock" || entry.path.endsWith("/pdm.lock"),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parsePdmLock(decodeUtf8(contents, entry.path), entry.path);
  },
};
