import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Octokit } from "@octokit/rest";
import { appendAll } from "../collect/collect.ts";
import type { TollgateConfig } from "../config/index.ts";
import { findDockerfiles, lintDockerfiles, reachesThreshold } from "../lint/index.ts";
import { databaseDecisions, seenEcosystems } from "../match/coverage.ts";
import { matchSbom } from "../match/index.ts";
import type { Decision, Finding, Sbom, Target } from "../model/index.ts";
import { buildSbom, sbomOptionsFrom } from "../sbom/index.ts";
import { describeTarget } from "../target/index.ts";
import { openVulnDb, resolveDbPath } from "../vulndb/index.ts";
import { noteSeenEcosystems } from "../vulndb/update.ts";
import { networkTimeoutsFromConfig } from "../io/timeouts.ts";
import { findingFingerprint, lintFindingFingerprint, shortFingerprint } from "./fingerprint.ts";
import { githubSettingsFromEnv, syncIssues, type IssueAction } from "./github.ts";
import { evaluatePolicy } from "./policy.ts";
import { checkDeclaredRanges, planRemediation } from "./remediation.ts";
import { openTriageStore, type TriageInput } from "./triage.ts";
import type { CheckResult } from "./types.ts";
import { loadVexFiles } from "./vex.ts";

/**
 * `tollgate check` as a library function: SBOM → match → policy → remediation → triage → issues
 * (→ Dockerfile lint for source trees). The CLI renders the result and sets the exit code.
 */

export interface CheckOptions {
  config: TollgateConfig;
  /** The file the config came from: relative paths in it (vex, triage.store) resolve against its directory. */
  configFile?: string;
  /** The vulnerability database (default: config db.path, TOLLGATE_DB, the cache dir). */
  db?: string;
  /** The clock (waiver expiry, triage times). */
  now?: Date;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Plan the GitHub issue actions without performing them. */
  dryRun?: boolean;
  platform?: string;
  insecureRegistries?: readonly string[];
  progress?: (message: string) => void;
  /** An SBOM and findings made elsewhere (library users, tests): skips building and matching. */
  sbom?: Sbom;
  findings?: Finding[];
  /** A ready GitHub client (tests). */
  octokit?: Octokit;
  /** Delay between GitHub retries (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
  /** Skip the triage store and issues (e.g. `triage.store: ""` is not allowed, so this is the switch). */
  noTriage?: boolean;
}

/** The stable name of a target in fingerprints: paths relative to the working directory. */
export function targetKey(target: Target, cwd = process.cwd()): string {
  if (target.kind === "registry") return describeTarget(target);
  const rel = relative(cwd, resolve(cwd, target.path)).split(sep).join("/") || ".";
  return `${target.kind}:${rel}`;
}

function configRelative(path: string, options: CheckOptions, cwd: string): string {
  if (isAbsolute(path)) return path;
  const base = options.configFile ? dirname(resolve(cwd, options.configFile)) : cwd;
  return join(base, path);
}

export async function runCheck(target: Target, options: CheckOptions): Promise<CheckResult> {
  const { config } = options;
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const now = options.now ?? new Date();
  const progress = options.progress ?? (() => undefined);
  const notices: string[] = [];

  // The VEX documents first: a bad path or document is reported before the expensive stages.
  const vexStatements = await loadVexFiles(config.vex.map((p) => configRelative(p, options, cwd)));

  // 1. SBOM and findings.
  let sbom = options.sbom;
  if (!sbom) {
    progress("building the SBOM…");
    sbom = await buildSbom(target, { ...sbomOptionsFrom(config, { platform: options.platform, insecureRegistries: options.insecureRegistries }), progress });
  }
  let findings = options.findings;
  const dbDecisions: Decision[] = [];
  if (!findings) {
    progress("matching against the vulnerability database…");
    const db = await openVulnDb(resolveDbPath(options.db, config, env));
    try {
      appendAll(dbDecisions, databaseDecisions(sbom, db, config, now));
      findings = await matchSbom(sbom, db);
    } finally {
      db.close();
    }
    // What `db update` downloads by default: the ecosystems scans and checks have seen.
    await noteSeenEcosystems(
      seenEcosystems(sbom.components).map((s) => s.key),
      env,
      now,
    );
  }

  // 2. Policy.
  const policy = evaluatePolicy(findings, sbom, config, { now, vex: vexStatements });
  for (const d of dbDecisions) policy.decisions.push(d);
  if (dbDecisions.some((d) => d.outcome === "fail")) policy.outcome = "fail";
  const key = targetKey(target, cwd);
  const fingerprints = policy.decisions.map((d) => (d.finding ? findingFingerprint(d.finding, key) : undefined));
  for (const w of policy.waivers) {
    if (w.status === "expired") notices.push(`waiver for ${w.ids.join(", ")} expired on ${w.expires}${w.matched ? `: it no longer applies to ${w.matched} finding(s)` : ""}`);
    if (w.status === "stale") notices.push(`waiver for ${w.ids.join(", ")} matches no finding (stale)${config.strict_waivers ? ": the gate fails (strict_waivers)" : ""}`);
  }

  // 3. Remediation.
  const remediation = planRemediation(policy.decisions, findings);
  if (target.kind === "dir" || target.kind === "file") {
    await checkDeclaredRanges(remediation.upgrades, sbom.components, target.kind === "dir" ? target.path : dirname(target.path));
  }

  // 4. Dockerfile lint, for source trees that have Dockerfiles.
  let lint: CheckResult["lint"];
  if (target.kind === "dir") {
    const files = await findDockerfiles(target.path);
    if (files.length > 0) {
      progress("linting Dockerfiles…");
      const lr = await lintDockerfiles(files, config);
      const seen = new Map<string, number>();
      lint = {
        outcome: reachesThreshold(lr.findings, config.lint.fail_on) ? "fail" : "pass",
        findings: lr.findings.map((f) => {
          // The file relative to the target in the fingerprint, so that it does not depend on the cwd.
          const rel = relative(target.path, f.file).split(sep).join("/");
          const triple = `${f.ruleId}\n${rel}\n${f.message}`;
          const occurrence = seen.get(triple) ?? 0;
          seen.set(triple, occurrence + 1);
          return {
            rule: f.ruleId,
            severity: f.severity,
            file: f.file,
            line: f.line,
            message: f.message,
            failing: reachesThreshold([f], config.lint.fail_on),
            fix: f.fix,
            refs: f.refs,
            fingerprint: lintFindingFingerprint({ rule: f.ruleId, file: rel, message: f.message }, occurrence, key),
          };
        }),
      };
    }
  }

  // 5. Triage and issues: on every run, whether the gate passes or fails.
  let triage: CheckResult["triage"];
  let issues: IssueAction[] = [];
  if (!options.noTriage) {
    const storePath = configRelative(config.triage.store, options, cwd);
    const inputs: TriageInput[] = policy.decisions
      .filter((d) => d.finding && !d.suppressed && (d.outcome === "warn" || d.outcome === "triage"))
      .map((d) => ({ finding: d.finding! }));
    let store;
    try {
      store = await openTriageStore(storePath);
    } catch (e) {
      notices.push(`triage store not updated: ${(e as Error).message}`);
    }
    if (store) {
      try {
        // Findings still there but not triaged now (waived, VEX'd, failing) are not "fixed".
        const triaged = new Set(inputs.map((i) => findingFingerprint(i.finding, key)));
        const stillPresent = new Set(fingerprints.filter((fp): fp is string => fp !== undefined && !triaged.has(fp)));
        const run = await store.recordRun(key, inputs, now, stillPresent);
        const gh = config.triage.github;
        const settings = githubSettingsFromEnv(env, gh.repository);
        if (gh.enabled) {
          const candidates = [...run.firstSeen, ...run.recurring, ...run.reappeared].filter((e) => e.runCount >= config.triage.recurring_after || e.issueNumber !== undefined);
          const needed = candidates.length > 0 || run.fixed.some((e) => e.issueNumber !== undefined);
          if (needed && !settings.repository) {
            notices.push(`GitHub issues skipped: no repository (set triage.github.repository or GITHUB_REPOSITORY)`);
          } else if (needed && !settings.token && !options.dryRun && !options.octokit) {
            notices.push(`GitHub issues skipped: GITHUB_TOKEN is not set (${candidates.length} recurring finding(s) would get an issue)`);
          } else if (needed) {
            issues = await syncIssues(store, run, {
              repository: settings.repository!,
              token: settings.token,
              baseUrl: settings.baseUrl,
              labels: gh.labels,
              recurringAfter: config.triage.recurring_after,
              dryRun: options.dryRun,
              octokit: options.octokit,
              sleep: options.sleep,
              timeouts: networkTimeoutsFromConfig(config.timeouts),
            });
            for (const a of issues) if (a.error) notices.push(`GitHub issue action failed (the gate goes on): ${a.kind} ${a.vulnerabilityId}: ${a.error}`);
          }
        }
        const seen = [...run.firstSeen, ...run.recurring, ...run.reappeared];
        const fresh = new Map((await store.list({ target: key })).map((e) => [e.fingerprint, e]));
        triage = {
          store: relative(cwd, storePath).split(sep).join("/") || storePath,
          firstSeen: run.firstSeen.length,
          recurring: run.recurring.length,
          reappeared: run.reappeared.length,
          fixed: run.fixed.length,
          entries: seen.map((e) => {
            const cur = fresh.get(e.fingerprint) ?? e;
            return { fingerprint: cur.fingerprint, id: cur.vulnerabilityId, package: cur.package, runCount: cur.runCount, status: cur.status, ...(cur.issueNumber !== undefined ? { issueNumber: cur.issueNumber } : {}) };
          }),
        };
      } finally {
        await store.close();
      }
    }
  }

  const outcome = policy.outcome === "fail" || lint?.outcome === "fail" ? "fail" : "pass";
  return {
    schemaVersion: "1.0",
    target,
    targetKey: key,
    sbom,
    findings,
    decisions: policy.decisions,
    outcome,
    generatedAt: now.toISOString(),
    policy: {
      fail_on: config.fail_on,
      warn_on: config.warn_on,
      report: config.report,
      only_fixed: config.only_fixed,
      unresolved: config.unresolved,
      unreadable: config.unreadable,
      strict_waivers: config.strict_waivers,
    },
    waivers: policy.waivers,
    vexStatements,
    remediation,
    fingerprints,
    triage,
    issues,
    lint,
    notices,
  };
}

export { shortFingerprint };
