/**
 * `poetry.lock` (Poetry 1.x and 2.x): `[[package]]` with name, version, `files` (sha256 hashes),
 * `[package.dependencies]`, and the groups (`groups = ["main", "dev"]`, or the older
 * `category = "dev"`). Direct dependencies come from pyproject.toml beside it
 * (`[tool.poetry.dependencies]`, `[tool.poetry.group.<g>.dependencies]`, `[project.dependencies]`).
 */
import { appendAll, type Cataloger, type CatalogResult, type ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import { arrayTableLines, decodeUtf8, hashesOfFileEntries, isObject, makeComponent, parseTomlText, pypiComponent, str } from "./common.ts";
import { addPackage, finish, newGraph, refsOf, requirementName } from "./python-locks.ts";

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

/** Declared dependency names of a pyproject.toml: runtime and per group. */
export function pyprojectDeclared(pyproject: Record<string, unknown> | undefined): { name?: string; version?: string; required: string[]; dev: string[]; optional: string[] } {
  const out: { name?: string; version?: string; required: string[]; dev: string[]; optional: string[] } = { required: [], dev: [], optional: [] };
  if (!pyproject) return out;
  const project = isObject(pyproject.project) ? pyproject.project : {};
  const tool = isObject(pyproject.tool) ? pyproject.tool : {};
  const poetry = isObject(tool.poetry) ? tool.poetry : {};
  const name = str(project.name) ?? str(poetry.name);
  const version = str(project.version) ?? str(poetry.version);
  if (name) out.name = name;
  if (version) out.version = version;
  if (Array.isArray(project.dependencies)) for (const d of project.dependencies) if (typeof d === "string") out.required.push(requirementName(d) ?? d);
  if (isObject(project["optional-dependencies"])) for (const list of Object.values(project["optional-dependencies"])) if (Array.isArray(list)) for (const d of list) if (typeof d === "string") out.optional.push(requirementName(d) ?? d);
  if (isObject(poetry.dependencies)) for (const k of Object.keys(poetry.dependencies)) if (k.toLowerCase() !== "python") out.required.push(k);
  if (isObject(poetry["dev-dependencies"])) appendAll(out.dev, Object.keys(poetry["dev-dependencies"]));
  if (isObject(poetry.group)) {
    for (const [g, v] of Object.entries(poetry.group)) {
      if (isObject(v) && isObject(v.dependencies)) appendAll(g === "main" ? out.required : out.dev, Object.keys(v.dependencies));
    }
  }
  const groups = pyproject["dependency-groups"];
  if (isObject(groups)) for (const list of Object.values(groups)) if (Array.isArray(list)) for (const d of list) if (typeof d === "string") out.dev.push(requirementName(d) ?? d);
  return out;
}

export async function parsePoetryLock(text: string, file: string, pyproject?: Record<string, unknown>): Promise<CatalogResult> {
  const doc = await parseTomlText(text, file);
  if (!Array.isArray(doc.package)) throw new InputError("not a poetry.lock (no [[package]] tables)", { file, line: 1 });
  const lines = arrayTableLines(text, "package");
  const g = newGraph();
  const deps: [string, string[]][] = [];
  const devOnly: string[] = [];
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
    if (!groups.includes("main")) devOnly.push(c.ref);
    deps.push([c.ref, isObject(raw.dependencies) ? Object.keys(raw.dependencies) : []]);
  });
  for (const [from, names] of deps) for (const n of names) for (const to of refsOf(g, n)) g.set.addEdge(from, to);
  const declared = pyprojectDeclared(pyproject);
  const required = declared.required.flatMap((n) => refsOf(g, n));
  const dev = [...declared.dev.flatMap((n) => refsOf(g, n)), ...devOnly];
  const optional = declared.optional.flatMap((n) => refsOf(g, n));
  const components = finish(g, { required, dev, optional });
  // A package only in non-main groups is dev even when no declared root reaches it.
  const devSet = new Set(devOnly);
  for (const c of components) if (devSet.has(c.ref) && c.scope !== "required") c.scope = "dev";
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
  root.dependencies = [...new Set([...required, ...declared.dev.flatMap((n) => refsOf(g, n)), ...optional])].sort();
  return { components, root };
}

export const poetryLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "poetry.lock" || entry.path.endsWith("/poetry.lock"),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    return parsePoetryLock(decodeUtf8(contents, entry.path), entry.path, await companionToml(fs, entry.path, "pyproject.toml"));
  },
};
