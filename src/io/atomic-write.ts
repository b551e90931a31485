import { randomBytes } from "node:crypto";
import { readdirSync, rmSync, statSync } from "node:fs";
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { TollgateError, EXIT_USAGE } from "../errors.ts";

/** How long a leftover temporary file of a process that may still be alive is kept. */
export const STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * Writes a file atomically: the data goes to a temporary file in the same directory, which is
 * flushed and then renamed over the destination. Readers see the old file or the new one, never half.
 * Temporary files of earlier writes that were killed (`kill -9`) before their rename are removed:
 * only those of processes that are gone, or untouched for an hour.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  await removeStaleFiles(dir, TMP_NAME);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  const handle = await open(tmp, "wx", options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** `.<name>.tmp-<pid>-<hex>`: writeFileAtomic's temporary files. */
const TMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-f]{12}$/;

/** Whether a process with this id exists (on this machine, in this PID namespace). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the entries of `dir` whose names match `pattern` (its first group: the PID of the process
 * that made them) and that are leftovers: the process is gone, or the entry has not been touched for
 * `staleAfterMs` (a PID reused by another process). Never this process's own. A pattern without a
 * PID group goes by age alone. Best effort: an entry that cannot be removed is left.
 */
export async function removeStaleFiles(dir: string, pattern: RegExp, staleAfterMs: number = STALE_AFTER_MS, now: number = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const stale = leftover(name, pattern, async () => (await stat(path)).mtimeMs, staleAfterMs, now);
    if (!(await stale)) continue;
    try {
      await rm(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // someone else's, or already gone
    }
  }
  return removed;
}

/** removeStaleFiles, synchronously (for code that needs the result before it can go on). */
export function removeStaleFilesSync(dir: string, pattern: RegExp, staleAfterMs: number = STALE_AFTER_MS, now: number = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (!leftover(name, pattern, () => statSync(path).mtimeMs, staleAfterMs, now)) continue;
    try {
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // someone else's, or already gone
    }
  }
  return removed;
}

function leftover(name: string, pattern: RegExp, mtime: () => number, staleAfterMs: number, now: number): boolean;
function leftover(name: string, pattern: RegExp, mtime: () => Promise<number>, staleAfterMs: number, now: number): Promise<boolean>;
function leftover(name: string, pattern: RegExp, mtime: () => number | Promise<number>, staleAfterMs: number, now: number): boolean | Promise<boolean> {
  const m = pattern.exec(name);
  if (!m) return false;
  const pid = m[1] === undefined ? undefined : Number(m[1]);
  if (pid === process.pid) return false;
  if (pid !== undefined && !isProcessAlive(pid)) return true;
  const byAge = (t: number) => now - t > staleAfterMs;
  try {
    const t = mtime();
    return typeof t === "number" ? byAge(t) : t.then(byAge, () => false);
  } catch {
    return false;
  }
}

/** Another process holds a lock and did not let go in time. */
export class LockBusyError extends TollgateError {
  constructor(message: string) {
    super("INPUT", message, EXIT_USAGE);
    this.name = "LockBusyError";
  }
}

export interface FileLock {
  path: string;
  release(): Promise<void>;
}

interface LockHolder {
  pid: number;
  host: string;
  at: string;
  nonce: string;
}

export interface LockOptions {
  /** How long to wait for another holder (default 15 minutes). */
  timeoutMs?: number;
  /** A lock not refreshed for this long is stale whoever holds it (default 10 minutes; holders refresh it every 30 s). */
  staleAfterMs?: number;
  pollMs?: number;
  /** Called once when the lock is busy and the wait begins. */
  onWait?: (message: string) => void;
}

const HEARTBEAT_MS = 30_000;

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const v = JSON.parse(await readFile(path, "utf8")) as Partial<LockHolder>;
    return typeof v.pid === "number" && typeof v.host === "string" && typeof v.nonce === "string" ? { pid: v.pid, host: v.host, at: String(v.at ?? ""), nonce: v.nonce } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes an exclusive lock: a file created with O_EXCL holding this process's PID, host and a nonce,
 * refreshed (its mtime) every 30 s while held. A lock whose holder is a dead process on this machine,
 * or that has not been refreshed for `staleAfterMs` (its holder was killed elsewhere, or froze), is
 * taken over. Waits up to `timeoutMs` for a live holder, then fails with a LockBusyError.
 */
export async function acquireLockFile(path: string, options: LockOptions = {}): Promise<FileLock> {
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const staleAfterMs = options.staleAfterMs ?? 10 * 60_000;
  const pollMs = options.pollMs ?? 250;
  const me: LockHolder = { pid: process.pid, host: hostname(), at: new Date().toISOString(), nonce: randomBytes(8).toString("hex") };
  const start = Date.now();
  let told = false;
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    try {
      const fh = await open(path, "wx", 0o644);
      try {
        await fh.writeFile(JSON.stringify(me));
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = await readHolder(path);
    let age: number;
    try {
      age = Date.now() - (await stat(path)).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    const dead = holder ? holder.host === me.host && !isProcessAlive(holder.pid) : age > 5_000; // unreadable: a holder killed between create and write
    if (dead || age > staleAfterMs) {
      await takeOver(path, holder);
      continue;
    }
    if (Date.now() - start > timeoutMs) {
      throw new LockBusyError(
        `${path}: held by process ${holder?.pid ?? "?"} on ${holder?.host ?? "?"} since ${holder?.at ?? "?"}; gave up waiting after ${Math.round(timeoutMs / 1000)} s (remove the file if no tollgate is running there)`,
      );
    }
    if (!told) {
      told = true;
      options.onWait?.(`waiting for ${path} (held by process ${holder?.pid ?? "?"} on ${holder?.host ?? "?"} since ${holder?.at ?? "?"})`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const heartbeat = setInterval(() => {
    const t = new Date();
    utimes(path, t, t).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    path,
    async release() {
      clearInterval(heartbeat);
      // only our own lock: after a takeover (we froze past staleAfterMs) it is someone else's
      const holder = await readHolder(path);
      if (holder?.nonce === me.nonce) await unlink(path).catch(() => undefined);
    },
  };
}

/**
 * Removes a stale lock without removing a fresh one that replaced it meanwhile: the lock is renamed
 * away (atomic: one process wins), then checked to be the stale one; a fresh one is put back.
 */
async function takeOver(path: string, stale: LockHolder | undefined): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await rename(path, aside);
  } catch {
    return; // another process took it over first
  }
  const moved = await readHolder(aside);
  if (moved && moved.nonce !== stale?.nonce) {
    // a fresh lock taken in between: give it back (unless yet another one exists now)
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}
