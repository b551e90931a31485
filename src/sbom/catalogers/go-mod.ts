/**
 * Go modules: `go.mod` (https://go.dev/ref/mod#go-mod-file) with `require` (direct, or `// indirect`),
 * `replace` (a module replaced by another module version, or by a local directory) and `exclude`;
 * `go.sum` beside it adds each module's `h1:` checksum as a property (it hashes the module tree, not a
 * file, so it is not a component hash). go.mod records requirements, not who requires whom: the
 * graph is the main module depending on every required module.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component } from "../../model/index.ts";
import { ComponentSet, decodeUtf8, makeComponent, purlOf } from "./common.ts";

const NAME = "go-mod";

export function goPurl(path: string, version: string | undefined): string | undefined {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? purlOf("golang", undefined, path, version) : purlOf("golang", path.slice(0, slash), path.slice(slash + 1), version);
}

interface Directive {
  verb: string;
  args: string[];
  comment: string;
  line: number;
}

function unquoteGo(s: string): string {
  return s.startsWith('"') || s.startsWith("`") ? s.slice(1, -1) : s;
}

function directives(text: string, file: string): Directive[] {
  const out: Directive[] = [];
  let block: string | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, "");
    const ci = raw.indexOf("//");
    const comment = ci === -1 ? "" : raw.slice(ci + 2).trim();
    const body = (ci === -1 ? raw : raw.slice(0, ci)).trim();
    if (!body) continue;
    if (block !== undefined) {
      if (body === ")") {
        block = undefined;
        continue;
      }
      out.push({ verb: block, args: body.split(/\s+/).map(unquoteGo), comment, line: i + 1 });
      continue;
    }
    const m = /^(\w+)\s*(.*)$/.exec(body);
    if (!m) throw new InputError("expected a go.mod directive", { file, line: i + 1, column: 1 });
    const verb = m[1] as string;
    const rest = (m[2] as string).trim();
    if (rest === "(") {
      block = verb;
      continue;
    }
    out.push({ verb, args: rest.split(/\s+/).filter(Boolean).map(unquoteGo), comment, line: i + 1 });
  }
  if (block !== undefined) throw new InputError(`unterminated ${block} ( block`, { file, line: lines.length });
  return out;
}

/** go.sum: "module version h1:…" → checksum, by "module@version". */
function goSum(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [mod, ver, sum] = line.trim().split(/\s+/);
    if (mod && ver && sum && !ver.endsWith("/go.mod")) out.set(`${mod}@${ver}`, sum);
  }
  return out;
}

export function parseGoMod(text: string, file: string, sumText?: string): CatalogResult {
  const ds = directives(text, file);
  const module = ds.find((d) => d.verb === "module")?.args[0];
  const replaces = new Map<string, { path: string; version?: string; line: number }>();
  for (const d of ds) {
    if (d.verb !== "replace") continue;
    const arrow = d.args.indexOf("=>");
    if (arrow < 1) throw new InputError('replace without "=>"', { file, line: d.line });
    const from = d.args.slice(0, arrow);
    const to = d.args.slice(arrow + 1);
    const key = from.length > 1 ? `${from[0]}@${from[1]}` : (from[0] as string);
    const r: { path: string; version?: string; line: number } = { path: to[0] as string, line: d.line };
    if (to[1] !== undefined) r.version = to[1];
    replaces.set(key, r);
  }
  const sums = sumText ? goSum(sumText) : new Map<string, string>();
  const set = new ComponentSet();
  const direct: string[] = [];
  for (const d of ds) {
    if (d.verb !== "require") continue;
    const [path, version] = d.args;
    if (!path || !version) throw new InputError("require needs a module path and a version", { file, line: d.line });
    const rep = replaces.get(`${path}@${version}`) ?? replaces.get(path);
    const properties: Record<string, string> = {};
    let modPath = path;
    let modVersion: string | undefined = version;
    if (rep) {
      properties["tollgate:go:replaced"] = `${path}@${version}`;
      if (rep.version !== undefined) {
        modPath = rep.path;
        modVersion = rep.version;
      } else {
        // A local directory replacement: the code is in the tree, no module version.
        properties["tollgate:go:replace-dir"] = rep.path;
        modVersion = undefined;
      }
    }
    if (/^v\d+\.\d+\.\d+-(\d+\.)?(0\.)?\d{14}-[0-9a-f]{12}/.test(modVersion ?? "")) properties["tollgate:go:pseudo-version"] = "true";
    const h1 = modVersion ? sums.get(`${modPath}@${modVersion}`) : undefined;
    if (h1) properties["tollgate:go:h1"] = h1;
    const indirect = /(^|;)\s*indirect\b/.test(d.comment);
    const c = set.add(
      makeComponent({
        name: modPath,
        version: modVersion,
        purl: goPurl(modPath, modVersion),
        ecosystem: "Go",
        scope: "required",
        location: { path: file, line: d.line },
        foundBy: NAME,
        direct: !indirect,
        properties,
        ...(modVersion === undefined ? { ref: `go-local:${modPath}` } : {}),
      }),
    );
    if (modVersion === undefined) c.type = "library";
    direct.push(c.ref);
  }
  const goVersion = ds.find((d) => d.verb === "go")?.args[0];
  const root: Component = makeComponent({
    name: module ?? file,
    purl: module ? goPurl(module, undefined) : undefined,
    ecosystem: "Go",
    type: "application",
    location: { path: file, line: ds.find((d) => d.verb === "module")?.line ?? 1 },
    foundBy: NAME,
    properties: goVersion ? { "tollgate:go:version": goVersion } : {},
    ref: module ? undefined : `go-root:${file}`,
  });
  root.dependencies = [...new Set(direct)].sort();
  return { components: set.list(), root };
}

export const goModCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "go.mod" || entry.path.endsWith("/go.mod"),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    const sumPath = `${entry.path.slice(0, -"go.mod".length)}go.sum`;
    const sum = (await fs.exists(sumPath)) ? decodeUtf8(await fs.readFile(sumPath, 64 * 1024 * 1024), sumPath) : undefined;
    return parseGoMod(decodeUtf8(contents, entry.path), entry.path, sum);
  },
};
