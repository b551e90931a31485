import { createHash } from "node:crypto";
import type { CheckResult } from "../model/index.ts";
import { TOLLGATE_VERSION } from "../version.ts";

/**
 * `--emit-vex`: an OpenVEX 0.2 document of the decisions in force. VEX statements that suppressed a
 * finding are carried over with their status and justification. A waiver is an accepted risk, not a
 * claim that the product is unaffected, so it is written as `affected` with an action statement that
 * names the reason, owner and expiry; consumers see the decision without mistaking it for a fix.
 */

export interface OpenVexOptions {
  author?: string;
  /** The document time (default: the report's generatedAt). */
  timestamp?: string;
}

interface Statement {
  vulnerability: { name: string; aliases?: string[] };
  products: { "@id": string; subcomponents?: { "@id": string }[] }[];
  status: "not_affected" | "affected" | "fixed" | "under_investigation";
  justification?: string;
  impact_statement?: string;
  action_statement?: string;
  status_notes?: string;
}

const OPENVEX_JUSTIFICATIONS = new Set([
  "component_not_present",
  "vulnerable_code_not_present",
  "vulnerable_code_not_in_execute_path",
  "vulnerable_code_cannot_be_controlled_by_adversary",
  "inline_mitigations_already_exist",
]);

/** CycloneDX justifications → the nearest OpenVEX one (others go to impact_statement). */
const CDX_TO_OPENVEX: Record<string, string> = {
  code_not_present: "vulnerable_code_not_present",
  code_not_reachable: "vulnerable_code_not_in_execute_path",
  protected_by_mitigating_control: "inline_mitigations_already_exist",
  protected_at_runtime: "inline_mitigations_already_exist",
};

export function openVexDocument(r: CheckResult, options: OpenVexOptions = {}): string {
  const statements: Statement[] = [];
  const rootPurl = r.sbom.metadata.component?.purl;
  for (const d of r.decisions) {
    const f = d.finding;
    if (!f || !d.suppressed) continue;
    const componentId = f.component.purl ?? f.component.ref;
    const products = rootPurl && rootPurl !== componentId ? [{ "@id": rootPurl, subcomponents: [{ "@id": componentId }] }] : [{ "@id": componentId }];
    const aliases = f.aliases.filter((a) => a !== f.id);
    const vulnerability = aliases.length > 0 ? { name: f.id, aliases } : { name: f.id };
    if (d.suppressed.by === "vex") {
      const status = d.rule === "vex:fixed" ? "fixed" : "not_affected";
      const s: Statement = { vulnerability, products, status, status_notes: `carried over from ${d.suppressed.detail}` };
      if (status === "not_affected") {
        const j = d.suppressed.justification;
        const mapped = j ? (OPENVEX_JUSTIFICATIONS.has(j) ? j : CDX_TO_OPENVEX[j]) : undefined;
        if (mapped) s.justification = mapped;
        else s.impact_statement = j ?? "not affected (no justification given)";
      }
      statements.push(s);
    } else {
      statements.push({
        vulnerability,
        products,
        status: "affected",
        action_statement: `Risk accepted by waiver until ${d.suppressed.expires ?? "?"}: ${d.suppressed.detail}`,
      });
    }
  }
  const timestamp = options.timestamp ?? r.generatedAt;
  const body = JSON.stringify(statements);
  const id = `https://openvex.dev/docs/public/vex-${createHash("sha256").update(`${r.targetKey}\n${body}`).digest("hex")}`;
  const doc: Record<string, unknown> = {
    "@context": "https://openvex.dev/ns/v0.2.0",
    "@id": id,
    author: options.author ?? "tollgate",
    role: "Document Creator",
    timestamp,
    version: 1,
    tooling: `tollgate ${TOLLGATE_VERSION}`,
  };
  // The schema asks for at least one statement: with none in force the document is empty (and the
  // CLI says so), as go-vex writes it.
  doc.statements = statements;
  return `${JSON.stringify(doc, null, 2)}\n`;
}
