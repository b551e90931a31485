/**
 * Installed package metadata, for licenses and exact versions where packages are installed:
 * `node_modules/<name>/package.json` (each installed npm package's manifest) and Python
 * `*.dist-info/METADATA` (core metadata, https://packaging.python.org/en/latest/specifications/core-metadata/).
 * A package also in a lockfile merges with the lockfile's component (same purl), adding its license
 * and location; without a lockfile it is listed on its own, without edges.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { decodeUtf8, isObject, parseJsonText, str } from "../common/text.ts";
import { licensesOf, makeComponent, npmPurl, pypiComponent } from "../common/component.ts";

const NPM = "npm-installed";
const PYTHON = "python-installed";

/** `…/node_modules/name/package.json` or `…/node_modules/@scope/name/package.json`, nothing deeper. */
const NODE_PACKAGE_JSON = /(^|\/)node_modules\/(@[^/]+\/)?[^/@.][^/]*\/package\.json$/;
const DIST_INFO_METADATA = /(^|\/)[^/]+\.dist-info\/METADATA$/;

export const npmInstalledCataloger: Cataloger = {
  name: NPM,
  fileRequired: (entry) => NODE_PACKAGE_JSON.test(entry.path),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    const pkg = parseJsonText(decodeUtf8(contents, entry.path), entry.path);
    if (!isObject(pkg)) return { components: [] };
    const name = str(pkg.name);
    const version = str(pkg.version);
    if (!name || !version) return { components: [] };
    return {
      components: [
        makeComponent({
          name,
          version,
          purl: npmPurl(name, version),
          ecosystem: "npm",
          licenses: licensesOf(pkg.license ?? pkg.licenses),
          location: { path: entry.path },
          foundBy: NPM,
        }),
      ],
    };
  },
};

/** Core metadata headers (RFC 822 style) up to the first blank line; continuation lines joined. */
export function parseCoreMetadata(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    if (/^[ \t]/.test(line) && last) {
      const list = out.get(last) as string[];
      list[list.length - 1] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    const list = out.get(last) ?? [];
    list.push(line.slice(colon + 1).trim());
    out.set(last, list);
  }
  return out;
}

export const pythonInstalledCataloger: Cataloger = {
  name: PYTHON,
  fileRequired: (entry) => DIST_INFO_METADATA.test(entry.path),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    const headers = parseCoreMetadata(decodeUtf8(contents, entry.path));
    const name = headers.get("name")?.[0];
    const version = headers.get("version")?.[0];
    if (!name || !version) return { components: [] };
    const expression = headers.get("license-expression")?.[0];
    const license = headers.get("license")?.[0];
    const licenses = expression ? [expression] : license && !license.includes("\n") && license.length <= 64 && license !== "UNKNOWN" ? [license] : [];
    return { components: [pypiComponent({ name, version, licenses, location: { path: entry.path }, foundBy: PYTHON })] };
  },
};
