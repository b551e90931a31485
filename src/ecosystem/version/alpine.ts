/**
 * Alpine: apk-tools' version order. number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}, with
 * suffixes ordered alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p. A number component
 * after the first that starts with "0" compares as a string (as apk does).
 */
import { compareDigits, compareStrings, type Sign } from "./numeric.ts";

const SUFFIXES = ["alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"];
const NO_SUFFIX = SUFFIXES.indexOf("");

interface ApkVersion {
  original: string;
  numbers: string[];
  letter: string;
  suffixes: { weight: number; n: string }[];
  build: string;
  invalid: boolean;
  remainder: string;
}

function parseApk(input: string): ApkVersion {
  const v: ApkVersion = { original: input, numbers: [], letter: "", suffixes: [], build: "0", invalid: false, remainder: "" };
  let s = input;
  const nums = /^((\d+)\.?)*/.exec(s)![0];
  if (nums !== "") {
    v.numbers = nums.split(".");
    s = s.slice(nums.length);
  }
  if (/^[a-z]/.test(s)) {
    v.letter = s[0]!;
    s = s.slice(1);
  }
  for (const m of s.matchAll(/_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)/g)) {
    v.suffixes.push({ weight: SUFFIXES.indexOf(m[1]!), n: m[2] === "" ? "0" : m[2]! });
    if (s.startsWith(m[0])) s = s.slice(m[0].length);
  }
  const hash = /^~[0-9a-f]+/.exec(s);
  if (hash) s = s.slice(hash[0].length);
  if (s !== "") {
    const build = /^-r(\d*)/.exec(s);
    if (build) {
      v.build = build[1] === "" ? "0" : build[1]!;
      s = s.slice(build[0].length);
    } else {
      v.invalid = true;
    }
  }
  v.remainder = s;
  return v;
}

function compareNumber(a: string, ai: number, b: string, bi: number): Sign {
  if (ai !== 0 && bi !== 0 && (a[0] === "0" || b[0] === "0")) return compareStrings(a, b);
  return compareDigits(a, b);
}

export function compareAlpine(x: string, y: string): Sign {
  const a = parseApk(x);
  const b = parseApk(y);
  if (a.invalid && b.invalid) return compareStrings(a.original, b.original);
  const n = Math.max(a.numbers.length, b.numbers.length);
  for (let i = 0; i < n; i++) {
    const d = compareNumber(a.numbers[i] ?? "0", i < a.numbers.length ? i : 0, b.numbers[i] ?? "0", i < b.numbers.length ? i : 0);
    if (d !== 0) return d;
  }
  if (a.letter !== b.letter) {
    if (a.letter === "") return -1;
    if (b.letter === "") return 1;
    return compareStrings(a.letter, b.letter);
  }
  const m = Math.max(a.suffixes.length, b.suffixes.length);
  for (let i = 0; i < m; i++) {
    const sa = a.suffixes[i] ?? { weight: NO_SUFFIX, n: "0" };
    const sb = b.suffixes[i] ?? { weight: NO_SUFFIX, n: "0" };
    if (sa.weight !== sb.weight) return sa.weight < sb.weight ? -1 : 1;
    const d = compareDigits(sa.n, sb.n);
    if (d !== 0) return d;
  }
  const d = compareDigits(a.build, b.build);
  if (d !== 0) return d;
  if (a.remainder === "" && b.remainder !== "") return 1;
  if (a.remainder !== "" && b.remainder === "") return -1;
  return 0;
}
