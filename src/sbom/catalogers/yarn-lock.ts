/**
 * `yarn.lock`: yarn classic (v1, "# yarn lockfile v1": `key "value"` lines) and yarn berry (v2+,
 * YAML with `__metadata`, `resolution:` and `checksum:`). One line scanner serves both: a stanza per
 * top-level key (the descriptors, comma-separated), fields at two spaces, dependency maps at four.
 * Scopes come from package.json beside the lockfile (yarn.lock does not record them).
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component } from "../../model/index.ts";
import { assignScopes, companionJson, ComponentSet, decodeUtf8, hashesFromIntegrity, makeComponent, manifestDeps, npmPurl, str } from "./common.ts";

const NAME = "yarn-lock";

interface Stanza {
  descriptors: string[];
  line: number;
  fields: Record<string, string>;
  maps: Record<string, Record<string, string>>;
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1);
  return t;
}

/** Splits `key value` (classic) or `key: value` (berry). */
function splitField(s: string): [string, string] {
  let key: string;
  let rest: string;
  if (s.startsWith('"')) {
    const end = s.indexOf('"', 1);
    if (end === -1) return [s, ""];
    key = s.slice(1, end);
    rest = s.slice(end + 1);
  } else {
    const m = /^([^\s:]+|[^\s]+?(?=:\s|:$))/.exec(s);
    key = m ? (m[1] as string) : s;
    rest = s.slice(key.length);
  }
  rest = rest.replace(/^:/, "").trim();
  return [key, unquote(rest)];
}

export function parseYarnStanzas(text: string, file: string): { stanzas: Stanza[]; berry: boolean } {
  const stanzas: Stanza[] = [];
  const lines = text.split("\n");
  let current: Stanza | undefined;
  let mapName: string | undefined;
  const berry = /^__metadata:/m.test(text);
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, "");
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) continue;
    const indent = raw.length - raw.trimStart().length;
    const body = raw.trim();
    if (indent === 0) {
      if (!body.endsWith(":")) throw new InputError(`expected a package entry ending with ":"`, { file, line: i + 1, column: 1 });
      const keys = body.slice(0, -1);
      current = { descriptors: keys.split(/,\s*/).map(unquote).filter(Boolean), line: i + 1, fields: {}, maps: {} };
      stanzas.push(current);
      mapName = undefined;
      continue;
    }
    if (!current) throw new InputError("indented line before any entry", { file, line: i + 1, column: indent + 1 });
    if (indent === 2) {
      if (body.endsWith(":") && !body.includes(" ")) {
        mapName = unquote(body.slice(0, -1));
        current.maps[mapName] = {};
      } else {
        const [k, v] = splitField(body);
        current.fields[k] = v;
        mapName = undefined;
      }
    } else if (indent >= 4 && mapName !== undefined) {
      const [k, v] = splitField(body);
      (current.maps[mapName] as Record<string, string>)[k] = v;
    } else if (indent >= 4) {
      // A nested value of a field we do not read (berry `bin:`, `dependenciesMeta:` sub-keys).
      continue;
    } else {
      throw new InputError("unexpected indentation", { file, line: i + 1, column: indent + 1 });
    }
  }
  return { stanzas, berry };
}

/** `name@range` → [name, range] (the name may start with @). */
function splitDescriptor(d: string): [string, string] {
  const at = d.indexOf("@", 1);
  return at === -1 ? [d, ""] : [d.slice(0, at), d.slice(at + 1)];
}

export function parseYarnLock(text: string, file: string, manifest?: Record<string, unknown>): CatalogResult {
  const { stanzas, berry } = parseYarnStanzas(text, file);
  const set = new ComponentSet();
  const byDescriptor = new Map<string, string>();
  const pending: { ref: string; deps: Record<string, string> }[] = [];
  const workspaces: Component[] = [];
  let rootRef: string | undefined;
  for (const s of stanzas) {
    if (s.descriptors[0] === "__metadata") continue;
    const first = s.descriptors[0] as string;
    let [name] = splitDescriptor(first);
    let version = s.fields.version;
    const resolution = s.fields.resolution;
    let isWorkspace = false;
    let qualifiers: Record<string, string> | undefined;
    if (berry && resolution) {
      const [rName, rSpec] = splitDescriptor(resolution);
      name = rName;
      if (rSpec.startsWith("workspace:")) isWorkspace = true;
      else if (!rSpec.startsWith("npm:")) qualifiers = { vcs_url: rSpec };
    } else if (!berry) {
      const resolved = s.fields.resolved;
      if (resolved && !/^https?:\/\/registry\.(yarnpkg\.com|npmjs\.org)\//.test(resolved)) {
        qualifiers = /^git|^github:|\.git(#|$)/.test(resolved) ? { vcs_url: resolved } : { download_url: resolved.replace(/#.*$/, "") };
      }
      // An alias: "alias@npm:real@^1".
      const [, range] = splitDescriptor(first);
      if (range.startsWith("npm:")) name = splitDescriptor(range.slice(4))[0];
    }
    if (version === "0.0.0-use.local") version = undefined;
    const integrity = s.fields.integrity;
    const hashes = integrity ? hashesFromIntegrity(integrity) : [];
    const checksum = s.fields.checksum;
    const properties: Record<string, string> = {};
    if (checksum) properties["tollgate:yarn:checksum"] = checksum;
    if (isWorkspace && resolution) properties["tollgate:yarn:workspace"] = splitDescriptor(resolution)[1].slice("workspace:".length);
    const c = makeComponent({
      name,
      version,
      purl: npmPurl(name, version, qualifiers),
      ecosystem: "npm",
      type: isWorkspace ? "application" : "library",
      hashes,
      location: { path: file, line: s.line },
      foundBy: NAME,
      unresolved: version === undefined && !isWorkspace,
      properties,
    });
    const added = set.add(c);
    if (isWorkspace) {
      if (properties["tollgate:yarn:workspace"] === ".") rootRef = added.ref;
      else workspaces.push(added);
    }
    for (const d of s.descriptors) byDescriptor.set(d, added.ref);
    if (berry) for (const d of s.descriptors) if (d.includes("@npm:")) byDescriptor.set(d.replace("@npm:", "@"), added.ref);
    pending.push({ ref: added.ref, deps: { ...s.maps.dependencies, ...s.maps.optionalDependencies } });
  }
  const lookup = (depName: string, range: string): string | undefined =>
    byDescriptor.get(`${depName}@${range}`) ?? byDescriptor.get(`${depName}@npm:${range}`) ?? (range.startsWith("npm:") ? byDescriptor.get(`${depName}@${range.slice(4)}`) : undefined);
  for (const p of pending) for (const [depName, range] of Object.entries(p.deps)) {
    const to = lookup(depName, range);
    if (to) set.addEdge(p.ref, to);
  }
  let components = set.list();
  const rootComponent = rootRef ? set.get(rootRef) : undefined;
  if (rootComponent) components = components.filter((c) => c.ref !== rootRef);
  const pkgName = str(manifest?.name);
  const pkgVersion = str(manifest?.version);
  const root =
    rootComponent ??
    makeComponent({ name: pkgName ?? file, version: pkgVersion, purl: pkgName ? npmPurl(pkgName, pkgVersion) : undefined, ecosystem: "npm", type: "application", location: { path: file }, foundBy: NAME, ref: pkgName ? undefined : `npm-root:${file}` });
  // The root's declared dependencies (package.json), resolved through the descriptors.
  const declared = manifestDeps(manifest);
  const ranges = { ...(manifest?.devDependencies as Record<string, string>), ...(manifest?.optionalDependencies as Record<string, string>), ...(manifest?.dependencies as Record<string, string>) };
  const resolveAll = (names: string[]): string[] => names.map((n) => lookup(n, String(ranges[n] ?? ""))).filter((x): x is string => x !== undefined);
  const required = rootComponent && !manifest ? rootComponent.dependencies : resolveAll(declared.required);
  const dev = resolveAll(declared.dev);
  const optional = resolveAll(declared.optional);
  const direct = new Set([...required, ...dev, ...optional, ...workspaces.map((w) => w.ref)]);
  for (const c of components) if (direct.has(c.ref)) c.direct = true;
  root.dependencies = [...new Set([...root.dependencies, ...direct])].sort();
  for (const w of workspaces) w.scope = "required";
  assignScopes(components, { required: [...required, ...workspaces.flatMap((w) => w.dependencies)], optional, dev });
  return { components, root };
}

export const yarnLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "yarn.lock" || entry.path.endsWith("/yarn.lock"),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    const manifest = await companionJson(fs, entry.path, "package.json");
    return parseYarnLock(decodeUtf8(contents, entry.path), entry.path, manifest);
  },
};
