import { PackageURL } from "packageurl-js";
import type { FileEntry, HistoryReader } from "../../collect/index.ts";
import { placeOsPackage, type OsPackageKind } from "../../ecosystem/index.ts";
import type { Component } from "../../model/index.ts";

export type { OsPackageKind } from "../../ecosystem/index.ts";

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

/** The distro as purls' `distro` qualifier and the image's `tollgate:image:os` say it: "debian-12", or the id alone. */
export function distroName(d: Distro): string {
  return d.versionId ? `${d.id}-${d.versionId}` : d.id;
}


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

/**
 * The `history` of a cataloger whose package database is one text file: each older copy of `path` is
 * turned into name@version keys by `installedKeys`, for the layer that introduced each package.
 */
export function textDatabaseHistory(ctx: OsContext, path: string, installedKeys: (text: string) => Set<string>): HistoryReader {
  return {
    required: (entry) => entry.path === path,
    async extract({ entry, contents }) {
      ctx.addHistory(entry, installedKeys(contents.toString("utf8")));
    },
  };
}

/**
 * What the OS catalogers of one image share: the distro (from os-release, which may come before or
 * after the package database in the walk), the packages found and the older copies of their
 * databases. `finalize` runs when the walk ends (the os-release cataloger's `finish`) and completes
 * each component: purl with the distro qualifier, OSV ecosystem and release, the dependency edges
 * between packages of the same database, and the layer that introduced it.
 */
export class OsContext {
  distro: Distro | undefined;
  readonly packages: OsPackage[] = [];
  /**
   * name@version keys listed by the older (hidden) copies of each database path, per layer index (with
   * that layer's id). Every hidden copy of a path lies below the copy in force: whatever hides a copy
   * hides every copy under it.
   */
  private readonly history = new Map<string, Map<number, { layer: string; keys: Set<string> }>>();

  /** Records the packages an older copy of a database (a hidden entry of an image's walk) listed. */
  addHistory(entry: FileEntry, keys: Set<string>): void {
    if (entry.layerIndex === undefined || entry.layer === undefined) return;
    let byLayer = this.history.get(entry.path);
    if (!byLayer) this.history.set(entry.path, (byLayer = new Map()));
    byLayer.set(entry.layerIndex, { layer: entry.layer, keys });
  }

  /**
   * The layer that introduced a package: the lowest layer from which every copy of its database, up
   * to the one in force, lists the same name and version. Without older copies it is the database's own layer.
   */
  private introducedIn(p: OsPackage): void {
    const loc = p.component.locations[0];
    if (!loc?.layer) return;
    const byLayer = this.history.get(loc.path.replace(/^\//, ""));
    if (!byLayer) return;
    const key = `${p.component.name}@${p.component.version ?? ""}`;
    // The copies under the one in force, nearest first.
    for (const [, copy] of [...byLayer].sort(([a], [b]) => b - a)) {
      if (!copy.keys.has(key)) break;
      loc.layer = copy.layer;
    }
  }
  /** Licenses per dpkg package name, from copyright files. */
  private readonly debLicenses = new Map<string, string[]>();

  setLicenses(debPackage: string, licenses: string[]): void {
    this.debLicenses.set(debPackage, licenses);
  }

  /** Package databases seen but not read (BerkeleyDB / NDB rpmdb), for the image's notes. */
  readonly unreadDatabases: string[] = [];

  /** What the image's metadata component says of its OS: `tollgate:image:os` and the databases not read. */
  imageProperties(): Record<string, string> {
    const properties: Record<string, string> = {};
    if (this.distro) properties["tollgate:image:os"] = distroName(this.distro);
    for (const db of this.unreadDatabases) properties[`tollgate:image:unreadDatabase:${db}`] = "not read";
    return properties;
  }

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
      const { ecosystem, release, purlNamespace } = placeOsPackage(d, p.kind);
      if (ecosystem) c.ecosystem = ecosystem;
      if (release) c.ecosystemRelease = release;
      const qualifiers: Record<string, string> = {};
      if (p.arch) qualifiers.arch = p.arch;
      if (p.epoch) qualifiers.epoch = p.epoch;
      if (d) qualifiers.distro = distroName(d);
      // The source package, with its version when the binary's differs (a binNMU, an epoch), as syft writes it.
      if (p.kind === "deb" && c.sourceName) {
        if (c.sourceVersion && c.sourceVersion !== c.version) qualifiers.upstream = `${c.sourceName}@${c.sourceVersion}`;
        else if (c.sourceName !== c.name) qualifiers.upstream = c.sourceName;
      }
      // Alpine's origin package (what secdb and OSV name), as syft writes it: read back by `sbom:` targets.
      if (p.kind === "apk" && c.sourceName && c.sourceName !== c.name) qualifiers.upstream = c.sourceName;
      c.purl = new PackageURL(p.kind, purlNamespace, c.name, c.version ?? null, qualifiers, null).toString();
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
