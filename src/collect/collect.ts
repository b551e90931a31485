import { isAbsolute, join } from "node:path";
import { formatErrorLine, InputError } from "../errors.ts";
import type { CollectProblem } from "../model/index.ts";
import type { Cataloger, CollectResult, VirtualFs } from "./types.ts";

export interface CollectOptions {
  /** Largest file a cataloger is given, in bytes. */
  maxFileBytes?: number;
}

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Walks a virtual filesystem once and offers each file to the catalogers that ask for it. One
 * cataloger's failure on one file becomes a problem in the result; the run goes on.
 */
export async function collect(fs: VirtualFs, catalogers: readonly Cataloger[], options: CollectOptions = {}): Promise<CollectResult> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const result: CollectResult = { components: [], roots: [], problems: [], findings: [], stats: { filesSeen: 0, filesExtracted: 0 } };
  for await (const entry of fs.walk()) {
    result.stats.filesSeen++;
    const wanted = catalogers.filter((c) => c.fileRequired(entry));
    if (wanted.length === 0) continue;
    let contents: Buffer;
    try {
      contents = await fs.readFile(entry.path, maxFileBytes);
    } catch (e) {
      result.problems.push({ source: "collect", file: entry.path, message: formatErrorLine(e) });
      continue;
    }
    result.stats.filesExtracted++;
    for (const cataloger of wanted) {
      try {
        const out = await cataloger.extract({ entry, contents, fs });
        // Never `push(...array)`: a file with ~120k components overflows the stack and was dropped whole.
        appendAll(result.components, out.components);
        if (out.root) result.roots.push(out.root);
        if (out.problems) appendAll(result.problems, out.problems);
        if (out.findings) appendAll(result.findings, out.findings);
      } catch (e) {
        const problem: CollectProblem = { source: cataloger.name, file: entry.path, message: formatErrorLine(e) };
        if (e instanceof InputError && e.line !== undefined) problem.line = e.line;
        result.problems.push(problem);
      }
    }
  }
  return result;
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
