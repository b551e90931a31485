/**
 * The core model: every domain of tollgate passes these types around.
 * Kept free of behaviour so that the CLI, the library API and every domain agree on one vocabulary.
 */

import type { EcosystemName } from "../ecosystem/registry.ts";
import type { ImagePathScheme } from "../image/sources/index.ts";

/** What a command points at. Parsed once by `parseTarget` (src/target). */
export type Target =
  | { kind: "dir"; input: string; path: string }
  | { kind: "file"; input: string; path: string }
  | { kind: "sbom"; input: string; path: string }
  | { kind: "model"; input: string; path: string }
  /** An image read from a path (`oci-dir:`, `oci-archive:`, `docker-archive:`): one per image source in src/image/sources/. */
  | { kind: ImagePathScheme; input: string; path: string; tag?: string }
  | { kind: "registry"; input: string; reference: string };

export type TargetKind = Target["kind"];

/**
 * A package ecosystem, named as OSV names it (https://ossf.github.io/osv-schema/#affectedpackage-field):
 * one of the registry's (src/ecosystem/), or "generic" for packages no ecosystem claims.
 */
export type Ecosystem = EcosystemName | "generic";

/** CycloneDX component types that tollgate emits. */
export type ComponentType =
  | "application"
  | "library"
  | "framework"
  | "container"
  | "operating-system"
  | "file"
  | "machine-learning-model"
  | "data";

/** Dependency scope: required (runtime), optional, dev, peer, or excluded from the shipped product. */
export type Scope = "required" | "optional" | "dev" | "peer" | "excluded";

export type HashAlgorithm = "MD5" | "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

export interface Hash {
  alg: HashAlgorithm;
  /** Lowercase hex. */
  content: string;
}

/** Where a component was found: a file, optionally a 1-based line, and for images the layer digest. */
export interface Location {
  path: string;
  line?: number;
  layer?: string;
}

export interface Component {
  /** Unique key inside one SBOM (used for CycloneDX bom-ref and SPDX ids). Usually the purl. */
  ref: string;
  name: string;
  /** Exact version; undefined when it could not be resolved (see `unresolved`). */
  version?: string;
  /** Package URL (https://github.com/package-url/purl-spec). */
  purl?: string;
  ecosystem?: Ecosystem;
  /** Distro release for OS packages, e.g. "12" for Debian 12 (matched as `Debian:12`). */
  ecosystemRelease?: string;
  /** Source package name for OS binary packages (Debian advisories name the source package). */
  sourceName?: string;
  sourceVersion?: string;
  type: ComponentType;
  hashes: Hash[];
  /** SPDX license ids or expressions. */
  licenses: string[];
  scope?: Scope;
  /** True when the version is a range or missing: never guessed, reported as a coverage gap. */
  unresolved?: boolean;
  /** True when the root project declares it directly. */
  direct?: boolean;
  locations: Location[];
  /** `ref`s of the components this one depends on. */
  dependencies: string[];
  /** Which cataloger found it. */
  foundBy?: string;
  /** Free-form properties (CycloneDX properties, name → value). */
  properties?: Record<string, string>;
  /** For `machine-learning-model` components: the CycloneDX 1.6 model card, as far as the files tell. */
  modelCard?: ModelCard;
  /** Where the component came from (CycloneDX pedigree), e.g. a fine-tuned model's `base_model`. */
  pedigree?: { ancestors: PedigreeAncestor[] };
  /**
   * Packages of an npm lockfile: every range its `packages` table declares for this name (see
   * `DeclaredRange`), in table order; null when the lockfile has no such table (v1) or is too large to
   * index. In memory only, never serialized: undefined for components not read from an npm lockfile
   * in this run (SBOMs read back), for which remediation reads the lockfile itself.
   */
  declaredRanges?: readonly DeclaredRange[] | null;
}

/** A range an npm lockfile records for a dependency: who declares it, and the range as written. */
export interface DeclaredRange {
  /** The lockfile folder of the declaring package: "" for the project, else e.g. "node_modules/a". */
  requester: string;
  range: string;
  /** The lockfile's value is not a string: `range` shows it as JavaScript prints it, and it admits no version. */
  malformed?: true;
}

/** One ancestor in a component's pedigree (a base model, an upstream package). */
export interface PedigreeAncestor {
  name: string;
  version?: string;
  purl?: string;
  type: ComponentType;
}

/**
 * CycloneDX 1.6 `modelCard`, reduced to what can be read from model files and Hugging Face metadata
 * (https://cyclonedx.org/docs/1.6/json/#components_items_modelCard). Fields absent from the files stay
 * undefined: never guessed.
 */
export interface ModelCard {
  /** modelParameters.task, e.g. "text-generation" (Hugging Face pipeline_tag). */
  task?: string;
  /** modelParameters.architectureFamily, e.g. "llama" (config.json model_type, GGUF general.architecture). */
  architectureFamily?: string;
  /** modelParameters.modelArchitecture, e.g. "LlamaForCausalLM" (config.json architectures[0]). */
  modelArchitecture?: string;
  /** modelParameters.datasets: refs of `data` components of the same SBOM, or names when not listed. */
  datasets: { ref?: string; name: string }[];
  /** modelParameters.inputs / outputs: formats, e.g. "text", "image". */
  inputs: { format: string }[];
  outputs: { format: string }[];
  /** considerations and quantitative analysis are not filled: the files do not say. Free-form extras: */
  properties?: Record<string, string>;
}

export interface SbomMetadata {
  /** The root project, image or model the SBOM describes. */
  component?: Component;
  /** ISO timestamp; fixed by SOURCE_DATE_EPOCH or --deterministic. */
  timestamp: string;
  tool: { name: string; version: string };
  target?: Target;
}

/** A problem met while collecting: reported, never fatal to the run (unless --strict). */
export interface CollectProblem {
  /** The cataloger or reader that met it. */
  source: string;
  file?: string;
  line?: number;
  message: string;
}

export interface Sbom {
  metadata: SbomMetadata;
  components: Component[];
  problems: CollectProblem[];
  /**
   * Findings read from the files' content while collecting (unsafe pickle imports, Keras Lambda layers,
   * ONNX external data leaving the model): not in the CycloneDX/SPDX output, added by `scan` and `check`
   * to the database's findings so that the gate judges both. Absent for SBOMs read from a file.
   */
  contentFindings?: Finding[];
  /**
   * The build files of a directory target, in walk order, as the SBOM's walk found them (the Dockerfile
   * lint of `check` reads them): not in the CycloneDX/SPDX output. Absent when the walk did not cover
   * the whole tree (`sbom.exclude`) and for every other kind of target.
   */
  buildFiles?: BuildFile[];
}

/** A build file found by the walk: its kind and its path relative to the walked root. */
export interface BuildFile {
  kind: "dockerfile";
  path: string;
}

export type Severity = "UNKNOWN" | "NONE" | "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";

/** Severity levels in ascending order, for threshold comparisons. */
export const SEVERITY_ORDER: readonly Severity[] = ["UNKNOWN", "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

export function severityRank(s: Severity): number {
  return SEVERITY_ORDER.indexOf(s);
}

export interface SeverityScore {
  level: Severity;
  score?: number;
  vector?: string;
  /** Where the level came from, e.g. "cvss:3.1", "cvss:4.0", "ghsa:database_specific", "none". */
  source: string;
}

/** One vulnerability record (OSV 1.x shaped, reduced to what matching and reporting need). */
export interface Advisory {
  id: string;
  aliases: string[];
  summary?: string;
  details?: string;
  published?: string;
  modified: string;
  withdrawn?: string;
  severity: SeverityScore;
  references: { type: string; url: string }[];
  /** The full OSV record as imported, for `explain` and reports. */
  raw?: unknown;
}

/** Why a finding matched: which record, range, event and comparison. */
export interface MatchReason {
  advisoryId: string;
  /**
   * "range" for affected[].ranges, "versions" for an explicit versions list, "content" for what a
   * scanner found in a file's bytes (an unsafe pickle global, a Keras Lambda layer): `location` says where.
   */
  kind: "range" | "versions" | "content";
  rangeType?: "SEMVER" | "ECOSYSTEM";
  /** The events of the range that matched, e.g. { introduced: "0" }, { fixed: "4.17.21" }. */
  events?: Record<string, string>[];
  /** Human-readable comparison, e.g. "4.17.20 >= 0 and 4.17.20 < 4.17.21 (npm order)"; for content, what was seen. */
  comparison: string;
  /** For "content": the file, the byte offset in it (or in the archive member `member`), the layer for images. */
  location?: { path: string; offset?: number; member?: string; layer?: string };
}

export interface Finding {
  /** Primary id (the advisory id preferred for the ecosystem, e.g. GHSA-… for npm). */
  id: string;
  /** Every id of the same vulnerability (CVE, GHSA, PYSEC…), including `id`. */
  aliases: string[];
  component: Component;
  severity: SeverityScore;
  /** Fixed versions above the installed one, nearest first. */
  fixedVersions: string[];
  matchedBy: MatchReason[];
  summary?: string;
}

export type DecisionOutcome = "pass" | "warn" | "fail" | "triage";

/** What policy decided for one finding (or one unresolved component). */
export interface Decision {
  outcome: DecisionOutcome;
  /** The rule that decided, e.g. "fail_on:high", "waiver:GHSA-…", "vex:not_affected", "only_fixed". */
  rule: string;
  finding?: Finding;
  component?: Component;
  /**
   * An input the run could not read (a file the catalogers could not parse, a limit hit, an ecosystem
   * without data in the database): rule `unreadable:fail|warn` or `db:no-data:…`. The gate fails closed
   * on these unless the policy says `unreadable: warn`.
   */
  problem?: CollectProblem;
  /** Suppressed by a waiver or VEX statement: shown, never failing. */
  suppressed?: { by: "waiver" | "vex"; detail: string; expires?: string; justification?: string };
  message?: string;
}

export interface Report {
  schemaVersion: string;
  target: Target;
  sbom: Sbom;
  findings: Finding[];
  decisions: Decision[];
  /** The overall outcome: fail when any decision fails. */
  outcome: "pass" | "fail";
  generatedAt: string;
}

export { atOrAbove, countBySeverity } from "./severity.ts";
export {
  shortFingerprint,
  type CheckResult,
  type ShownDecision,
  type WaiverState,
  type WaiverStatus,
  type Remediation,
  type UpgradeGroup,
  type FindingFix,
  type VexStatement,
  type VexStatus,
  type VexProduct,
  type TriageStatus,
  type IssueAction,
  type IssueActionKind,
  type CheckLintFinding,
  type LintRuleDescription,
} from "./check-result.ts";
