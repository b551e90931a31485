import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Octokit } from "@octokit/rest";
import { appendAll } from "../collect/collect.ts";
import type { TollgateConfig } from "../config/index.ts";
import { findDockerfiles, lintDockerfiles, reachesThreshold } from "../lint/index.ts";
import { dockerfilesUnder } from "../lint/engine.ts";
import { lintRuleInfo } from "../lint/report.ts";
import { scanTarget } from "../match/scan.ts";
import type { CheckResult, Decision, Finding, IssueAction, Sbom, Target } from "../model/index.ts";
import { buildSbom, sbomOptionsFrom } from "../sbom/index.ts";
import { describeTarget } from "../target/index.ts";
import { resolveDbPath } from "../vulndb/index.ts";
import { formatErrorLine } from "../errors.ts";
import { redactSecrets } from "../io/text.ts";
import { networkTimeoutsFromConfig } from "../io/timeouts.ts";
import { findingFingerprint, lintFindingFingerprint } from "./fingerprint.ts";
import { githubSettingsFromEnv, syncIssues } from "./github.ts";
import { evaluatePolicy } from "./policy.ts";
import { checkDeclaredRanges, planRemediation } from "./remediation.ts";
import { isPostgresLocation, openTriageStore, triageStoreLocation, type TriageInput, type TriageStore } from "./triage.ts";
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
  /** Where `sbom` came from (e.g. a verified attestation): a notice in every report. */
  sbomSource?: string;
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
  if (options.sbomSource !== undefined) notices.push(options.sbomSource);

  // The VEX documents first: a bad path or document is reported before the expensive stages.
  const vexStatements = await loadVexFiles(config.vex.map((p) => configRelative(p, options, cwd)));

  // 1. SBOM and findings: the one scan pipeline (src/match/scan.ts), unless the caller has them.
  let sbom = options.sbom;
  let findings = options.findings;
  const dbDecisions: Decision[] = [];
  if (!findings) {
    const scan = await scanTarget(target, {
      config,
      dbPath: resolveDbPath(options.db, config, env),
      ...(sbom ? { sbom } : {}),
      ...(options.platform !== undefined ? { platform: options.platform } : {}),
      ...(options.insecureRegistries !== undefined ? { insecureRegistries: options.insecureRegistries } : {}),
      now,
      env,
      progress,
    });
    sbom = scan.sbom;
    findings = scan.findings;
    appendAll(dbDecisions, scan.databaseDecisions);
  } else if (!sbom) {
    progress("building the SBOM…");
    sbom = await buildSbom(target, { ...sbomOptionsFrom(config, { platform: options.platform, insecureRegistries: options.insecureRegistries }), progress });
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
  const lint = target.kind === "dir" ? await dockerfileLintStage(target.path, sbom, config, key, progress) : undefined;

  // 5. Triage and issues: on every run, whether the gate passes or fails.
  const { triage, triageError, issues } = options.noTriage
    ? { triage: undefined, triageError: undefined, issues: [] as IssueAction[] }
    : await triageStage(policy.decisions, fingerprints, key, options, notices);

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
    ...(triageError !== undefined ? { triageError } : {}),
  };
}


/**
 * Lints the Dockerfiles of a source tree with the gate's config; undefined when it has none. They are
 * the ones the SBOM's walk of `root` listed; an SBOM without that list (given by a library caller)
 * leaves the lint to walk the tree itself.
 */
async function dockerfileLintStage(root: string, sbom: Sbom, config: TollgateConfig, key: string, progress: (message: string) => void): Promise<CheckResult["lint"]> {
  const walked = sbom.metadata.target?.kind === "dir" && sbom.metadata.target.path === root ? sbom.buildFiles : undefined;
  const files = walked ? dockerfilesUnder(root, walked.filter((f) => f.kind === "dockerfile").map((f) => f.path)) : await findDockerfiles(root);
  if (files.length === 0) return undefined;
  progress("linting Dockerfiles…");
  const lr = await lintDockerfiles(files, config);
  const seen = new Map<string, number>();
  return {
    outcome: reachesThreshold(lr.findings, config.lint.fail_on) ? "fail" : "pass",
    findings: lr.findings.map((f) => {
      // The file relative to the target in the fingerprint, so that it does not depend on the cwd.
      const rel = relative(root, f.file).split(sep).join("/");
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
    // The findings' rules, so that the SARIF report describes them without looking them up.
    rules: [...new Set(lr.findings.map((f) => f.ruleId))].map(lintRuleInfo).filter((rule) => rule !== undefined),
  };
}

/**
 * Records the run's triaged findings in the store and applies the GitHub issue rules. A store that
 * cannot be reached or fails mid-run never changes the gate's result: its error is one notice (and,
 * with `triage.required`, `triageError` makes the CLI exit 2).
 */
async function triageStage(
  decisions: readonly Decision[],
  fingerprints: readonly (string | undefined)[],
  key: string,
  options: CheckOptions,
  notices: string[],
): Promise<{ triage: CheckResult["triage"]; triageError: string | undefined; issues: IssueAction[] }> {
  const { config } = options;
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const now = options.now ?? new Date();
  let triage: CheckResult["triage"];
  let triageError: string | undefined;
  let issues: IssueAction[] = [];
  const baseDir = options.configFile ? dirname(resolve(cwd, options.configFile)) : cwd;
  const storePath = triageStoreLocation(config.triage.store, env, baseDir);
  const gh = config.triage.github;
  const settings = githubSettingsFromEnv(env, gh.repository);
  const inputs: TriageInput[] = decisions
    .filter((d) => d.finding && !d.suppressed && (d.outcome === "warn" || d.outcome === "triage"))
    .map((d) => ({ finding: d.finding! }));
  const timeouts = networkTimeoutsFromConfig(config.timeouts);
  let store: TriageStore | undefined;
  try {
    store = await openTriageStore(storePath, {
      repository: config.triage.repository ?? settings.repository ?? "",
      env,
      timeouts: { connectMs: timeouts.connectMs, statementMs: timeouts.responseMs, idleMs: timeouts.idleMs },
    });
    // Findings still there but not triaged now (waived, VEX'd, failing) are not "fixed".
    const triaged = new Set(inputs.map((i) => findingFingerprint(i.finding, key)));
    const stillPresent = new Set(fingerprints.filter((fp): fp is string => fp !== undefined && !triaged.has(fp)));
    const run = await store.recordRun(key, inputs, now, stillPresent);
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
          timeouts,
        });
        for (const a of issues) if (a.error) notices.push(`GitHub issue action failed (the gate goes on): ${a.kind} ${a.vulnerabilityId}: ${a.error}`);
      }
    }
    const seen = [...run.firstSeen, ...run.recurring, ...run.reappeared];
    const fresh = new Map((await store.list({ target: key, repository: store.repository })).map((e) => [e.fingerprint, e]));
    triage = {
      store: isPostgresLocation(storePath) ? store.location : relative(cwd, storePath).split(sep).join("/") || storePath,
      firstSeen: run.firstSeen.length,
      recurring: run.recurring.length,
      reappeared: run.reappeared.length,
      fixed: run.fixed.length,
      entries: seen.map((e) => {
        const cur = fresh.get(e.fingerprint) ?? e;
        // The run count as this run recorded it (other runs of a shared store may have added since);
        // the status and issue as they are now (the issue sync just above may have set them).
        return { fingerprint: cur.fingerprint, id: cur.vulnerabilityId, package: cur.package, runCount: e.runCount, status: cur.status, ...(cur.issueNumber !== undefined ? { issueNumber: cur.issueNumber } : {}) };
      }),
    };
  } catch (e) {
    triage = undefined;
    triageError = redactSecrets(formatErrorLine(e).split("\n")[0]!);
    notices.push(`triage store not updated (the gate's result stands${config.triage.required ? "; triage.required: exit 2" : ""}): ${triageError}`);
  } finally {
    await store?.close().catch(() => undefined);
  }
  return { triage, triageError, issues };
}
