import { isSupportedSpdxId } from "@cyclonedx/cyclonedx-library/SPDX";
import type { Cataloger } from "../../collect/index.ts";
import { parseDeb822 } from "./dpkg.ts";
import type { OsContext } from "./os-context.ts";

const COPYRIGHT_RE = /^usr\/share\/doc\/([^/]+)\/copyright$/;

/** Debian's short license names (DEP-5 §7.1) that have an SPDX id of their own. */
const DEBIAN_TO_SPDX: Record<string, string> = {
  "gpl-1": "GPL-1.0-only",
  "gpl-1+": "GPL-1.0-or-later",
  "gpl-2": "GPL-2.0-only",
  "gpl-2+": "GPL-2.0-or-later",
  "gpl-3": "GPL-3.0-only",
  "gpl-3+": "GPL-3.0-or-later",
  "lgpl-2": "LGPL-2.0-only",
  "lgpl-2+": "LGPL-2.0-or-later",
  "lgpl-2.1": "LGPL-2.1-only",
  "lgpl-2.1+": "LGPL-2.1-or-later",
  "lgpl-3": "LGPL-3.0-only",
  "lgpl-3+": "LGPL-3.0-or-later",
  "agpl-3": "AGPL-3.0-only",
  "agpl-3+": "AGPL-3.0-or-later",
  "gfdl-1.2+": "GFDL-1.2-or-later",
  "gfdl-1.3+": "GFDL-1.3-or-later",
  "bsd-2-clause": "BSD-2-Clause",
  "bsd-3-clause": "BSD-3-Clause",
  "bsd-4-clause": "BSD-4-Clause",
  expat: "MIT",
  "apache-2": "Apache-2.0",
  "apache-2.0": "Apache-2.0",
  "mpl-2.0": "MPL-2.0",
  "artistic": "Artistic-1.0-Perl",
  zlib: "Zlib",
};

function spdxId(name: string): string | undefined {
  const mapped = DEBIAN_TO_SPDX[name.toLowerCase()];
  if (mapped) return mapped;
  return isSupportedSpdxId(name) ? name : undefined;
}

/**
 * A DEP-5 `License:` short name as an SPDX expression when every part has an SPDX id ("GPL-1+ or
 * Artistic" → "GPL-1.0-or-later OR Artistic-1.0-Perl"); otherwise the Debian name as written.
 */
export function debianLicense(value: string): string {
  const parts = value.trim().split(/\s+(or|and)\s+|\s*,\s*/i);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === undefined) continue;
    if (/^(or|and)$/i.test(p)) {
      out.push(p.toUpperCase());
      continue;
    }
    const id = spdxId(p);
    if (!id) return value.trim();
    out.push(id);
  }
  return out.join(" ");
}

/**
 * Licenses of dpkg packages from their machine-readable copyright files (DEP-5:
 * `/usr/share/doc/<package>/copyright` starting with `Format:`). Free-form copyright files are skipped.
 */
export function dpkgCopyrightCataloger(ctx: OsContext): Cataloger {
  return {
    name: "dpkg-copyright",
    fileRequired: (entry) => COPYRIGHT_RE.test(entry.path) && entry.size <= 1024 * 1024,
    async extract({ entry, contents }) {
      const text = contents.toString("utf8");
      if (!/^Format:/.test(text)) return { components: [] };
      const pkg = COPYRIGHT_RE.exec(entry.path)?.[1] as string;
      const licenses = new Set<string>();
      for (const s of parseDeb822(text)) {
        // Only Files paragraphs name the licenses that apply; standalone License paragraphs hold texts.
        if (!s.fields.has("files")) continue;
        const first = s.fields.get("license")?.split("\n")[0]?.trim();
        if (first) licenses.add(debianLicense(first));
      }
      ctx.setLicenses(pkg, [...licenses]);
      return { components: [] };
    },
  };
}
