/**
 * Maven `pom.xml`: the declared dependencies (https://maven.apache.org/pom.html), with `${…}`
 * property interpolation from `<properties>`, `project.*`/`project.parent.*` and versions from
 * `<dependencyManagement>`. No remote resolution: a parent or BOM outside the file, a version range,
 * or a property that cannot be resolved leaves the version unresolved. Transitive dependencies are
 * not in a pom; use a lockfile or an image for those.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { InputError, LimitExceededError } from "../../errors.ts";
import type { Component, Scope } from "../../model/index.ts";
import { ComponentSet, makeComponent, purlOf } from "../common/component.ts";
import { decodeUtf8, isObject } from "../common/text.ts";

const NAME = "maven-pom";
const MAX_INTERPOLATIONS = 64;

function text(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (isObject(v) && typeof v["#text"] !== "undefined") return text(v["#text"]);
  return undefined;
}

function list(v: unknown): Record<string, unknown>[] {
  if (Array.isArray(v)) return v.filter(isObject);
  return isObject(v) ? [v] : [];
}

function scopeOf(mavenScope: string | undefined, optional: boolean): Scope {
  if (optional) return "optional";
  switch (mavenScope) {
    case "test":
      return "dev";
    case "provided":
    case "system":
      return "optional";
    default:
      return "required";
  }
}

export async function parsePom(xml: string, file: string): Promise<CatalogResult> {
  const { XMLParser } = await import("fast-xml-parser");
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new InputError("DOCTYPE and entity declarations are refused in pom.xml", { file });
  let doc: unknown;
  try {
    doc = new XMLParser({ ignoreAttributes: true, parseTagValue: false, processEntities: false, trimValues: true }).parse(xml, true);
  } catch (e) {
    const err = (e as { err?: { line?: number; col?: number; msg?: string } }).err;
    throw new InputError(`malformed XML: ${err?.msg ?? (e as Error).message}`, { file, ...(err?.line !== undefined ? { line: err.line } : {}), ...(err?.col !== undefined ? { column: err.col } : {}) });
  }
  if (!isObject(doc) || !isObject(doc.project)) throw new InputError("not a Maven POM (no <project>)", { file, line: 1 });
  const project = doc.project;
  const parent = isObject(project.parent) ? project.parent : {};
  const groupId = text(project.groupId) ?? text(parent.groupId);
  const artifactId = text(project.artifactId) ?? file;
  const version = text(project.version) ?? text(parent.version);
  const props = new Map<string, string>();
  if (isObject(project.properties)) for (const [k, v] of Object.entries(project.properties)) {
    const t = text(v);
    if (t !== undefined) props.set(k, t);
  }
  const builtins: Record<string, string | undefined> = {
    "project.groupId": groupId,
    "pom.groupId": groupId,
    "project.artifactId": artifactId,
    "project.version": version,
    "pom.version": version,
    version,
    "project.parent.version": text(parent.version),
    "project.parent.groupId": text(parent.groupId),
  };
  for (const [k, v] of Object.entries(builtins)) if (v !== undefined && !props.has(k)) props.set(k, v);
  const interpolate = (s: string | undefined): string | undefined => {
    if (s === undefined) return undefined;
    let out = s;
    for (let i = 0; i < MAX_INTERPOLATIONS && out.includes("${"); i++) {
      const next = out.replace(/\$\{([^}]+)\}/g, (m, k: string) => props.get(k) ?? m);
      if (next === out) break;
      out = next;
      if (out.length > 4096) throw new LimitExceededError(`${file}: property expansion over 4096 characters`);
    }
    return out;
  };
  const managed = new Map<string, string>();
  const dm = isObject(project.dependencyManagement) && isObject(project.dependencyManagement.dependencies) ? list(project.dependencyManagement.dependencies.dependency) : [];
  for (const d of dm) {
    const v = interpolate(text(d.version));
    if (v) managed.set(`${interpolate(text(d.groupId))}:${interpolate(text(d.artifactId))}`, v);
  }
  // Line of each direct <dependency>: occurrences outside dependencyManagement, build and profiles, in order.
  const skipped: [number, number][] = [];
  for (const tag of ["dependencyManagement", "build", "profiles", "reporting"]) {
    const re = new RegExp(`<${tag}>[\\s\\S]*?</${tag}>`, "g");
    for (let m = re.exec(xml); m; m = re.exec(xml)) skipped.push([m.index, m.index + m[0].length]);
  }
  const candidateStarts: number[] = [];
  const reDep = /<dependency>/g;
  for (let m = reDep.exec(xml); m; m = reDep.exec(xml)) if (!skipped.some(([a, b]) => m.index > a && m.index < b)) candidateStarts.push(m.index);
  const lineAt = (offset: number): number => xml.slice(0, offset).split("\n").length;
  const deps = isObject(project.dependencies) ? list(project.dependencies.dependency) : [];
  const set = new ComponentSet();
  deps.forEach((d, i) => {
    const g = interpolate(text(d.groupId));
    const a = interpolate(text(d.artifactId));
    if (!g || !a) return;
    let v = interpolate(text(d.version)) ?? managed.get(`${g}:${a}`);
    const properties: Record<string, string> = {};
    if (v !== undefined && (v.includes("${") || /^[[(]/.test(v))) {
      properties["tollgate:maven:version-spec"] = v;
      v = undefined;
    }
    const mavenScope = text(d.scope);
    if (mavenScope) properties["tollgate:maven:scope"] = mavenScope;
    const qualifiers: Record<string, string> = {};
    const classifier = text(d.classifier);
    const type = text(d.type);
    if (classifier) qualifiers.classifier = classifier;
    if (type && type !== "jar") qualifiers.type = type;
    const offset = candidateStarts[i];
    const c: Component = makeComponent({
      name: `${g}:${a}`,
      version: v,
      purl: purlOf("maven", g, a, v, Object.keys(qualifiers).length ? qualifiers : undefined),
      ecosystem: "Maven",
      scope: scopeOf(mavenScope, text(d.optional) === "true"),
      location: offset !== undefined ? { path: file, line: lineAt(offset) } : { path: file },
      foundBy: NAME,
      direct: true,
      unresolved: v === undefined,
      properties,
      ...(v === undefined ? { ref: `pkg:maven/${g}/${a}#${file}` } : {}),
    });
    set.add(c);
  });
  const components = set.list();
  const rootPurl = groupId ? purlOf("maven", groupId, artifactId, version) : undefined;
  const root = makeComponent({ name: groupId ? `${groupId}:${artifactId}` : artifactId, version, purl: rootPurl, ecosystem: "Maven", type: "application", location: { path: file, line: 1 }, foundBy: NAME, ref: rootPurl ?? `maven-root:${file}` });
  root.dependencies = components.map((c) => c.ref).sort();
  return { components, root };
}

export const mavenPomCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => entry.path === "pom.xml" || entry.path.endsWith("/pom.xml"),
  async extract({ entry, contents }: ExtractInput): Promise<CatalogResult> {
    return parsePom(decodeUtf8(contents, entry.path), entry.path);
  },
};
