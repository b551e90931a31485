/**
 * `Pipfile.lock` (pipenv): JSON with `default` (runtime) and `develop` (dev) sections, each mapping a
 * name to `{ version: "==1.2.3", hashes: ["sha256:…"] }`. It holds no edges; every package is
 * listed flat, as pipenv resolved it.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Hash } from "../../model/index.ts";
import { ComponentSet, hashFromPrefixed, pypiComponent } from "../common/component.ts";
import { decodeUtf8, isObject, jsonKeyLines, parseJsonText, str } from "../common/text.ts";

const NAME = "pipfile-lock";

export function parsePipfileLock(text: string, file: string): CatalogResult {
  const doc = parseJsonText(text, file);
  if (!isObject(doc)) throw new InputError("not a Pipfile.lock (expected a JSON object)", { file, line: 1 });
  const lines = jsonKeyLines(text);
  const set = new ComponentSet();
  for (const [section, scope] of [
    ["default", "required"],
    ["develop", "dev"],
  ] as const) {
    const packages = doc[section];
    if (!isObject(packages)) continue;
    for (const [name, raw] of Object.entries(packages)) {
      if (!isObject(raw)) continue;
      const pin = /^===?\s*(\S+)$/.exec(str(raw.version) ?? "");
      const version = pin?.[1];
      const hashes: Hash[] = [];
      if (Array.isArray(raw.hashes)) for (const h of raw.hashes) if (typeof h === "string") {
        const hash = hashFromPrefixed(h);
        if (hash) hashes.push(hash);
      }
      const properties: Record<string, string> = {};
      if (typeof raw.git === "string") properties["tollgate:python:source"] = `git:${raw.git}${typeof raw.ref === "string" ? `@${raw.ref}` : ""}`;
      const line = lines.get(`${section}\u0000${name}`);
      set.add(pypiComponent({ name, version, hashes, scope, location: line !== undefined ? { path: file, line } : { path: file }, foundBy: NAME, unresolved: version === undefined, properties }));
    }
  }
  return { components: set.list() };
}

export const pipfileLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "Pipfile.lock" || entry.path.endsWith("/Pipfile.lock"),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parsePipfileLock(decodeUtf8(contents, entry.path), entry.path);
  },
};
