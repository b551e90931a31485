/**
 * SHA-256 of many files, streamed and in parallel: the main thread and a small pool of worker threads
 * (one lane per core by default, never more than there are files) each read a file in 1 MiB chunks,
 * so memory stays flat whether the files are kilobytes or many gigabytes, and a single large file is
 * hashed at the speed of OpenSSL's SHA-256 (node:crypto is OpenSSL). The main thread hashes too, from the
 * first moment, while the workers start.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { InputError } from "../errors.ts";
import { CHUNK_BYTES, hashFailure, hashFileOverlapped, type HashFailure } from "./hash-file.ts";
import type { HashWorkerReply, HashWorkerRequest } from "./hash-worker.ts";

/** Options of hashFiles. */
export interface HashFilesOptions {
  /** Worker threads at most (default: the cores available). Files are hashed this many at a time. */
  concurrency?: number;
}

/** A file's digest and the bytes hashed. */
export interface FileDigest {
  sha256: string;
  size: number;
}

/**
 * Hashes each path (regular files only) with SHA-256 in worker threads and returns path → lowercase
 * hex. A missing file is an InputError with code NOT_FOUND, a FIFO/device/directory an InputError;
 * the first failure ends the run (fail closed: no partial map). Duplicate paths are hashed once.
 */
export async function hashFiles(paths: readonly string[], options: HashFilesOptions = {}): Promise<Map<string, string>> {
  const digests = await hashFilesWithSize(paths, options);
  return new Map([...digests].map(([p, d]) => [p, d.sha256]));
}

/** As hashFiles, with each file's size in bytes as hashed (the size read, which a growing file may change). */
export function hashFilesWithSize(paths: readonly string[], options: HashFilesOptions = {}): Promise<Map<string, FileDigest>> {
  const unique = [...new Set(paths)];
  const result = new Map<string, FileDigest>();
  if (unique.length === 0) return Promise.resolve(result);
  const wanted = options.concurrency ?? availableParallelism();
  if (!Number.isInteger(wanted) || wanted < 1) return Promise.reject(new RangeError(`hashFiles: concurrency must be a positive integer, not ${wanted}`));
  const lanes = Math.min(wanted, unique.length);
  const url = new URL(import.meta.url.endsWith(".ts") ? "./hash-worker.ts" : "./hash-worker.js", import.meta.url);

  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    let next = 0;
    let pending = 0;
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      for (const w of workers) void w.terminate();
      if (error) reject(error);
      // In the order of the paths given, whatever order the lanes finished in.
      else resolve(new Map(unique.map((p) => [p, result.get(p)!])));
    };
    const failure = (path: string, kind: HashFailure): Error =>
      kind.kind === "NOT_FOUND"
        ? new InputError("no such file", { file: path, code: "NOT_FOUND" })
        : kind.kind === "NOT_REGULAR"
          ? new InputError("not a regular file", { file: path })
          : new InputError(`cannot read: ${kind.message}`, { file: path });
    const maybeDone = (): void => {
      if (!settled && next >= unique.length && pending === 0) finish();
    };
    const dispatch = (w: Worker): void => {
      if (settled) return;
      if (next >= unique.length) return maybeDone();
      const id = next++;
      pending++;
      w.postMessage({ id, path: unique[id]! } satisfies HashWorkerRequest);
    };
    // The main thread is one lane (it starts at once, while the workers start); the other lanes are
    // worker threads, so `concurrency` files are hashed at a time on as many cores.
    const mainLane = async (): Promise<void> => {
      const buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
      while (!settled && next < unique.length) {
        const id = next++;
        pending++;
        const path = unique[id]!;
        try {
          result.set(path, await hashFileOverlapped(path, buffers));
        } catch (e) {
          return finish(failure(path, hashFailure(e)));
        }
        pending--;
      }
      maybeDone();
    };
    for (let i = 1; i < lanes; i++) {
      // The chunk buffer lives outside the heap; the worker's own heap holds almost nothing.
      const w = new Worker(url, { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
      workers.push(w);
      w.on("message", (m: HashWorkerReply) => {
        if (settled) return;
        pending--;
        const path = unique[m.id]!;
        if (m.type === "error") return finish(failure(path, m));
        result.set(path, { sha256: m.sha256, size: m.size });
        dispatch(w);
      });
      w.on("error", (e) => finish(e instanceof Error ? e : new Error(String(e))));
      w.on("exit", (code) => {
        if (!settled) finish(new Error(`hashFiles: a hash worker stopped (exit code ${code})`));
      });
      dispatch(w);
    }
    void mainLane();
  });
}
