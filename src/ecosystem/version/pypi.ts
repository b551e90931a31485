/**
 * PyPI: PEP 440 (https://peps.python.org/pep-0440/) with the normalizations of pypa/packaging, plus
 * legacy (pre-PEP 440) versions ordered as setuptools' LegacyVersion did and as OSV still orders
 * them: below every PEP 440 version, compared by their padded parts.
 */
import { compareComponents, compareDigits, compareStrings, isDigits, type Sign } from "./numeric.ts";

interface Pep440 {
  legacy?: string;
  epoch: string;
  release: string[];
  pre?: { letter: string; n: string };
  post?: string;
  dev?: string;
  local: string[];
}

const PEP440 =
  /^\s*v?(?:(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)([-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?([0-9]+)?)?((?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?([-_.]?(dev)[-_.]?([0-9]+)?)?)(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/;

const PRE_LETTER: Record<string, string> = { alpha: "a", beta: "b", c: "rc", pre: "rc", preview: "rc", a: "a", b: "b", rc: "rc" };

function legacyKey(s: string): string {
  const parts: string[] = [];
  const tokens: string[] = [...(s.match(/\d+|[a-z]+|\.|-/g) ?? [])];
  tokens.push("final");
  for (let t of tokens) {
    if (t === "" || t === ".") continue;
    if (t === "pre" || t === "preview" || t === "rc") t = "c";
    else if (t === "-") t = "final-";
    else if (t === "dev") t = "@";
    t = isDigits(t) ? t.padStart(8, "0") : `*${t}`;
    if (t.startsWith("*")) {
      if (t < "*final") while (parts.length > 0 && parts[parts.length - 1] === "*final-") parts.pop();
      while (parts.length > 0 && parts[parts.length - 1] === "00000000") parts.pop();
    }
    parts.push(t);
  }
  return parts.join("");
}

export function parsePep440(input: string): Pep440 {
  const s = input.toLowerCase();
  const m = PEP440.exec(s);
  if (!m) return { legacy: legacyKey(s), epoch: "-1", release: [], local: [] };
  const v: Pep440 = { epoch: m[1] ?? "0", release: m[2]!.split("."), local: [] };
  if (m[4] !== undefined) v.pre = { letter: PRE_LETTER[m[4]]!, n: m[5] ?? "0" };
  if (m[6] !== undefined) v.post = m[7] ?? m[9] ?? "0";
  if (m[11] !== undefined) v.dev = m[12] ?? "0";
  if (m[13] !== undefined) v.local = m[13].split(/[-_.]/);
  return v;
}

/** True when the version is valid PEP 440 (not a legacy version). */
export function isPep440(input: string): boolean {
  return PEP440.test(input.toLowerCase());
}

function comparePre(a: Pep440, b: Pep440): Sign {
  // 1.0.dev0 sorts before 1.0a0: a dev release without pre or post acts as the lowest pre-release.
  const ta = a.pre === undefined && a.post === undefined && a.dev !== undefined;
  const tb = b.pre === undefined && b.post === undefined && b.dev !== undefined;
  if (ta || tb) return ta && tb ? 0 : ta ? -1 : 1;
  if (a.pre === undefined || b.pre === undefined) return a.pre === b.pre ? 0 : a.pre === undefined ? 1 : -1;
  // "a" < "b" < "rc" by their first letter
  if (a.pre.letter !== b.pre.letter) return a.pre.letter[0]! < b.pre.letter[0]! ? -1 : 1;
  return compareDigits(a.pre.n, b.pre.n);
}

function compareOptional(a: string | undefined, b: string | undefined, missing: Sign): Sign {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return missing;
  if (b === undefined) return (-missing) as Sign;
  return compareDigits(a, b);
}

function compareLocal(a: string[], b: string[]): Sign {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = isDigits(x);
    const yn = isDigits(y);
    let d: Sign;
    if (xn && yn) d = compareDigits(x, y);
    else if (!xn && !yn) d = compareStrings(x, y);
    else d = xn ? 1 : -1;
    if (d !== 0) return d;
  }
  return a.length === b.length ? 0 : a.length > b.length ? 1 : -1;
}

export function comparePep440(a: Pep440, b: Pep440): Sign {
  if (a.legacy !== undefined || b.legacy !== undefined) {
    if (a.legacy === undefined) return 1;
    if (b.legacy === undefined) return -1;
    return compareStrings(a.legacy, b.legacy);
  }
  return (
    compareDigits(a.epoch, b.epoch) ||
    compareComponents(a.release, b.release) ||
    comparePre(a, b) ||
    compareOptional(a.post, b.post, -1) ||
    compareOptional(a.dev, b.dev, 1) ||
    compareLocal(a.local, b.local)
  );
}

export function comparePypi(a: string, b: string): Sign {
  return comparePep440(parsePep440(a), parsePep440(b));
}
