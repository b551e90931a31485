/**
 * Maven: the order of Maven's ComparableVersion, as OSV applies it. A version is split into tokens at
 * ".", "-" and digit/letter transitions (a transition counts as "-"); trailing null tokens (0, "",
 * final, ga, release) are trimmed at each hyphen; then tokens are compared pairwise, the shorter side
 * padded with nulls of the other side's separator.
 */
import { compareDigits, isDigits, trimZeros, type Sign } from "./numeric.ts";

interface Token {
  prefix: string;
  value: string;
  isNull: boolean;
}

const KEYWORDS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

function keywordIndex(k: string): number {
  const i = KEYWORDS.indexOf(k);
  return i < 0 ? KEYWORDS.length : i;
}

function separatorOrder(t: Token): number {
  if (isDigits(t.value)) return t.prefix === "-" ? 2 : 3;
  return t.prefix === "-" ? 1 : 0;
}

function tokenLess(a: Token, b: Token): boolean {
  if (a.prefix !== b.prefix) return separatorOrder(a) < separatorOrder(b);
  const an = isDigits(a.value);
  const bn = isDigits(b.value);
  if (an && bn) return compareDigits(a.value, b.value) < 0;
  if (an && !a.isNull) return false;
  if (bn && !b.isNull) return true;
  const ai = keywordIndex(a.value);
  const bi = keywordIndex(b.value);
  if (ai === KEYWORDS.length && bi === KEYWORDS.length) return a.value < b.value;
  return ai < bi;
}

function nullLike(t: Token): Token {
  if (t.prefix === ".") return { prefix: ".", value: t.value === "sp" ? "" : "0", isNull: true };
  return { prefix: "-", value: "", isNull: true };
}

function parseMaven(input: string): Token[] {
  const tokens: Token[] = [];
  const raw = input.split(/([-.])/);
  for (let i = 0; i < raw.length; i += 2) {
    let prefix = i === 0 ? "" : raw[i - 1]!;
    const part = raw[i]!;
    const pieces = part.match(/\d+|\D+/g) ?? [""];
    pieces.forEach((piece, j) => {
      if (j > 0) prefix = "-";
      let value = piece.toLowerCase();
      if (value === "") value = "0";
      if (value === "cr") value = "rc";
      if (value === "ga" || value === "final" || value === "release") value = "";
      if (j < pieces.length - 1) {
        if (value === "a") value = "alpha";
        else if (value === "b") value = "beta";
        else if (value === "m") value = "milestone";
      }
      if (isDigits(value)) value = trimZeros(value);
      tokens.push({ prefix, value, isNull: false });
    });
  }
  // Trim trailing nulls, then repeat before each remaining hyphen, from the end to the start.
  let i = tokens.length - 1;
  while (i > 0) {
    const v = tokens[i]!.value;
    if (v === "0" || v === "" || v === "final" || v === "ga") {
      tokens.splice(i, 1);
      i--;
      continue;
    }
    while (i >= 0 && tokens[i]!.prefix !== "-") i--;
    i--;
  }
  return tokens;
}

export function compareMaven(a: string, b: string): Sign {
  const ta = parseMaven(a);
  const tb = parseMaven(b);
  const n = Math.max(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i] ?? nullLike(tb[i]!);
    const y = tb[i] ?? nullLike(ta[i]!);
    if (x.prefix === y.prefix && x.value === y.value) continue;
    return tokenLess(x, y) ? -1 : 1;
  }
  return 0;
}

