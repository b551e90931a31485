/**
 * Components as catalogers make them: purls, hashes from integrity strings, scopes, licenses, and a set that merges duplicates.
 */
import type { Component, ComponentType, Ecosystem, Hash, HashAlgorithm, Location, Scope } from "../../model/index.ts";
import { normalizePythonName } from "../../ecosystem/pep503.ts";
import { packageUrl } from "../../ecosystem/package-url.ts";
import { isObject } from "./text.ts";

/** A package URL string, or undefined when the parts do not make a valid one. */
export function purlOf(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers?: Record<string, string>,
  subpath?: string,
): string | undefined {
  try {
    return new (packageUrl())(type, namespace ?? null, name, version ?? null, qualifiers ?? null, subpath ?? null).toString();
  } catch {
    return undefined;
  }
}

/** npm names: `@scope/name` → namespace `@scope`, name `name`. */
export function npmPurl(name: string, version: string | undefined, qualifiers?: Record<string, string>): string | undefined {
  const slash = name.startsWith("@") ? name.indexOf("/") : -1;
  return slash > 0 ? purlOf("npm", name.slice(0, slash), name.slice(slash + 1), version, qualifiers) : purlOf("npm", undefined, name, version, qualifiers);
}


const SRI_ALGS: Record<string, HashAlgorithm> = { sha1: "SHA-1", sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" };

/** npm/yarn/pnpm `integrity` (Subresource Integrity: `sha512-<base64>`, several separated by spaces). */
export function hashesFromIntegrity(integrity: string | undefined): Hash[] {
  if (!integrity) return [];
  const out: Hash[] = [];
  const trimmed = integrity.trim();
  for (const part of /\s/.test(trimmed) ? trimmed.split(/\s+/) : [trimmed]) {
    const dash = part.indexOf("-");
    if (dash < 0) continue;
    const alg = SRI_ALGS[part.slice(0, dash).toLowerCase()];
    if (!alg) continue;
    const query = part.indexOf("?", dash);
    const b64 = part.slice(dash + 1, query === -1 ? undefined : query);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const hex = Buffer.from(b64, "base64").toString("hex");
    if (hex.length > 0) out.push({ alg, content: hex });
  }
  return out;
}

const HEX_LENGTHS: Record<number, HashAlgorithm> = { 32: "MD5", 40: "SHA-1", 64: "SHA-256", 96: "SHA-384", 128: "SHA-512" };
const NAMED_ALGS: Record<string, HashAlgorithm> = { md5: "MD5", sha1: "SHA-1", sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" };

/** `sha256:abc…` or `sha256=abc…` (pip, poetry, uv, Pipfile) → a Hash, when well formed. */
export function hashFromPrefixed(value: string): Hash | undefined {
  const m = /^(md5|sha1|sha256|sha384|sha512)[:=]([0-9a-fA-F]+)$/.exec(value.trim());
  if (!m) return undefined;
  const alg = NAMED_ALGS[m[1] as string] as HashAlgorithm;
  const content = (m[2] as string).toLowerCase();
  return HEX_LENGTHS[content.length] === alg ? { alg, content } : undefined;
}

/** The distinct hashes of a Python lock entry's `files = [{ file = "…", hash = "sha256:…" }]` (poetry, pdm). */
export function hashesOfFileEntries(files: unknown): Hash[] {
  const hashes: Hash[] = [];
  if (!Array.isArray(files)) return hashes;
  for (const f of files) {
    if (!isObject(f) || typeof f.hash !== "string") continue;
    const h = hashFromPrefixed(f.hash);
    if (h && !hashes.some((x) => x.content === h.content)) hashes.push(h);
  }
  return hashes;
}


export interface NewComponent {
  name: string;
  version?: string | undefined;
  purl?: string | undefined;
  ecosystem?: Ecosystem | undefined;
  type?: ComponentType;
  scope?: Scope | undefined;
  hashes?: Hash[];
  licenses?: string[];
  location: Location;
  foundBy: string;
  direct?: boolean;
  unresolved?: boolean;
  properties?: Record<string, string>;
  /** Overrides the ref (default: the purl, else ecosystem:name@version). */
  ref?: string;
}

/** A component with every list present and the optional fields set only when known. */
export function makeComponent(n: NewComponent): Component {
  const ref = n.ref ?? n.purl ?? `${n.ecosystem ?? "generic"}:${n.name}@${n.version ?? ""}`;
  const c: Component = {
    ref,
    name: n.name,
    type: n.type ?? "library",
    hashes: n.hashes ?? [],
    licenses: n.licenses ?? [],
    locations: [n.location],
    dependencies: [],
    foundBy: n.foundBy,
  };
  if (n.version !== undefined && n.version !== "") c.version = n.version;
  if (n.purl !== undefined) c.purl = n.purl;
  if (n.ecosystem !== undefined) c.ecosystem = n.ecosystem;
  if (n.scope !== undefined) c.scope = n.scope;
  if (n.direct !== undefined) c.direct = n.direct;
  if (n.unresolved) c.unresolved = true;
  if (n.properties && Object.keys(n.properties).length > 0) c.properties = n.properties;
  return c;
}

const SCOPE_STRENGTH: Record<Scope, number> = { required: 4, peer: 3, optional: 2, dev: 1, excluded: 0 };

/** The scope of a package seen several times: the most needed one wins (required over optional over dev). */
export function strongerScope(a: Scope | undefined, b: Scope | undefined): Scope | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return SCOPE_STRENGTH[a] >= SCOPE_STRENGTH[b] ? a : b;
}

/**
 * Components of one file, keyed by ref: a package seen twice (npm's nested copies of one version)
 * becomes one component with every location, the union of its edges and the strongest scope.
 */
export class ComponentSet {
  private readonly byRef = new Map<string, Component>();
  /** Edges added to a component after its first `add` (its own list stays in `c.dependencies`). */
  private readonly deps = new Map<string, Set<string>>();

  /** The edge set of a component, made from its list on the first change. */
  private edges(c: Component): Set<string> {
    let d = this.deps.get(c.ref);
    if (!d) {
      d = new Set(c.dependencies);
      this.deps.set(c.ref, d);
    }
    return d;
  }

  add(c: Component): Component {
    const existing = this.byRef.get(c.ref);
    if (!existing) {
      this.byRef.set(c.ref, c);
      return c;
    }
    for (const l of c.locations) {
      if (!existing.locations.some((e) => e.path === l.path && e.line === l.line)) existing.locations.push(l);
    }
    const scope = strongerScope(existing.scope, c.scope);
    if (scope !== undefined) existing.scope = scope;
    if (c.direct) existing.direct = true;
    if (existing.hashes.length === 0) existing.hashes = c.hashes;
    if (existing.licenses.length === 0) existing.licenses = c.licenses;
    // The lockfile's declared ranges, whichever copy of the package the walk met first (remediation reads them).
    if (existing.declaredRanges === undefined && c.declaredRanges !== undefined) existing.declaredRanges = c.declaredRanges;
    if (c.properties) {
      const props = (existing.properties ??= {});
      for (const [k, v] of Object.entries(c.properties)) {
        const old = props[k];
        if (old === undefined) props[k] = v;
        else if (!old.split(",").includes(v)) props[k] = `${old},${v}`;
      }
    }
    if (c.dependencies.length > 0) {
      const d = this.edges(existing);
      for (const ref of c.dependencies) d.add(ref);
    }
    return existing;
  }

  get(ref: string): Component | undefined {
    return this.byRef.get(ref);
  }

  addEdge(from: string, to: string): void {
    if (from === to) return;
    const c = this.byRef.get(from);
    if (c) this.edges(c).add(to);
  }

  /** Every component, in insertion order, with sorted dependency lists limited to refs that exist. */
  list(extraRefs: ReadonlySet<string> = new Set()): Component[] {
    const out: Component[] = [];
    for (const c of this.byRef.values()) {
      const d = this.deps.get(c.ref);
      const list = d ? [...d] : c.dependencies.length > 1 ? [...new Set(c.dependencies)] : c.dependencies;
      c.dependencies = list.filter((r) => this.byRef.has(r) || extraRefs.has(r)).sort();
      out.push(c);
    }
    return out;
  }
}

/** Licenses as a lockfile or package.json gives them: a string, `{ type }`, or an array of those. */
export function licensesOf(v: unknown): string[] {
  if (typeof v === "string") return v.trim() ? [v.trim()] : [];
  if (Array.isArray(v)) return v.flatMap((x) => licensesOf(x));
  if (isObject(v) && typeof v.type === "string") return licensesOf(v.type);
  return [];
}

/**
 * Scopes from the graph, for lockfiles that do not mark them (yarn, pnpm, bun): what the root's
 * runtime dependencies reach is required; what only optional dependencies reach is optional; what
 * only dev dependencies reach is dev.
 */
export function assignScopes(components: readonly Component[], roots: { required: Iterable<string>; optional?: Iterable<string>; dev?: Iterable<string>; peer?: Iterable<string> }): void {
  const byRef = new Map(components.map((c) => [c.ref, c]));
  const reach = (starts: Iterable<string>, scope: Scope): void => {
    const stack = [...starts];
    while (stack.length > 0) {
      const ref = stack.pop() as string;
      const c = byRef.get(ref);
      if (!c || c.scope !== undefined) continue;
      c.scope = scope;
      for (const d of c.dependencies) stack.push(d);
    }
  };
  reach(roots.required, "required");
  reach(roots.peer ?? [], "peer");
  reach(roots.optional ?? [], "optional");
  reach(roots.dev ?? [], "dev");
}

/** A PyPI component (name normalized for the purl; the name as written is kept). */
export function pypiComponent(n: Omit<NewComponent, "purl" | "ecosystem"> & { name: string }): Component {
  const purl = purlOf("pypi", undefined, normalizePythonName(n.name), n.version);
  return makeComponent({ ...n, purl, ecosystem: "PyPI", ref: n.ref ?? (n.version === undefined ? `${purlOf("pypi", undefined, normalizePythonName(n.name), undefined) ?? n.name}#${n.location.path}` : undefined) });
}
