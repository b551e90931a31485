/**
 * The audit log of signing events (issue 12, item 4). Every command that signs calls
 * `recordSigningEvent` once per attempt, successful or not:
 *
 *   await recordSigningEvent({ operation: "sign blob", artifact, artifactDigest, keyId, backend: signer.backend,
 *     keyRef: signer.ref, result: "success", output: bundlePath }, { config: (await ctx.config()).config });
 *
 * The event goes to the local append-only, hash-chained log (log.ts) and, under GitHub Actions, to a
 * `::notice` line and a job summary row (sink.ts). Secrets are removed from every text field first.
 * When the event cannot be recorded (the log is unwritable or damaged) it throws an AuditLogError
 * (exit 2) after trying every sink: a signature made without its audit record is the caller's to
 * report as a failure.
 */
import { userInfo, hostname } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { stateDir } from "../io/paths.ts";
import { redactSecrets } from "../io/text.ts";
import { AuditLogError, type AuditEntry } from "./log.ts";
import { GitHubActionsSink, LocalLogSink, type AuditRecord, type AuditSink } from "./sink.ts";
import type { SigningEvent } from "./types.ts";

export type { SigningEvent } from "./types.ts";
export { AuditLogError, verifyAuditLog, type AuditEntry, type AuditVerification, type AuditProblem } from "./log.ts";
export type { AuditSink, AuditRecord } from "./sink.ts";

/** The part of tollgate.yaml the audit log reads (a TollgateConfig fits). */
export interface AuditConfig {
  audit?: { log?: string; github?: boolean };
}

export interface RecordOptions {
  /** Default process.env: TOLLGATE_AUDIT_LOG, XDG_STATE_HOME, GITHUB_ACTIONS, GITHUB_STEP_SUMMARY, GITHUB_* identity. */
  env?: NodeJS.ProcessEnv;
  /** tollgate.yaml as loaded (`(await ctx.config()).config`); when absent, TOLLGATE_CONFIG or ./tollgate.yaml is loaded. */
  config?: AuditConfig;
  /** The event's time (default: now). */
  now?: Date;
  /** Secret values the caller holds (a token given on the command line, a PIN) to remove wherever they appear, besides those in `env`. */
  secrets?: Iterable<string | undefined>;
}

/** The log's path: TOLLGATE_AUDIT_LOG, else `audit.log` in tollgate.yaml (relative to the working directory), else `<state dir>/audit.log`. */
export function auditLogPath(options: { env?: NodeJS.ProcessEnv; config?: AuditConfig; cwd?: string } = {}): string {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const fromEnv = env.TOLLGATE_AUDIT_LOG;
  if (fromEnv) return isAbsolute(fromEnv) ? fromEnv : resolve(cwd, fromEnv);
  const fromConfig = options.config?.audit?.log;
  if (fromConfig) return isAbsolute(fromConfig) ? fromConfig : resolve(cwd, fromConfig);
  return join(stateDir(env), "audit.log");
}

/** Under GitHub Actions (GITHUB_ACTIONS=true) with `audit.github` on (the default). */
export function githubSinkEnabled(env: NodeJS.ProcessEnv, config: AuditConfig | undefined): boolean {
  return env.GITHUB_ACTIONS === "true" && config?.audit?.github !== false;
}

/** The sinks an event goes to, the local log first. */
export function auditSinks(options: { env?: NodeJS.ProcessEnv; config?: AuditConfig } = {}): AuditSink[] {
  const env = options.env ?? process.env;
  const sinks: AuditSink[] = [new LocalLogSink(auditLogPath({ env, config: options.config }))];
  if (githubSinkEnabled(env, options.config)) sinks.push(new GitHubActionsSink(env));
  return sinks;
}

/**
 * Who signed, when the caller does not say: under GitHub Actions the workflow and run
 * (GITHUB_WORKFLOW_REF, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF,
 * GITHUB_ACTOR), elsewhere the local user and host.
 */
export function signerIdentity(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.GITHUB_ACTIONS === "true") {
    const names: [string, string][] = [
      ["workflow", "GITHUB_WORKFLOW_REF"],
      ["run", "GITHUB_RUN_ID"],
      ["attempt", "GITHUB_RUN_ATTEMPT"],
      ["repository", "GITHUB_REPOSITORY"],
      ["sha", "GITHUB_SHA"],
      ["ref", "GITHUB_REF"],
      ["actor", "GITHUB_ACTOR"],
    ];
    const out: Record<string, string> = { ci: "github-actions" };
    for (const [k, v] of names) if (env[v]) out[k] = env[v];
    return out;
  }
  let user = env.USER ?? env.LOGNAME ?? "";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container with an arbitrary uid)
  }
  return { user: user || "unknown", host: hostname() };
}

/** Secret values that may be in the environment: removed wherever they appear in an event. */
const SECRET_ENV = ["TOLLGATE_PASSWORD", "TOLLGATE_GPG_PASSPHRASE", "COSIGN_PASSWORD", "VAULT_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "TOLLGATE_PKCS11_PIN", "PKCS11_PIN", "SIGSTORE_ID_TOKEN"];

/** Text fields are cut to this many characters (the log's lines stay small). */
const MAX_FIELD_CHARS = 2048;

/** One text field for the log: secrets removed (known values, token shapes, URL passwords, a PKCS#11 `pin-value`), cut to MAX_FIELD_CHARS. */
function clean(s: string, secrets: readonly (string | undefined)[]): string {
  const redacted = redactSecrets(String(s), secrets).replace(/((?:^|[;?&])pin-value=)[^;?&]*/gi, "$1[REDACTED]");
  return redacted.length > MAX_FIELD_CHARS ? `${redacted.slice(0, MAX_FIELD_CHARS)}…` : redacted;
}

/** The event as recorded: only SigningEvent's fields (nothing else a caller's object carries), each cleaned. */
export function sanitizeEvent(event: SigningEvent, env: NodeJS.ProcessEnv = process.env, extraSecrets: Iterable<string | undefined> = []): SigningEvent {
  if (event === null || typeof event !== "object") throw new AuditLogError("audit: the signing event is not an object");
  if (event.result !== "success" && event.result !== "failure") throw new AuditLogError(`audit: result must be "success" or "failure", not ${JSON.stringify(event.result)}`);
  for (const k of ["operation", "artifactDigest", "artifact"] as const) {
    if (typeof event[k] !== "string") throw new AuditLogError(`audit: the signing event has no ${k}`);
  }
  const secrets = [...SECRET_ENV.map((k) => env[k]), ...extraSecrets];
  const c = (s: string | undefined): string | undefined => (s === undefined ? undefined : clean(s, secrets));
  const signerIn = event.signer ?? signerIdentity(env);
  const signer: Record<string, string> = {};
  for (const [k, v] of Object.entries(signerIn).slice(0, 32)) signer[clean(k, secrets)] = clean(String(v), secrets);
  const out: SigningEvent = {
    operation: clean(event.operation, secrets),
    artifactDigest: clean(event.artifactDigest, secrets),
    artifact: clean(event.artifact, secrets),
    keyId: c(event.keyId),
    backend: c(event.backend),
    keyRef: c(event.keyRef),
    signer,
    result: event.result,
    error: event.error === undefined ? undefined : clean(event.error.split(/\r?\n/)[0] ?? "", secrets),
    output: c(event.output),
  };
  for (const k of Object.keys(out) as (keyof SigningEvent)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/**
 * Records one signing event in the local audit log and, under GitHub Actions, as a `::notice` line
 * and a job summary row. Returns when every sink has it; throws an AuditLogError naming each sink
 * that failed (after trying them all).
 */
export async function recordSigningEvent(event: SigningEvent, options: RecordOptions = {}): Promise<void> {
  await recordSigningEventEntry(event, options);
}

/** recordSigningEvent, returning the local log's entry (its seq and hash: the head to anchor elsewhere). */
export async function recordSigningEventEntry(event: SigningEvent, options: RecordOptions = {}): Promise<AuditEntry | undefined> {
  const env = options.env ?? process.env;
  let config = options.config;
  if (config === undefined) {
    const { loadConfig } = await import("../config/load.ts");
    config = (await loadConfig(env.TOLLGATE_CONFIG || undefined)).config;
  }
  const record: AuditRecord = { event: sanitizeEvent(event, env, options.secrets), time: (options.now ?? new Date()).toISOString() };
  const failures: string[] = [];
  let firstError: unknown;
  for (const sink of auditSinks({ env, config })) {
    try {
      const entry = await sink.record(record);
      if (entry && !record.entry) record.entry = entry;
    } catch (e) {
      firstError ??= e;
      failures.push(e instanceof AuditLogError ? e.message : `${sink.name}: ${(e as Error).message}`);
    }
  }
  if (failures.length > 0) {
    throw new AuditLogError(`the signing event was not recorded: ${failures.join("; ")}`, { cause: firstError });
  }
  return record.entry;
}
