/**
 * Where signing events go. Every sink implements `AuditSink`; `recordSigningEvent` (index.ts) hands
 * each event to the local hash-chained log first, then to the others with the chained entry, so a
 * remote sink (a Rekor-like transparency log, a SIEM) receives the entry's `seq` and `hash` and keeps
 * an independent record of the log's head: that record is what detects the last entries being cut off
 * or the tail being rewritten, which the chain alone cannot (see log.ts).
 *
 * A remote sink is added by implementing this interface (with the http.ts helpers: timeouts, no
 * credentials over plain HTTP) and listing it in `auditSinks` (index.ts).
 */
import { open, stat } from "node:fs/promises";
import { constants } from "node:fs";
import { markdownText, terminalText } from "../io/text.ts";
import { appendAuditEntry, AuditLogError, type AuditEntry } from "./log.ts";
import type { SigningEvent } from "./types.ts";

/** One event as the sinks receive it: the event (secrets removed), its time, and the local log's entry once chained. */
export interface AuditRecord {
  event: SigningEvent;
  /** ISO 8601. */
  time: string;
  /** Set after the local log appended it: the entry with its seq, prevHash and hash. */
  entry?: AuditEntry;
}

export interface AuditSink {
  /** For messages: "audit log /path", "GitHub Actions". */
  readonly name: string;
  /** Records one event. A sink that chains entries (the local log) returns the entry it wrote. Throws when it could not record. */
  record(record: AuditRecord): Promise<AuditEntry | undefined>;
}

/** The local append-only, hash-chained JSON Lines file. */
export class LocalLogSink implements AuditSink {
  readonly name: string;
  readonly path: string;
  constructor(path: string) {
    this.path = path;
    this.name = `audit log ${path}`;
  }
  record(record: AuditRecord): Promise<AuditEntry> {
    return appendAuditEntry(this.path, record.time, record.event);
  }
}

/** Escapes the message of a workflow command (`::notice …::MESSAGE`): `%`, CR and LF. */
export function escapeWorkflowData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Escapes a property value of a workflow command (`title=VALUE`): the data escapes plus `:` and `,`. */
export function escapeWorkflowProperty(s: string): string {
  return escapeWorkflowData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

const NOTICE_TITLE = "tollgate signing";

/** The one-line summary of an event, plain text (escaped by the caller for where it goes). */
function describe(record: AuditRecord): string {
  const e = record.event;
  const key = e.keyId ? `key ${e.keyId}${e.backend ? ` (${e.backend})` : ""}` : e.backend ? `backend ${e.backend}` : "no key id";
  const signer = e.signer ? Object.entries(e.signer).map(([k, v]) => `${k}=${v}`).join(" ") : "";
  const anchor = record.entry ? ` [audit entry ${record.entry.seq}:${record.entry.hash}]` : " [not in the local audit log]";
  return `${e.operation} ${e.result}: ${e.artifact} (${e.artifactDigest}) ${key}${signer ? ` by ${signer}` : ""}${e.error ? `: ${e.error}` : ""}${anchor}`;
}

/** The `::notice` line for an event (no newline): controls made visible, then escaped as workflow commands require. */
export function noticeLine(record: AuditRecord): string {
  return `::notice title=${escapeWorkflowProperty(NOTICE_TITLE)}::${escapeWorkflowData(terminalText(describe(record)))}`;
}

export const SUMMARY_HEADER = "| Seq | Time | Operation | Result | Artifact | Digest | Key id | Backend | Signer | Entry hash |";
const SUMMARY_SEPARATOR = "|---:|---|---|---|---|---|---|---|---|---|";
const SUMMARY_HEADING = "### tollgate signing events";

/** The job summary table row for an event (no newline); every cell through markdownText. */
export function summaryRow(record: AuditRecord): string {
  const e = record.event;
  const signer = e.signer ? Object.entries(e.signer).map(([k, v]) => `${k}=${v}`).join(" ") : "";
  const cells = [
    record.entry ? String(record.entry.seq) : "—",
    record.time,
    e.operation,
    e.error ? `${e.result}: ${e.error}` : e.result,
    e.artifact,
    e.artifactDigest,
    e.keyId ?? "",
    e.backend ?? "",
    signer,
    record.entry?.hash ?? "not in the local audit log",
  ];
  return `| ${cells.map((c) => markdownText(c)).join(" | ")} |`;
}

/** The step summary file is at most 1 MiB (GitHub's limit); read at most that to find our table. */
const MAX_SUMMARY_BYTES = 1024 * 1024;

/**
 * GitHub Actions: a `::notice` line on stderr (stdout may carry a command's output, such as a
 * signature; the runner reads workflow commands from both) and a row in `$GITHUB_STEP_SUMMARY`,
 * under a table header written the first time in the step (or when something else was written to the
 * summary since).
 */
export class GitHubActionsSink implements AuditSink {
  readonly name = "GitHub Actions";
  private readonly env: NodeJS.ProcessEnv;
  private readonly writeLine: (line: string) => void;
  constructor(env: NodeJS.ProcessEnv, writeLine: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {
    this.env = env;
    this.writeLine = writeLine;
  }

  async record(record: AuditRecord): Promise<undefined> {
    this.writeLine(noticeLine(record));
    const summary = this.env.GITHUB_STEP_SUMMARY;
    if (!summary) return undefined;
    try {
      const tableOpen = await summaryEndsWithOurTable(summary);
      const text = `${tableOpen ? "" : `\n${SUMMARY_HEADING}\n\n${SUMMARY_HEADER}\n${SUMMARY_SEPARATOR}\n`}${summaryRow(record)}\n`;
      const handle = await open(summary, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NONBLOCK ?? 0), 0o644);
      try {
        if (!(await handle.stat()).isFile()) throw new Error("not a regular file");
        await handle.write(text);
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw new AuditLogError(`GITHUB_STEP_SUMMARY ${summary}: cannot append the signing event: ${(e as Error).message}`, { cause: e });
    }
    return undefined;
  }
}

/** Whether the summary file's last lines are our table (its header, then only rows). */
async function summaryEndsWithOurTable(path: string): Promise<boolean> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) return false;
    size = s.size;
  } catch {
    return false;
  }
  if (size === 0 || size > MAX_SUMMARY_BYTES) return false;
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  let text: string;
  try {
    text = (await handle.readFile()).toString("utf8");
  } finally {
    await handle.close();
  }
  const at = text.lastIndexOf(`\n${SUMMARY_HEADER}\n`);
  if (at === -1) return false;
  const after = text.slice(at + SUMMARY_HEADER.length + 2).split("\n");
  if (after[after.length - 1] === "") after.pop();
  return after.length >= 1 && after[0] === SUMMARY_SEPARATOR && after.every((l) => l.startsWith("|") && l.endsWith("|"));
}
