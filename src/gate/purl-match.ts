/**
 * Package URL comparison for waivers and VEX products. A pattern matches a purl when its parts that
 * are present agree: without a version it matches every version, without qualifiers every set of
 * qualifiers, and the qualifiers it names must be present with the same values. `*` in a pattern is a
 * wildcard. Percent-encoding is decoded on both sides (`pkg:npm/%40scope/x` equals `pkg:npm/@scope/x`).
 */

export interface PurlParts {
  /** `pkg:type/namespace/name`, lower-cased type, decoded. */
  base: string;
  version?: string;
  qualifiers: Record<string, string>;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Splits a purl (or purl pattern) into base, version and qualifiers; undefined when it is not a purl. */
export function splitPurl(purl: string): PurlParts | undefined {
  if (!purl.toLowerCase().startsWith("pkg:")) return undefined;
  let rest = purl;
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.lastIndexOf("/");
  const at = rest.indexOf("@", slash < 0 ? 0 : slash);
  let version: string | undefined;
  if (at >= 0) {
    version = safeDecode(rest.slice(at + 1));
    rest = rest.slice(0, at);
  }
  // pkg:TYPE/… — the type is case-insensitive.
  const typeEnd = rest.indexOf("/");
  const base = typeEnd < 0 ? rest.toLowerCase() : rest.slice(0, typeEnd).toLowerCase() + safeDecode(rest.slice(typeEnd)).replace(/^\/+/, "/");
  const qualifiers: Record<string, string> = {};
  for (const pair of query.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const k = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    qualifiers[k] = safeDecode(eq < 0 ? "" : pair.slice(eq + 1));
  }
  return { base, version, qualifiers };
}

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return re.test(value);
}

/** True when `purl` is matched by `pattern` (see the module comment for the rules). */
export function purlMatches(pattern: string, purl: string | undefined): boolean {
  if (purl === undefined) return false;
  const p = splitPurl(pattern.trim());
  const v = splitPurl(purl);
  if (!p || !v) return false;
  if (!globMatch(p.base, v.base)) return false;
  if (p.version !== undefined && p.version !== "*" && !globMatch(p.version, v.version ?? "")) return false;
  for (const [k, val] of Object.entries(p.qualifiers)) {
    const actual = v.qualifiers[k];
    if (actual === undefined || !globMatch(val, actual)) return false;
  }
  return true;
}

/** The purl without version, qualifiers and subpath: the package's identity across upgrades. */
export function purlIdentity(purl: string): string {
  return splitPurl(purl)?.base ?? purl;
}

/** A digest such as `sha256:abc…` found in an OCI purl's version or a bare digest string. */
export function digestOf(idOrPurl: string): string | undefined {
  const s = safeDecode(idOrPurl.trim());
  const m = /(sha256|sha384|sha512):([0-9a-f]{64,128})/i.exec(s);
  return m ? `${m[1]!.toLowerCase()}:${m[2]!.toLowerCase()}` : undefined;
}
