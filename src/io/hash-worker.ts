/**
 * The hashing half of hashFiles, in a worker thread: it takes one path at a time from its parent and
 * reads the file in fixed-size chunks into two reused buffers, the next chunk read (on libuv's
 * thread pool) while this thread hashes the current one, so reading costs no hashing time and memory
 * stays flat whatever the file's size. Only regular files are read (see io/files.ts: a FIFO would
 * hang, a device would never end).
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { parentPort } from "node:worker_threads";

/** A request from the pool: hash the file at path. */
export interface HashWorkerRequest {
  id: number;
  path: string;
}

/** The answer: the digest and the bytes hashed, or why the file could not be hashed. */
export type HashWorkerReply =
  | { id: number; type: "done"; sha256: string; size: number }
  | { id: number; type: "error"; kind: "NOT_FOUND" | "NOT_REGULAR" | "IO"; message: string };

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

if (parentPort) {
  const port = parentPort;
  const buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
  port.on("message", async (req: HashWorkerRequest) => {
    let reply: HashWorkerReply;
    try {
      reply = { id: req.id, type: "done", ...(await hashFileOverlapped(req.path, buffers)) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const kind = code === "ENOENT" ? "NOT_FOUND" : code === "NOT_REGULAR" || code === "EISDIR" || code === "ENXIO" ? "NOT_REGULAR" : "IO";
      reply = { id: req.id, type: "error", kind, message: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply satisfies HashWorkerReply);
  });
}
