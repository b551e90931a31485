/**
 * SemVer as OSV applies it (npm, crates.io, Go, Hex, and SEMVER ranges): lenient about a leading "v",
 * any number of numeric components (the first three count; more are build metadata), unbounded
 * numbers. Pre-release identifiers follow SemVer 2.0 §11; build metadata is ignored. NuGet, Pub,
 * Hackage and CRAN are variants of the same shape.
 */
import { createRequire } from "node:module";
import type * as SemverModule from "semver";
import { compareComponents, compareDigits, compareStrings, isDigits, type Sign } from "./numeric.ts";

export interface SemverLike {
  components: string[];
  /** Everything after the numeric components: "-beta.1+build", "+incompatible", "". */
  rest: string;
}

/** Splits `v1.2.3-rc.1+b` into numeric components and the rest; with `max`, extra components move to the rest. */
export function parseSemverLike(input: string, max = -1): SemverLike {
  const s = input.startsWith("v") ? input.slice(1) : input;
  const components: string[] = [];
  let i = 0;
  let start = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      i++;
      continue;
    }
    if (i > start) components.push(s.slice(start, i));
    if (c === 46 /* . */) {
      i++;
      start = i;
      continue;
    }
    break;
  }
  let rest = "";
  if (i >= s.length) {
    if (i > start) components.push(s.slice(start, i));
  } else {
    rest = s.slice(i);
  }
  if (max >= 0 && components.length > max) {
    rest = components
      .slice(max)
      .map((c) => `.${c}`)
      .join("")
      .concat(rest);
    components.length = max;
  }
  return { components, rest };
}

/** Pre-release identifiers compared as SemVer 2.0 §11 says (numeric < alphanumeric; longer wins a tie). */
export function comparePrerelease(a: string, b: string): Sign {
  a = a.split("+")[0]!.replace(/^-/, "");
  b = b.split("+")[0]!.replace(/^-/, "");
  if (a === "" && b !== "") return 1;
  if (a !== "" && b === "") return -1;
  const pa = a.split(".");
  const pb = b.split(".");
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    const xn = isDigits(x);
    const yn = isDigits(y);
    let d: Sign;
    if (xn && yn) d = compareDigits(x, y);
    else if (!xn && !yn) d = compareStrings(x, y);
    else d = xn ? -1 : 1;
    if (d !== 0) return d;
  }
  return pa.length === pb.length ? 0 : pa.length > pb.length ? 1 : -1;
}

/** OSV's SemVer order (crates.io, Go, Hex; SEMVER ranges). */
export function compareSemver(a: string, b: string): Sign {
  const va = parseSemverLike(a, 3);
  const vb = parseSemverLike(b, 3);
  return compareComponents(va.components, vb.components) || comparePrerelease(va.rest, vb.rest);
}

let semverModule: typeof SemverModule | undefined;
/** node-semver, required on first use: the ecosystem registry (and with it the CLI's start-up) loads this module. */
function nodeSemver(): typeof SemverModule {
  semverModule ??= createRequire(import.meta.url)("semver") as typeof SemverModule;
  return semverModule;
}

/** npm: node-semver's order where both versions are valid SemVer, else OSV's lenient SemVer. */
export function compareNpm(a: string, b: string): Sign {
  const semver = nodeSemver();
  const va = semver.valid(a, { loose: true });
  const vb = semver.valid(b, { loose: true });
  if (va !== null && vb !== null) return semver.compare(va, vb);
  return compareSemver(a, b);
}

/** NuGet: four numeric components, case-insensitive pre-release labels. */
export function compareNuget(a: string, b: string): Sign {
  const va = parseSemverLike(a, 4);
  const vb = parseSemverLike(b, 4);
  return compareComponents(va.components, vb.components) || comparePrerelease(va.rest.toLowerCase(), vb.rest.toLowerCase());
}

/** Pub (Dart): SemVer, but build metadata breaks ties. */
export function comparePub(a: string, b: string): Sign {
  const va = parseSemverLike(a, 3);
  const vb = parseSemverLike(b, 3);
  const d = compareComponents(va.components, vb.components) || comparePrerelease(va.rest, vb.rest);
  if (d !== 0) return d;
  const ba = va.rest.includes("+") ? va.rest.slice(va.rest.indexOf("+") + 1) : "";
  const bb = vb.rest.includes("+") ? vb.rest.slice(vb.rest.indexOf("+") + 1) : "";
  return compareStrings(ba, bb);
}

/** Hackage (Haskell PVP): any number of numeric components; more components win a tie (1.0 < 1.0.0). */
export function compareHackage(a: string, b: string): Sign {
  const va = parseSemverLike(a);
  const vb = parseSemverLike(b);
  const d = compareComponents(va.components, vb.components) || comparePrerelease(va.rest.toLowerCase(), vb.rest.toLowerCase());
  if (d !== 0) return d;
  return va.components.length === vb.components.length ? 0 : va.components.length > vb.components.length ? 1 : -1;
}

/** CRAN (R package_version): integers separated by "." or "-"; more components win a tie. */
export function compareCran(a: string, b: string): Sign {
  const pa = a.replaceAll("-", ".").split(".").filter(isDigits);
  const pb = b.replaceAll("-", ".").split(".").filter(isDigits);
  const d = compareComponents(pa, pb);
  if (d !== 0) return d;
  return pa.length === pb.length ? 0 : pa.length > pb.length ? 1 : -1;
}
