/**
 * pip requirements files (`requirements*.txt`, `requirements/*.txt`;
 * https://pip.pypa.io/en/stable/reference/requirements-file-format/). A requirement pinned with `==`
 * or `===` is exact; anything else (a range, no version, a URL) is reported as unresolved, never
 * guessed. `--hash` options become hashes; `-r`/`--requirement` includes are followed through the
 * same filesystem (confined to its root), with a depth limit and cycle guard.
 */
import type { Cataloger, CatalogResult, ExtractInput } from "../../collect/index.ts";
import { formatErrorLine } from "../../errors.ts";
import type { CollectProblem, Component, Hash } from "../../model/index.ts";
import { ComponentSet, hashFromPrefixed, pypiComponent } from "../common/component.ts";
import { normalizePythonName } from "../../ecosystem/pep503.ts";
import { decodeUtf8 } from "../common/text.ts";

const NAME = "python-requirements";
const MAX_INCLUDE_DEPTH = 16;
const REQ_RE = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$/;

export function isRequirementsFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return /^requirements.*\.txt$/i.test(base) || /(^|\/)requirements\/[^/]+\.txt$/.test(path);
}

/** Logical lines: continuation backslashes joined, comments removed; each with its first line number. */
function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const lines = text.split(/\r?\n/);
  let buf = "";
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i] as string;
    if (buf === "") start = i + 1;
    // A comment starts at "#" at the line start or after whitespace.
    l = l.replace(/(^|\s)#.*$/, "");
    if (l.endsWith("\\")) {
      buf += `${l.slice(0, -1)} `;
      continue;
    }
    buf += l;
    if (buf.trim()) out.push({ text: buf.trim(), line: start });
    buf = "";
  }
  if (buf.trim()) out.push({ text: buf.trim(), line: start });
  return out;
}

function dirOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
}

function joinRel(base: string, rel: string): string | undefined {
  if (rel.startsWith("/") || /^[a-z]+:\/\//i.test(rel)) return undefined;
  const parts = base.split("/").filter(Boolean);
  for (const p of rel.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(p);
  }
  return parts.join("/");
}

interface ParseState {
  set: ComponentSet;
  problems: CollectProblem[];
  seen: Set<string>;
  fs: ExtractInput["fs"];
}

async function parseFile(path: string, text: string, depth: number, state: ParseState): Promise<void> {
  for (const { text: line, line: lineNo } of logicalLines(text)) {
    const include = /^(?:-r|--requirement)(?:\s+|=)(\S+)$/.exec(line);
    if (include) {
      const target = joinRel(dirOf(path), include[1] as string);
      if (target === undefined) {
        state.problems.push({ source: NAME, file: path, line: lineNo, message: `${path}:${lineNo}: include ${include[1]} is outside the scanned tree; not followed` });
        continue;
      }
      if (state.seen.has(target)) continue;
      if (depth >= MAX_INCLUDE_DEPTH) {
        state.problems.push({ source: NAME, file: path, line: lineNo, message: `${path}:${lineNo}: includes nested deeper than ${MAX_INCLUDE_DEPTH}` });
        continue;
      }
      state.seen.add(target);
      try {
        const bytes = await state.fs.readFile(target, 16 * 1024 * 1024);
        await parseFile(target, decodeUtf8(bytes, target), depth + 1, state);
      } catch (e) {
        state.problems.push({ source: NAME, file: path, line: lineNo, message: `${path}:${lineNo}: include ${include[1]}: ${formatErrorLine(e)}` });
      }
      continue;
    }
    if (line.startsWith("-")) continue; // -c constraints, -i/--index-url, -e editable installs, --pre, …
    const hashes: Hash[] = [];
    const spec = line
      .replace(/--hash[=\s]+(\S+)/g, (_m, h: string) => {
        const hash = hashFromPrefixed(h);
        if (hash) hashes.push(hash);
        return "";
      })
      .replace(/\s--?[a-z-]+(=\S+)?/g, "")
      .trim();
    const [requirement = "", marker] = spec.split(";", 2);
    const at = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*@\s*(\S+)/.exec(requirement);
    const m = REQ_RE.exec(requirement.trim());
    if (!m) continue;
    const name = m[1] as string;
    const constraint = (m[3] ?? "").trim();
    const pin = /^===?\s*([A-Za-z0-9][A-Za-z0-9.!+_-]*)$/.exec(constraint);
    const version = pin && !(pin[1] as string).includes("*") ? (pin[1] as string) : undefined;
    const properties: Record<string, string> = {};
    if (constraint && !version) properties["tollgate:python:requirement"] = at ? (at[3] as string) : constraint;
    if (marker?.trim()) properties["tollgate:python:marker"] = marker.trim();
    const c: Component = pypiComponent({
      name,
      version,
      hashes,
      location: { path, line: lineNo },
      foundBy: NAME,
      direct: true,
      scope: /(^|[-_/])(dev|test|tests|lint|docs)([-_.]|$)/i.test(path) ? "dev" : "required",
      unresolved: version === undefined,
      properties,
    });
    if (version === undefined) c.ref = `pkg:pypi/${normalizePythonName(name)}#${path}:${lineNo}`;
    state.set.add(c);
  }
}

export const requirementsCataloger: Cataloger = {
  name: NAME,
  fileRequired: (entry) => isRequirementsFile(entry.path),
  async extract({ entry, contents, fs }: ExtractInput): Promise<CatalogResult> {
    const state: ParseState = { set: new ComponentSet(), problems: [], seen: new Set([entry.path]), fs };
    await parseFile(entry.path, decodeUtf8(contents, entry.path), 0, state);
    return { components: state.set.list(), problems: state.problems };
  },
};
