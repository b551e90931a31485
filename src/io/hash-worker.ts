/**
 * The hashing half of hashFiles, in a worker thread: it takes one path at a time from its parent and
 * reads the file in fixed-size chunks into two reused buffers, the next chunk read (on libuv's
 * thread pool) while this thread hashes the current one, so reading costs no hashing time and memory
 * stays flat whatever the file's size. Only regular files are read (see io/files.ts: a FIFO would
 * hang, a device would never end).
 */
import { parentPort } from "node:worker_threads";
import { CHUNK_BYTES, hashFailure, hashFileOverlapped, type HashFailure } from "./hash-file.ts";

/** A request from the pool: hash the file at path. */
export interface HashWorkerRequest {
  id: number;
  path: string;
}

/** The answer: the digest and the bytes hashed, or why the file could not be hashed. */
export type HashWorkerReply = { id: number; type: "done"; sha256: string; size: number } | ({ id: number; type: "error" } & HashFailure);

if (parentPort) {
  const port = parentPort;
  const buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
  port.on("message", async (req: HashWorkerRequest) => {
    let reply: HashWorkerReply;
    try {
      reply = { id: req.id, type: "done", ...(await hashFileOverlapped(req.path, buffers)) };
    } catch (e) {
      reply = { id: req.id, type: "error", ...hashFailure(e) };
    }
    port.postMessage(reply satisfies HashWorkerReply);
  });
}
