/**
 * Maven: a port of Maven's own ComparableVersion (maven-artifact), item for item, as of Maven 3.8.6.
 *
 * A version, lower-cased, is parsed into a tree: "." appends an item to the current list, "-" and every
 * digit/letter transition open a sublist (the rest of the version nests inside it). Items are numbers
 * (int, long and big integer kinds, each ordered after the smaller kinds whatever their value),
 * qualifiers (alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp < any other
 * word, the others in code-unit order; a, b, m followed by a digit are alpha, beta, milestone) and
 * sublists. Each list drops its trailing null items (0, "", empty lists), looking past sublists. Lists
 * compare item by item, a missing item as null; a number beats a qualifier and a sublist, a sublist
 * beats a qualifier.
 *
 * Which ComparableVersion: Maven 3.8.6, the one OSV's fixtures were generated with
 * (../shared/testdata/version-compare/maven-versions-generated.txt, 14,752 real OSV versions) and the
 * order osv.dev and osv-scalibr apply to OSV's Maven ranges. Deliberate divergences:
 *
 * 1. Maven 3.8.7 and later (MNG-7644, also every 3.9.x) treat a qualifier after "." like one after "-"
 *    (`4.SNAPSHOT.milestone < 4.alpha`, `5-b2 < 5.milestone`, `1.milestone > 1.sp-milestone`,
 *    `1.2.48.sec10 > 1.2.48_noneautotype`). tollgate keeps 3.8.6's order, as OSV does: 18 lines of
 *    OSV's generated fixtures order differently under 3.8.7. `{ mng7644: true }` gives 3.8.7's order
 *    (test/vulndb/maven-order.test.ts checks it against Debian's maven-artifact 3.8.7; Maven 3.9.16's
 *    ComparableVersion gives the same verdicts on its 2,500 generated pairs). Maven 4's (apache/maven
 *    master, 4.0.0 release candidates) differs again, on 149 of them: not followed either.
 * 2. A release alias alone between two hyphens (`-ga-`, `-final-`, `-release-`) disappears with its
 *    hyphen: `1-ga-1 = 1-1`, as OSV's hand-written fixtures expect (`1-1 = 1-ga-1`, in
 *    maven-versions.txt). ComparableVersion keeps the empty segment's nesting (`1-ga-1 < 1-1`), and so
 *    does tollgate for every other empty segment (`1--1 < 1-1`, `007-Final007 < 007-1`).
 *    `{ exact: true }` keeps it there too. 2 of the 2,500 generated pairs differ from 3.8.6 by this.
 *
 * Also as ComparableVersion: Character.isDigit takes every Unicode decimal digit, so does this port
 * (its value read from its position in its block of ten), with the Unicode version of the running Node.
 */
import { compareDigits, type Sign } from "./numeric.ts";

export interface MavenOrderOptions {
  /** Maven 3.8.7+ (MNG-7644): a qualifier after "." opens a sublist, as one after "-" does. */
  mng7644?: boolean;
  /** ComparableVersion exactly: no hoisting of a sublist out of a segment that trimmed to nothing. */
  exact?: boolean;
}

/** Number kinds: ComparableVersion's IntItem (≤ 9 digits), LongItem (≤ 18), BigIntegerItem. */
const INT = 0;
const LONG = 1;
const BIG = 2;

const NUMBER_ZERO: Item = { kind: "number", size: INT, digits: "0" };

type Item =
  | { kind: "number"; size: number; digits: string }
  | { kind: "string"; value: string }
  | { kind: "list"; items: Item[] };

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX = String(QUALIFIERS.indexOf(""));
const ALIASES: Record<string, string> = { ga: "", final: "", release: "", cr: "rc" };

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i < 0 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function compareStrings(a: string, b: string): Sign {
  return a < b ? -1 : a > b ? 1 : 0;
}

const UNICODE_DIGIT = /\p{Nd}/u;

function isDigit(code: number): boolean {
  if (code >= 48 && code <= 57) return true;
  if (code < 128 || (code >= 0xd800 && code <= 0xdfff)) return false;
  return UNICODE_DIGIT.test(String.fromCharCode(code));
}

/** The ASCII digit of a Unicode decimal digit: its distance from the start of its run of digits, mod 10. */
function asciiDigit(code: number): string {
  if (code >= 48 && code <= 57) return String.fromCharCode(code);
  let start = code;
  while (isDigit(start - 1)) start--;
  return String((code - start) % 10);
}

function numberItem(buf: string): Item {
  // stripLeadingZeroes: ASCII zeros only, and a string of zeros stays as it is (its length picks the kind).
  let i = 0;
  while (i < buf.length && buf.charCodeAt(i) === 48) i++;
  const stripped = i === buf.length ? buf : buf.slice(i);
  const size = stripped.length <= 9 ? INT : stripped.length <= 18 ? LONG : BIG;
  let digits = "";
  for (let k = 0; k < stripped.length; k++) digits += asciiDigit(stripped.charCodeAt(k));
  return { kind: "number", size, digits };
}

function stringItem(value: string, followedByDigit: boolean): Item {
  if (followedByDigit && value.length === 1) {
    if (value === "a") value = "alpha";
    else if (value === "b") value = "beta";
    else if (value === "m") value = "milestone";
  }
  return { kind: "string", value: Object.hasOwn(ALIASES, value) ? ALIASES[value]! : value };
}

function parseItem(digit: boolean, buf: string): Item {
  return digit ? numberItem(buf) : stringItem(buf, false);
}

function isNull(item: Item): boolean {
  switch (item.kind) {
    case "number":
      return /^0+$/.test(item.digits);
    case "string":
      return comparableQualifier(item.value) === RELEASE_INDEX;
    case "list":
      return item.items.length === 0;
  }
}

function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const last = list[i]!;
    if (isNull(last)) list.splice(i, 1);
    else if (last.kind !== "list") break;
  }
}

function parse(version: string, options: MavenOrderOptions): Item[] {
  const v = version.toLowerCase();
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  // Divergence 2: sublists opened by "-" whose only word is a release alias followed by "-".
  const hyphenated = new Set<Item[]>();
  const hoist = new Set<Item[]>();
  const open = (): Item[] => {
    const sub: Item[] = [];
    list.push({ kind: "list", items: sub });
    list = sub;
    stack.push(sub);
    return sub;
  };
  let digit = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 46 /* . */ || c === 45 /* - */) {
      const item = i === start ? NUMBER_ZERO : parseItem(digit, v.slice(start, i));
      if (c === 45 && !options.exact && hyphenated.has(list) && list.length === 0 && item.kind === "string" && item.value === "") hoist.add(list);
      list.push(item);
      start = i + 1;
      if (c === 45) hyphenated.add(open());
    } else if (isDigit(c)) {
      if (!digit && i > start) {
        if (options.mng7644 && list.length > 0) open();
        list.push(stringItem(v.slice(start, i), true));
        start = i;
        open();
      }
      digit = true;
    } else {
      if (digit && i > start) {
        list.push(parseItem(true, v.slice(start, i)));
        start = i;
        open();
      }
      digit = false;
    }
  }
  if (v.length > start) {
    if (options.mng7644 && !digit && list.length > 0) open();
    list.push(parseItem(digit, v.slice(start)));
  }
  // Innermost first, as ComparableVersion pops its stack.
  for (let i = stack.length - 1; i >= 0; i--) {
    const l = stack[i]!;
    normalize(l);
    // `-ga-1` trimmed to `-[1]`: take the 1 out of its extra sublist.
    const only = l[0];
    if (hoist.has(l) && l.length === 1 && only?.kind === "list") l.splice(0, 1, ...only.items);
  }
  return root;
}

/** ComparableVersion's Item.compareTo, `b` undefined for its null. */
function compareItem(a: Item, b: Item | undefined): Sign {
  switch (a.kind) {
    case "number":
      if (b === undefined) return isNull(a) ? 0 : 1;
      if (b.kind !== "number") return 1;
      if (a.size !== b.size) return a.size < b.size ? -1 : 1;
      return compareDigits(a.digits, b.digits);
    case "string":
      if (b === undefined) return compareStrings(comparableQualifier(a.value), RELEASE_INDEX);
      if (b.kind === "string") return compareStrings(comparableQualifier(a.value), comparableQualifier(b.value));
      return -1;
    case "list":
      if (b === undefined) {
        for (const item of a.items) {
          const r = compareItem(item, undefined);
          if (r !== 0) return r;
        }
        return 0;
      }
      if (b.kind === "number") return -1;
      if (b.kind === "string") return 1;
      return compareLists(a.items, b.items);
  }
}

function compareLists(a: Item[], b: Item[]): Sign {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const l = a[i];
    const r = b[i];
    const result = l === undefined ? (r === undefined ? 0 : (-compareItem(r, undefined) as Sign)) : compareItem(l, r);
    if (result !== 0) return result;
  }
  return 0;
}

/** Maven's version order (see the module comment for which ComparableVersion, and the options). */
export function compareMavenWith(a: string, b: string, options: MavenOrderOptions = {}): Sign {
  return compareLists(parse(a, options), parse(b, options));
}

export function compareMaven(a: string, b: string): Sign {
  return compareMavenWith(a, b);
}
