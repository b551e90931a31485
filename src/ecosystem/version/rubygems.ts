/**
 * RubyGems: Gem::Version's order. Segments split at "." and at digit/letter transitions; trailing
 * zeros dropped from the numeric part and from the pre-release part; numbers beat strings.
 */
import { compareDigits, compareStrings, isDigits, type Sign } from "./numeric.ts";

function dropTrailingZeros(segs: string[]): string[] {
  let n = segs.length;
  while (n > 0 && segs[n - 1] === "0") n--;
  return segs.slice(0, n);
}

function segments(version: string): string[] {
  const segs = version.trim().match(/[0-9]+|[a-z]+/gi) ?? [];
  // The numeric release, then everything from the first string segment (the pre-release part).
  const first = segs.findIndex((s) => !isDigits(s));
  const release = first < 0 ? segs : segs.slice(0, first);
  const pre = first < 0 ? [] : segs.slice(first);
  return [...dropTrailingZeros(release.map((s) => s.replace(/^0+(?=\d)/, ""))), ...dropTrailingZeros(pre.map((s) => (isDigits(s) ? s.replace(/^0+(?=\d)/, "") : s)))];
}

export function compareRubygems(a: string, b: string): Sign {
  const sa = segments(a);
  const sb = segments(b);
  const n = Math.max(sa.length, sb.length);
  for (let i = 0; i < n; i++) {
    const x = sa[i] ?? "0";
    const y = sb[i] ?? "0";
    const xn = isDigits(x);
    const yn = isDigits(y);
    if (xn && yn) {
      const d = compareDigits(x, y);
      if (d !== 0) return d;
    } else if (!xn && !yn) {
      const d = compareStrings(x, y);
      if (d !== 0) return d;
    } else {
      return xn ? 1 : -1;
    }
  }
  return 0;
}
