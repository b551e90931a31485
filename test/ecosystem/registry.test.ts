/**
 * The ecosystem registry: each descriptor's knowledge, asked through the lookups the SBOM, match,
 * coverage and init code use. Purl and os-release inputs are as syft, trivy and real images write them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compareVersions,
  ECOSYSTEM_DESCRIPTORS,
  ECOSYSTEM_NAMES,
  ecosystemOfDependabot,
  ecosystemOfPurl,
  placeOsPackage,
  normalizePackageName,
  releaseMatches,
  releaseScopeKey,
  type EcosystemDescriptor,
} from "../../src/ecosystem/index.ts";
import { packageKeyOf } from "../../src/match/index.ts";
import type { Component } from "../../src/model/index.ts";

const descriptors = ECOSYSTEM_DESCRIPTORS as readonly EcosystemDescriptor[];

test("the registry: unique names, a version order each, and purl types shared only by distributions told apart by namespace", () => {
  assert.equal(new Set(ECOSYSTEM_NAMES).size, ECOSYSTEM_NAMES.length);
  for (const d of descriptors) assert.equal(d.compare("1.0", "1.0"), 0, `${d.name} orders equal versions equal`);
  const byType = new Map<string, EcosystemDescriptor[]>();
  for (const d of descriptors) if (d.purl) byType.set(d.purl.type, [...(byType.get(d.purl.type) ?? []), d]);
  for (const [type, list] of byType) {
    if (list.length === 1) continue;
    assert.ok(list.every((d) => d.purl?.namespaces !== undefined), `every ${type} descriptor names its purl namespaces`);
    assert.ok(list.filter((d) => d.purl?.fallback).length <= 1, `at most one fallback for ${type}`);
    const namespaces = list.flatMap((d) => d.purl?.namespaces ?? []);
    assert.equal(new Set(namespaces).size, namespaces.length, `no ${type} namespace claimed twice`);
  }
  const ids = descriptors.flatMap((d) => (d.distro ? d.distro.ids.map((id) => `${d.distro?.packageKind}:${id}`) : []));
  assert.equal(new Set(ids).size, ids.length, "no os-release ID claimed twice for one package format");
});

test("purls: language packages named as OSV names them; distribution packages by namespace, with the release from distro=", () => {
  assert.deepEqual(ecosystemOfPurl("pkg:npm/%40babel/core@7.24.0"), { ecosystem: "npm", name: "@babel/core", namespace: "@babel", version: "7.24.0" });
  assert.equal(ecosystemOfPurl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")?.name, "org.apache.logging.log4j:log4j-core");
  assert.equal(ecosystemOfPurl("pkg:golang/github.com/gin-gonic/gin@v1.9.0")?.name, "github.com/gin-gonic/gin");
  assert.equal(ecosystemOfPurl("pkg:cran/ggplot2@3.4.0")?.ecosystem, "CRAN");
  const deb = ecosystemOfPurl("pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.10?arch=amd64&distro=ubuntu-22.04");
  assert.deepEqual([deb?.ecosystem, deb?.name, deb?.release], ["Ubuntu", "openssl", "22.04"]);
  assert.equal(ecosystemOfPurl("pkg:deb/raspbian/zlib1g@1.2.13")?.ecosystem, "Debian", "deb falls back to Debian");
  assert.equal(ecosystemOfPurl("pkg:apk/chainguard/glibc@2.39-r1")?.ecosystem, "Wolfi");
  assert.equal(ecosystemOfPurl("pkg:apk/postmarketos/busybox@1.36")?.ecosystem, "Alpine", "apk falls back to Alpine");
  const rocky = ecosystemOfPurl("pkg:rpm/rocky/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rocky-9.4");
  assert.deepEqual([rocky?.ecosystem, rocky?.release], ["Rocky Linux", "9.4"]);
  assert.equal(ecosystemOfPurl("pkg:rpm/almalinux/bash@5.1.8-9.el9")?.ecosystem, "AlmaLinux");
  assert.equal(ecosystemOfPurl("pkg:rpm/centos/bash@4.4.20-4.el8")?.ecosystem, "Red Hat");
  assert.equal(ecosystemOfPurl("pkg:rpm/opensuse/bash@5.2.15")?.ecosystem, "openSUSE");
  assert.equal(ecosystemOfPurl("pkg:rpm/fedora/bash@5.2.26")?.ecosystem, undefined, "an rpm distribution tollgate does not know has no ecosystem (no fallback)");
  assert.equal(ecosystemOfPurl("pkg:generic/openssl@3.0.0")?.ecosystem, "generic");
  assert.equal(ecosystemOfPurl("not a purl"), undefined);
});

test("os-release: the ecosystem, release scope and purl namespace of a distribution's packages (Rocky, Alma and SUSE included)", () => {
  assert.deepEqual(placeOsPackage({ id: "debian", versionId: "12" }, "deb"), { ecosystem: "Debian", release: "12", purlNamespace: "debian" });
  assert.deepEqual(placeOsPackage({ id: "ubuntu", versionId: "22.04" }, "deb"), { ecosystem: "Ubuntu", release: "22.04", purlNamespace: "ubuntu" });
  assert.deepEqual(placeOsPackage({ id: "alpine", versionId: "3.20.3" }, "apk"), { ecosystem: "Alpine", release: "v3.20", purlNamespace: "alpine" });
  assert.deepEqual(placeOsPackage({ id: "wolfi", versionId: "20230201" }, "apk"), { ecosystem: "Wolfi", purlNamespace: "wolfi" });
  assert.deepEqual(placeOsPackage({ id: "rhel", versionId: "9.4" }, "rpm"), { ecosystem: "Red Hat", release: "9", purlNamespace: "redhat" });
  assert.deepEqual(placeOsPackage({ id: "rocky", versionId: "9.4" }, "rpm"), { ecosystem: "Rocky Linux", release: "9", purlNamespace: "rocky" });
  assert.deepEqual(placeOsPackage({ id: "almalinux", versionId: "8.10" }, "rpm"), { ecosystem: "AlmaLinux", release: "8", purlNamespace: "almalinux" });
  assert.deepEqual(placeOsPackage({ id: "sles", versionId: "15.5" }, "rpm"), { ecosystem: "SUSE", purlNamespace: "sles" });
  assert.deepEqual(placeOsPackage({ id: "opensuse-leap", versionId: "15.5" }, "rpm"), { ecosystem: "openSUSE", purlNamespace: "opensuse-leap" });
  // Unknown or absent os-release: deb and apk fall back as their purl types do; rpm stays without an ecosystem.
  assert.deepEqual(placeOsPackage({ id: "devuan", versionId: "5" }, "deb"), { ecosystem: "Debian", purlNamespace: "devuan" });
  assert.deepEqual(placeOsPackage(undefined, "apk"), { ecosystem: "Alpine", purlNamespace: "alpine" });
  assert.deepEqual(placeOsPackage({ id: "fedora", versionId: "40" }, "rpm"), { purlNamespace: "fedora" });
  assert.deepEqual(placeOsPackage(undefined, "rpm"), { purlNamespace: "unknown" });
});

test("release scopes: code names resolve per distribution; the db scope key is the release OSV splits by", () => {
  assert.equal(releaseScopeKey("Debian", "bookworm"), "Debian:12");
  assert.equal(releaseScopeKey("Debian", "12.5"), "Debian:12");
  assert.equal(releaseScopeKey("Alpine", "3.20.3"), "Alpine:v3.20");
  assert.equal(releaseScopeKey("Ubuntu", "22.04"), "Ubuntu");
  assert.equal(releaseScopeKey("npm", undefined), "npm");
  assert.ok(releaseMatches("Ubuntu", "22.04:LTS", "jammy"));
  assert.ok(!releaseMatches("Ubuntu", "20.04:LTS", "jammy"));
  assert.ok(releaseMatches("Rocky Linux", "9", "9"));
  assert.ok(!releaseMatches("Rocky Linux", "8", "9"));
  assert.ok(releaseMatches("Red Hat", "enterprise_linux:9::appstream", "9"));
  assert.ok(!releaseMatches("Red Hat", "enterprise_linux:8::appstream", "9"));
  assert.ok(releaseMatches("Packagist", "https://packages.drupal.org/8", "anything"));
});

test("package names as OSV compares them: PEP 503 for PyPI, case-insensitive NuGet/Packagist/Hex, others as written", () => {
  assert.equal(normalizePackageName("PyPI", "Flask_SQLAlchemy.ext"), "flask-sqlalchemy-ext");
  assert.equal(normalizePackageName("NuGet", "Newtonsoft.Json"), "newtonsoft.json");
  assert.equal(normalizePackageName("Packagist", "Symfony/HTTP-Kernel"), "symfony/http-kernel");
  assert.equal(normalizePackageName("npm", "JSONStream"), "JSONStream", "npm names are case-sensitive");
  assert.equal(normalizePackageName("Debian:12", "libssl3"), "libssl3");
});

test("Dependabot names map to OSV ecosystems; docker and github-actions have none for the database", () => {
  assert.equal(ecosystemOfDependabot("pip"), "PyPI");
  assert.equal(ecosystemOfDependabot("gradle"), "Maven");
  assert.equal(ecosystemOfDependabot("maven"), "Maven");
  assert.equal(ecosystemOfDependabot("bundler"), "RubyGems");
  assert.equal(ecosystemOfDependabot("docker"), undefined);
  assert.equal(ecosystemOfDependabot("github-actions"), undefined);
});

test("matching keys: a distribution's purl namespace decides among ecosystems of one package format; source packages where OSV names them", () => {
  const base = { hashes: [], licenses: [], locations: [], dependencies: [], type: "library" as const };
  const fromUbuntu: Component = { ...base, ref: "a", name: "libssl3", version: "3.0.2-0ubuntu1.10", ecosystem: "Debian", purl: "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?distro=ubuntu-22.04", sourceName: "openssl" };
  assert.deepEqual(packageKeyOf(fromUbuntu), { ecosystem: "Ubuntu", name: "openssl", version: "3.0.2-0ubuntu1.10", release: "22.04" });
  const wolfi: Component = { ...base, ref: "b", name: "glibc", version: "2.39-r1", ecosystem: "Alpine", purl: "pkg:apk/wolfi/glibc@2.39-r1", sourceName: "glibc-src" };
  assert.deepEqual(packageKeyOf(wolfi), { ecosystem: "Wolfi", name: "glibc", version: "2.39-r1" }, "Wolfi is matched by the binary package");
  const rocky: Component = { ...base, ref: "c", name: "openssl-libs", version: "1:3.0.7-27.el9", ecosystem: "Rocky Linux", ecosystemRelease: "9", purl: "pkg:rpm/rocky/openssl-libs@3.0.7-27.el9?epoch=1" };
  assert.deepEqual(packageKeyOf(rocky), { ecosystem: "Rocky Linux", name: "openssl-libs", version: "1:3.0.7-27.el9", release: "9" });
  assert.equal(compareVersions("Rocky Linux", "1:3.0.7-27.el9", "1:3.0.7-28.el9"), -1);
  // OSV names Rocky, Alma, SUSE, openSUSE, Mageia, openEuler and Azure Linux packages by their source RPM
  // (osv-schema's ecosystem list); Red Hat by binary or source RPM, Photon OS by the RPM itself.
  const fromSourceRpm = (ecosystem: "Rocky Linux" | "AlmaLinux" | "SUSE" | "openSUSE" | "Red Hat" | "Photon OS") =>
    packageKeyOf({ ...base, ref: ecosystem, name: "openssl-libs", version: "3.0.7-27.el9", ecosystem, sourceName: "openssl" });
  for (const ecosystem of ["Rocky Linux", "AlmaLinux", "SUSE", "openSUSE"] as const) assert.equal((fromSourceRpm(ecosystem) as { name: string }).name, "openssl", ecosystem);
  for (const ecosystem of ["Red Hat", "Photon OS"] as const) assert.equal((fromSourceRpm(ecosystem) as { name: string }).name, "openssl-libs", ecosystem);
});
