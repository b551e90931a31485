import { readRegularFile } from "../io/files.ts";
import { appendAll } from "../collect/collect.ts";
import { InputError, LimitExceededError } from "../errors.ts";
import type { Component, Finding, Sbom, VexProduct, VexStatement, VexStatus } from "../model/index.ts";
import { digestOf, purlMatches } from "./purl-match.ts";

/**
 * VEX inputs: OpenVEX 0.2 documents and CycloneDX VEX (the `vulnerabilities[].analysis` of a
 * CycloneDX BOM), read into one normalised statement shape. Only `not_affected` and `fixed`
 * suppress a finding; `affected` and `under_investigation` are kept and shown.
 */

/** Size limit for one VEX document. */
export const MAX_VEX_BYTES = 32 * 1024 * 1024;

const OPENVEX_CONTEXT = /^https:\/\/openvex\.dev\/ns(\/v0\.2\.\d+)?\/?$/;
const STATUSES: readonly VexStatus[] = ["not_affected", "affected", "fixed", "under_investigation"];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function openVexProduct(p: unknown, file: string, where: string): VexProduct {
  if (!isRecord(p)) throw new InputError(`${where}: a product must be an object with "@id" or "identifiers"`, { file });
  const id = str(p["@id"]);
  const identifiers = isRecord(p.identifiers) ? p.identifiers : {};
  const purl = str(identifiers.purl) ?? (id?.toLowerCase().startsWith("pkg:") ? id : undefined);
  const hashes = isRecord(p.hashes) ? p.hashes : {};
  const hashDigest = str(hashes["sha-256"]) ? `sha256:${String(hashes["sha-256"]).toLowerCase()}` : undefined;
  const digest = (id ? digestOf(id) : undefined) ?? hashDigest;
  if (!purl && !digest && !id) throw new InputError(`${where}: a product needs "@id" or "identifiers"`, { file });
  const subcomponents: string[] = [];
  if (Array.isArray(p.subcomponents)) {
    for (const s of p.subcomponents) {
      if (!isRecord(s)) continue;
      const sid = str(s["@id"]);
      const sIdent = isRecord(s.identifiers) ? str(s.identifiers.purl) : undefined;
      const sp = sIdent ?? sid;
      if (sp) subcomponents.push(sp);
    }
  }
  return { purl, digest, subcomponents };
}

/** Parses an OpenVEX 0.2 document. Older (v0.0.1) documents are rejected with a clear message. */
export function parseOpenVex(doc: unknown, file: string, startOrder = 0): VexStatement[] {
  if (!isRecord(doc)) throw new InputError("an OpenVEX document must be a JSON object", { file });
  const context = str(doc["@context"]);
  if (!context || !OPENVEX_CONTEXT.test(context)) {
    throw new InputError(`@context ${JSON.stringify(doc["@context"] ?? null)}: tollgate reads OpenVEX 0.2 (https://openvex.dev/ns/v0.2.0)`, { file });
  }
  if (!Array.isArray(doc.statements)) throw new InputError("statements: expected a list", { file });
  const docTime = str(doc.last_updated) ?? str(doc.timestamp);
  const out: VexStatement[] = [];
  doc.statements.forEach((s: unknown, i: number) => {
    const where = `statements[${i}]`;
    if (!isRecord(s)) throw new InputError(`${where}: expected an object`, { file });
    const vuln = s.vulnerability;
    const name = isRecord(vuln) ? str(vuln.name) ?? str(vuln["@id"]) : str(vuln);
    if (!name) throw new InputError(`${where}.vulnerability.name: missing`, { file });
    if (typeof vuln === "string") throw new InputError(`${where}.vulnerability: a string is OpenVEX 0.0.1; tollgate reads 0.2`, { file });
    const aliases = isRecord(vuln) && Array.isArray(vuln.aliases) ? vuln.aliases.filter((a): a is string => typeof a === "string") : [];
    const status = str(s.status) as VexStatus | undefined;
    if (!status || !STATUSES.includes(status)) throw new InputError(`${where}.status: expected one of ${STATUSES.join(", ")}`, { file });
    const justification = str(s.justification);
    const impactStatement = str(s.impact_statement);
    if (status === "not_affected" && !justification && !impactStatement) {
      throw new InputError(`${where}: a not_affected statement needs a justification or impact_statement`, { file });
    }
    const products = Array.isArray(s.products) ? s.products.map((p: unknown, j: number) => openVexProduct(p, file, `${where}.products[${j}]`)) : [];
    out.push({
      vulnerability: name,
      aliases,
      products,
      status,
      justification,
      impactStatement,
      actionStatement: str(s.action_statement),
      timestamp: str(s.last_updated) ?? str(s.timestamp) ?? docTime,
      source: file,
      format: "openvex",
      order: startOrder + i,
    });
  });
  return out;
}

/** CycloneDX `analysis.state` → OpenVEX status. */
const CDX_STATE: Record<string, VexStatus> = {
  not_affected: "not_affected",
  false_positive: "not_affected",
  resolved: "fixed",
  resolved_with_pedigree: "fixed",
  exploitable: "affected",
  in_triage: "under_investigation",
};

/** Parses the VEX part of a CycloneDX BOM (1.4 and later): `vulnerabilities[]` with `analysis` and `affects`. */
export function parseCycloneDxVex(doc: unknown, file: string, startOrder = 0): VexStatement[] {
  if (!isRecord(doc) || doc.bomFormat !== "CycloneDX") throw new InputError("not a CycloneDX document (bomFormat)", { file });
  const refToPurl = new Map<string, string>();
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const c of list) {
      if (!isRecord(c)) continue;
      const ref = str(c["bom-ref"]);
      const purl = str(c.purl);
      if (ref && purl) refToPurl.set(ref, purl);
      walk(c.components);
    }
  };
  walk(doc.components);
  const metaComponent = isRecord(doc.metadata) && isRecord(doc.metadata.component) ? doc.metadata.component : undefined;
  if (metaComponent) walk([metaComponent]);
  const docTime = isRecord(doc.metadata) ? str(doc.metadata.timestamp) : undefined;
  const vulns = Array.isArray(doc.vulnerabilities) ? doc.vulnerabilities : [];
  const out: VexStatement[] = [];
  vulns.forEach((v: unknown, i: number) => {
    const where = `vulnerabilities[${i}]`;
    if (!isRecord(v)) throw new InputError(`${where}: expected an object`, { file });
    const id = str(v.id);
    if (!id) throw new InputError(`${where}.id: missing`, { file });
    const analysis = isRecord(v.analysis) ? v.analysis : undefined;
    const state = analysis ? str(analysis.state) : undefined;
    if (!state) return; // a vulnerability without analysis is a VDR entry, not a VEX statement
    const status = CDX_STATE[state];
    if (!status) throw new InputError(`${where}.analysis.state: unknown state ${JSON.stringify(state)}`, { file });
    const aliases: string[] = [];
    if (Array.isArray(v.references)) for (const r of v.references) if (isRecord(r) && str(r.id)) aliases.push(String(r.id));
    const products: VexProduct[] = [];
    if (Array.isArray(v.affects)) {
      for (const a of v.affects) {
        if (!isRecord(a)) continue;
        const ref = str(a.ref);
        if (!ref) continue;
        // A BOM-Link (urn:cdx:serial/version#bom-ref) points into another BOM: use its fragment.
        const fragment = ref.startsWith("urn:cdx:") && ref.includes("#") ? decodeURIComponent(ref.slice(ref.indexOf("#") + 1)) : ref;
        const purl = refToPurl.get(fragment) ?? (fragment.toLowerCase().startsWith("pkg:") ? fragment : undefined);
        products.push({ purl: purl ?? fragment, digest: digestOf(fragment), subcomponents: [] });
      }
    }
    const detail = analysis ? str(analysis.detail) : undefined;
    out.push({
      vulnerability: id,
      aliases,
      products,
      status,
      justification: analysis ? str(analysis.justification) : undefined,
      impactStatement: status === "not_affected" ? detail : undefined,
      actionStatement: status === "affected" ? detail : undefined,
      timestamp: (analysis ? str(analysis.lastUpdated) ?? str(analysis.firstIssued) : undefined) ?? docTime,
      source: file,
      format: "cyclonedx",
      order: startOrder + i,
    });
  });
  return out;
}

/** Parses one VEX document's text, detecting OpenVEX or CycloneDX. */
export function parseVex(text: string, file: string, startOrder = 0): VexStatement[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, { file });
  }
  if (isRecord(doc) && doc.bomFormat === "CycloneDX") return parseCycloneDxVex(doc, file, startOrder);
  if (isRecord(doc) && "@context" in doc) return parseOpenVex(doc, file, startOrder);
  throw new InputError("neither an OpenVEX document (@context) nor a CycloneDX BOM (bomFormat)", { file });
}

/** Reads the VEX documents listed in the config (`vex:`), in order. */
export async function loadVexFiles(paths: readonly string[]): Promise<VexStatement[]> {
  const all: VexStatement[] = [];
  for (const path of paths) {
    let text: string;
    try {
      // A regular file only, opened without blocking: a `vex:` entry naming a FIFO must not hang the gate.
      text = (await readRegularFile(path, MAX_VEX_BYTES)).toString("utf8");
    } catch (e) {
      if (e instanceof LimitExceededError) throw new LimitExceededError(`${path}: VEX document larger than ${MAX_VEX_BYTES} bytes`);
      if (e instanceof InputError) throw new InputError(e.code === "NOT_FOUND" ? "VEX document not found" : "not a regular file", { file: path });
      throw new InputError(`cannot read: ${(e as Error).message}`, { file: path });
    }
    appendAll(all, parseVex(text, path, all.length));
  }
  return all;
}

/** What the finding is checked against: the SBOM's root (image digest, root purl). */
export interface VexSubject {
  rootPurl?: string;
  rootDigests: string[];
}

/** The root identity of an SBOM: its metadata component's purl and digests (image digest for images). */
export function vexSubjectOf(sbom: Sbom): VexSubject {
  const root = sbom.metadata.component;
  const digests = new Set<string>();
  if (root) {
    for (const h of root.hashes) if (h.alg === "SHA-256") digests.add(`sha256:${h.content.toLowerCase()}`);
    const fromPurl = root.purl ? digestOf(root.purl) : undefined;
    if (fromPurl) digests.add(fromPurl);
    const fromVersion = root.version ? digestOf(root.version) : undefined;
    if (fromVersion) digests.add(fromVersion);
    // The image's manifest digest and its config digest (the image id); layer digests are not the image.
    for (const key of ["tollgate:image:manifestDigest", "tollgate:image:configDigest"]) {
      const d = root.properties?.[key] ? digestOf(root.properties[key]) : undefined;
      if (d) digests.add(d);
    }
  }
  return { rootPurl: root?.purl, rootDigests: [...digests] };
}

function productCoversComponent(p: VexProduct, component: Component, subject: VexSubject): boolean {
  const rootMatch =
    (p.digest !== undefined && subject.rootDigests.includes(p.digest)) ||
    (p.purl !== undefined && subject.rootPurl !== undefined && purlMatches(p.purl, subject.rootPurl));
  if (p.subcomponents.length > 0) {
    // The statement is about components inside a product: the product must be this SBOM's root.
    return rootMatch && p.subcomponents.some((s) => purlMatches(s, component.purl) || s === component.ref);
  }
  if (p.purl !== undefined && (purlMatches(p.purl, component.purl) || p.purl === component.ref)) return true;
  // A statement about the whole image (by digest or root purl) covers every component in it.
  return rootMatch;
}

function idsOf(f: Finding): Set<string> {
  return new Set([f.id, ...f.aliases].map((s) => s.toUpperCase()));
}

/** The statement that decides a finding: the latest (by timestamp, then order) that matches it. */
export function vexStatementFor(f: Finding, statements: readonly VexStatement[], subject: VexSubject): VexStatement | undefined {
  const ids = idsOf(f);
  let best: VexStatement | undefined;
  for (const s of statements) {
    if (![s.vulnerability, ...s.aliases].some((v) => ids.has(v.toUpperCase()))) continue;
    if (!s.products.some((p) => productCoversComponent(p, f.component, subject))) continue;
    if (!best) {
      best = s;
      continue;
    }
    const a = best.timestamp ? Date.parse(best.timestamp) : Number.NEGATIVE_INFINITY;
    const b = s.timestamp ? Date.parse(s.timestamp) : Number.NEGATIVE_INFINITY;
    if (b > a || (b === a && s.order > best.order)) best = s;
  }
  return best;
}
