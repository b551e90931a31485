/**
 * SHA-256 of one regular file, streamed with two reused chunk buffers: the read of chunk n+1 (on
 * libuv's thread pool) overlaps the hashing of chunk n, so reading costs no hashing time and memory
 * stays flat whatever the file's size. No side effects on import: used by the main thread's lane of
 * hashFiles and by its worker threads (hash-worker.ts).
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** Why a file could not be hashed. */
export interface HashFailure {
  kind: "NOT_FOUND" | "NOT_REGULAR" | "IO";
  message: string;
}

/** Bytes read per call: large enough that the syscalls cost nothing beside SHA-256. */
export const CHUNK_BYTES = 1024 * 1024;

const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Hashes one regular file with two chunk buffers: the read of chunk n+1 overlaps the hashing of
 * chunk n (SHA-256 runs on this thread, the read on libuv's pool).
 */
export async function hashFileOverlapped(path: string, buffers: readonly [Buffer, Buffer]): Promise<{ sha256: string; size: number }> {
  const handle = await open(path, READ_FLAGS);
  try {
    if (!(await handle.stat()).isFile()) throw Object.assign(new Error("not a regular file"), { code: "NOT_REGULAR" });
    const hash = createHash("sha256");
    let size = 0;
    let i = 0;
    let pending = handle.read(buffers[0], 0, buffers[0].length, 0);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      size += bytesRead;
      i ^= 1;
      const next = buffers[i]!;
      pending = handle.read(next, 0, next.length, size);
      hash.update(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
    }
    return { sha256: hash.digest("hex"), size };
  } finally {
    await handle.close();
  }
}

/** Why a file could not be hashed, from the error its read threw. */
export function hashFailure(e: unknown): HashFailure {
  const code = (e as NodeJS.ErrnoException).code;
  const kind = code === "ENOENT" ? "NOT_FOUND" : code === "NOT_REGULAR" || code === "EISDIR" || code === "ENXIO" ? "NOT_REGULAR" : "IO";
  return { kind, message: e instanceof Error ? e.message : String(e) };
}
