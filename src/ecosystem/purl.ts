/**
 * Package URL → OSV ecosystem and package name (https://ossf.github.io/osv-schema/#affectedpackage-field),
 * by the descriptors' purl traits: for SBOMs read back from other tools, where only the purl says what a
 * component is, and for matching, where the purl names the package as OSV does.
 */
import type { PackageURL as PackageUrlClass } from "packageurl-js";
import type { Ecosystem } from "../model/index.ts";
import { packageUrl } from "./package-url.ts";
import { ECOSYSTEM_DESCRIPTORS, type EcosystemName } from "./registry.ts";

export { packageUrl } from "./package-url.ts";
import type { EcosystemDescriptor } from "./types.ts";


export interface PurlEcosystem {
  ecosystem?: Ecosystem;
  /** Distro release for OS packages (`distro=debian-12` → "12"). */
  release?: string;
  name: string;
  namespace?: string;
  version?: string;
}

/** The descriptor a purl's type and namespace mean: the one claiming the namespace, else the type's fallback. */
function descriptorOfPurl(type: string, namespace: string | undefined): EcosystemDescriptor | undefined {
  let fallback: EcosystemDescriptor | undefined;
  for (const d of ECOSYSTEM_DESCRIPTORS as readonly EcosystemDescriptor[]) {
    if (d.purl?.type !== type) continue;
    if (d.purl.namespaces === undefined || (namespace !== undefined && d.purl.namespaces.includes(namespace))) return d;
    if (d.purl.fallback) fallback = d;
  }
  return fallback;
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
  if (p.type === "generic") {
    out.ecosystem = "generic";
    return out;
  }
  const d = descriptorOfPurl(p.type, ns?.toLowerCase());
  if (!d) return out;
  out.ecosystem = d.name as EcosystemName;
  if (d.distro) {
    // OS packages: the namespace is the distribution; the release comes from the distro qualifier.
    const distro = (p.qualifiers as Record<string, string> | undefined)?.distro;
    const release = distro?.replace(/^[a-z-]+?-(?=\d)/i, "");
    if (release) out.release = release;
  } else if (ns !== undefined) {
    out.name = d.purl?.osvName ? d.purl.osvName(ns, p.name) : `${ns}/${p.name}`;
  }
  return out;
}
