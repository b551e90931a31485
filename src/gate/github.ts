import { Octokit } from "@octokit/rest";
import { shortFingerprint } from "./fingerprint.ts";
import type { TriageEntry, TriageRunResult, TriageStore } from "./triage.ts";

/**
 * Recurring findings → GitHub issues. A triaged finding seen in at least `recurringAfter` runs gets
 * one issue, labelled, with a hidden fingerprint marker in its body so that it is never duplicated
 * (the marker is looked up among the issues with tollgate's labels before creating one). Seen again
 * after a gap: a comment (and the issue is reopened if it had been closed). Fixed: a comment, then the
 * issue is closed. API errors and rate limits are retried and reported; they never fail the gate.
 */

export type IssueActionKind = "open" | "comment" | "reopen" | "close" | "link";

export interface IssueAction {
  kind: IssueActionKind;
  fingerprint: string;
  vulnerabilityId: string;
  package: string;
  issueNumber?: number;
  url?: string;
  /** Set when the action failed after retries (the gate goes on). */
  error?: string;
  dryRun?: boolean;
}

export interface IssueSyncOptions {
  /** owner/name. */
  repository: string;
  token?: string;
  /** REST API base, e.g. https://api.github.com or a GitHub Enterprise Server `/api/v3` URL. */
  baseUrl?: string;
  labels: readonly string[];
  recurringAfter: number;
  dryRun?: boolean;
  /** Retries for rate limits and server errors (default 3). */
  retries?: number;
  /** How long to wait before a retry (default: Retry-After, else exponential from 1 s, capped at 60 s). */
  sleep?: (ms: number) => Promise<void>;
  /** A ready client (tests); otherwise one is made from token and baseUrl. */
  octokit?: Octokit;
}

/** Octokit logs failed requests itself; tollgate reports them once, in the actions. */
const QUIET_LOG = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** The hidden marker that ties an issue to a finding. */
export function issueMarker(fingerprint: string): string {
  return `<!-- tollgate:fingerprint=${fingerprint} -->`;
}

const MARKER_RE = /<!-- tollgate:fingerprint=([0-9a-f]{64}) -->/;

/** Advisory text goes into issues: no @mentions, HTML or line breaks from it. */
function safeText(s: string): string {
  return s.replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/(^|[\s(])@/g, "$1@\u200b").replace(/[\r\n]+/g, " ");
}

function issueTitle(e: TriageEntry): string {
  return safeText(`${e.vulnerabilityId} in ${e.package.replace(/^pkg:/, "")}${e.version ? `@${e.version}` : ""} (recurring, ${e.severity})`).slice(0, 250);
}

function issueBody(e: TriageEntry): string {
  const lines = [
    `tollgate has seen **${e.vulnerabilityId}** (${e.severity}) in \`${e.package}${e.version ? `@${e.version}` : ""}\` in ${e.runCount} runs of \`${e.target}\`.`,
    "",
    e.summary ? `> ${safeText(e.summary)}` : "",
    "",
    `- aliases: ${e.aliases.filter((a) => a !== e.vulnerabilityId).join(", ") || "none"}`,
    `- fixed in: ${e.fixedVersions.join(", ") || "no fixed version known"}`,
    `- first seen: ${e.firstSeen}`,
    `- fingerprint: \`${shortFingerprint(e.fingerprint)}\` (\`tollgate triage ack ${shortFingerprint(e.fingerprint)} --reason …\` acknowledges it)`,
    "",
    "It is below the gate's fail threshold, so it does not block pull requests; this issue tracks it until it is fixed.",
    "",
    issueMarker(e.fingerprint),
  ];
  return lines.filter((l, i, a) => !(l === "" && a[i - 1] === "")).join("\n");
}

function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown }).status;
  return typeof s === "number" ? s : undefined;
}

function retryDelay(e: unknown, attempt: number): number {
  const headers = ((e as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {}) as Record<string, string | undefined>;
  const retryAfter = Number(headers["retry-after"]);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter * 1000, 60_000);
  const reset = Number(headers["x-ratelimit-reset"]);
  if (headers["x-ratelimit-remaining"] === "0" && Number.isFinite(reset)) return Math.min(Math.max(reset * 1000 - Date.now(), 1000), 60_000);
  return Math.min(1000 * 2 ** attempt, 60_000);
}

function retryable(e: unknown): boolean {
  const s = statusOf(e);
  if (s === undefined) return true; // network error
  if (s === 429 || s >= 500) return true;
  if (s === 403) {
    const headers = (e as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {};
    return headers["x-ratelimit-remaining"] === "0" || headers["retry-after"] !== undefined;
  }
  return false;
}

function errorText(e: unknown): string {
  const s = statusOf(e);
  const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
  return s !== undefined ? `HTTP ${s}: ${msg}` : (msg ?? "unknown error");
}

/** Reads GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (as GitHub Actions sets them). */
export function githubSettingsFromEnv(env: NodeJS.ProcessEnv, configRepository?: string): { token?: string; repository?: string; baseUrl?: string } {
  return {
    token: env.GITHUB_TOKEN || undefined,
    repository: configRepository ?? (env.GITHUB_REPOSITORY || undefined),
    baseUrl: env.GITHUB_API_URL || undefined,
  };
}

/**
 * Applies the issue rules to one run's triage result and returns the actions (performed, or only
 * planned with `dryRun`). Never throws for API errors: they come back in `error`.
 */
export async function syncIssues(store: TriageStore, run: TriageRunResult, options: IssueSyncOptions): Promise<IssueAction[]> {
  const [owner, repo] = options.repository.split("/") as [string, string];
  const retries = options.retries ?? 3;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const dry = options.dryRun === true;
  const octokit = dry ? undefined : (options.octokit ?? new Octokit({ auth: options.token, baseUrl: options.baseUrl, userAgent: "tollgate", request: { retries: 0 }, log: QUIET_LOG }));

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (attempt >= retries || !retryable(e)) throw e;
        await sleep(retryDelay(e, attempt));
      }
    }
  }

  const actions: IssueAction[] = [];
  const base = (e: TriageEntry): Pick<IssueAction, "fingerprint" | "vulnerabilityId" | "package"> => ({ fingerprint: e.fingerprint, vulnerabilityId: e.vulnerabilityId, package: e.package });

  // The issues already carrying a marker, found by tollgate's labels (once per run, only when needed).
  let known: Map<string, { number: number; url: string; state: "open" | "closed" }> | undefined;
  async function knownIssues(): Promise<Map<string, { number: number; url: string; state: "open" | "closed" }>> {
    if (known) return known;
    known = new Map();
    if (!octokit) return known;
    const issues = await call(() =>
      octokit.paginate(octokit.rest.issues.listForRepo, { owner, repo, state: "all", labels: options.labels.join(","), per_page: 100 }),
    );
    for (const i of issues) {
      const m = MARKER_RE.exec(i.body ?? "");
      if (m && !i.pull_request) known.set(m[1]!, { number: i.number, url: i.html_url, state: i.state === "closed" ? "closed" : "open" });
    }
    return known;
  }

  const seen = [...run.firstSeen, ...run.recurring, ...run.reappeared];
  const reappeared = new Set(run.reappeared.map((e) => e.fingerprint));
  for (const e of seen) {
    if (e.status === "acknowledged") continue;
    try {
      if (e.issueNumber === undefined) {
        if (e.runCount < options.recurringAfter) continue;
        const existing = (await knownIssues()).get(e.fingerprint);
        if (existing) {
          // An issue from an earlier run (or another store): link it rather than open a duplicate.
          await store.setIssue(e.fingerprint, existing);
          actions.push({ kind: "link", ...base(e), issueNumber: existing.number, url: existing.url });
          if (existing.state === "closed") {
            await call(() => octokit!.rest.issues.update({ owner, repo, issue_number: existing.number, state: "open" }));
            await call(() => octokit!.rest.issues.createComment({ owner, repo, issue_number: existing.number, body: `Seen again by tollgate on ${e.lastSeen} (run ${e.runCount}).` }));
            await store.setIssue(e.fingerprint, { ...existing, state: "open" });
            actions.push({ kind: "reopen", ...base(e), issueNumber: existing.number, url: existing.url });
          }
          continue;
        }
        if (dry) {
          actions.push({ kind: "open", ...base(e), dryRun: true });
          continue;
        }
        const created = await call(() =>
          octokit!.rest.issues.create({ owner, repo, title: issueTitle(e), body: issueBody(e), labels: [...options.labels] }),
        );
        await store.setIssue(e.fingerprint, { number: created.data.number, url: created.data.html_url, state: "open" });
        known?.set(e.fingerprint, { number: created.data.number, url: created.data.html_url, state: "open" });
        actions.push({ kind: "open", ...base(e), issueNumber: created.data.number, url: created.data.html_url });
      } else if (reappeared.has(e.fingerprint) || e.issueState === "closed") {
        const n = e.issueNumber;
        if (dry) {
          actions.push({ kind: e.issueState === "closed" ? "reopen" : "comment", ...base(e), issueNumber: n, url: e.issueUrl, dryRun: true });
          continue;
        }
        if (e.issueState === "closed") {
          await call(() => octokit!.rest.issues.update({ owner, repo, issue_number: n, state: "open" }));
          await store.setIssue(e.fingerprint, { number: n, url: e.issueUrl, state: "open" });
        }
        await call(() => octokit!.rest.issues.createComment({ owner, repo, issue_number: n, body: `Seen again by tollgate on ${e.lastSeen} after a gap (seen in ${e.runCount} runs in all).` }));
        actions.push({ kind: e.issueState === "closed" ? "reopen" : "comment", ...base(e), issueNumber: n, url: e.issueUrl });
      }
    } catch (err) {
      actions.push({ kind: e.issueNumber === undefined ? "open" : "comment", ...base(e), issueNumber: e.issueNumber, error: errorText(err), dryRun: dry || undefined });
    }
  }

  for (const e of run.fixed) {
    if (e.issueNumber === undefined || e.issueState === "closed") continue;
    const n = e.issueNumber;
    if (dry) {
      actions.push({ kind: "close", ...base(e), issueNumber: n, url: e.issueUrl, dryRun: true });
      continue;
    }
    try {
      await call(() =>
        octokit!.rest.issues.createComment({ owner, repo, issue_number: n, body: `tollgate no longer finds ${e.vulnerabilityId} in \`${e.package}\` (${e.fixedAt ?? "now"}): closing as fixed.` }),
      );
      await call(() => octokit!.rest.issues.update({ owner, repo, issue_number: n, state: "closed", state_reason: "completed" }));
      await store.setIssue(e.fingerprint, { number: n, url: e.issueUrl, state: "closed" });
      actions.push({ kind: "close", ...base(e), issueNumber: n, url: e.issueUrl });
    } catch (err) {
      actions.push({ kind: "close", ...base(e), issueNumber: n, error: errorText(err) });
    }
  }
  return actions;
}

/** One line per action, as `--dry-run` prints them. */
export function describeIssueAction(a: IssueAction): string {
  const what = `${a.vulnerabilityId} in ${a.package}`;
  const issue = a.issueNumber !== undefined ? ` #${a.issueNumber}` : "";
  const prefix = a.dryRun ? "would " : "";
  const verb = { open: "open an issue for", comment: "comment on issue", reopen: "reopen issue", close: "close issue", link: "link existing issue" }[a.kind];
  const text = a.kind === "open" ? `${prefix}${verb} ${what}${issue}` : `${prefix}${verb}${issue} (${what})`;
  return a.error ? `${text}: FAILED (${a.error})` : text;
}
