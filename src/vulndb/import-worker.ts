/**
 * The reading half of an import of a zip archive, in a worker thread: entries are inflated and
 * CRC-checked there, while the main thread parses, checks and writes the records to SQLite; the two
 * halves overlap on separate cores. (Parsing in the worker too measured more CPU in total and a
 * slower import: the prepared records cost more to pass over than the text.) Each batch travels as
 * one JSON string of entry names and offsets plus one buffer of the records' bytes: cloning these two
 * is far cheaper than a thousand objects (and transferring the buffer measured slower than copying
 * it). A shared counter bounds the batches in flight, so memory stays flat however large the archive is.
 */
import { parentPort, workerData } from "node:worker_threads";
import { LimitExceededError } from "../errors.ts";
import type { SourceLimits } from "./sources.ts";
import { forEachZipEntry } from "./zip.ts";

export interface ImportWorkerData {
  path: string;
  limits: SourceLimits;
  /** Int32Array over a SharedArrayBuffer: batches posted and not yet consumed. */
  inFlight: Int32Array;
}

/** One entry of a batch: its name, and where its bytes lie in the batch buffer. */
export type ImportWorkerItem = [name: string, offset: number, length: number];

export type ImportWorkerMessage =
  | { type: "batch"; /** JSON of ImportWorkerItem[] */ items: string; data: Uint8Array }
  | { type: "done"; count: number }
  | { type: "error"; kind: string; message: string };

export const BATCH_SIZE = 1000;
export const MAX_IN_FLIGHT = 4;

if (parentPort) {
  const port = parentPort;
  const { path, limits, inFlight } = workerData as ImportWorkerData;
  let items: ImportWorkerItem[] = [];
  let buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  let used = 0;
  const flush = (): void => {
    if (items.length === 0) return;
    while (Atomics.load(inFlight, 0) >= MAX_IN_FLIGHT) Atomics.wait(inFlight, 0, Atomics.load(inFlight, 0), 1000);
    Atomics.add(inFlight, 0, 1);
    port.postMessage({ type: "batch", items: JSON.stringify(items), data: new Uint8Array(buf.buffer, buf.byteOffset, used) } satisfies ImportWorkerMessage);
    items = [];
    used = 0;
  };
  try {
    let count = 0;
    forEachZipEntry(
      path,
      (e) => !e.name.endsWith("/") && e.name.toLowerCase().endsWith(".json"),
      (name, bytes) => {
        if (++count > limits.maxRecords) throw new LimitExceededError(`${path}: more than ${limits.maxRecords} records`);
        if (used + bytes.length > buf.length) {
          flush();
          if (bytes.length > buf.length) buf = Buffer.allocUnsafe(bytes.length);
        }
        bytes.copy(buf, used);
        items.push([`${path}:${name}`, used, bytes.length]);
        used += bytes.length;
        if (items.length >= BATCH_SIZE) flush();
      },
      { maxEntries: limits.maxRecords, maxEntryBytes: limits.maxRecordBytes, maxTotalBytes: limits.maxTotalBytes },
    );
    flush();
    port.postMessage({ type: "done", count } satisfies ImportWorkerMessage);
  } catch (e) {
    port.postMessage({ type: "error", kind: (e as Error).name ?? "Error", message: (e as Error).message ?? String(e) } satisfies ImportWorkerMessage);
  }
}
