import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { atOrAbove, type CheckResult, type Component, type Decision, type Finding, type IssueAction, type Location, type Severity, type ShownDecision } from "../model/index.ts";
import { sarifFileLocation, sarifInsideLocation, type ArtifactLocation } from "./sarif-location.ts";

/** Options every report writer takes. */
export interface ReportOptions {
  /** Directory that report paths are relative to (the repository root in CI; default: the cwd). */
  baseDir?: string;
}

/** The decisions a report shows: failing ones always; the rest when at or above `report`. */
export function shownDecisions(r: CheckResult): ShownDecision[] {
  const out: ShownDecision[] = [];
  r.decisions.forEach((d, i) => {
    const fp = r.fingerprints[i];
    if (d.outcome === "fail" || !d.finding) {
      out.push({ ...d, fingerprint: fp });
      return;
    }
    if (d.suppressed || atOrAbove(d.finding.severity.level, r.policy.report) || d.finding.severity.level === "UNKNOWN") {
      out.push({ ...d, fingerprint: fp });
    }
  });
  return out;
}

export function findingDecisions(r: CheckResult): ShownDecision[] {
  return shownDecisions(r).filter((d) => d.finding !== undefined);
}

/**
 * The absolute path of a location in a source tree (`dir` and `file` targets; a relative target path
 * is relative to the cwd it was read from), or undefined for a path inside an image or SBOM.
 */
export function localPath(r: CheckResult, loc: Location): string | undefined {
  const t = r.target;
  if (t.kind === "model") {
    // Paths are relative to the model folder, or to the folder of a model given as one file.
    if (isAbsolute(loc.path)) return resolve(loc.path);
    return resolve(t.path === loc.path || t.path.endsWith(`/${loc.path}`) ? t.path : join(t.path, loc.path));
  }
  if (t.kind !== "dir" && t.kind !== "file") return undefined;
  let p = loc.path;
  if (!isAbsolute(p)) {
    const rootDir = t.kind === "dir" ? t.path : join(t.path, "..");
    p = t.kind === "file" && loc.path === t.path ? t.path : join(rootDir, loc.path);
  }
  return resolve(p);
}

/** The file a component was found in, relative to `baseDir`, with forward slashes. */
export function locationUri(r: CheckResult, loc: Location, baseDir = process.cwd()): string {
  const abs = localPath(r, loc);
  // A path inside an image or SBOM: keep it as it is there, without the leading slash.
  if (abs === undefined) return loc.path.replace(/^\/+/, "");
  return relative(resolve(baseDir), abs).split(sep).join("/");
}

/** A location as a SARIF `artifactLocation` (see sarif-location.ts: `%SRCROOT%`-relative in the repository). */
export function sarifLocation(r: CheckResult, loc: Location, baseDir = process.cwd()): ArtifactLocation {
  const abs = localPath(r, loc);
  return abs === undefined ? sarifInsideLocation(loc.path) : sarifFileLocation(abs, baseDir);
}

export function primaryLocation(c: Component): Location | undefined {
  return c.locations[0];
}

export function severityOrder(a: Severity, b: Severity): number {
  const order: Severity[] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE", "UNKNOWN"];
  return order.indexOf(a) - order.indexOf(b);
}

const OUTCOME_ORDER: Decision["outcome"][] = ["fail", "warn", "triage", "pass"];

/** Failing first, then by severity, id and package. */
export function sortDecisions<T extends Decision>(ds: T[]): T[] {
  return [...ds].sort((a, b) => {
    const o = OUTCOME_ORDER.indexOf(a.outcome) - OUTCOME_ORDER.indexOf(b.outcome);
    if (o) return o;
    if (a.finding && b.finding) {
      return (
        severityOrder(a.finding.severity.level, b.finding.severity.level) ||
        a.finding.id.localeCompare(b.finding.id) ||
        (a.finding.component.purl ?? a.finding.component.name).localeCompare(b.finding.component.purl ?? b.finding.component.name)
      );
    }
    return a.finding ? -1 : b.finding ? 1 : 0;
  });
}

/**
 * Whether a decision is about an input rather than a finding: a file the run could not read (rule
 * `unreadable:fail|warn`, with the `problem`) or an ecosystem of the target that the vulnerability
 * database has no records for (`db:no-data…`). Every report shows these apart from the findings.
 */
export function isInputDecision(d: Decision): boolean {
  return !d.finding && (d.problem !== undefined || d.rule.startsWith("unreadable:") || d.rule.startsWith("db:no-data"));
}

/** The decisions about inputs not read (see `isInputDecision`), failing first. */
export function inputDecisions(r: CheckResult): Decision[] {
  return sortDecisions(r.decisions.filter(isInputDecision));
}

/** The file of an input not read, relative to `baseDir` like the findings' locations, or undefined. */
export function problemPath(r: CheckResult, d: Decision, baseDir?: string): string | undefined {
  return d.problem?.file ? locationUri(r, { path: d.problem.file }, baseDir) : undefined;
}

/**
 * One line for an input not read, not sanitised: `file:line: message (source)` with the file as
 * `problemPath` gives it (a message that already starts with the file keeps its own line:column);
 * the decision's message for a decision without a problem (`db:no-data`).
 */
export function inputLine(r: CheckResult, d: Decision, baseDir?: string): string {
  const p = d.problem;
  if (!p) return d.message ?? d.rule;
  const where = problemPath(r, d, baseDir);
  if (where === undefined || !p.file) return `${p.message} (${p.source})`;
  if (p.message.startsWith(p.file)) return `${where}${p.message.slice(p.file.length)} (${p.source})`;
  return `${where}${p.line !== undefined ? `:${p.line}` : ""}: ${p.message} (${p.source})`;
}

/**
 * Where a content finding was seen (a file's content, not a package version: an unsafe pickle global
 * in a model file): `path[!member] @ offset N`; undefined for advisory findings.
 */
export function contentWhere(f: Finding): string | undefined {
  const m = f.matchedBy.find((x) => x.kind === "content");
  if (!m) return undefined;
  const loc = m.location ?? (f.component.locations[0] ? { path: f.component.locations[0].path } : undefined);
  if (!loc) return "file content";
  return `${loc.path}${loc.member ? `!${loc.member}` : ""}${loc.offset !== undefined ? ` @ offset ${loc.offset}` : ""}`;
}

export function packageLabel(c: Component): string {
  return `${c.name}${c.version ? `@${c.version}` : ""}`;
}

/** "1 input" / "2 inputs". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * The one-line verdict. When inputs could not be read it says so first (that is why a gate with no
 * failing finding fails): `FAIL: 2 inputs could not be read; …`.
 */
export function verdictLine(r: CheckResult): string {
  const ds = r.decisions;
  const n = (o: Decision["outcome"]) => ds.filter((d) => d.outcome === o && d.finding).length;
  const suppressed = ds.filter((d) => d.suppressed).length;
  const inputs = ds.filter(isInputDecision);
  const other = ds.filter((d) => !d.finding && d.outcome === "fail" && !isInputDecision(d)).length;
  const unread = (o: Decision["outcome"]) => inputs.filter((d) => d.outcome === o && !d.rule.startsWith("db:no-data")).length;
  const noData = (o: Decision["outcome"]) => inputs.filter((d) => d.outcome === o && d.rule.startsWith("db:no-data")).length;
  const reasons: string[] = [];
  if (unread("fail") > 0) reasons.push(`${count(unread("fail"), "input")} could not be read`);
  if (noData("fail") > 0) reasons.push(`no vulnerability data for ${count(noData("fail"), "ecosystem")}`);
  const notes: string[] = [];
  if (unread("warn") > 0) notes.push(`${count(unread("warn"), "input")} not read (warning)`);
  if (noData("warn") > 0) notes.push(`no vulnerability data for ${count(noData("warn"), "ecosystem")} (warning)`);
  const lint = r.lint ? `; Dockerfile lint ${r.lint.outcome === "fail" ? "failed" : "passed"} (${r.lint.findings.length} finding(s))` : "";
  return `${r.outcome === "fail" ? "FAIL" : "PASS"}: ${reasons.map((x) => `${x}; `).join("")}${r.findings.length} finding(s) in ${r.sbom.components.length} component(s): ${n("fail")} failing, ${n("warn")} warning, ${n("triage")} triaged, ${suppressed} suppressed${other ? `; ${other} other policy failure(s)` : ""}${notes.map((x) => `; ${x}`).join("")}${lint}`;
}

/** Unresolved components of one file, with one outcome: a report line instead of one per component. */
export interface UnresolvedGroup {
  outcome: Decision["outcome"];
  /** The file they were found in (relative like the report's other paths), or undefined. */
  file?: string;
  /** `name` or `name (range)` of each, in SBOM order. */
  names: string[];
}

/** How many unresolved components of one file are listed one per line before they are grouped. */
export const UNRESOLVED_LINES_PER_FILE = 3;

/**
 * The `unresolved:` decisions grouped by outcome and file (npm/cli's lockfile has 245 of them: one
 * line each drowned the report), each group naming its components.
 */
export function unresolvedGroups(r: CheckResult, decisions: readonly Decision[], baseDir?: string): UnresolvedGroup[] {
  const groups = new Map<string, UnresolvedGroup>();
  for (const d of decisions) {
    if (!d.rule.startsWith("unresolved:") || !d.component) continue;
    const loc = d.component.locations[0];
    const file = loc ? locationUri(r, loc, baseDir) : undefined;
    const key = `${d.outcome}\n${file ?? ""}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { outcome: d.outcome, ...(file !== undefined ? { file } : {}), names: [] }));
    g.names.push(`${d.component.name}${d.component.version ? ` (${d.component.version})` : ""}`);
  }
  return [...groups.values()];
}

/** One line for a group: `12 components in package-lock.json: version not resolved, not matched against advisories: a, b, c … (+9 more)`. */
export function unresolvedGroupLine(g: UnresolvedGroup, shown = 10): string {
  const list = g.names.slice(0, shown).join(", ") + (g.names.length > shown ? ` … (+${g.names.length - shown} more)` : "");
  return `${g.names.length} component(s)${g.file !== undefined ? ` in ${g.file}` : ""}: version not resolved, not matched against advisories: ${list}`;
}

/** One line per GitHub issue action, as `--dry-run` prints them. */
export function describeIssueAction(a: IssueAction): string {
  const what = `${a.vulnerabilityId} in ${a.package}`;
  const issue = a.issueNumber !== undefined ? ` #${a.issueNumber}` : "";
  const prefix = a.dryRun ? "would " : "";
  const verb = { open: "open an issue for", comment: "comment on issue", reopen: "reopen issue", close: "close issue", link: "link existing issue" }[a.kind];
  const text = a.kind === "open" ? `${prefix}${verb} ${what}${issue}` : `${prefix}${verb}${issue} (${what})`;
  return a.error ? `${text}: FAILED (${a.error})` : text;
}
