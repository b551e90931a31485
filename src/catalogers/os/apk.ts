import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import type { CollectProblem, Component } from "../../model/index.ts";
import { textDatabaseHistory, type OsContext } from "./os-context.ts";

const INSTALLED = "lib/apk/db/installed";

/** `P:name` → name; "so:libc.musl-x86_64.so.1" and "cmd:sh" style provides are kept as written. */
function apkNames(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/\s+/)
    .filter((d) => d !== "" && !d.startsWith("!"))
    .map((d) => d.split(/[<>=~]/)[0] as string);
}

/**
 * Alpine's apk database, `/lib/apk/db/installed` (apk-tools' `P:`/`V:`/`A:`/`o:`/`L:`/`D:`/`p:` records).
 * Its older copies, rewritten by later layers, say which layer introduced each package.
 */
export function apkCataloger(ctx: OsContext): Cataloger {
  return {
    name: "apk",
    fileRequired: (entry) => entry.path === INSTALLED,
    async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
      const components: Component[] = [];
      const problems: CollectProblem[] = [];
      let rec: Map<string, string> = new Map();
      let start = 1;
      const flush = () => {
        if (rec.size === 0) return;
        const name = rec.get("P");
        const version = rec.get("V");
        if (!name || !version) {
          problems.push({ source: "apk", file: entry.path, line: start, message: "record without P: or V:" });
        } else {
          const license = rec.get("L");
          const arch = rec.get("A");
          const c: Component = {
            ref: `apk:${name}@${version}`,
            name,
            version,
            type: "library",
            hashes: [],
            licenses: license ? [license] : [],
            sourceName: rec.get("o") ?? name,
            sourceVersion: version,
            locations: [{ path: `/${entry.path}`, line: start, ...(entry.layer ? { layer: entry.layer } : {}) }],
            dependencies: [],
            foundBy: "apk",
          };
          components.push(c);
          ctx.add({ kind: "apk", component: c, ...(arch ? { arch } : {}), depends: apkNames(rec.get("D")), provides: apkNames(rec.get("p")) });
        }
        rec = new Map();
      };
      const lines = contents.toString("utf8").split("\n");
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        if (line.trim() === "") {
          flush();
          start = i + 2;
          continue;
        }
        if (line.length >= 2 && line[1] === ":" && !rec.has(line[0] as string)) rec.set(line[0] as string, line.slice(2));
      }
      flush();
      return problems.length ? { components, problems } : { components };
    },
    history: textDatabaseHistory(ctx, INSTALLED, apkInstalledKeys),
  };
}

/** The name@version of every package in an apk installed database (for layer attribution). */
export function apkInstalledKeys(text: string): Set<string> {
  const keys = new Set<string>();
  let name: string | undefined;
  for (const line of `${text}\n`.split("\n")) {
    if (line.startsWith("P:")) name = line.slice(2);
    else if (line.startsWith("V:") && name) {
      keys.add(`${name}@${line.slice(2)}`);
      name = undefined;
    } else if (line.trim() === "") name = undefined;
  }
  return keys;
}
