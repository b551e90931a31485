/**
 * One interface for every report tollgate writes (check, scan, lint): a format name, as `--format` and
 * `--report NAME=PATH` take it, and a render function. Each command keeps one list of its reporters;
 * its formats are that list's names, so adding a format is one reporter in one list.
 */
import { UsageError } from "../errors.ts";

/** One report format of one kind of result. */
export interface Reporter<R, O = Record<string, never>> {
  readonly format: string;
  /** False for formats only written to a file with `--report` (OpenVEX), never chosen with `--format`. */
  readonly stdout: boolean;
  render(result: R, options: O): string;
}

/** The format names of a list of reporters (those usable with `--format` when `stdoutOnly`). */
export function reporterFormats<R extends Reporter<never, never>>(reporters: readonly R[], stdoutOnly = false): R["format"][] {
  return reporters.filter((r) => !stdoutOnly || r.stdout).map((r) => r.format);
}

/** The reporter of a format; a UsageError naming the formats there are otherwise. */
export function findReporter<R extends Reporter<never, never>>(reporters: readonly R[], format: string, what: string): R {
  const r = reporters.find((x) => x.format === format);
  if (!r) throw new UsageError(`${what}: unknown format ${JSON.stringify(format)} (formats: ${reporters.map((x) => x.format).join(", ")})`);
  return r;
}
