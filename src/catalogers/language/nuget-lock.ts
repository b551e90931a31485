/**
 * .NET `packages.lock.json` (NuGet lock file, version 1 and 2): per target framework, each package
 * with `type` (Direct, Transitive, CentralTransitive, Project), `resolved`, `contentHash` (base64
 * SHA-512 of the .nupkg) and `dependencies` (edges).
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import { ComponentSet, makeComponent, purlOf } from "../common/component.ts";
import { decodeUtf8, isObject, jsonKeyLines, parseJsonText, str, stringRecord } from "../common/text.ts";

const NAME = "nuget-lock";

export function parseNugetLock(text: string, file: string): CatalogResult {
  const doc = parseJsonText(text, file);
  if (!isObject(doc) || !isObject(doc.dependencies)) throw new InputError("not a packages.lock.json (no dependencies)", { file, line: 1 });
  const lines = jsonKeyLines(text);
  const set = new ComponentSet();
  const direct = new Set<string>();
  for (const [framework, packages] of Object.entries(doc.dependencies)) {
    if (!isObject(packages)) continue;
    const refByName = new Map<string, string>();
    const edges: [string, string[]][] = [];
    for (const [name, raw] of Object.entries(packages)) {
      if (!isObject(raw)) continue;
      const type = str(raw.type) ?? "";
      const version = type === "Project" ? undefined : str(raw.resolved);
      const hash = str(raw.contentHash);
      const hex = hash && /^[A-Za-z0-9+/]+={0,2}$/.test(hash) ? Buffer.from(hash, "base64").toString("hex") : "";
      const line = lines.get(`dependencies\u0000${framework}\u0000${name}`);
      const c = set.add(
        makeComponent({
          name,
          version,
          purl: type === "Project" ? undefined : purlOf("nuget", undefined, name, version),
          ecosystem: "NuGet",
          type: type === "Project" ? "application" : "library",
          scope: "required",
          hashes: hex.length === 128 ? [{ alg: "SHA-512", content: hex }] : [],
          location: line !== undefined ? { path: file, line } : { path: file },
          foundBy: NAME,
          unresolved: version === undefined && type !== "Project",
          properties: { "tollgate:nuget:framework": framework },
          ...(type === "Project" ? { ref: `nuget-project:${name}` } : {}),
        }),
      );
      refByName.set(name.toLowerCase(), c.ref);
      if (type === "Direct") direct.add(c.ref);
      edges.push([c.ref, Object.keys(stringRecord(raw.dependencies))]);
    }
    for (const [from, names] of edges) for (const n of names) {
      const to = refByName.get(n.toLowerCase());
      if (to) set.addEdge(from, to);
    }
  }
  const components = set.list();
  for (const c of components) if (direct.has(c.ref)) c.direct = true;
  const root = makeComponent({ name: file, type: "application", ecosystem: "NuGet", location: { path: file }, foundBy: NAME, ref: `nuget-root:${file}` });
  root.dependencies = [...direct].sort();
  return { components, root };
}

export const nugetLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "packages.lock.json" || entry.path.endsWith("/packages.lock.json"),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parseNugetLock(decodeUtf8(contents, entry.path), entry.path);
  },
};
