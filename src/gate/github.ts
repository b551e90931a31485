import { randomUUID } from "node:crypto";
import { Octokit } from "@octokit/rest";
import { TollgateError } from "../errors.ts";
import { fetchWithTimeouts, isLoopbackHost, NetworkTimeoutError, redactSecrets, type NetworkTimeouts } from "../io/http.ts";
import { shortFingerprint, type IssueAction, type IssueActionKind } from "../model/index.ts";
import type { TriageEntry, TriageRunResult, TriageStore } from "./triage.ts";

/**
 * Recurring findings → GitHub issues. A triaged finding seen in at least `recurringAfter` runs gets
 * one issue, labelled, with a hidden fingerprint marker in its body so that it is never duplicated
 * (the marker is looked up among the issues with tollgate's labels before creating one). Seen again
 * after a gap: a comment (and the issue is reopened if it had been closed). Fixed: a comment, then the
 * issue is closed. Errors never fail the gate; they come back in the actions, without the token.
 *
 * Server errors and broken connections are retried. A hard failure (a rate limit, a 401 or 403, a
 * timeout, retries used up, a failed listing of the existing issues) stops the sync: nothing more is
 * attempted in that run, so a rate limit costs one request and not minutes of waiting per finding, and
 * no issue is opened without the marker check. The token is sent over plain HTTP only to this machine.
 */

export interface IssueSyncOptions {
  /** owner/name. */
  repository: string;
  token?: string;
  /** REST API base, e.g. https://api.github.com or a GitHub Enterprise Server `/api/v3` URL. */
  baseUrl?: string;
  labels: readonly string[];
  recurringAfter: number;
  dryRun?: boolean;
  /** Retries for server errors and broken connections (default 3); a rate limit is not retried. */
  retries?: number;
  /** How long to wait before a retry (exponential from 1 s). */
  sleep?: (ms: number) => Promise<void>;
  /** Connect, response and idle timeouts of each API request (default DEFAULT_NETWORK_TIMEOUTS). */
  timeouts?: Partial<NetworkTimeouts>;
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

/** A failed request that got no HTTP response (Octokit reports those as status 500): the network's error. */
function networkCause(e: unknown): Error | undefined {
  if ((e as { response?: unknown }).response !== undefined) return undefined;
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? cause : e instanceof Error && statusOf(e) === undefined ? e : undefined;
}

/**
 * What a failure means for the sync: `retry` (a server error, a broken connection), `hard` (the
 * other calls would fail the same way: a rate limit, bad or insufficient credentials, a timeout) or
 * `item` (this one issue: 404, 410, 422).
 */
function classify(e: unknown): "retry" | "hard" | "item" {
  const net = networkCause(e);
  if (net) return net instanceof NetworkTimeoutError ? "hard" : "retry";
  const s = statusOf(e);
  if (s === undefined) return "hard";
  if (s === 401 || s === 403 || s === 429) return "hard";
  if (s >= 500) return "retry";
  return "item";
}

/** A failure after which nothing more is attempted in this sync. */
class HardFailure extends Error {
  readonly original: unknown;
  constructor(original: unknown) {
    super("hard failure");
    this.original = original;
  }
}

function errorText(e: unknown, secrets: readonly (string | undefined)[]): string {
  const original = e instanceof HardFailure ? e.original : e;
  // The triage store's own errors (a lost database connection) are already one line that names it.
  if (original instanceof TollgateError) return redactSecrets(original.message.split("\n")[0]!, secrets);
  const net = networkCause(original);
  let text: string;
  if (net) text = net.message.split("\n")[0] ?? "network error";
  else {
    const s = statusOf(original);
    const msg = original instanceof Error ? original.message.split("\n")[0] : String(original);
    text = s !== undefined ? `HTTP ${s}: ${msg}` : (msg ?? "unknown error");
  }
  return redactSecrets(text, secrets);
}

/** Why the token must not be sent to this API base, if it must not. */
function tokenRefusal(baseUrl: string | undefined, token: string | undefined): string | undefined {
  if (!baseUrl) return undefined;
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    return `the GitHub API URL ${redactSecrets(baseUrl)} is not a URL`;
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return `the GitHub API URL ${redactSecrets(baseUrl)} is not http(s)`;
  if (token && u.protocol === "http:" && !isLoopbackHost(u.host)) {
    return `refused to send the GitHub token over plain HTTP to ${u.host} (GITHUB_API_URL must be https:// for any host but this machine)`;
  }
  return undefined;
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
  const secrets = [options.token];
  const refusal = dry ? undefined : tokenRefusal(options.baseUrl, options.token);
  const octokit =
    dry || refusal
      ? undefined
      : (options.octokit ??
        new Octokit({
          auth: options.token,
          baseUrl: options.baseUrl,
          userAgent: "tollgate",
          request: { fetch: fetchWithTimeouts(options.timeouts ?? {}, { buffered: true, maxBytes: 32 * 1024 * 1024 }) },
          log: QUIET_LOG,
        }));

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    if (refusal) throw new HardFailure(new Error(refusal));
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const kind = classify(e);
        if (kind === "item") throw e;
        if (kind === "hard" || attempt >= retries) throw new HardFailure(e);
        await sleep(Math.min(1000 * 2 ** attempt, 8000));
      }
    }
  }

  const actions: IssueAction[] = [];
  const base = (e: TriageEntry): Pick<IssueAction, "fingerprint" | "vulnerabilityId" | "package"> => ({ fingerprint: e.fingerprint, vulnerabilityId: e.vulnerabilityId, package: e.package });

  // The issues already carrying a marker, found by tollgate's labels (once per run, only when needed).
  let known: Map<string, { number: number; url: string; state: "open" | "closed" }> | undefined;
  async function knownIssues(): Promise<Map<string, { number: number; url: string; state: "open" | "closed" }>> {
    if (known) return known;
    const found = new Map<string, { number: number; url: string; state: "open" | "closed" }>();
    if (!octokit) {
      if (refusal) await call(async () => undefined);
      return (known = found);
    }
    let issues;
    try {
      issues = await call(() =>
        octokit.paginate(octokit.rest.issues.listForRepo, { owner, repo, state: "all", labels: options.labels.join(","), per_page: 100 }),
      );
    } catch (e) {
      // Without the list, the marker check cannot be made: open nothing in this run.
      throw e instanceof HardFailure ? e : new HardFailure(e);
    }
    for (const i of issues) {
      const m = MARKER_RE.exec(i.body ?? "");
      if (m && !i.pull_request) found.set(m[1]!, { number: i.number, url: i.html_url, state: i.state === "closed" ? "closed" : "open" });
    }
    return (known = found);
  }

  // The work of this run, in order: issues for the findings seen, then closing the fixed ones.
  const tasks: { entry: TriageEntry; kind: IssueActionKind; run: () => Promise<void> }[] = [];
  const reappeared = new Set(run.reappeared.map((e) => e.fingerprint));
  for (const e of [...run.firstSeen, ...run.recurring, ...run.reappeared]) {
    if (e.status === "acknowledged") continue;
    if (e.issueNumber === undefined) {
      if (e.runCount >= options.recurringAfter) tasks.push({ entry: e, kind: "open", run: () => openOrLink(e) });
    } else if (reappeared.has(e.fingerprint) || e.issueState === "closed") {
      tasks.push({ entry: e, kind: "comment", run: () => seenAgain(e, e.issueNumber!) });
    }
  }
  for (const e of run.fixed) {
    if (e.issueNumber !== undefined && e.issueState !== "closed") tasks.push({ entry: e, kind: "close", run: () => closeFixed(e, e.issueNumber!) });
  }

  // Runs of one repository at the same time (a CI matrix on one shared store) all see a finding cross
  // the threshold; the store's claim lets exactly one of them open (or link) its issue.
  const claimant = randomUUID();
  async function openOrLink(e: TriageEntry): Promise<void> {
    if (dry) return openOrLinkClaimed(e);
    let claimed: boolean;
    try {
      claimed = await store.claimIssue(e.fingerprint, claimant);
    } catch (err) {
      throw new HardFailure(err); // the store is gone: no issue can be opened safely in this run
    }
    if (!claimed) return; // another run has it, or already opened it
    try {
      await openOrLinkClaimed(e);
    } catch (err) {
      await store.releaseIssueClaim(e.fingerprint, claimant).catch(() => undefined);
      throw err;
    }
  }

  async function openOrLinkClaimed(e: TriageEntry): Promise<void> {
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
      return;
    }
    if (dry) {
      actions.push({ kind: "open", ...base(e), dryRun: true });
      return;
    }
    const created = await call(() => octokit!.rest.issues.create({ owner, repo, title: issueTitle(e), body: issueBody(e), labels: [...options.labels] }));
    await store.setIssue(e.fingerprint, { number: created.data.number, url: created.data.html_url, state: "open" });
    known?.set(e.fingerprint, { number: created.data.number, url: created.data.html_url, state: "open" });
    actions.push({ kind: "open", ...base(e), issueNumber: created.data.number, url: created.data.html_url });
  }

  async function seenAgain(e: TriageEntry, n: number): Promise<void> {
    if (dry) {
      actions.push({ kind: e.issueState === "closed" ? "reopen" : "comment", ...base(e), issueNumber: n, url: e.issueUrl, dryRun: true });
      return;
    }
    if (e.issueState === "closed") {
      await call(() => octokit!.rest.issues.update({ owner, repo, issue_number: n, state: "open" }));
      await store.setIssue(e.fingerprint, { number: n, url: e.issueUrl, state: "open" });
    }
    await call(() => octokit!.rest.issues.createComment({ owner, repo, issue_number: n, body: `Seen again by tollgate on ${e.lastSeen} after a gap (seen in ${e.runCount} runs in all).` }));
    actions.push({ kind: e.issueState === "closed" ? "reopen" : "comment", ...base(e), issueNumber: n, url: e.issueUrl });
  }

  async function closeFixed(e: TriageEntry, n: number): Promise<void> {
    if (dry) {
      actions.push({ kind: "close", ...base(e), issueNumber: n, url: e.issueUrl, dryRun: true });
      return;
    }
    await call(() =>
      octokit!.rest.issues.createComment({ owner, repo, issue_number: n, body: `tollgate no longer finds ${e.vulnerabilityId} in \`${e.package}\` (${e.fixedAt ?? "now"}): closing as fixed.` }),
    );
    await call(() => octokit!.rest.issues.update({ owner, repo, issue_number: n, state: "closed", state_reason: "completed" }));
    await store.setIssue(e.fingerprint, { number: n, url: e.issueUrl, state: "closed" });
    actions.push({ kind: "close", ...base(e), issueNumber: n, url: e.issueUrl });
  }

  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    try {
      await t.run();
    } catch (err) {
      // A hard failure ends the sync: the rest would fail the same way (or, without the list of
      // existing issues, could open duplicates).
      const rest = err instanceof HardFailure ? tasks.length - i - 1 : 0;
      const error = `${errorText(err, secrets)}${rest > 0 ? ` (${rest} other issue action${rest === 1 ? "" : "s"} not attempted)` : ""}`;
      actions.push({ kind: t.kind, ...base(t.entry), issueNumber: t.entry.issueNumber, error, dryRun: (t.kind !== "close" && dry) || undefined });
      if (err instanceof HardFailure) break;
    }
  }
  return actions;
}
