import { isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * SARIF artifact locations, one convention for every tollgate SARIF log (vulnerability results,
 * Dockerfile lint results, tool notifications about inputs not read): a file of the repository is a
 * URI relative to the repository root (the report's `baseDir`, else the cwd) with `uriBaseId`
 * `%SRCROOT%`, as GitHub code scanning expects; a file outside it is an absolute `file:` URI; a path
 * inside an image or an SBOM (no file on this machine) is that path without its leading slash, with
 * no base. (No `originalUriBaseIds`: the report does not depend on where the checkout was.)
 */

export const SRCROOT = "%SRCROOT%";

export interface ArtifactLocation {
  uri: string;
  uriBaseId?: string;
}

/** Characters a URI path segment may hold unencoded (RFC 3986 pchar); everything else is %-encoded. */
const NOT_PCHAR = /[^A-Za-z0-9\-._~!$&'()*+,;=:@]/gu;

/** A relative POSIX path as a URI reference: each segment %-encoded (`#`, `?`, `%`, spaces, non-ASCII). */
function relativeReference(posix: string): string {
  return posix
    .split("/")
    .map((segment, i) => {
      // A lone surrogate cannot be encoded: U+FFFD stands for it.
      const s = segment.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd").replace(NOT_PCHAR, encodeURIComponent);
      // A colon in the first segment would read as a scheme (`c:`): encoded there.
      return i === 0 ? s.replace(/:/g, "%3A") : s;
    })
    .join("/");
}

/**
 * The location of a file on this machine (`file` absolute, or relative to the cwd): relative to
 * `base` under `%SRCROOT%` when inside it, else an absolute `file:` URI.
 */
export function sarifFileLocation(file: string, base = process.cwd()): ArtifactLocation {
  const abs = resolve(file);
  const rel = relative(resolve(base), abs);
  if (rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) {
    return { uri: relativeReference(rel.split(sep).join("/")), uriBaseId: SRCROOT };
  }
  return { uri: pathToFileURL(abs).href };
}

/** The location of a path inside an image or SBOM: the path without its leading slash, no base. */
export function sarifInsideLocation(path: string): ArtifactLocation {
  return { uri: relativeReference(path.replace(/^\/+/, "")) };
}
