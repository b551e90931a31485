/**
 * Reading lockfile text: strict UTF-8, JSON with file:line:column errors and nesting limits, line lookup for pretty-printed JSON keys, JSON with comments, TOML.
 */
import { createRequire } from "node:module";
import type * as JsoncParser from "jsonc-parser";
import { InputError, LimitExceededError } from "../../errors.ts";

/** Nesting deeper than this in a lockfile is refused (no real lockfile comes close). */
export const MAX_NESTING = 512;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly: invalid bytes are an InputError naming the line, never replaced silently. */
export function decodeUtf8(contents: Uint8Array, file: string): string {
  try {
    return utf8.decode(contents);
  } catch {
    // Find the first bad byte to name its line.
    let line = 1;
    const loose = new TextDecoder("utf-8");
    const text = loose.decode(contents);
    const bad = text.indexOf("\uFFFD");
    for (let i = 0; i < bad; i++) if (text.charCodeAt(i) === 10) line++;
    throw new InputError("not valid UTF-8", { file, line });
  }
}

/** 1-based line and column of a character offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Where and why JSON text does not parse, for the error line: V8's JSON.parse messages give no
 * position for an unexpected token ("Unexpected token '}', … is not valid JSON"), so on that failure
 * path jsonc-parser (strict: no comments, no trailing commas) scans the text once more for the offset
 * and kind of the first error. Only ever called after JSON.parse has failed.
 */
function jsonSyntaxError(text: string): { offset: number; problem: string } | undefined {
  const jsonc = createRequire(import.meta.url)("jsonc-parser") as typeof JsoncParser;
  const errors: JsoncParser.ParseError[] = [];
  jsonc.parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return undefined;
  // "CloseBraceExpected" → "close brace expected".
  const problem = jsonc.printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return { offset: first.offset, problem };
}

/** JSON.parse with the position of a syntax error as file:line:column. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const pos = /at position (\d+)/.exec(message);
    const found = jsonSyntaxError(text);
    const offset = found?.offset ?? (pos ? Number(pos[1]) : text.length);
    const where = positionOf(text, offset);
    const atEnd = offset >= text.trimEnd().length || /Unexpected end of JSON input/.test(message);
    const what = atEnd ? "unexpected end of JSON (truncated?)" : `malformed JSON${found ? ` (${found.problem})` : ""}`;
    throw new InputError(what, { file, line: where.line, column: where.column });
  }
}

/** Decodes and parses a JSON file. */
export function parseJsonFile(contents: Uint8Array, file: string): unknown {
  return parseJsonText(decodeUtf8(contents, file), file);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  // for…in over a JSON.parse result (own, enumerable keys only): no entries array per call.
  for (const k in v) {
    const val = v[k];
    if (typeof val === "string") out[k] = val;
  }
  return out;
}

/**
 * Lines of object keys in pretty-printed JSON (one key per line, as npm, composer and NuGet write
 * their lockfiles): the path of keys, joined by "\u0000", mapped to its 1-based line. A key whose
 * value is an object or array is a step in the path of the keys below it.
 */
export function jsonKeyLines(text: string, maxDepth = MAX_NESTING): Map<string, number> {
  const lines = new Map<string, number>();
  const stack: { indent: number; path: string }[] = [];
  let lineNo = 0;
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = n;
    lineNo++;
    let i = start;
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (text.charCodeAt(i) === 34) {
      const indent = i - start;
      let j = i + 1;
      let escaped = false;
      while (j < end && text.charCodeAt(j) !== 34) {
        if (text.charCodeAt(j) === 92) {
          escaped = true;
          j++;
        }
        j++;
      }
      let k = j + 1;
      while (k < end && text.charCodeAt(k) === 32) k++;
      if (j < end && text.charCodeAt(k) === 58) {
        while (stack.length > 0 && (stack[stack.length - 1] as { indent: number }).indent >= indent) stack.pop();
        if (stack.length >= MAX_NESTING) throw new LimitExceededError(`JSON nested deeper than ${MAX_NESTING} levels`);
        // Keys below maxDepth are never looked up: only their nesting is tracked (no string built).
        let path = "";
        if (stack.length < maxDepth) {
          let key = text.slice(i + 1, j);
          if (escaped) {
            try {
              key = JSON.parse(`"${key}"`) as string;
            } catch {
              /* keep the raw key */
            }
          }
          path = stack.length === 0 ? key : `${(stack[stack.length - 1] as { path: string }).path}\u0000${key}`;
          if (!lines.has(path)) lines.set(path, lineNo);
        }
        k++;
        while (k < end && text.charCodeAt(k) === 32) k++;
        const c = text.charCodeAt(k);
        if (c === 123 || c === 91) stack.push({ indent, path });
      }
    }
    start = end + 1;
  }
  return lines;
}


/** Removes // and /* comments and trailing commas from JSONC (bun.lock), leaving strings intact. */
export function stripJsonc(text: string): string {
  let out = "";
  let i = 0;
  let last = 0;
  const n = text.length;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (ch === 34) {
      i++;
      while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      i++;
      continue;
    }
    if (ch === 47 && text.charCodeAt(i + 1) === 47) {
      out += text.slice(last, i);
      while (i < n && text.charCodeAt(i) !== 10) i++;
      last = i;
      continue;
    }
    if (ch === 47 && text.charCodeAt(i + 1) === 42) {
      out += text.slice(last, i);
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      // Keep newlines so that line numbers stay right.
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
      last = i;
      continue;
    }
    if (ch === 44) {
      let j = i + 1;
      while (j < n && /\s/.test(text[j] as string)) j++;
      if (text[j] === "}" || text[j] === "]") {
        out += `${text.slice(last, i)} `;
        i++;
        last = i;
        continue;
      }
    }
    i++;
  }
  return out + text.slice(last);
}

/** TOML (smol-toml, loaded on first use) with syntax errors as file:line:column. */
export async function parseTomlText(text: string, file: string): Promise<Record<string, unknown>> {
  const { parse } = await import("smol-toml");
  try {
    return parse(text) as Record<string, unknown>;
  } catch (e) {
    const err = e as { line?: number; column?: number; message: string };
    const first = err.message.split("\n")[0] ?? "malformed TOML";
    throw new InputError(`malformed TOML: ${first.replace(/^Invalid TOML document: /, "")}`, {
      file,
      ...(err.line !== undefined ? { line: err.line } : {}),
      ...(err.column !== undefined ? { column: err.column } : {}),
    });
  }
}

/** 1-based lines of each `[[name]]` header, in order (TOML arrays of tables such as `[[package]]`). */
export function arrayTableLines(text: string, name: string): number[] {
  const out: number[] = [];
  const header = `[[${name}]]`;
  let line = 1;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf("\n", start);
    const l = (end === -1 ? text.slice(start) : text.slice(start, end)).trim();
    if (l === header) out.push(line);
    if (end === -1) break;
    start = end + 1;
    line++;
  }
  return out;
}
