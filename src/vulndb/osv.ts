/**
 * OSV records (https://ossf.github.io/osv-schema/, schema 1.x): the types tollgate reads and a
 * structural check that names the file and the field of the first problem. The check is hand-written
 * for speed (a full JSON-schema validation per record would dominate an import of 300k records); it
 * covers what matching relies on.
 */
import { InputError } from "../errors.ts";

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export type OsvRangeType = "SEMVER" | "ECOSYSTEM" | "GIT";

export interface OsvRange {
  type: OsvRangeType;
  repo?: string;
  events: OsvEvent[];
  database_specific?: Record<string, unknown>;
}

export interface OsvSeverityEntry {
  /** CVSS_V2, CVSS_V3, CVSS_V4 or Ubuntu. */
  type: string;
  score: string;
}

export interface OsvPackage {
  ecosystem: string;
  name: string;
  purl?: string;
}

export interface OsvAffected {
  package?: OsvPackage;
  severity?: OsvSeverityEntry[];
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvRecord {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  related?: string[];
  upstream?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverityEntry[];
  affected?: OsvAffected[];
  references?: { type: string; url: string }[];
  database_specific?: Record<string, unknown>;
}

const RANGE_TYPES = new Set(["SEMVER", "ECOSYSTEM", "GIT"]);
const EVENT_KEYS = new Set(["introduced", "fixed", "last_affected", "limit"]);
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(file: string, path: string, problem: string): never {
  throw new InputError(`${path}: ${problem}`, { file });
}

function stringArray(v: unknown, file: string, path: string): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) fail(file, path, "expected an array of strings");
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== "string") fail(file, `${path}[${i}]`, "expected a string");
}

function optionalString(v: unknown, file: string, path: string): void {
  if (v !== undefined && typeof v !== "string") fail(file, path, "expected a string");
}

function timestamp(v: unknown, file: string, path: string, required: boolean): void {
  if (v === undefined && !required) return;
  if (typeof v !== "string" || !TIMESTAMP.test(v)) fail(file, path, `expected an RFC 3339 timestamp such as 2024-01-31T12:00:00Z, got ${JSON.stringify(v)}`);
}

function severities(v: unknown, file: string, path: string): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) fail(file, path, "expected an array");
  v.forEach((s, i) => {
    if (!isObject(s) || typeof s.type !== "string" || typeof s.score !== "string") fail(file, `${path}[${i}]`, "expected { type, score } strings");
  });
}

/**
 * Checks that `value` is an OSV record (schema 1.x) and returns it typed. Throws an InputError naming
 * `file` and the field, e.g. `GHSA-x.json: affected[0].ranges[0].events: no "introduced" event`.
 */
export function validateOsvRecord(value: unknown, file: string): OsvRecord {
  if (!isObject(value)) fail(file, "$", "an OSV record must be a JSON object");
  if (typeof value.id !== "string" || !ID_PATTERN.test(value.id)) fail(file, "id", `expected an OSV id such as GHSA-xxxx-xxxx-xxxx, got ${JSON.stringify(value.id)}`);
  timestamp(value.modified, file, "modified", true);
  timestamp(value.published, file, "published", false);
  timestamp(value.withdrawn, file, "withdrawn", false);
  optionalString(value.schema_version, file, "schema_version");
  optionalString(value.summary, file, "summary");
  optionalString(value.details, file, "details");
  stringArray(value.aliases, file, "aliases");
  stringArray(value.related, file, "related");
  stringArray(value.upstream, file, "upstream");
  severities(value.severity, file, "severity");
  if (value.references !== undefined) {
    if (!Array.isArray(value.references)) fail(file, "references", "expected an array");
    value.references.forEach((r, i) => {
      if (!isObject(r) || typeof r.type !== "string" || typeof r.url !== "string") fail(file, `references[${i}]`, "expected { type, url } strings");
    });
  }
  if (value.affected !== undefined) {
    if (!Array.isArray(value.affected)) fail(file, "affected", "expected an array");
    value.affected.forEach((a, i) => {
      const at = `affected[${i}]`;
      if (!isObject(a)) fail(file, at, "expected an object");
      if (a.package !== undefined) {
        const p = a.package;
        if (!isObject(p)) fail(file, `${at}.package`, "expected an object");
        if (typeof p.ecosystem !== "string" || p.ecosystem === "") fail(file, `${at}.package.ecosystem`, "expected a non-empty string");
        if (typeof p.name !== "string" || p.name === "") fail(file, `${at}.package.name`, "expected a non-empty string");
        optionalString(p.purl, file, `${at}.package.purl`);
      }
      severities(a.severity, file, `${at}.severity`);
      stringArray(a.versions, file, `${at}.versions`);
      if (a.ranges !== undefined) {
        if (!Array.isArray(a.ranges)) fail(file, `${at}.ranges`, "expected an array");
        a.ranges.forEach((r, j) => {
          const rt = `${at}.ranges[${j}]`;
          if (!isObject(r)) fail(file, rt, "expected an object");
          if (typeof r.type !== "string" || !RANGE_TYPES.has(r.type)) fail(file, `${rt}.type`, `expected SEMVER, ECOSYSTEM or GIT, got ${JSON.stringify(r.type)}`);
          if (r.type === "GIT" && typeof r.repo !== "string") fail(file, `${rt}.repo`, "a GIT range needs a repo URL");
          if (!Array.isArray(r.events) || r.events.length === 0) fail(file, `${rt}.events`, "expected a non-empty array of events");
          let introduced = false;
          r.events.forEach((e, k) => {
            const et = `${rt}.events[${k}]`;
            if (!isObject(e)) fail(file, et, "expected an object");
            const keys = Object.keys(e);
            if (keys.length !== 1 || !EVENT_KEYS.has(keys[0]!)) fail(file, et, "expected exactly one of introduced, fixed, last_affected, limit");
            if (typeof e[keys[0]!] !== "string") fail(file, `${et}.${keys[0]}`, "expected a version string");
            if (keys[0] === "introduced") introduced = true;
          });
          if (!introduced) fail(file, `${rt}.events`, 'no "introduced" event: every range needs one (use "0" for all earlier versions)');
        });
      }
    });
  }
  return value as unknown as OsvRecord;
}

/** Parses JSON text as one OSV record. */
export function parseOsvRecord(text: string, file: string): OsvRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON (${(e as Error).message})`, { file });
  }
  return validateOsvRecord(value, file);
}

/** The ecosystem string split into its base (`Debian`) and its release suffix (`12`), as OSV writes `Debian:12`. */
export function splitEcosystem(ecosystem: string): { base: string; release: string } {
  const i = ecosystem.indexOf(":");
  return i < 0 ? { base: ecosystem, release: "" } : { base: ecosystem.slice(0, i), release: ecosystem.slice(i + 1) };
}
