/**
 * Helpers every cataloger shares: strict UTF-8 decoding, JSON parsing with file:line:column errors,
 * line lookup for pretty-printed JSON keys, purls, hashes and a component set that merges duplicates.
 */
import { createRequire } from "node:module";
import type * as JsoncParser from "jsonc-parser";
import { InputError, LimitExceededError } from "../../errors.ts";
import type { Component, ComponentType, Ecosystem, Hash, HashAlgorithm, Location, Scope } from "../../model/index.ts";
import { packageUrl } from "../purl-ecosystem.ts";


/** Nesting deeper than this in a lockfile is refused (no real lockfile comes close). */
export const MAX_NESTING = 512;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly: invalid bytes are an InputError naming the line, never replaced silently. */
export function decodeUtf8(contents: Uint8Array, file: string): string {
  try {
    return utf8.decode(contents);
  } catch {
    // Find the first bad byte to name its line.
    let line = 1;
    const loose = new TextDecoder("utf-8");
    const text = loose.decode(contents);
    const bad = text.indexOf("\uFFFD");
    for (let i = 0; i < bad; i++) if (text.charCodeAt(i) === 10) line++;
    throw new InputError("not valid UTF-8", { file, line });
  }
}

/** 1-based line and column of a character offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Where and why JSON text does not parse, for the error line: V8's JSON.parse messages give no
 * position for an unexpected token ("Unexpected token '}', … is not valid JSON"), so on that failure
 * path jsonc-parser (strict: no comments, no trailing commas) scans the text once more for the offset
 * and kind of the first error. Only ever called after JSON.parse has failed.
 */
function jsonSyntaxError(text: string): { offset: number; problem: string } | undefined {
  const jsonc = createRequire(import.meta.url)("jsonc-parser") as typeof JsoncParser;
  const errors: JsoncParser.ParseError[] = [];
  jsonc.parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return undefined;
  // "CloseBraceExpected" → "close brace expected".
  const problem = jsonc.printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return { offset: first.offset, problem };
}

/** JSON.parse with the position of a syntax error as file:line:column. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const pos = /at position (\d+)/.exec(message);
    const found = jsonSyntaxError(text);
    const offset = found?.offset ?? (pos ? Number(pos[1]) : text.length);
    const where = positionOf(text, offset);
    const atEnd = offset >= text.trimEnd().length || /Unexpected end of JSON input/.test(message);
    const what = atEnd ? "unexpected end of JSON (truncated?)" : `malformed JSON${found ? ` (${found.problem})` : ""}`;
    throw new InputError(what, { file, line: where.line, column: where.column });
  }
}

/** Decodes and parses a JSON file. */
export function parseJsonFile(contents: Uint8Array, file: string): unknown {
  return parseJsonText(decodeUtf8(contents, file), file);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  // for…in over a JSON.parse result (own, enumerable keys only): no entries array per call.
  for (const k in v) {
    const val = v[k];
    if (typeof val === "string") out[k] = val;
  }
  return out;
}

/**
 * Lines of object keys in pretty-printed JSON (one key per line, as npm, composer and NuGet write
 * their lockfiles): the path of keys, joined by "\u0000", mapped to its 1-based line. A key whose
 * value is an object or array is a step in the path of the keys below it.
 */
export function jsonKeyLines(text: string, maxDepth = MAX_NESTING): Map<string, number> {
  const lines = new Map<string, number>();
  const stack: { indent: number; path: string }[] = [];
  let lineNo = 0;
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = n;
    lineNo++;
    let i = start;
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (text.charCodeAt(i) === 34) {
      const indent = i - start;
      let j = i + 1;
      let escaped = false;
      while (j < end && text.charCodeAt(j) !== 34) {
        if (text.charCodeAt(j) === 92) {
          escaped = true;
          j++;
        }
        j++;
      }
      let k = j + 1;
      while (k < end && text.charCodeAt(k) === 32) k++;
      if (j < end && text.charCodeAt(k) === 58) {
        while (stack.length > 0 && (stack[stack.length - 1] as { indent: number }).indent >= indent) stack.pop();
        if (stack.length >= MAX_NESTING) throw new LimitExceededError(`JSON nested deeper than ${MAX_NESTING} levels`);
        // Keys below maxDepth are never looked up: only their nesting is tracked (no string built).
        let path = "";
        if (stack.length < maxDepth) {
          let key = text.slice(i + 1, j);
          if (escaped) {
            try {
              key = JSON.parse(`"${key}"`) as string;
            } catch {
              /* keep the raw key */
            }
          }
          path = stack.length === 0 ? key : `${(stack[stack.length - 1] as { path: string }).path}\u0000${key}`;
          if (!lines.has(path)) lines.set(path, lineNo);
        }
        k++;
        while (k < end && text.charCodeAt(k) === 32) k++;
        const c = text.charCodeAt(k);
        if (c === 123 || c === 91) stack.push({ indent, path });
      }
    }
    start = end + 1;
  }
  return lines;
}


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

/** PEP 503 normalized name. */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
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

/** package.json beside a lockfile, when there is one and it parses (read through the VirtualFs). */
export async function companionJson(fs: { exists(p: string): Promise<boolean>; readFile(p: string, max?: number): Promise<Buffer> }, lockPath: string, name: string): Promise<Record<string, unknown> | undefined> {
  const dir = lockPath.includes("/") ? lockPath.slice(0, lockPath.lastIndexOf("/") + 1) : "";
  const path = `${dir}${name}`;
  if (!(await fs.exists(path))) return undefined;
  try {
    const v = parseJsonFile(await fs.readFile(path, 16 * 1024 * 1024), path);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Dependency names of a package.json by kind. */
export function manifestDeps(pkg: Record<string, unknown> | undefined): { required: string[]; dev: string[]; optional: string[]; peer: string[] } {
  return {
    required: Object.keys(stringRecord(pkg?.dependencies)),
    dev: Object.keys(stringRecord(pkg?.devDependencies)),
    optional: Object.keys(stringRecord(pkg?.optionalDependencies)),
    peer: Object.keys(stringRecord(pkg?.peerDependencies)),
  };
}

/** Removes // and /* comments and trailing commas from JSONC (bun.lock), leaving strings intact. */
export function stripJsonc(text: string): string {
  let out = "";
  let i = 0;
  let last = 0;
  const n = text.length;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (ch === 34) {
      i++;
      while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      i++;
      continue;
    }
    if (ch === 47 && text.charCodeAt(i + 1) === 47) {
      out += text.slice(last, i);
      while (i < n && text.charCodeAt(i) !== 10) i++;
      last = i;
      continue;
    }
    if (ch === 47 && text.charCodeAt(i + 1) === 42) {
      out += text.slice(last, i);
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      // Keep newlines so that line numbers stay right.
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
      last = i;
      continue;
    }
    if (ch === 44) {
      let j = i + 1;
      while (j < n && /\s/.test(text[j] as string)) j++;
      if (text[j] === "}" || text[j] === "]") {
        out += `${text.slice(last, i)} `;
        i++;
        last = i;
        continue;
      }
    }
    i++;
  }
  return out + text.slice(last);
}

/** TOML (smol-toml, loaded on first use) with syntax errors as file:line:column. */
export async function parseTomlText(text: string, file: string): Promise<Record<string, unknown>> {
  const { parse } = await import("smol-toml");
  try {
    return parse(text) as Record<string, unknown>;
  } catch (e) {
    const err = e as { line?: number; column?: number; message: string };
    const first = err.message.split("\n")[0] ?? "malformed TOML";
    throw new InputError(`malformed TOML: ${first.replace(/^Invalid TOML document: /, "")}`, {
      file,
      ...(err.line !== undefined ? { line: err.line } : {}),
      ...(err.column !== undefined ? { column: err.column } : {}),
    });
  }
}

/** 1-based lines of each `[[name]]` header, in order (TOML arrays of tables such as `[[package]]`). */
export function arrayTableLines(text: string, name: string): number[] {
  const out: number[] = [];
  const header = `[[${name}]]`;
  let line = 1;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf("\n", start);
    const l = (end === -1 ? text.slice(start) : text.slice(start, end)).trim();
    if (l === header) out.push(line);
    if (end === -1) break;
    start = end + 1;
    line++;
  }
  return out;
}

/** A PyPI component (name normalized for the purl; the name as written is kept). */
export function pypiComponent(n: Omit<NewComponent, "purl" | "ecosystem"> & { name: string }): Component {
  const purl = purlOf("pypi", undefined, normalizePythonName(n.name), n.version);
  return makeComponent({ ...n, purl, ecosystem: "PyPI", ref: n.ref ?? (n.version === undefined ? `${purlOf("pypi", undefined, normalizePythonName(n.name), undefined) ?? n.name}#${n.location.path}` : undefined) });
}
