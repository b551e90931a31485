/**
 * Ruby `Gemfile.lock` (Bundler): sections GEM, GIT and PATH each with `specs:` — a gem at four spaces
 * as `name (version[-platform])`, its dependencies at six — then DEPENDENCIES (the Gemfile's direct
 * gems), PLATFORMS and BUNDLED WITH.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component } from "../../model/index.ts";
import { ComponentSet, makeComponent, purlOf } from "../common/component.ts";
import { decodeUtf8 } from "../common/text.ts";

const NAME = "gemfile-lock";
const PLATFORM_RE = /-(x86_64|x86|i[3-6]86|arm64|aarch64|arm|universal|java|x64|mswin|mingw|darwin|linux)[\w.-]*$/;

export function parseGemfileLock(text: string, file: string): CatalogResult {
  const set = new ComponentSet();
  const byName = new Map<string, string>();
  const edges: [string, string[]][] = [];
  const directNames: string[] = [];
  let section = "";
  let remote = "";
  let current: [string, string[]] | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, "");
    if (!raw.trim()) continue;
    if (/^\S/.test(raw)) {
      section = raw.trim();
      remote = "";
      current = undefined;
      continue;
    }
    if (section === "GEM" || section === "GIT" || section === "PATH") {
      const m4 = /^ {4}(\S+) \(([^)]+)\)$/.exec(raw);
      const m6 = /^ {6}(\S+)(?: \(.*\))?$/.exec(raw);
      const r = /^ {2}remote: (.*)$/.exec(raw);
      if (r) remote = (r[1] as string).trim();
      if (m4) {
        const name = m4[1] as string;
        let version = m4[2] as string;
        const properties: Record<string, string> = {};
        const platform = PLATFORM_RE.exec(version);
        const qualifiers: Record<string, string> = {};
        if (platform) {
          qualifiers.platform = platform[0].slice(1);
          version = version.slice(0, platform.index);
        }
        if (section !== "GEM") properties["tollgate:ruby:source"] = `${section.toLowerCase()}:${remote}`;
        const c: Component = set.add(
          makeComponent({
            name,
            version,
            purl: purlOf("gem", undefined, name, version, Object.keys(qualifiers).length ? qualifiers : undefined),
            ecosystem: "RubyGems",
            location: { path: file, line: i + 1 },
            foundBy: NAME,
            properties,
          }),
        );
        if (!byName.has(name)) byName.set(name, c.ref);
        current = [c.ref, []];
        edges.push(current);
      } else if (m6 && current) {
        current[1].push(m6[1] as string);
      } else if (!r && !/^ {2}(specs|revision|branch|tag|ref|glob|submodules):/.test(raw) && /^ {4}\S/.test(raw)) {
        throw new InputError("expected `name (version)` under specs:", { file, line: i + 1, column: 5 });
      }
    } else if (section === "DEPENDENCIES") {
      const m = /^ {2}([^\s!]+)/.exec(raw);
      if (m) directNames.push(m[1] as string);
    }
  }
  for (const [from, names] of edges) for (const n of names) {
    const to = byName.get(n);
    if (to) set.addEdge(from, to);
  }
  const components = set.list();
  const direct = directNames.map((n) => byName.get(n)).filter((x): x is string => x !== undefined);
  for (const c of components) {
    if (direct.includes(c.ref)) c.direct = true;
    c.scope = "required";
  }
  const root = makeComponent({ name: file, type: "application", ecosystem: "RubyGems", location: { path: file }, foundBy: NAME, ref: `ruby-root:${file}` });
  root.dependencies = [...new Set(direct)].sort();
  return { components, root };
}

export const gemfileLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => /(^|\/)(Gemfile|gems)\.(lock|locked)$/.test(entry.path),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parseGemfileLock(decodeUtf8(contents, entry.path), entry.path);
  },
};
