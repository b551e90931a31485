/**
 * `bun.lock`, Bun's text lockfile (Bun ≥ 1.2; https://bun.sh/docs/install/lockfile): JSON with
 * trailing commas. `packages` maps an install path ("a", "a/b" for a copy nested under a) to a tuple
 * whose first item is the resolved `name@version` (`name@workspace:path` for workspace packages);
 * for registry packages the third item holds the dependencies and the fourth the integrity.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component } from "../../model/index.ts";
import { assignScopes, ComponentSet, hashesFromIntegrity, makeComponent, npmPurl } from "../common/component.ts";
import { decodeUtf8, isObject, jsonKeyLines, parseJsonText, str, stringRecord, stripJsonc } from "../common/text.ts";

const NAME = "bun-lock";

/** "a/@s/b/c" → ["a", "@s/b", "c"]. */
function segments(path: string): string[] {
  const parts = path.split("/");
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (p.startsWith("@") && i + 1 < parts.length) out.push(`${p}/${parts[++i] as string}`);
    else out.push(p);
  }
  return out;
}

export function parseBunLock(text: string, file: string): CatalogResult {
  const clean = stripJsonc(text);
  const doc = parseJsonText(clean, file);
  if (!isObject(doc) || !isObject(doc.packages)) throw new InputError("not a bun.lock (no packages)", { file, line: 1 });
  const lines = jsonKeyLines(clean);
  const set = new ComponentSet();
  const refByPath = new Map<string, string>();
  const depsByPath = new Map<string, string[]>();
  const workspaceByDir = new Map<string, Component>();
  for (const [path, raw] of Object.entries(doc.packages)) {
    if (!Array.isArray(raw) || typeof raw[0] !== "string") continue;
    const ident = raw[0];
    const at = ident.indexOf("@", 1);
    const name = at === -1 ? ident : ident.slice(0, at);
    const spec = at === -1 ? "" : ident.slice(at + 1);
    const line = lines.get(`packages\u0000${path}`);
    const location = line !== undefined ? { path: file, line } : { path: file };
    let c: Component;
    if (spec.startsWith("workspace:")) {
      const dir = spec.slice("workspace:".length);
      c = makeComponent({ name, purl: npmPurl(name, undefined), ecosystem: "npm", type: "application", location, foundBy: NAME, ref: `bun-workspace:${dir}`, properties: { "tollgate:bun:workspace": dir } });
      workspaceByDir.set(dir, c);
    } else {
      const isRegistry = /^\d/.test(spec) || spec.startsWith("npm:");
      const version = isRegistry ? spec.replace(/^npm:/, "") : undefined;
      const meta = raw.find((x, i) => i > 0 && isObject(x)) as Record<string, unknown> | undefined;
      let gitVersion: string | undefined;
      if (!isRegistry && meta && typeof meta.version === "string") gitVersion = meta.version;
      const qualifiers = isRegistry ? undefined : { vcs_url: spec };
      const v = version ?? gitVersion;
      c = makeComponent({
        name,
        version: v,
        purl: npmPurl(name, v, qualifiers),
        ecosystem: "npm",
        hashes: isRegistry ? hashesFromIntegrity(str(raw[3])) : [],
        location,
        foundBy: NAME,
        unresolved: v === undefined,
      });
      if (meta) depsByPath.set(path, [...Object.keys(stringRecord(meta.dependencies)), ...Object.keys(stringRecord(meta.optionalDependencies)), ...Object.keys(stringRecord(meta.peerDependencies))]);
    }
    refByPath.set(path, set.add(c).ref);
  }
  const resolve = (fromPath: string, dep: string): string | undefined => {
    const segs = segments(fromPath);
    for (let n = segs.length; n >= 0; n--) {
      const hit = refByPath.get([...segs.slice(0, n), dep].join("/"));
      if (hit) return hit;
    }
    return undefined;
  };
  for (const [path, deps] of depsByPath) {
    const from = refByPath.get(path);
    if (!from) continue;
    for (const d of deps) {
      const to = resolve(path, d);
      if (to) set.addEdge(from, to);
    }
  }
  const workspaces = isObject(doc.workspaces) ? doc.workspaces : {};
  const required: string[] = [];
  const dev: string[] = [];
  const optional: string[] = [];
  let root: Component | undefined;
  for (const [dir, rawWs] of Object.entries(workspaces)) {
    if (!isObject(rawWs)) continue;
    const wsComponent = dir === "" ? undefined : workspaceByDir.get(dir);
    const out: string[] = [];
    for (const [field, bucket] of [
      ["dependencies", required],
      ["optionalDependencies", optional],
      ["peerDependencies", required],
      ["devDependencies", dev],
    ] as const) {
      for (const depName of Object.keys(stringRecord(rawWs[field]))) {
        // A workspace's own copy (nested under its name) first, then the hoisted one.
        const to = refByPath.get(`${str(rawWs.name) ?? ""}/${depName}`) ?? refByPath.get(depName);
        if (!to) continue;
        out.push(to);
        bucket.push(to);
      }
    }
    if (dir === "") {
      const name = str(rawWs.name) ?? file;
      const purl = str(rawWs.name) ? npmPurl(name, str(rawWs.version)) : undefined;
      root = makeComponent({ name, version: str(rawWs.version), purl, ecosystem: "npm", type: "application", location: { path: file }, foundBy: NAME, ref: purl ?? `npm-root:${file}` });
      root.dependencies = out;
    } else if (wsComponent) {
      for (const d of out) set.addEdge(wsComponent.ref, d);
    }
  }
  const components = set.list();
  const direct = new Set(root?.dependencies ?? []);
  for (const w of workspaceByDir.values()) direct.add(w.ref);
  for (const c of components) if (direct.has(c.ref)) c.direct = true;
  root ??= makeComponent({ name: file, type: "application", ecosystem: "npm", location: { path: file }, foundBy: NAME, ref: `npm-root:${file}` });
  root.dependencies = [...direct].sort();
  assignScopes(components, { required: [...required, ...workspaceByDir.values()].map((x) => (typeof x === "string" ? x : x.ref)), optional, dev });
  return { components, root };
}

export const bunLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "bun.lock" || entry.path.endsWith("/bun.lock"),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parseBunLock(decodeUtf8(contents, entry.path), entry.path);
  },
};
