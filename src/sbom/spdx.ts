/**
 * SPDX 2.3 JSON output (https://spdx.github.io/spdx-spec/v2.3/): a small serializer of our own.
 * Packages are sorted by ref and their SPDX ids derive from the ref, so the same SBOM gives the same
 * bytes; the document namespace is random unless output is deterministic.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Component, Sbom } from "../model/index.ts";
import { contentUuid, cycloneDxLibrary } from "./cyclonedx.ts";

export interface SpdxOptions {
  deterministic?: boolean;
}

const ALGORITHMS: Record<string, string> = { MD5: "MD5", "SHA-1": "SHA1", "SHA-256": "SHA256", "SHA-384": "SHA384", "SHA-512": "SHA512" };
const PURPOSES: Record<string, string> = {
  application: "APPLICATION",
  library: "LIBRARY",
  framework: "FRAMEWORK",
  container: "CONTAINER",
  "operating-system": "OPERATING_SYSTEM",
  file: "FILE",
  "machine-learning-model": "OTHER",
  data: "OTHER",
};

function spdxId(c: Component): string {
  const label = `${c.name}-${c.version ?? ""}`.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
  const digest = createHash("sha256").update(c.ref).digest("hex").slice(0, 12);
  return `SPDXRef-Package-${label ? `${label}-` : ""}${digest}`;
}

/** An SPDX license expression, only when every id in it is on the SPDX list; otherwise NOASSERTION. */
function licenseExpression(list: readonly string[]): string {
  if (list.length === 0) return "NOASSERTION";
  const { isSupportedSpdxId } = cycloneDxLibrary().Spdx;
  const parts = list.map((l) => l.trim());
  for (const p of parts) {
    const ids = p.replace(/[()]/g, " ").split(/\s+/).filter((t) => t && !/^(AND|OR|WITH)$/.test(t));
    if (ids.length === 0 || !ids.every((id) => isSupportedSpdxId(id.replace(/\+$/, "")) || /^[A-Za-z0-9.-]+-exception(-[\d.]+)?$/i.test(id))) return "NOASSERTION";
  }
  return parts.length === 1 ? (parts[0] as string) : parts.map((p) => (/\s/.test(p) ? `(${p})` : p)).join(" AND ");
}

function spdxPackage(c: Component, id: string): Record<string, unknown> {
  const p: Record<string, unknown> = { SPDXID: id, name: c.name };
  if (c.version !== undefined) p.versionInfo = c.version;
  p.downloadLocation = "NOASSERTION";
  p.filesAnalyzed = false;
  if (c.hashes.length > 0) {
    p.checksums = c.hashes.map((h) => ({ algorithm: ALGORITHMS[h.alg] ?? h.alg, checksumValue: h.content }));
  }
  p.licenseConcluded = "NOASSERTION";
  p.licenseDeclared = licenseExpression(c.licenses);
  p.copyrightText = "NOASSERTION";
  if (c.locations.length > 0) p.sourceInfo = `found in ${c.locations.map((l) => `${l.path}${l.line !== undefined ? `:${l.line}` : ""}`).join(", ")}`;
  if (c.purl !== undefined) p.externalRefs = [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: c.purl }];
  p.primaryPackagePurpose = PURPOSES[c.type] ?? "OTHER";
  const notes: string[] = [];
  if (c.scope !== undefined) notes.push(`scope: ${c.scope}`);
  if (c.unresolved) notes.push("version unresolved");
  for (const n of modelNotes(c)) notes.push(n);
  if (notes.length > 0) p.comment = notes.join("; ");
  return p;
}

/**
 * SPDX 2.3 has no model card, dataset or pedigree fields (SPDX 3's AI and Dataset profiles do): for
 * `machine-learning-model`, `data` and model `file` packages they are written into the package
 * `comment` as `key: value` notes — `modelCard.task`, `modelCard.architectureFamily`,
 * `modelCard.modelArchitecture`, `modelCard.datasets`, `modelCard.inputs`, `modelCard.outputs`,
 * `pedigree.ancestors` (name and purl), and the `tollgate:model:*` properties (format, parameter
 * count, dtypes, quantization, GGUF/ONNX header facts). Their purls stay in `externalRefs`.
 */
function modelNotes(c: Component): string[] {
  const notes: string[] = [];
  const m = c.modelCard;
  if (m) {
    if (m.task !== undefined) notes.push(`modelCard.task: ${m.task}`);
    if (m.architectureFamily !== undefined) notes.push(`modelCard.architectureFamily: ${m.architectureFamily}`);
    if (m.modelArchitecture !== undefined) notes.push(`modelCard.modelArchitecture: ${m.modelArchitecture}`);
    if (m.datasets.length > 0) notes.push(`modelCard.datasets: ${m.datasets.map((d) => d.name).join(", ")}`);
    if (m.inputs.length > 0) notes.push(`modelCard.inputs: ${m.inputs.map((i) => i.format).join(", ")}`);
    if (m.outputs.length > 0) notes.push(`modelCard.outputs: ${m.outputs.map((o) => o.format).join(", ")}`);
    for (const [k, v] of Object.entries(m.properties ?? {})) notes.push(`${k}: ${v}`);
  }
  for (const a of c.pedigree?.ancestors ?? []) notes.push(`pedigree.ancestor: ${a.name}${a.purl ? ` (${a.purl})` : ""}`);
  if (c.type === "machine-learning-model" || c.type === "data" || c.foundBy === "ml-model") {
    for (const [k, v] of Object.entries(c.properties ?? {})) if (k.startsWith("tollgate:model:")) notes.push(`${k}: ${v}`);
  }
  return notes;
}

/** The SBOM as SPDX 2.3 JSON text. */
export function serializeSpdx(sbom: Sbom, options: SpdxOptions = {}): string {
  const root = sbom.metadata.component;
  const all = [...(root ? [root] : []), ...[...sbom.components].filter((c) => c.ref !== root?.ref).sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0))];
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const c of all) {
    let id = spdxId(c);
    for (let n = 2; used.has(id); n++) id = `${spdxId(c)}-${n}`;
    used.add(id);
    ids.set(c.ref, id);
  }
  const byRef = new Map(all.map((c) => [c.ref, c]));
  const relationships: Record<string, string>[] = [];
  const rootId = root ? ids.get(root.ref) : undefined;
  if (rootId) relationships.push({ spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: rootId });
  for (const c of all) {
    const from = ids.get(c.ref) as string;
    for (const d of [...c.dependencies].sort()) {
      const to = ids.get(d);
      const dep = byRef.get(d);
      if (!to || !dep) continue;
      if (dep.scope === "dev" && c.scope !== "dev") relationships.push({ spdxElementId: to, relationshipType: "DEV_DEPENDENCY_OF", relatedSpdxElement: from });
      else relationships.push({ spdxElementId: from, relationshipType: "DEPENDS_ON", relatedSpdxElement: to });
    }
  }
  const name = root ? `${root.name}${root.version ? `-${root.version}` : ""}` : "sbom";
  const seed = JSON.stringify([sbom.metadata.timestamp, all.map((c) => [c.ref, c.dependencies])]);
  const doc: Record<string, unknown> = {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name,
    documentNamespace: `https://spdx.org/spdxdocs/tollgate/${encodeURIComponent(name)}-${options.deterministic ? contentUuid(seed) : randomUUID()}`,
    creationInfo: { created: sbom.metadata.timestamp.replace(/\.\d+Z$/, "Z"), creators: [`Tool: ${sbom.metadata.tool.name}-${sbom.metadata.tool.version}`] },
    packages: all.map((c) => spdxPackage(c, ids.get(c.ref) as string)),
    relationships,
  };
  if (rootId) doc.documentDescribes = [rootId];
  return `${JSON.stringify(doc, null, 2)}\n`;
}
