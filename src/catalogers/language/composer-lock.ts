/**
 * PHP `composer.lock` (https://getcomposer.org/doc/01-basic-usage.md#commit-your-composer-lock-file-to-version-control):
 * `packages` (runtime) and `packages-dev`, each with name "vendor/package", version, `dist.shasum`
 * (sha1 when set), license and `require` (edges; platform requirements such as php and ext-* skipped).
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import { companionJson } from "./manifest.ts";
import { ComponentSet, licensesOf, makeComponent, purlOf } from "../common/component.ts";
import { decodeUtf8, isObject, parseJsonText, str, stringRecord } from "../common/text.ts";

const NAME = "composer-lock";

function composerPurl(name: string, version: string | undefined): string | undefined {
  const slash = name.indexOf("/");
  return slash === -1 ? purlOf("composer", undefined, name, version) : purlOf("composer", name.slice(0, slash), name.slice(slash + 1), version);
}

export function parseComposerLock(text: string, file: string, manifest?: Record<string, unknown>): CatalogResult {
  const doc = parseJsonText(text, file);
  if (!isObject(doc)) throw new InputError("not a composer.lock (expected a JSON object)", { file, line: 1 });
  const set = new ComponentSet();
  const byName = new Map<string, string>();
  const edges: [string, string[]][] = [];
  // Lines: each package object's "name" key, in order (the shallowest "name" keys; authors' are deeper).
  const found: { indent: number; line: number }[] = [];
  const re = /^( *)"name":/gm;
  let line = 1;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    for (let i = text.indexOf("\n", last); i !== -1 && i < m.index; i = text.indexOf("\n", i + 1)) line++;
    last = m.index;
    found.push({ indent: (m[1] as string).length, line });
  }
  const minIndent = Math.min(...found.map((f) => f.indent));
  const nameLines = found.filter((f) => f.indent === minIndent).map((f) => f.line);
  let n = 0;
  for (const [section, scope] of [
    ["packages", "required"],
    ["packages-dev", "dev"],
  ] as const) {
    const list = doc[section];
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      if (!isObject(raw)) continue;
      const name = str(raw.name);
      if (!name) continue;
      const version = str(raw.version);
      const dist = isObject(raw.dist) ? raw.dist : {};
      const shasum = str(dist.shasum);
      const source = isObject(raw.source) ? raw.source : {};
      const properties: Record<string, string> = {};
      if (str(source.reference)) properties["tollgate:composer:source-reference"] = str(source.reference) as string;
      const l = nameLines[n++];
      const c = set.add(
        makeComponent({
          name,
          version,
          purl: composerPurl(name, version),
          ecosystem: "Packagist",
          scope,
          hashes: shasum && /^[0-9a-f]{40}$/.test(shasum) ? [{ alg: "SHA-1", content: shasum }] : [],
          licenses: licensesOf(raw.license),
          location: l !== undefined ? { path: file, line: l } : { path: file },
          foundBy: NAME,
          unresolved: version === undefined,
          properties,
        }),
      );
      byName.set(name.toLowerCase(), c.ref);
      edges.push([c.ref, Object.keys(stringRecord(raw.require))]);
    }
  }
  for (const [from, names] of edges) for (const name of names) {
    const to = byName.get(name.toLowerCase());
    if (to) set.addEdge(from, to);
  }
  const components = set.list();
  const rootName = str(manifest?.name);
  const direct = [...Object.keys(stringRecord(manifest?.require)), ...Object.keys(stringRecord(manifest?.["require-dev"]))].map((d) => byName.get(d.toLowerCase())).filter((x): x is string => x !== undefined);
  for (const c of components) if (direct.includes(c.ref)) c.direct = true;
  const rootPurl = rootName ? composerPurl(rootName, str(manifest?.version)) : undefined;
  const root = makeComponent({ name: rootName ?? file, version: str(manifest?.version), purl: rootPurl, ecosystem: "Packagist", type: "application", location: { path: file }, foundBy: NAME, ref: rootPurl ?? `composer-root:${file}` });
  root.dependencies = [...new Set(direct)].sort();
  return { components, root };
}

export const composerLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "composer.lock" || entry.path.endsWith("/composer.lock"),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    return parseComposerLock(decodeUtf8(contents, entry.path), entry.path, await companionJson(fs, entry.path, "composer.json"));
  },
};
