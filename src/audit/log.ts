/**
 * The audit log's format: append-only, hash-chained JSON Lines. Each line is one entry
 *
 *   {"seq":N,"time":"<ISO 8601>","prevHash":"<hex>", …the SigningEvent's fields…, "hash":"<hex>"}
 *
 * where `hash` is the lowercase hex SHA-256 of the canonical JSON of the entry without `hash` (keys
 * sorted at every level, no whitespace, JSON.stringify's escaping), `prevHash` is the previous line's
 * `hash` (GENESIS_HASH for the first) and `seq` counts from 1 with no gap. Editing an entry breaks
 * its hash; removing, inserting or reordering entries breaks `seq` and `prevHash`.
 *
 * What a chain alone cannot detect: the last entries cut off cleanly (the shorter log is a valid
 * chain) or the whole tail after some entry replaced by a consistent, re-hashed forgery. Only a record
 * of the head kept elsewhere detects those: the `seq` and `hash` of each event are also written to the
 * GitHub Actions job summary and `::notice` line (and would go to a remote sink, see sink.ts), and
 * `verifyAuditLog` checks the log against such an anchor (`tollgate audit verify --anchor SEQ:HASH`).
 *
 * Appends are serialised by an exclusive lock file beside the log and written with O_APPEND, the
 * whole line in one write(), then fsync'd; the log is created with mode 0600.
 */
import { constants } from "node:fs";
import { mkdir, open, type FileHandle } from "node:fs/promises";
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { EXIT_USAGE, TollgateError } from "../errors.ts";
import { acquireLockFile } from "../io/atomic-write.ts";
import type { SigningEvent } from "./types.ts";

/** The `prevHash` of the first entry. */
export const GENESIS_HASH = "0".repeat(64);

/** No entry is longer than this (the recorder shortens long fields); a longer line is not ours. */
export const MAX_LINE_BYTES = 256 * 1024;

/** One line of the log. */
export interface AuditEntry extends SigningEvent {
  seq: number;
  time: string;
  prevHash: string;
  hash: string;
}

/** The audit log could not be written or read (exit 2): the signing command that records fails with it. */
export class AuditLogError extends TollgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("INPUT", message, EXIT_USAGE, options);
    this.name = "AuditLogError";
  }
}

/** JSON with the keys of every object sorted (by UTF-16 code units), no whitespace; `undefined` members left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const s = JSON.stringify(value);
    if (s === undefined) throw new TypeError(`canonicalJson: ${typeof value} cannot be represented`);
    return s;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

/** The hash an entry must carry: hex SHA-256 of the canonical JSON of everything but `hash`. */
export function entryHash(entry: Record<string, unknown>): string {
  const rest: Record<string, unknown> = { ...entry };
  delete rest.hash;
  return createHash("sha256").update(canonicalJson(rest), "utf8").digest("hex");
}

/** The entry that follows `previous` (undefined: the first), hashed. `event` must hold only SigningEvent fields. */
export function chainEntry(previous: Pick<AuditEntry, "seq" | "hash"> | undefined, time: string, event: SigningEvent): AuditEntry {
  const unhashed = { seq: (previous?.seq ?? 0) + 1, time, prevHash: previous?.hash ?? GENESIS_HASH, ...event };
  return { ...unhashed, hash: entryHash(unhashed) };
}

/**
 * The line written for an entry, in the order seq, time, prevHash, the event's fields, hash (for
 * people reading it; the hash is over the canonical form, whatever the order on the line), and a newline.
 */
export function entryLine(entry: AuditEntry): string {
  const { seq, time, prevHash, hash, ...event } = entry;
  return `${JSON.stringify({ seq, time, prevHash, ...event, hash })}\n`;
}

// O_NONBLOCK: a FIFO at the log's path fails at once (ENXIO) instead of blocking; the type check refuses it.
const APPEND_FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Appends one event: under the lock `<log>.lock`, reads the last entry (checking that its line is
 * complete and its hash right: appending to a damaged log would hide the damage behind a valid
 * link), chains the new entry to it, writes the line with O_APPEND in one write and fsyncs.
 * `time` is the event's time (ISO 8601). Returns the entry written.
 */
export async function appendAuditEntry(path: string, time: string, event: SigningEvent, options: { lockTimeoutMs?: number } = {}): Promise<AuditEntry> {
  const dir = dirname(path);
  let createdDir: string | undefined;
  try {
    createdDir = await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new AuditLogError(`audit log ${path}: cannot create its directory: ${(e as Error).message}`, { cause: e });
  }
  const lock = await acquireLockFile(`${path}.lock`, { timeoutMs: options.lockTimeoutMs ?? 60_000, pollMs: 20 });
  try {
    let handle: FileHandle;
    try {
      handle = await open(path, APPEND_FLAGS, 0o600);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === "ENXIO" || code === "EISDIR" ? "not a regular file" : (e as Error).message;
      throw new AuditLogError(`audit log ${path}: cannot open for appending: ${why}`, { cause: e });
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new AuditLogError(`audit log ${path}: not a regular file`);
      const last = await readLastEntry(handle, path, stat.size);
      const entry = chainEntry(last, time, event);
      const line = Buffer.from(entryLine(entry), "utf8");
      if (line.length > MAX_LINE_BYTES) throw new AuditLogError(`audit log ${path}: entry of ${line.length} bytes is over the limit of ${MAX_LINE_BYTES}`);
      // One write() of the whole line: with O_APPEND, the kernel puts it at the end in one piece.
      const { bytesWritten } = await handle.write(line, 0, line.length);
      if (bytesWritten !== line.length) throw new AuditLogError(`audit log ${path}: short write (${bytesWritten} of ${line.length} bytes); run tollgate audit verify`);
      await handle.sync();
      return entry;
    } finally {
      await handle.close();
    }
  } finally {
    await lock.release();
    if (createdDir !== undefined) await syncDirectory(dir);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const d = await open(dir, constants.O_RDONLY);
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // some filesystems cannot fsync a directory; the file itself was fsync'd
  }
}

/** The last entry of the log open in `handle` (undefined when it is empty), checked to be a complete, self-consistent line. */
async function readLastEntry(handle: FileHandle, path: string, size: number): Promise<AuditEntry | undefined> {
  if (size === 0) return undefined;
  const want = Math.min(size, MAX_LINE_BYTES + 1);
  const buf = Buffer.alloc(want);
  const { bytesRead } = await handle.read(buf, 0, want, size - want);
  const tail = buf.subarray(0, bytesRead);
  if (tail[tail.length - 1] !== 0x0a) {
    throw new AuditLogError(`audit log ${path}: the last line is incomplete (no newline at the end); refusing to append to a damaged log: run tollgate audit verify ${path}`);
  }
  const start = tail.lastIndexOf(0x0a, tail.length - 2) + 1;
  if (start === 0 && size > want) throw new AuditLogError(`audit log ${path}: the last line is longer than ${MAX_LINE_BYTES} bytes; refusing to append to a damaged log: run tollgate audit verify ${path}`);
  const problem = checkEntryShape(tail.subarray(start, tail.length - 1).toString("utf8"));
  if (typeof problem === "string") throw new AuditLogError(`audit log ${path}: the last entry is damaged (${problem}); refusing to append: run tollgate audit verify ${path}`);
  return problem;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses one line: the entry when it is a well-formed entry whose hash is right, else what is wrong with it. */
function checkEntryShape(line: string): AuditEntry | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return "not JSON";
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return "not a JSON object";
  const e = v as Record<string, unknown>;
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) return "no valid seq";
  if (typeof e.time !== "string" || Number.isNaN(Date.parse(e.time))) return "no valid time";
  if (typeof e.prevHash !== "string" || !HEX64.test(e.prevHash)) return "no valid prevHash";
  if (typeof e.hash !== "string" || !HEX64.test(e.hash)) return "no valid hash";
  if (typeof e.operation !== "string" || typeof e.artifactDigest !== "string" || typeof e.artifact !== "string") return "no operation, artifact or artifactDigest";
  if (e.result !== "success" && e.result !== "failure") return "no valid result";
  const computed = entryHash(e);
  if (computed !== e.hash) return `hash mismatch: the entry hashes to ${computed}, not the ${e.hash} it carries (the entry was edited)`;
  return e as unknown as AuditEntry;
}

export type AuditProblemKind = "not-json" | "malformed" | "truncated" | "line-too-long" | "hash-mismatch" | "seq" | "prev-hash" | "anchor";

/** The first thing wrong with a log. `line` counts from 1. */
export interface AuditProblem {
  line: number;
  kind: AuditProblemKind;
  message: string;
}

/** The head a log must contain: the entry `seq` with hash `hash` (recorded elsewhere: a job summary, a remote sink). */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

export interface AuditVerification {
  path: string;
  intact: boolean;
  /** Entries read and checked before the first problem (all of them when intact). */
  entries: number;
  /** The last good entry's seq and hash: the head to record elsewhere. */
  head?: { seq: number; hash: string };
  problem?: AuditProblem;
}

/**
 * Reads a log line by line (a regular file only, opened without blocking; lines capped at
 * MAX_LINE_BYTES), giving each line and whether it ended with a newline. Throws an AuditLogError when
 * the file cannot be read.
 */
export async function* readAuditLines(path: string): AsyncGenerator<{ line: number; text: string; complete: boolean; tooLong?: boolean }> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "ENXIO" || code === "EISDIR" ? "not a regular file" : (e as Error).message;
    throw new AuditLogError(`${path}: ${why}`, { cause: e });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new AuditLogError(`${path}: not a regular file`);
    const chunk = Buffer.alloc(64 * 1024);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let skipping = false;
    let lineNo = 0;
    for (;;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(chunk, 0, chunk.length, null));
      } catch (e) {
        throw new AuditLogError(`${path}: cannot read: ${(e as Error).message}`, { cause: e });
      }
      if (bytesRead === 0) break;
      let at = 0;
      while (at < bytesRead) {
        const nl = chunk.indexOf(0x0a, at);
        const end = nl === -1 || nl >= bytesRead ? bytesRead : nl;
        if (!skipping) {
          pending.push(Buffer.from(chunk.subarray(at, end)));
          pendingBytes += end - at;
          if (pendingBytes > MAX_LINE_BYTES) {
            skipping = true;
            pending = [];
          }
        }
        if (end === bytesRead) break;
        lineNo++;
        if (skipping) yield { line: lineNo, text: "", complete: true, tooLong: true };
        else yield { line: lineNo, text: Buffer.concat(pending).toString("utf8"), complete: true };
        pending = [];
        pendingBytes = 0;
        skipping = false;
        at = end + 1;
      }
    }
    if (skipping) yield { line: lineNo + 1, text: "", complete: false, tooLong: true };
    else if (pendingBytes > 0) yield { line: lineNo + 1, text: Buffer.concat(pending).toString("utf8"), complete: false };
  } finally {
    await handle.close();
  }
}

/**
 * Checks the whole chain: every line a well-formed entry whose hash is right, `seq` 1, 2, 3… and each
 * `prevHash` the previous `hash` (GENESIS_HASH first), the last line complete; and, given `anchor`,
 * that the entry `anchor.seq` is there with hash `anchor.hash`. Stops at the first problem. Calls
 * `onEntry` for each good entry (for listing). Throws an AuditLogError when the log cannot be read.
 */
export async function verifyAuditLog(path: string, options: { anchor?: AuditAnchor; onEntry?: (entry: AuditEntry) => void } = {}): Promise<AuditVerification> {
  let previous: AuditEntry | undefined;
  let entries = 0;
  let anchorSeen = false;
  const fail = (problem: AuditProblem): AuditVerification => ({ path, intact: false, entries, head: previous && { seq: previous.seq, hash: previous.hash }, problem });
  for await (const { line, text, complete, tooLong } of readAuditLines(path)) {
    if (tooLong) return fail({ line, kind: "line-too-long", message: `line ${line} is longer than ${MAX_LINE_BYTES} bytes: not an entry this log writes` });
    const parsed = checkEntryShape(text);
    if (!complete) {
      const what = typeof parsed === "string" ? `an incomplete entry (${parsed})` : "an entry without its newline";
      return fail({ line, kind: "truncated", message: `line ${line} is the truncated last line: ${what}` });
    }
    if (typeof parsed === "string") {
      const kind: AuditProblemKind = parsed === "not JSON" ? "not-json" : parsed.startsWith("hash mismatch") ? "hash-mismatch" : "malformed";
      return fail({ line, kind, message: `line ${line}: ${parsed}` });
    }
    const expectedSeq = (previous?.seq ?? 0) + 1;
    if (parsed.seq !== expectedSeq) {
      const why = parsed.seq > expectedSeq ? `seq gap: expected ${expectedSeq}, found ${parsed.seq} (${parsed.seq - expectedSeq} entr${parsed.seq - expectedSeq === 1 ? "y" : "ies"} removed?)` : `seq out of order: expected ${expectedSeq}, found ${parsed.seq} (entries reordered or repeated?)`;
      return fail({ line, kind: "seq", message: `line ${line}: ${why}` });
    }
    const expectedPrev = previous?.hash ?? GENESIS_HASH;
    if (parsed.prevHash !== expectedPrev) {
      return fail({ line, kind: "prev-hash", message: `line ${line}: prevHash mismatch: it links to ${parsed.prevHash}, but the previous entry's hash is ${expectedPrev} (an entry inserted, removed or replaced before it)` });
    }
    if (options.anchor && parsed.seq === options.anchor.seq) {
      if (parsed.hash !== options.anchor.hash) {
        return fail({ line, kind: "anchor", message: `line ${line}: entry ${parsed.seq} hashes to ${parsed.hash}, not the anchored ${options.anchor.hash} (the log from here on was rewritten)` });
      }
      anchorSeen = true;
    }
    previous = parsed;
    entries++;
    options.onEntry?.(parsed);
  }
  if (options.anchor && !anchorSeen) {
    return fail({
      line: entries + 1,
      kind: "anchor",
      message: `the log ends at entry ${previous?.seq ?? 0}, before the anchored entry ${options.anchor.seq} (entries at the end were removed)`,
    });
  }
  return { path, intact: true, entries, head: previous && { seq: previous.seq, hash: previous.hash } };
}

/** Parses `SEQ:HASH` (an anchor as the job summary shows it). */
export function parseAnchor(s: string): AuditAnchor | undefined {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(s.trim().toLowerCase());
  if (!m) return undefined;
  const seq = Number(m[1]);
  return seq >= 1 ? { seq, hash: m[2] as string } : undefined;
}
