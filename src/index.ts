/**
 * tollgate's library API. The CLI is a thin layer over these; import them to build the same
 * pipeline in your own tooling:
 *
 *   import { parseTarget, loadConfig } from "tollgate";
 */
export * from "./model/index.ts";
export * from "./errors.ts";
export { parseTarget, parseImageReference, describeTarget, TARGET_SCHEMES, type ImageReferenceParts } from "./target/index.ts";
export { loadConfig, parseConfig, defaultConfig, configSchema, isCalendarDate, type TollgateConfig, type Waiver, type LoadedConfig } from "./config/index.ts";
export { collect, problemLine, DirectoryFs, type Cataloger, type CatalogResult, type CollectResult, type ExtractInput, type FileEntry, type VirtualFs } from "./collect/index.ts";
export { writeFileAtomic } from "./io/atomic-write.ts";
export { cacheDir } from "./io/paths.ts";
export { terminalText, markdownText, markdownCode, xmlText, redactSecrets } from "./io/text.ts";
export { readRegularFile } from "./io/files.ts";
export { isLoopbackHost, NetworkTimeoutError } from "./io/http.ts";
export { DEFAULT_NETWORK_TIMEOUTS, networkTimeoutsFromConfig, type NetworkTimeouts } from "./io/timeouts.ts";
// Ecosystems: one descriptor each, with its version order, purl type and distribution traits (src/ecosystem)
export * from "./ecosystem/index.ts";
// Vulnerability database and matching (src/vulndb, src/match)
export {
  openVulnDb,
  defaultDbPath,
  importOsvSources,
  parseOsvRecord,
  validateOsvRecord,
  cvssScore,
  recordSeverity,
  VulnStore,
  SCHEMA_VERSION as VULNDB_SCHEMA_VERSION,
  type VulnDb,
  type VulnDbStatus,
  type ImportStats,
  type OsvRecord,
  type CvssScore,
} from "./vulndb/index.ts";
export { updateVulnDb, DEFAULT_OSV_BASE_URL, type UpdateOptions, type UpdateResult } from "./vulndb/update.ts";
// SBOMs of source trees and SBOMs read back (src/sbom)
export { CATALOGERS, catalogersFor, type CatalogerEntry, type CatalogerScope, type CatalogerSettings } from "./catalogers/index.ts";
export { buildSbom, sbomOptionsFrom, sbomTimestamp, isDeterministic, serializeCycloneDx, serializeSpdx, readSbomDocument, readSbomFile, CYCLONEDX_SPEC_VERSIONS, type BuildSbomOptions, type CycloneDxOptions, type CycloneDxSpecVersion, type SpdxOptions } from "./sbom/index.ts";
export { databaseDecisions, ecosystemCoverage, seenEcosystems, unplacedOsPackages, describeEcosystems, type EcosystemCoverage, type SeenEcosystem, type UnplacedOsPackages } from "./match/coverage.ts";
export { scanTarget, type ScanTargetOptions, type ScanTargetResult } from "./match/scan.ts";
export { matchSbom, matchComponents, isUnresolved, explainFinding, findingsDocument, FINDINGS_SCHEMA_VERSION, type MatchOptions, type MatchStats, type FindingsDocument } from "./match/index.ts";
// Container images without a daemon (src/image)
export {
  openImageSource,
  resolveImage,
  imageComponent,
  ImageFs,
  OsContext,
  parseOsRelease,
  parseRegistryReference,
  RegistryClient,
  usesPlainHttp,
  lookupCredentials,
  DEFAULT_IMAGE_LIMITS,
  type ImageSource,
  type ImageSourceOptions,
  type ImageTarget,
  type ImageLimits,
  type ResolvedImage,
  type LayerRef,
  type Distro,
  type RegistryOptions,
  type RegistryCredentials,
} from "./image/index.ts";
// OCI registries and artifacts: push, tags, referrers (API and tag schema), digests (src/oci)
export {
  listReferrers,
  pushReferrer,
  deleteReferrer,
  referrersTag,
  DEFAULT_OCI_LIMITS,
  EMPTY_JSON_DESCRIPTOR,
  MEDIA_TYPES as OCI_MEDIA_TYPES,
  type Descriptor as OciDescriptor,
  type OciLimits,
  type PushedBlob,
  type PushedManifest,
  type PushedReferrer,
  type ReferrersList,
  type ReferrersSource,
} from "./oci/index.ts";
// The gate: policy, waivers, VEX, remediation, triage, GitHub issues (src/gate) and its reports (src/report)
export {
  runCheck,
  targetKey,
  evaluatePolicy,
  atOrAbove,
  waiverExpiry,
  countBySeverity,
  parseVex,
  parseOpenVex,
  parseCycloneDxVex,
  loadVexFiles,
  vexStatementFor,
  vexSubjectOf,
  purlMatches,
  purlIdentity,
  findingFingerprint,
  shortFingerprint,
  planRemediation,
  checkDeclaredRanges,
  openTriageStore,
  SqliteTriageStore,
  triageToCsv,
  syncIssues,
  issueMarker,
  describeIssueAction,
  type CheckOptions,
  type CheckResult,
  type PolicyConfig,
  type PolicyOptions,
  type PolicyResult,
  type WaiverState,
  type VexStatement,
  type VexStatus,
  type Remediation,
  type UpgradeGroup,
  type TriageStore,
  type TriageStoreOptions,
  type TriageEntry,
  type TriageRun,
  type TriageStatus,
  type TriageRunResult,
  type IssueAction,
  type IssueSyncOptions,
} from "./gate/index.ts";
export {
  renderReport,
  parseReportSpec,
  REPORT_FORMATS,
  CHECK_FORMATS,
  CHECK_REPORTERS,
  findReporter,
  reporterFormats,
  type Reporter,
  jsonReport,
  sarifReport,
  markdownReport,
  junitReport,
  tableReport,
  openVexDocument,
  CHECK_REPORT_SCHEMA_VERSION,
  type ReportFormat,
} from "./report/index.ts";
// Dockerfile hardening lint (src/lint) and repository scaffolding (src/init)
export {
  lintDockerfiles,
  lintDockerfileText,
  findDockerfiles,
  isDockerfileName,
  reachesThreshold as lintReachesThreshold,
  validateLintConfig,
  LINT_RULES,
  LINT_RULES_BY_ID,
  lintReportJson,
  lintReportSarif,
  lintReportTable,
  parseDockerfile,
  type LintFinding,
  type LintResult,
  type LintConfig,
  type LintRule,
  type LintSeverity,
  type ParsedDockerfile,
} from "./lint/index.ts";
export {
  initRepository,
  detectEcosystems,
  workflowTemplate,
  dependabotTemplate,
  configTemplate,
  DOCKERFILE_TEMPLATES,
  PINNED_ACTIONS,
  type InitOptions,
  type InitResult,
  type DetectedEcosystem,
  type DependabotEcosystem,
  type DockerfileTemplate,
} from "./init/index.ts";
export { openSigner, keySourceFor, KEY_SOURCES, type Signer, type KeySource, type SignerOptions, type SigningAlgorithm, type DigestAlgorithm } from "./signing/keys/index.ts";
export { signBlob } from "./signing/sign-blob.ts";
export { updateTrustedRoot } from "./signing/trust-root-update.ts";
export { verifyBundle, parseBundle, readBundle, policyFromOptions, loadTrustedRoot, publicGoodTrustedRoot, type VerificationResult, type VerificationPolicy } from "./signing/verify/index.ts";
export { verifyModel, type VerifyModelOptions, type VerifiedModel, type ModelIdentity } from "./signing/model/load-check.ts";
export { signModel, type SignModelOptions, type SignModelResult } from "./signing/model/sign.ts";
export { verifyModelSignature, type ModelVerification, type ModelTrust } from "./signing/model/verify.ts";
export { serializeModel, statementBytes, type ModelManifest, type ModelResource } from "./signing/model/serialize.ts";
export { recordSigningEvent, verifyAuditLog, auditLogPath, type SigningEvent, type AuditSink, type AuditEntry } from "./audit/index.ts";
export { TOLLGATE_VERSION } from "./version.ts";
// ML-BOM of model files and their content checks (src/mlmodel); streamed parallel hashing (src/io/hash-files.ts)
export { createModelCataloger, isModelFileName, hubCacheOrigin, huggingFacePurl, readModel, detectModelFormat, MODEL_RULES, hashFiles, hashFilesWithSize, type ModelCatalogerOptions, type ModelDescription, type HashFilesOptions } from "./mlmodel/index.ts";
export { scanPickleBearingFile, walkPickle, judgeGlobal, PICKLE_RULES, type PickleScanResult, type PickleScanOptions, type PickleScanLimits, type JudgedGlobal, type WalkResult as PickleWalkResult } from "./mlmodel/pickle/index.ts";
