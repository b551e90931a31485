import { isAbsolute, join } from "node:path";
import { formatErrorLine, InputError } from "../errors.ts";
import type { CollectProblem } from "../model/index.ts";
import type { Cataloger, CatalogResult, CollectResult, FileEntry, RangeSource, VirtualFs } from "./types.ts";

export interface CollectOptions {
  /** Largest file a cataloger is given, in bytes. */
  maxFileBytes?: number;
}

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** Largest hidden copy offered to catalogers' `history` (larger ones only lose what they would have told). */
export const HISTORY_FILE_MAX = 16 * 1024 * 1024;

/**
 * Walks a virtual filesystem once and offers each file to the catalogers that ask for it (and each
 * hidden copy, when a cataloger reads history). One cataloger's failure on one file becomes a problem
 * in the result; the run goes on.
 */
export async function collect(fs: VirtualFs, catalogers: readonly Cataloger[], options: CollectOptions = {}): Promise<CollectResult> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const result: CollectResult = { components: [], roots: [], problems: [], findings: [], stats: { filesSeen: 0, filesExtracted: 0 } };
  const merge = (out: CatalogResult): void => {
    // Never `push(...array)`: a file with ~120k components overflows the stack and was dropped whole.
    appendAll(result.components, out.components);
    if (out.root) result.roots.push(out.root);
    if (out.problems) appendAll(result.problems, out.problems);
    if (out.findings) appendAll(result.findings, out.findings);
    if (out.targetProperties) result.targetProperties = { ...result.targetProperties, ...out.targetProperties };
  };
  const failed = (cataloger: Cataloger, file: string | undefined, e: unknown): void => {
    const problem: CollectProblem = { source: cataloger.name, message: formatErrorLine(e) };
    if (file !== undefined) problem.file = file;
    if (e instanceof InputError && e.line !== undefined) problem.line = e.line;
    result.problems.push(problem);
  };
  const historians = catalogers.filter((c) => c.history !== undefined);
  // A hidden copy is read from the layer stream as it passes: a read error is the walk's own (a broken
  // layer) and ends the run as any layer error does. A cataloger's error on one copy is a problem.
  const offerHistory = async (entry: FileEntry): Promise<void> => {
    if (entry.size > HISTORY_FILE_MAX) return;
    const wanted = historians.filter((c) => c.history?.required(entry));
    if (wanted.length === 0) return;
    const contents = await fs.readFile(entry.path, HISTORY_FILE_MAX);
    for (const cataloger of wanted) {
      try {
        await cataloger.history?.extract({ entry, contents, fs });
      } catch (e) {
        failed(cataloger, entry.path, e);
      }
    }
  };
  for await (const entry of fs.walk(historians.length > 0 ? { hidden: true } : {})) {
    if (entry.hidden) {
      await offerHistory(entry);
      continue;
    }
    result.stats.filesSeen++;
    const wanted = catalogers.filter((c) => c.fileRequired(entry));
    if (wanted.length === 0) continue;
    const ranged = wanted.filter((c) => c.reads === "range");
    const whole = ranged.length === wanted.length ? [] : wanted.filter((c) => c.reads !== "range");
    let contents: Buffer = EMPTY;
    // A whole read for the "whole" catalogers, and for the "range" ones when the filesystem cannot
    // read by position: within the limit, a file over it is a problem (fail closed), never skipped.
    if (whole.length > 0 || (ranged.length > 0 && !fs.openRange)) {
      try {
        contents = await fs.readFile(entry.path, maxFileBytes);
      } catch (e) {
        result.problems.push({ source: "collect", file: entry.path, message: formatErrorLine(e) });
        continue;
      }
    }
    result.stats.filesExtracted++;
    for (const cataloger of whole) {
      try {
        merge(await cataloger.extract({ entry, contents, fs }));
      } catch (e) {
        failed(cataloger, entry.path, e);
      }
    }
    if (ranged.length === 0) continue;
    let source: RangeSource;
    try {
      source = fs.openRange ? await fs.openRange(entry.path) : memorySource(contents, entry.path);
    } catch (e) {
      result.problems.push({ source: "collect", file: entry.path, message: formatErrorLine(e) });
      continue;
    }
    try {
      for (const cataloger of ranged) {
        try {
          merge(await cataloger.extract({ entry, contents: EMPTY, fs, source }));
        } catch (e) {
          failed(cataloger, entry.path, e);
        }
      }
    } finally {
      await source.close();
    }
  }
  for (const cataloger of catalogers) {
    if (!cataloger.finish) continue;
    try {
      merge(await cataloger.finish(fs));
    } catch (e) {
      failed(cataloger, undefined, e);
    }
  }
  return result;
}

const EMPTY: Buffer = Buffer.alloc(0);

/** A RangeSource over bytes already read whole (filesystems without openRange). */
function memorySource(buf: Buffer, name: string): RangeSource {
  return {
    size: buf.length,
    name,
    read(offset: number, length: number): Promise<Buffer> {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset > buf.length || length > buf.length - offset) {
        return Promise.reject(new InputError(`truncated: ${length} bytes needed at offset ${offset}, the file has ${buf.length}`, { file: name }));
      }
      return Promise.resolve(buf.subarray(offset, offset + length));
    },
    close: () => Promise.resolve(),
  };
}

/** Appends every item of `from` to `to` one by one (a spread of an unbounded array overflows the stack). */
export function appendAll<T>(to: T[], from: readonly T[]): void {
  for (const item of from) to.push(item);
}

/** One line for a collect problem: `file:line: message` (the message may already name the file). */
export function problemLine(p: CollectProblem, root?: string): string {
  if (!p.file) return p.message;
  const shown = root !== undefined && !isAbsolute(p.file) ? join(root, p.file) : p.file;
  if (p.message.startsWith(p.file)) return `${shown}${p.message.slice(p.file.length)}`;
  return `${shown}${p.line !== undefined ? `:${p.line}` : ""}: ${p.message}`;
}
