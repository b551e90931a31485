/**
 * Debian: dpkg's version order (deb-version(7)): [epoch:]upstream[-revision]; within each part,
 * alternating non-digit runs (letters before non-letters, "~" before everything, even the end) and
 * digit runs compared numerically.
 */
import { compareDigits, type Sign } from "./numeric.ts";

function weight(c: number | undefined): number {
  if (c === undefined) return 0;
  if (c === 126 /* ~ */) return -1;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c;
  return c + 256;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** dpkg's verrevcmp for one part (upstream version or revision). */
export function compareDebianPart(a: string, b: string): Sign {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = i < a.length && !isDigit(a.charCodeAt(i)) ? a.charCodeAt(i) : undefined;
      const bc = j < b.length && !isDigit(b.charCodeAt(j)) ? b.charCodeAt(j) : undefined;
      const d = weight(ac) - weight(bc);
      if (d !== 0) return d < 0 ? -1 : 1;
      i++;
      j++;
    }
    const si = i;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    const sj = j;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    const firstDiff = compareDigits(si === i ? "0" : a.slice(si, i), sj === j ? "0" : b.slice(sj, j));
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

export interface DebianVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

export function parseDebianVersion(input: string): DebianVersion {
  let s = input.trim();
  let epoch = "0";
  const colon = s.indexOf(":");
  if (colon >= 0 && /^\d+$/.test(s.slice(0, colon))) {
    epoch = s.slice(0, colon);
    s = s.slice(colon + 1);
  }
  const dash = s.lastIndexOf("-");
  return dash >= 0 ? { epoch, upstream: s.slice(0, dash), revision: s.slice(dash + 1) } : { epoch, upstream: s, revision: "" };
}

export function compareDebian(a: string, b: string): Sign {
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  return compareDigits(va.epoch, vb.epoch) || compareDebianPart(va.upstream, vb.upstream) || compareDebianPart(va.revision, vb.revision);
}
