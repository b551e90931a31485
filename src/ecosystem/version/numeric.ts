/** Shared helpers for version comparators: arbitrary-length digit strings compared without BigInt. */

export type Sign = -1 | 0 | 1;

export function sign(n: number): Sign {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

const DIGITS = /^\d+$/;

export function isDigits(s: string): boolean {
  return DIGITS.test(s);
}

/** Compares two strings of ASCII digits as unbounded non-negative integers. */
export function compareDigits(a: string, b: string): Sign {
  let i = 0;
  while (i < a.length - 1 && a.charCodeAt(i) === 48) i++;
  let j = 0;
  while (j < b.length - 1 && b.charCodeAt(j) === 48) j++;
  const la = a.length - i;
  const lb = b.length - j;
  if (la !== lb) return la < lb ? -1 : 1;
  for (let k = 0; k < la; k++) {
    const ca = a.charCodeAt(i + k);
    const cb = b.charCodeAt(j + k);
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

/** Byte-wise string order (Go's strings.Compare, C's strcmp), not locale order. */
export function compareStrings(a: string, b: string): Sign {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Digit-string component lists compared element-wise, the shorter one padded with zeros. */
export function compareComponents(a: readonly string[], b: readonly string[]): Sign {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = compareDigits(a[i] ?? "0", b[i] ?? "0");
    if (d !== 0) return d;
  }
  return 0;
}

/** Strips leading zeros from a digit string ("007" → "7", "000" → "0"). */
export function trimZeros(s: string): string {
  const t = s.replace(/^0+/, "");
  return t === "" ? "0" : t;
}
