import type { Cataloger, CatalogResult, ExtractInput, FileEntry } from "../../collect/index.ts";
import type { CollectProblem, Component } from "../../model/index.ts";
import { textDatabaseHistory, type OsContext } from "./os-context.ts";

/** One stanza of a deb822 control file, with the 1-based line it starts on. */
export interface Deb822Stanza {
  line: number;
  fields: Map<string, string>;
}

/** Splits a deb822 file (dpkg status, status.d entries) into stanzas; continuation lines are kept. */
export function parseDeb822(text: string): Deb822Stanza[] {
  const stanzas: Deb822Stanza[] = [];
  let current: Deb822Stanza | undefined;
  let lastKey: string | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, "");
    if (line.trim() === "") {
      current = undefined;
      lastKey = undefined;
      continue;
    }
    if (line.startsWith("#")) continue;
    if ((line.startsWith(" ") || line.startsWith("\t")) && current && lastKey) {
      current.fields.set(lastKey, `${current.fields.get(lastKey) ?? ""}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    if (!current) {
      current = { line: i + 1, fields: new Map() };
      stanzas.push(current);
    }
    lastKey = line.slice(0, colon).toLowerCase();
    current.fields.set(lastKey, line.slice(colon + 1).trim());
  }
  return stanzas;
}

/** Package names out of a Depends/Pre-Depends/Provides value: alternatives split, versions and arch dropped. */
export function relationNames(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/[,|]/)
    .map((r) => r.trim().split(/[\s(:[]/)[0] ?? "")
    .filter((n) => n !== "");
}

/**
 * The source version of a binary whose Source: field names no version: its own version, less a
 * binNMU suffix (`5.2.37-2+b10`: rebuilt from source 5.2.37-2 without a source change).
 */
function sourceVersionOf(version: string): string {
  return version.replace(/\+b\d+$/, "");
}

const STATUS = "var/lib/dpkg/status";
const STATUS_D = "var/lib/dpkg/status.d/";

/**
 * dpkg's database: `/var/lib/dpkg/status` (installed packages only) and distroless images'
 * `/var/lib/dpkg/status.d/*` (one stanza file per package; the `.md5sums` beside them are skipped).
 * Source package names and versions are kept: Debian advisories name source packages. The older
 * copies of the status file that later layers rewrote say which layer introduced each package.
 */
export function dpkgCataloger(ctx: OsContext): Cataloger {
  return {
    name: "dpkg",
    fileRequired(entry: FileEntry) {
      return entry.path === STATUS || (entry.path.startsWith(STATUS_D) && !entry.path.endsWith(".md5sums") && !entry.path.slice(STATUS_D.length).includes("/"));
    },
    async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
      const components: Component[] = [];
      const problems: CollectProblem[] = [];
      const distroless = entry.path !== STATUS;
      for (const s of parseDeb822(contents.toString("utf8"))) {
        const name = s.fields.get("package");
        const version = s.fields.get("version");
        const status = s.fields.get("status");
        if (!distroless && (!status || status.split(/\s+/)[2] !== "installed")) continue;
        if (!name || !version) {
          problems.push({ source: "dpkg", file: entry.path, line: s.line, message: "stanza without Package or Version" });
          continue;
        }
        const sourceField = s.fields.get("source");
        const m = sourceField ? /^(\S+)(?:\s+\((.+)\))?$/.exec(sourceField) : null;
        const arch = s.fields.get("architecture");
        const c: Component = {
          ref: `deb:${name}@${version}${arch ? `:${arch}` : ""}`,
          name,
          version,
          type: "library",
          hashes: [],
          licenses: [],
          sourceName: m?.[1] ?? name,
          sourceVersion: m?.[2] ?? sourceVersionOf(version),
          locations: [{ path: `/${entry.path}`, line: s.line, ...(entry.layer ? { layer: entry.layer } : {}) }],
          dependencies: [],
          foundBy: "dpkg",
        };
        components.push(c);
        ctx.add({
          kind: "deb",
          component: c,
          ...(arch ? { arch } : {}),
          depends: [...relationNames(s.fields.get("depends")), ...relationNames(s.fields.get("pre-depends"))],
          provides: relationNames(s.fields.get("provides")),
        });
      }
      return problems.length ? { components, problems } : { components };
    },
    history: textDatabaseHistory(ctx, STATUS, dpkgInstalledKeys),
  };
}

/** The name@version of every installed package in a dpkg status file (for layer attribution). */
export function dpkgInstalledKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const s of parseDeb822(text)) {
    const name = s.fields.get("package");
    const version = s.fields.get("version");
    if (name && version && s.fields.get("status")?.split(/\s+/)[2] === "installed") keys.add(`${name}@${version}`);
  }
  return keys;
}
