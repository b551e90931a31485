/**
 * `Cargo.lock` (versions 1–4): `[[package]]` with name, version, `source` (registry or git; none for
 * workspace crates), `checksum` (sha256 of the .crate), and `dependencies` as "name",
 * "name version" or "name version (source)". Version 1 keeps checksums in `[metadata]`.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError } from "../../errors.ts";
import type { Component } from "../../model/index.ts";
import { arrayTableLines, decodeUtf8, isObject, parseTomlText, str } from "../common/text.ts";
import { ComponentSet, makeComponent, purlOf } from "../common/component.ts";

const NAME = "cargo-lock";

export async function parseCargoLock(text: string, file: string, manifest?: Record<string, unknown>): Promise<CatalogResult> {
  const doc = await parseTomlText(text, file);
  if (!Array.isArray(doc.package)) throw new InputError("not a Cargo.lock (no [[package]] tables)", { file, line: 1 });
  const lines = arrayTableLines(text, "package");
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const set = new ComponentSet();
  const byName = new Map<string, string[]>();
  const byNameVersion = new Map<string, string>();
  const edges: [string, string[]][] = [];
  const workspace: Component[] = [];
  doc.package.forEach((raw: unknown, i: number) => {
    if (!isObject(raw)) return;
    const name = str(raw.name);
    const version = str(raw.version);
    if (!name) return;
    const source = str(raw.source);
    const checksum = str(raw.checksum) ?? str(metadata[`checksum ${name} ${version ?? ""} (${source ?? ""})`]);
    const qualifiers: Record<string, string> | undefined = source?.startsWith("git+") ? { vcs_url: source.slice(4) } : source && !source.includes("github.com/rust-lang/crates.io-index") && !source.startsWith("sparse+https://index.crates.io") ? { repository_url: source.replace(/^(registry|sparse)\+/, "") } : undefined;
    const properties: Record<string, string> = {};
    if (!source) properties["tollgate:cargo:workspace-member"] = "true";
    const c = set.add(
      makeComponent({
        name,
        version,
        purl: purlOf("cargo", undefined, name, version, qualifiers),
        ecosystem: "crates.io",
        type: source ? "library" : "application",
        hashes: checksum && /^[0-9a-f]{64}$/.test(checksum) ? [{ alg: "SHA-256", content: checksum }] : [],
        location: lines[i] !== undefined ? { path: file, line: lines[i] } : { path: file },
        foundBy: NAME,
        unresolved: version === undefined,
        properties,
      }),
    );
    byName.set(name, [...(byName.get(name) ?? []), c.ref]);
    byNameVersion.set(`${name} ${version ?? ""}`, c.ref);
    if (!source) workspace.push(c);
    edges.push([c.ref, Array.isArray(raw.dependencies) ? raw.dependencies.filter((d): d is string => typeof d === "string") : []]);
  });
  for (const [from, deps] of edges) {
    for (const d of deps) {
      const [n, v] = d.split(" ");
      const to = v !== undefined ? byNameVersion.get(`${n} ${v}`) : byName.get(n as string)?.[0];
      if (to) set.addEdge(from, to);
    }
  }
  const components = set.list();
  const pkg = isObject(manifest?.package) ? manifest.package : undefined;
  const rootName = str(pkg?.name);
  const rootMember = rootName ? components.find((c) => c.name === rootName && c.properties?.["tollgate:cargo:workspace-member"]) : undefined;
  let root: Component;
  if (rootMember) {
    root = rootMember;
  } else {
    root = makeComponent({ name: rootName ?? file, type: "application", ecosystem: "crates.io", location: { path: file }, foundBy: NAME, ref: `cargo-root:${file}` });
    root.dependencies = workspace.map((w) => w.ref).sort();
  }
  const direct = new Set(workspace.flatMap((w) => w.dependencies));
  for (const c of components) {
    if (direct.has(c.ref) && !c.properties?.["tollgate:cargo:workspace-member"]) c.direct = true;
    c.scope = "required";
  }
  return { components: components.filter((c) => c !== root), root };
}

export const cargoLockCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "Cargo.lock" || entry.path.endsWith("/Cargo.lock"),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    const manifestPath = `${entry.path.slice(0, -"Cargo.lock".length)}Cargo.toml`;
    let manifest: Record<string, unknown> | undefined;
    if (await fs.exists(manifestPath)) {
      try {
        manifest = await parseTomlText(decodeUtf8(await fs.readFile(manifestPath, 16 * 1024 * 1024), manifestPath), manifestPath);
      } catch {
        manifest = undefined;
      }
    }
    return parseCargoLock(decodeUtf8(contents, entry.path), entry.path, manifest);
  },
};
