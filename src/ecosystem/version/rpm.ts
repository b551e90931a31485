/**
 * Red Hat / RPM: rpmvercmp over [epoch:]version[-release], with "~" sorting before everything and
 * "^" after the version but before any further segment (rpm ≥ 4.15).
 */
import { compareStrings, type Sign } from "./numeric.ts";

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}
function isLetter(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}

/** rpmvercmp(a, b). */
export function rpmvercmp(a: string, b: string): Sign {
  if (a === b) return 0;
  if (a === "" && b !== "") return -1;
  if (a !== "" && b === "") return 1;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !isDigit(a[i]!) && !isLetter(a[i]!) && a[i] !== "~" && a[i] !== "^") i++;
    while (j < b.length && !isDigit(b[j]!) && !isLetter(b[j]!) && b[j] !== "~" && b[j] !== "^") j++;
    const at = a[i] === "~";
    const bt = b[j] === "~";
    if (at && bt) {
      i++;
      j++;
      continue;
    }
    if (at) return -1;
    if (bt) return 1;
    const ac = a[i] === "^";
    const bc = b[j] === "^";
    if (ac && bc) {
      i++;
      j++;
      continue;
    }
    if (ac) return j === b.length ? 1 : -1;
    if (bc) return i === a.length ? -1 : 1;
    if (i === a.length || j === b.length) break;
    const digit = isDigit(a[i]!);
    const kind = digit ? isDigit : isLetter;
    const si = i;
    while (i < a.length && kind(a[i]!)) i++;
    const sj = j;
    while (j < b.length && kind(b[j]!)) j++;
    let x = a.slice(si, i);
    let y = b.slice(sj, j);
    if (y === "") return digit ? 1 : -1;
    if (digit) {
      x = x.replace(/^0+/, "");
      y = y.replace(/^0+/, "");
      if (x.length !== y.length) return x.length > y.length ? 1 : -1;
    }
    const d = compareStrings(x, y);
    if (d !== 0) return d;
  }
  const la = a.length - i;
  const lb = b.length - j;
  return la === lb ? 0 : la > lb ? 1 : -1;
}

export function parseRpmVersion(input: string): { epoch: string; version: string; release: string } {
  let epoch = "0";
  let rest = input;
  const colon = input.indexOf(":");
  if (colon >= 0 && /^\d*$/.test(input.slice(0, colon))) {
    epoch = input.slice(0, colon) || "0";
    rest = input.slice(colon + 1);
  }
  const dash = rest.indexOf("-");
  return dash >= 0 ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash) } : { epoch, version: rest, release: "" };
}

export function compareRpm(a: string, b: string): Sign {
  const va = parseRpmVersion(a);
  const vb = parseRpmVersion(b);
  return rpmvercmp(va.epoch, vb.epoch) || rpmvercmp(va.version, vb.version) || rpmvercmp(va.release, vb.release);
}
