/**
 * Packagist: PHP's version_compare after composer's canonicalization (leading "v" dropped; "-", "_",
 * "+" become "."; a "." inserted at every digit/non-digit transition). Special forms order
 * dev < alpha (a) < beta (b) < RC (rc) < # (a number) < p (patch); anything else sorts lowest.
 */
import { compareDigits, isDigits, type Sign } from "./numeric.ts";

function canonical(v: string): string[] {
  let s = v.replace(/^[vV]/, "");
  s = s.replace(/[-_+]/g, ".");
  s = s.replace(/([^\d.])(\d)/g, "$1.$2");
  s = s.replace(/(\d)([^\d.])/g, "$1.$2");
  return s.split(".");
}

function specialWeight(s: string): number {
  if (s.startsWith("RC")) return 3;
  const specials = ["dev", "a", "b", "rc", "#", "p"];
  for (let i = 0; i < specials.length; i++) if (s.startsWith(specials[i]!)) return i;
  return 0;
}

function compareSpecial(a: string, b: string): Sign {
  const d = specialWeight(a) - specialWeight(b);
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

function compareParts(a: string[], b: string[]): Sign {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = isDigits(x);
    const yn = isDigits(y);
    let d: Sign;
    if (xn && yn) d = compareDigits(x, y);
    else if (!xn && !yn) d = compareSpecial(x, y);
    else d = xn ? compareSpecial("#", y) : compareSpecial(x, "#");
    if (d !== 0) return d;
  }
  if (a.length > b.length) return isIntLike(a[b.length]!) ? 1 : compareParts(a.slice(b.length), ["#"]);
  if (a.length < b.length) return isIntLike(b[a.length]!) ? -1 : compareParts(["#"], b.slice(a.length));
  return 0;
}

/** Go's strconv.Atoi acceptance: an optional sign and digits. */
function isIntLike(s: string): boolean {
  return /^[+-]?\d+$/.test(s);
}

export function comparePackagist(a: string, b: string): Sign {
  return compareParts(canonical(a), canonical(b));
}
