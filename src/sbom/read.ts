/**
 * Reading SBOMs made elsewhere (syft, trivy, cdxgen, tollgate) back into the model, so that `scan`
 * and `check` take them as `sbom:` targets: CycloneDX 1.4–1.7 JSON and SPDX 2.3 JSON.
 * The ecosystem of each component comes from its purl.
 */
import { InputError, LimitExceededError } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import type { Component, ComponentType, Hash, HashAlgorithm, Sbom, Scope, Target } from "../model/index.ts";
import { TOLLGATE_VERSION } from "../version.ts";
import { decodeUtf8, isObject, parseJsonText, str } from "../catalogers/common/text.ts";
import { ecosystemOfPurl, isEcosystemName, packageUrl } from "../ecosystem/index.ts";

/** The largest SBOM file read (bytes). */
export const MAX_SBOM_BYTES = 512 * 1024 * 1024;
const MAX_ELEMENTS = 2_000_000;

const CDX_TYPES = new Set<ComponentType>(["application", "library", "framework", "container", "operating-system", "file", "machine-learning-model", "data"]);
const HASH_ALGS: Record<string, HashAlgorithm> = {
  MD5: "MD5",
  "SHA-1": "SHA-1",
  SHA1: "SHA-1",
  "SHA-256": "SHA-256",
  SHA256: "SHA-256",
  "SHA-384": "SHA-384",
  SHA384: "SHA-384",
  "SHA-512": "SHA-512",
  SHA512: "SHA-512",
};

function hashOf(alg: unknown, content: unknown): Hash | undefined {
  const a = typeof alg === "string" ? HASH_ALGS[alg.toUpperCase()] : undefined;
  if (!a || typeof content !== "string" || !/^[0-9a-fA-F]+$/.test(content)) return undefined;
  return { alg: a, content: content.toLowerCase() };
}

function withPurl(c: Component, purl: string | undefined): void {
  if (!purl) return;
  c.purl = purl;
  const e = ecosystemOfPurl(purl);
  if (e?.ecosystem) c.ecosystem = e.ecosystem;
  if (e?.release) c.ecosystemRelease = e.release;
  const source = sourceOfPurl(purl, c.version);
  if (source) setSource(c, source.name, source.version);
}

/** The purl types of OS packages, whose advisories name the source package. */
const OS_PURL = /^pkg:(deb|apk|rpm)\//i;

/**
 * The source package an OS package's purl names in its `upstream` qualifier, as tollgate and syft
 * write it: deb `upstream=glibc` (the source has the binary's version, less a binNMU's `+bN`, as the
 * dpkg cataloger reads a `Source:` without version) or `upstream=bash@5.2.15-2`; apk
 * `upstream=openssl` (the origin, built at the package's version); rpm
 * `upstream=openssl-3.0.7-24.el9.src.rpm`.
 */
function sourceOfPurl(purl: string, version: string | undefined): { name: string; version: string | undefined } | undefined {
  const type = OS_PURL.exec(purl)?.[1]?.toLowerCase();
  if (!type || !purl.includes("upstream=")) return undefined;
  let upstream: string | undefined;
  let purlVersion: string | undefined;
  try {
    const p = packageUrl().fromString(purl);
    upstream = (p.qualifiers as Record<string, string> | undefined)?.upstream;
    purlVersion = p.version ?? undefined;
  } catch {
    return undefined;
  }
  // Package names and versions hold no space: a '+' left unescaped in the qualifier (libsigc++-2.0,
  // 2.36-9+deb12u4) was form-decoded into one.
  upstream = upstream?.trim().replace(/ /g, "+");
  if (!upstream) return undefined;
  version ??= purlVersion;
  if (type === "deb") {
    const at = upstream.indexOf("@");
    const name = at === -1 ? upstream : upstream.slice(0, at);
    const v = at === -1 ? version?.replace(/\+b\d+$/, "") : upstream.slice(at + 1);
    return name ? { name, version: v || undefined } : undefined;
  }
  if (type === "apk") return { name: upstream, version };
  const m = /^(.+)-([^-]+)-([^-]+)\.src\.rpm$/.exec(upstream);
  return m ? { name: m[1] as string, version: `${m[2]}-${m[3]}` } : undefined;
}

function setSource(c: Component, name: string, version: string | undefined): void {
  c.sourceName = name;
  if (version) c.sourceVersion = version;
  else delete c.sourceVersion;
}

/**
 * trivy's spelling of the source package, for OS packages whose purl has no `upstream`: CycloneDX
 * properties `aquasecurity:trivy:SrcName`, `SrcVersion`, `SrcRelease`, `SrcEpoch` (0 for none).
 */
function trivySource(c: Component, props: Record<string, string>): void {
  const name = props["aquasecurity:trivy:SrcName"]?.trim();
  if (c.sourceName !== undefined || !name || !c.purl || !OS_PURL.test(c.purl)) return;
  const upstreamVersion = props["aquasecurity:trivy:SrcVersion"]?.trim();
  const release = props["aquasecurity:trivy:SrcRelease"]?.trim();
  const epoch = props["aquasecurity:trivy:SrcEpoch"]?.trim();
  const version = upstreamVersion ? `${epoch && epoch !== "0" ? `${epoch}:` : ""}${upstreamVersion}${release ? `-${release}` : ""}` : undefined;
  setSource(c, name, version);
}

/** trivy's SPDX `sourceInfo` of an OS package: "built package from: glibc 2.36-9+deb12u9". */
function spdxSourceInfo(c: Component, info: string | undefined): void {
  if (c.sourceName !== undefined || !info || !c.purl || !OS_PURL.test(c.purl)) return;
  const m = /^built package from:\s*(\S+)(?:\s+(\S+))?\s*$/.exec(info);
  if (m) setSource(c, m[1] as string, m[2]);
}

function cdxLicenses(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const l of v) {
    if (!isObject(l)) continue;
    if (typeof l.expression === "string") out.push(l.expression);
    else if (isObject(l.license)) {
      const id = str(l.license.id) ?? str(l.license.name);
      if (id) out.push(id);
    }
  }
  return out;
}

function cdxComponent(raw: Record<string, unknown>, file: string): Component {
  const name = str(raw.name) ?? "";
  const group = str(raw.group);
  const ref = str(raw["bom-ref"]) ?? str(raw.purl) ?? `${group ? `${group}/` : ""}${name}@${str(raw.version) ?? ""}`;
  const type = CDX_TYPES.has(raw.type as ComponentType) ? (raw.type as ComponentType) : "library";
  const c: Component = { ref, name, type, hashes: [], licenses: cdxLicenses(raw.licenses), locations: [{ path: file }], dependencies: [] };
  const version = str(raw.version);
  if (version) c.version = version;
  withPurl(c, str(raw.purl));
  if (Array.isArray(raw.hashes)) for (const h of raw.hashes) if (isObject(h)) {
    const hash = hashOf(h.alg, h.content);
    if (hash) c.hashes.push(hash);
  }
  if (raw.scope === "optional" || raw.scope === "excluded" || raw.scope === "required") c.scope = raw.scope as Scope;
  if (Array.isArray(raw.properties)) {
    const props: Record<string, string> = {};
    for (const p of raw.properties) if (isObject(p) && typeof p.name === "string" && typeof p.value === "string") props[p.name] = p.value;
    if (props["tollgate:scope"] === "dev" || props["cdx:npm:package:development"] === "true") c.scope = "dev";
    if (props["tollgate:unresolved"] === "true") c.unresolved = true;
    trivySource(c, props);
    // tollgate writes the ecosystem of a component that has no purl (e.g. a requirement without a version).
    const ecosystem = props["tollgate:ecosystem"];
    if (c.ecosystem === undefined && ecosystem !== undefined && (ecosystem === "generic" || isEcosystemName(ecosystem))) c.ecosystem = ecosystem;
    if (Object.keys(props).length > 0) c.properties = props;
  }
  // Maven's group and artifact make the `group:artifact` name the catalogers give (cyclonedx.ts
  // splits it); any other group is kept in the name only when there is no purl to name the package.
  if (group) {
    if (c.ecosystem === "Maven") c.name = `${group}:${name}`;
    else if (!c.purl) c.name = `${group}/${name}`;
  }
  if (!c.version && c.type === "library") c.unresolved = true;
  return c;
}

function readCycloneDx(doc: Record<string, unknown>, file: string, target: Target): Sbom {
  const spec = str(doc.specVersion);
  if (!spec || !/^1\.[4-7]$/.test(spec)) throw new InputError(`CycloneDX specVersion ${spec ?? "(missing)"} is not supported (1.4 to 1.7)`, { file });
  const metadataRaw = isObject(doc.metadata) ? doc.metadata : {};
  const components: Component[] = [];
  // Nested components, flattened iteratively.
  const stack: unknown[] = Array.isArray(doc.components) ? [...(doc.components as unknown[])].reverse() : [];
  while (stack.length > 0) {
    if (components.length > MAX_ELEMENTS) throw new LimitExceededError(`${file}: more than ${MAX_ELEMENTS} components`);
    const raw = stack.pop();
    if (!isObject(raw)) continue;
    components.push(cdxComponent(raw, file));
    if (Array.isArray(raw.components)) for (let i = raw.components.length - 1; i >= 0; i--) stack.push(raw.components[i]);
  }
  const metaComponent = isObject(metadataRaw.component) ? cdxComponent(metadataRaw.component, file) : undefined;
  if (metaComponent) delete metaComponent.unresolved;
  const byRef = new Map<string, Component>(components.map((c) => [c.ref, c]));
  if (metaComponent) byRef.set(metaComponent.ref, metaComponent);
  if (Array.isArray(doc.dependencies)) {
    for (const d of doc.dependencies) {
      if (!isObject(d) || typeof d.ref !== "string") continue;
      const from = byRef.get(d.ref);
      if (!from || !Array.isArray(d.dependsOn)) continue;
      from.dependencies = [...new Set(d.dependsOn.filter((x): x is string => typeof x === "string"))].sort();
    }
  }
  if (metaComponent) for (const r of metaComponent.dependencies) {
    const c = byRef.get(r);
    if (c) c.direct = true;
  }
  const tools = metadataRaw.tools;
  let tool = { name: "unknown", version: "" };
  const firstTool = Array.isArray(tools) ? tools[0] : isObject(tools) && Array.isArray(tools.components) ? tools.components[0] : undefined;
  if (isObject(firstTool)) tool = { name: str(firstTool.name) ?? "unknown", version: str(firstTool.version) ?? "" };
  const sbom: Sbom = { metadata: { timestamp: str(metadataRaw.timestamp) ?? new Date(0).toISOString(), tool, target }, components, problems: [] };
  if (metaComponent) sbom.metadata.component = metaComponent;
  return sbom;
}

function spdxLicense(v: unknown): string[] {
  return typeof v === "string" && v !== "NOASSERTION" && v !== "NONE" && v.trim() ? [v.trim()] : [];
}

function readSpdx(doc: Record<string, unknown>, file: string, target: Target): Sbom {
  const version = str(doc.spdxVersion);
  if (version !== "SPDX-2.3" && version !== "SPDX-2.2") throw new InputError(`${version ?? "(no spdxVersion)"} is not supported (SPDX-2.3 JSON)`, { file });
  const packages = Array.isArray(doc.packages) ? doc.packages : [];
  if (packages.length > MAX_ELEMENTS) throw new LimitExceededError(`${file}: more than ${MAX_ELEMENTS} packages`);
  const byId = new Map<string, Component>();
  for (const p of packages) {
    if (!isObject(p) || typeof p.SPDXID !== "string") continue;
    const c: Component = { ref: p.SPDXID, name: str(p.name) ?? "", type: "library", hashes: [], licenses: [], locations: [{ path: file }], dependencies: [] };
    const v = str(p.versionInfo);
    if (v) c.version = v;
    c.licenses = spdxLicense(p.licenseConcluded).length > 0 ? spdxLicense(p.licenseConcluded) : spdxLicense(p.licenseDeclared);
    if (Array.isArray(p.checksums)) for (const h of p.checksums) if (isObject(h)) {
      const hash = hashOf(h.algorithm, h.checksumValue);
      if (hash) c.hashes.push(hash);
    }
    if (Array.isArray(p.externalRefs)) {
      for (const r of p.externalRefs) {
        if (isObject(r) && (r.referenceType === "purl") && typeof r.referenceLocator === "string") {
          withPurl(c, r.referenceLocator);
          break;
        }
      }
    }
    spdxSourceInfo(c, str(p.sourceInfo));
    const purpose = str(p.primaryPackagePurpose)?.toLowerCase().replace(/_/g, "-");
    if (purpose && CDX_TYPES.has(purpose as ComponentType)) c.type = purpose as ComponentType;
    if (!c.version && c.type === "library") c.unresolved = true;
    byId.set(p.SPDXID, c);
  }
  const describes = new Set<string>(Array.isArray(doc.documentDescribes) ? doc.documentDescribes.filter((x): x is string => typeof x === "string") : []);
  const edges = new Map<string, Set<string>>();
  const edge = (from: string, to: string): void => {
    if (!byId.has(from) || !byId.has(to) || from === to) return;
    let s = edges.get(from);
    if (!s) edges.set(from, (s = new Set()));
    s.add(to);
  };
  if (Array.isArray(doc.relationships)) {
    for (const r of doc.relationships) {
      if (!isObject(r)) continue;
      const a = str(r.spdxElementId);
      const b = str(r.relatedSpdxElement);
      const t = str(r.relationshipType);
      if (!a || !b || !t) continue;
      if (t === "DESCRIBES" && a === "SPDXRef-DOCUMENT") describes.add(b);
      else if (t === "DESCRIBED_BY" && b === "SPDXRef-DOCUMENT") describes.add(a);
      else if (t === "DEPENDS_ON" || t === "CONTAINS") edge(a, b);
      else if (t === "DEPENDENCY_OF" || t === "CONTAINED_BY") edge(b, a);
      else if (t === "DEV_DEPENDENCY_OF" || t === "OPTIONAL_DEPENDENCY_OF" || t === "BUILD_DEPENDENCY_OF" || t === "TEST_DEPENDENCY_OF") {
        edge(b, a);
        const dep = byId.get(a);
        if (dep) dep.scope = t === "OPTIONAL_DEPENDENCY_OF" ? "optional" : "dev";
      }
    }
  }
  for (const [from, tos] of edges) {
    const c = byId.get(from);
    if (c) c.dependencies = [...tos].sort();
  }
  const rootId = describes.size === 1 ? [...describes][0] : undefined;
  const root = rootId !== undefined ? byId.get(rootId) : undefined;
  if (root) {
    root.type = root.type === "library" ? "application" : root.type;
    delete root.unresolved;
    for (const d of root.dependencies) {
      const c = byId.get(d);
      if (c) c.direct = true;
    }
  }
  const components = [...byId.values()].filter((c) => c !== root);
  const creation = isObject(doc.creationInfo) ? doc.creationInfo : {};
  const creators = Array.isArray(creation.creators) ? creation.creators : [];
  const toolLine = creators.find((c): c is string => typeof c === "string" && c.startsWith("Tool:"));
  const m = toolLine ? /^Tool:\s*(.*?)(?:-(\d[\w.+-]*))?$/.exec(toolLine) : null;
  const tool = { name: m?.[1] ?? "unknown", version: m?.[2] ?? "" };
  const sbom: Sbom = { metadata: { timestamp: str(creation.created) ?? new Date(0).toISOString(), tool, target }, components, problems: [] };
  if (root) sbom.metadata.component = root;
  return sbom;
}

/** Parses an SBOM document (already JSON-parsed) of either format. */
export function readSbomDocument(doc: unknown, file: string, target: Target = { kind: "sbom", input: file, path: file }): Sbom {
  if (!isObject(doc)) throw new InputError("not an SBOM (expected a JSON object)", { file, line: 1 });
  if (doc.bomFormat === "CycloneDX") return readCycloneDx(doc, file, target);
  if (typeof doc.spdxVersion === "string") return readSpdx(doc, file, target);
  throw new InputError("not a CycloneDX or SPDX JSON document", { file, line: 1 });
}

/**
 * Reads an `sbom:` target from disk (size-limited, strict UTF-8): a regular file only, opened without
 * blocking, so a FIFO (or a directory, socket, device) is refused with `path: not a regular file`
 * instead of hanging the run.
 */
export async function readSbomFile(target: Extract<Target, { kind: "sbom" }>): Promise<Sbom> {
  const bytes = await readRegularFile(target.path, MAX_SBOM_BYTES);
  const sbom = readSbomDocument(parseJsonText(decodeUtf8(bytes, target.path), target.path), target.path, target);
  sbom.metadata.tool = sbom.metadata.tool.name === "unknown" ? { name: "tollgate", version: TOLLGATE_VERSION } : sbom.metadata.tool;
  return sbom;
}
