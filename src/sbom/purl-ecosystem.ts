/**
 * Package URL type → OSV ecosystem (https://ossf.github.io/osv-schema/#affectedpackage-field), for
 * SBOMs read back from other tools where only the purl says what a component is.
 */
import { createRequire } from "node:module";
import type { PackageURL as PackageUrlClass } from "packageurl-js";
import type { Ecosystem } from "../model/index.ts";

let packageUrlClass: typeof PackageUrlClass | undefined;
/** packageurl-js, required on first use so that importing this module stays cheap (catalogers share it). */
export function packageUrl(): typeof PackageUrlClass {
  packageUrlClass ??= (createRequire(import.meta.url)("packageurl-js") as { PackageURL: typeof PackageUrlClass }).PackageURL;
  return packageUrlClass;
}

const BY_TYPE: Record<string, Ecosystem> = {
  npm: "npm",
  pypi: "PyPI",
  golang: "Go",
  cargo: "crates.io",
  maven: "Maven",
  composer: "Packagist",
  gem: "RubyGems",
  nuget: "NuGet",
  hex: "Hex",
  pub: "Pub",
  cran: "CRAN" as Ecosystem,
  hackage: "Hackage" as Ecosystem,
};

export interface PurlEcosystem {
  ecosystem?: Ecosystem;
  /** Distro release for OS packages (`distro=debian-12` → "12"). */
  release?: string;
  name: string;
  namespace?: string;
  version?: string;
}

/** The ecosystem and name (as OSV names packages) a purl stands for; undefined when it does not parse. */
export function ecosystemOfPurl(purl: string): PurlEcosystem | undefined {
  let p: PackageUrlClass;
  try {
    p = packageUrl().fromString(purl);
  } catch {
    return undefined;
  }
  const ns = p.namespace ?? undefined;
  const out: PurlEcosystem = { name: p.name };
  if (ns !== undefined) out.namespace = ns;
  if (p.version) out.version = p.version;
  const distro = (p.qualifiers as Record<string, string> | undefined)?.distro;
  const release = distro?.replace(/^[a-z-]+?-(?=\d)/i, "");
  const eco = BY_TYPE[p.type];
  if (eco) {
    out.ecosystem = eco;
    // OSV names: npm "@scope/name", Maven "group:artifact", Go and Packagist "ns/name".
    if (ns !== undefined) out.name = p.type === "maven" ? `${ns}:${p.name}` : `${ns}/${p.name}`;
    return out;
  }
  const nsl = ns?.toLowerCase();
  if (p.type === "deb") out.ecosystem = nsl === "ubuntu" ? "Ubuntu" : "Debian";
  else if (p.type === "apk") out.ecosystem = nsl === "wolfi" || nsl === "chainguard" ? "Wolfi" : "Alpine";
  else if (p.type === "rpm" && (nsl === "redhat" || nsl === "rhel")) out.ecosystem = "Red Hat";
  else if (p.type === "generic") out.ecosystem = "generic";
  if (out.ecosystem !== undefined && release) out.release = release;
  return out;
}
