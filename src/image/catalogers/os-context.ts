import { PackageURL } from "packageurl-js";
import type { Component, Ecosystem } from "../../model/index.ts";

/** /etc/os-release, the fields tollgate uses (os-release(5)). */
export interface Distro {
  id: string;
  versionId?: string;
  versionCodename?: string;
  prettyName?: string;
  /** Where it was read from. */
  path: string;
}

/** Parses os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string, path: string): Distro | undefined {
  const fields: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2] as string;
    if (/^".*"$/.test(v) || /^'.*'$/.test(v)) v = v.slice(1, -1);
    fields[m[1] as string] = v.replace(/\\(["\\$`])/g, "$1");
  }
  if (!fields.ID) return undefined;
  const d: Distro = { id: fields.ID.toLowerCase(), path };
  if (fields.VERSION_ID) d.versionId = fields.VERSION_ID;
  if (fields.VERSION_CODENAME) d.versionCodename = fields.VERSION_CODENAME;
  if (fields.PRETTY_NAME) d.prettyName = fields.PRETTY_NAME;
  return d;
}

export type OsPackageKind = "deb" | "apk" | "rpm";

/** An OS package as a cataloger read it, before the distro is known. */
export interface OsPackage {
  kind: OsPackageKind;
  component: Component;
  arch?: string;
  epoch?: string;
  /** Package names (or virtual names) this one depends on. */
  depends: string[];
  provides: string[];
}

/** The OSV ecosystem and release for a distro, e.g. Debian "12", Alpine "v3.20". */
export function osvEcosystem(d: Distro | undefined, kind: OsPackageKind): { ecosystem?: Ecosystem; release?: string } {
  const major = d?.versionId?.split(".")[0];
  switch (d?.id) {
    case "debian":
      return major ? { ecosystem: "Debian", release: major } : { ecosystem: "Debian" };
    case "ubuntu":
      return d.versionId ? { ecosystem: "Ubuntu", release: d.versionId } : { ecosystem: "Ubuntu" };
    case "alpine": {
      const mm = d.versionId?.split(".").slice(0, 2).join(".");
      return mm ? { ecosystem: "Alpine", release: `v${mm}` } : { ecosystem: "Alpine" };
    }
    case "wolfi":
      return { ecosystem: "Wolfi" };
    case "rhel":
    case "centos":
      return major ? { ecosystem: "Red Hat", release: major } : { ecosystem: "Red Hat" };
    default:
      if (kind === "deb") return { ecosystem: "Debian" };
      if (kind === "apk") return { ecosystem: "Alpine" };
      return {};
  }
}

function purlNamespace(d: Distro | undefined, kind: OsPackageKind): string {
  if (d?.id === "rhel") return "redhat";
  if (d?.id) return d.id;
  return kind === "deb" ? "debian" : kind === "apk" ? "alpine" : "unknown";
}

/**
 * What the OS catalogers of one image share: the distro (from os-release, which may come before or
 * after the package database in the walk) and the packages found. `finalize` runs when the walk ends
 * and completes each component: purl with the distro qualifier, OSV ecosystem and release, and the
 * dependency edges between packages of the same database.
 */
export class OsContext {
  distro: Distro | undefined;
  readonly packages: OsPackage[] = [];
  /** Layer ids, bottom first, to attribute packages to the layer that introduced them. */
  layerIds: readonly string[] = [];
  /** name@version keys found in older (hidden) copies of each database path, per layer index. */
  private readonly history = new Map<string, Map<number, Set<string>>>();

  /** Records the packages an older copy of a database (hidden by a later layer) listed. */
  addHistory(path: string, layer: number, keys: Set<string>): void {
    let byLayer = this.history.get(path);
    if (!byLayer) this.history.set(path, (byLayer = new Map()));
    byLayer.set(layer, keys);
  }

  /**
   * The layer that introduced a package: the lowest layer from which every copy of its database, up
   * to the one in force, lists the same name and version. Without older copies it is the database's own layer.
   */
  private introducedIn(p: OsPackage): void {
    const loc = p.component.locations[0];
    if (!loc?.layer) return;
    const byLayer = this.history.get(loc.path.replace(/^\//, ""));
    const top = this.layerIds.indexOf(loc.layer);
    if (!byLayer || top === -1) return;
    const key = `${p.component.name}@${p.component.version ?? ""}`;
    let introduced = top;
    for (let i = top - 1; i >= 0; i--) {
      const keys = byLayer.get(i);
      if (!keys) continue;
      if (!keys.has(key)) break;
      introduced = i;
    }
    const id = this.layerIds[introduced];
    if (id) loc.layer = id;
  }
  /** Licenses per dpkg package name, from copyright files. */
  private readonly debLicenses = new Map<string, string[]>();

  setLicenses(debPackage: string, licenses: string[]): void {
    this.debLicenses.set(debPackage, licenses);
  }

  /** Package databases seen but not read (BerkeleyDB / NDB rpmdb), for the image's notes. */
  readonly unreadDatabases: string[] = [];

  setDistro(d: Distro): void {
    // /etc/os-release wins over /usr/lib/os-release (os-release(5)).
    if (this.distro && this.distro.path.startsWith("etc/") && !d.path.startsWith("etc/")) return;
    this.distro = d;
  }

  add(p: OsPackage): void {
    this.packages.push(p);
  }

  finalize(): void {
    const d = this.distro;
    const byName = new Map<string, OsPackage[]>();
    for (const p of this.packages) {
      for (const n of [p.component.name, ...p.provides]) {
        const list = byName.get(`${p.kind}\0${n}`) ?? [];
        list.push(p);
        byName.set(`${p.kind}\0${n}`, list);
      }
    }
    for (const p of this.packages) {
      this.introducedIn(p);
      const c = p.component;
      if (p.kind === "deb" && c.licenses.length === 0) c.licenses = [...(this.debLicenses.get(c.name) ?? [])];
      const { ecosystem, release } = osvEcosystem(d, p.kind);
      if (ecosystem) c.ecosystem = ecosystem;
      if (release) c.ecosystemRelease = release;
      const qualifiers: Record<string, string> = {};
      if (p.arch) qualifiers.arch = p.arch;
      if (p.epoch) qualifiers.epoch = p.epoch;
      if (d) qualifiers.distro = d.versionId ? `${d.id}-${d.versionId}` : d.id;
      // The source package, with its version when the binary's differs (a binNMU, an epoch), as syft writes it.
      if (p.kind === "deb" && c.sourceName) {
        if (c.sourceVersion && c.sourceVersion !== c.version) qualifiers.upstream = `${c.sourceName}@${c.sourceVersion}`;
        else if (c.sourceName !== c.name) qualifiers.upstream = c.sourceName;
      }
      // Alpine's origin package (what secdb and OSV name), as syft writes it: read back by `sbom:` targets.
      if (p.kind === "apk" && c.sourceName && c.sourceName !== c.name) qualifiers.upstream = c.sourceName;
      c.purl = new PackageURL(p.kind, purlNamespace(d, p.kind), c.name, c.version ?? null, qualifiers, null).toString();
      c.ref = c.purl;
    }
    for (const p of this.packages) {
      const deps = new Set<string>();
      for (const n of p.depends) {
        for (const target of byName.get(`${p.kind}\0${n}`) ?? []) if (target !== p) deps.add(target.component.ref);
      }
      p.component.dependencies = [...deps].sort();
    }
  }
}
