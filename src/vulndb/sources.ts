/**
 * Where OSV records come from: OSV's per-ecosystem all.zip exports, directories of records and single
 * .json files. Each record's text is handed to a callback with a name for messages (`all.zip:GHSA-….json`).
 * Every reader is bounded: entry count, per-record size and total size; directories are walked
 * without following symbolic links.
 */
import { lstat, open, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { InputError, LimitExceededError } from "../errors.ts";

export interface SourceLimits {
  /** Largest single record, bytes (default 16 MiB; the largest OSV records are a few MiB). */
  maxRecordBytes: number;
  /** Most records in one source (default 2,000,000). */
  maxRecords: number;
  /** Total uncompressed bytes read from one source (default 8 GiB). */
  maxTotalBytes: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = { maxRecordBytes: 16 * 1024 * 1024, maxRecords: 2_000_000, maxTotalBytes: 8 * 1024 ** 3 };

export type RecordSink = (name: string, text: string) => void;

/** What kind of source a path is: an all.zip, a directory of records or one .json file. */
export async function sourceKind(path: string): Promise<"zip" | "dir" | "json" | "sqlite" | "missing"> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return "missing";
  }
  if (st.isDirectory()) return "dir";
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(16);
    await fh.read(head, 0, 16, 0);
    if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) || head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x05, 0x06]))) return "zip";
    if (head.toString("latin1").startsWith("SQLite format 3\0")) return "sqlite";
  } finally {
    await fh.close();
  }
  return "json";
}


/** Reads every `*.json` file under a directory (recursively; symbolic links are not followed). */
export async function readDirectoryRecords(root: string, sink: RecordSink, limits: SourceLimits = DEFAULT_SOURCE_LIMITS): Promise<number> {
  let count = 0;
  let total = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 32) throw new LimitExceededError(`${dir}: directories nested more than 32 deep`);
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) {
        if (e.name.startsWith(".")) continue;
        await walk(p, depth + 1);
      } else if (e.isFile() && e.name.toLowerCase().endsWith(".json")) {
        const st = await lstat(p);
        if (st.size > limits.maxRecordBytes) throw new LimitExceededError(`${p}: ${st.size} bytes, more than the per-record limit of ${limits.maxRecordBytes}`);
        total += st.size;
        if (total > limits.maxTotalBytes) throw new LimitExceededError(`${root}: more than ${limits.maxTotalBytes} bytes of records`);
        if (++count > limits.maxRecords) throw new LimitExceededError(`${root}: more than ${limits.maxRecords} records`);
        sink(relative(process.cwd(), p) || p, await readFile(p, "utf8"));
      }
    }
  };
  await walk(root, 0);
  return count;
}

/** Reads one .json file: a record, or an array of records (as some exports write them). */
export async function readJsonFileRecords(path: string, sink: RecordSink, limits: SourceLimits = DEFAULT_SOURCE_LIMITS): Promise<number> {
  const st = await lstat(path);
  if (st.size > limits.maxRecordBytes * 4) throw new LimitExceededError(`${path}: ${st.size} bytes, more than the limit of ${limits.maxRecordBytes * 4}`);
  const text = await readFile(path, "utf8");
  if (text.trimStart().startsWith("[")) {
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (e) {
      throw new InputError(`not valid JSON (${(e as Error).message})`, { file: path });
    }
    const list = arr as unknown[];
    if (list.length > limits.maxRecords) throw new LimitExceededError(`${path}: more than ${limits.maxRecords} records`);
    list.forEach((r, i) => sink(`${path}[${i}]`, JSON.stringify(r)));
    return list.length;
  }
  sink(path, text);
  return 1;
}
