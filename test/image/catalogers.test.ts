/**
 * The image catalogers beyond dpkg, each checked against the real tool where Debian has one: Go build
 * info against `go version -m`, the SQLite rpmdb against `rpm -qa`, Java archives built here with `zip`
 * (hand-checked coordinates), and apk's database from a small hand-written file in apk-tools' format.
 * The files are put into a hand-made OCI layout and read through the image source like any image.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { collect } from "../../src/collect/index.ts";
import { openImageSource } from "../../src/image/index.ts";
import type { Component } from "../../src/model/index.ts";
import { tempDir } from "../helpers.ts";
import { run, toolsMissing } from "./fixtures.ts";
import { layoutOf, tarOf, type TarEntrySpec } from "./layout-builder.ts";

async function catalogFiles(dir: string, entries: TarEntrySpec[]) {
  const layout = join(dir, "layout");
  await layoutOf(layout, [{ tar: await tarOf(entries), compression: "gzip" }]);
  const source = await openImageSource({ kind: "oci-dir", input: layout, path: layout });
  try {
    return await collect(source.fs, source.catalogers);
  } finally {
    await source.close();
  }
}

const names = (cs: Component[], foundBy: string) =>
  cs
    .filter((c) => c.foundBy === foundBy)
    .map((c) => `${c.name} ${c.version}`)
    .sort();

describe("image catalogers", () => {
  test("Go binaries: build info equals `go version -m`", { skip: toolsMissing("go") }, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const src = join(dir, "src");
      await mkdir(join(src, "lib"), { recursive: true });
      await writeFile(join(src, "go.mod"), "module example.com/tgdemo\n\ngo 1.19\n\nrequire example.com/lib v1.2.3\n\nreplace example.com/lib v1.2.3 => example.com/lib v1.2.4\n");
      await writeFile(join(src, "main.go"), 'package main\n\nimport "example.com/lib"\n\nfunc main() { println(lib.Name) }\n');
      // The replacement target comes from a local module proxy directory (GOPROXY=file://), so no network is used.
      const proxy = join(dir, "proxy", "example.com", "lib", "@v");
      await mkdir(proxy, { recursive: true });
      await mkdir(join(dir, "libsrc", "example.com", "lib@v1.2.4"), { recursive: true });
      const libDir = join(dir, "libsrc", "example.com", "lib@v1.2.4");
      await writeFile(join(libDir, "go.mod"), "module example.com/lib\n");
      await writeFile(join(libDir, "lib.go"), 'package lib\n\nconst Name = "lib"\n');
      await writeFile(join(proxy, "list"), "v1.2.3\nv1.2.4\n");
      for (const v of ["v1.2.3", "v1.2.4"]) {
        await writeFile(join(proxy, `${v}.info`), JSON.stringify({ Version: v, Time: "2024-01-01T00:00:00Z" }));
        await writeFile(join(proxy, `${v}.mod`), "module example.com/lib\n");
        await run("sh", ["-c", `cd "$1" && rm -f "$2" && zip -qr "$2" example.com/lib@v1.2.4 && true`, "sh", join(dir, "libsrc"), join(proxy, `${v}.zip`)]);
      }
      if (!(await readFile(join(proxy, "v1.2.3.zip")).catch(() => undefined))) throw new Error("zip failed");
      const env = { ...process.env, GOPROXY: `file://${join(dir, "proxy")}`, GOFLAGS: "-mod=mod", GONOSUMDB: "*", GOSUMDB: "off", GOPATH: join(dir, "gopath"), GOTOOLCHAIN: "local" };
      await run("go", ["build", "-o", join(dir, "demo"), "."], { cwd: src, env });
      const { stdout } = await run("go", ["version", "-m", join(dir, "demo")]);
      const goVersion = /: go(\S+)/.exec(stdout)?.[1];
      const deps = [...stdout.matchAll(/^\t(dep|=>)\t(\S+)\t(\S+)/gm)].map((m) => [m[1], m[2], m[3]]);
      assert.deepEqual(deps, [["dep", "example.com/lib", "v1.2.3"], ["=>", "example.com/lib", "v1.2.4"]]);
      const bin = await readFile(join(dir, "demo"));
      const r = await catalogFiles(dir, [{ name: "usr/local/bin/demo", content: bin, mode: 0o755 }]);
      assert.deepEqual(names(r.components, "go-binary"), [`example.com/lib v1.2.4`, `stdlib ${goVersion}`]);
      const lib = r.components.find((c) => c.name === "example.com/lib");
      assert.equal(lib?.purl, "pkg:golang/example.com/lib@v1.2.4");
      assert.equal(lib?.ecosystem, "Go");
      assert.equal(lib?.locations[0]?.path, "/usr/local/bin/demo");
    } finally {
      await cleanup();
    }
  });

  test("rpm: the SQLite rpmdb equals `rpm -qa`; BerkeleyDB is reported as not read", { skip: toolsMissing("rpm", "rpmbuild") }, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const top = join(dir, "rpmbuild");
      await mkdir(join(top, "SPECS"), { recursive: true });
      const spec = (name: string, version: string, release: string, epoch?: number) =>
        `Name: ${name}\nVersion: ${version}\nRelease: ${release}\n${epoch ? `Epoch: ${epoch}\n` : ""}Summary: tollgate test\nLicense: MIT\nBuildArch: noarch\n%description\ntest package\n%files\n`;
      await writeFile(join(top, "SPECS", "a.spec"), spec("tg-alpha", "1.2.3", "4.el9"));
      await writeFile(join(top, "SPECS", "b.spec"), spec("tg-beta", "0.9", "1", 2));
      const dbpath = join(dir, "rpmdb");
      await mkdir(dbpath);
      for (const s of ["a", "b"]) await run("rpmbuild", ["-bb", "--define", `_topdir ${top}`, join(top, "SPECS", `${s}.spec`)]);
      const rpms = (await run("sh", ["-c", `ls "$1"/RPMS/noarch/*.rpm`, "sh", top])).stdout.trim().split("\n");
      await run("rpm", ["--define", "_db_backend sqlite", "--dbpath", dbpath, "--initdb"]);
      await run("rpm", ["--define", "_db_backend sqlite", "--dbpath", dbpath, "-i", "--justdb", "--nodeps", "--noscripts", ...rpms]);
      const { stdout } = await run("rpm", ["--define", "_db_backend sqlite", "--dbpath", dbpath, "-qa", "--qf", "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n"]);
      const expected = stdout.trim().split("\n").sort();
      assert.equal(expected.length, 2);
      const r = await catalogFiles(dir, [
        { name: "etc/os-release", content: 'ID="rhel"\nVERSION_ID="9.4"\n' },
        { name: "var/lib/rpm/rpmdb.sqlite", content: await readFile(join(dbpath, "rpmdb.sqlite")) },
        { name: "usr/lib/sysimage/rpm/Packages", content: "not a real BerkeleyDB" },
      ]);
      assert.deepEqual(names(r.components, "rpm"), expected);
      const alpha = r.components.find((c) => c.name === "tg-alpha");
      assert.equal(alpha?.purl, "pkg:rpm/redhat/tg-alpha@1.2.3-4.el9?arch=noarch&distro=rhel-9.4");
      assert.equal(alpha?.sourceName, "tg-alpha");
      assert.equal(alpha?.ecosystem, "Red Hat");
      assert.ok(r.problems.some((p) => p.file === "usr/lib/sysimage/rpm/Packages" && /BerkeleyDB format found and not read/.test(p.message)));
      // What the walk learnt about the image goes on its metadata component (buildSbom merges it).
      assert.deepEqual(r.targetProperties, { "tollgate:image:os": "rhel-9.4", "tollgate:image:unreadDatabase:/usr/lib/sysimage/rpm/Packages": "not read" });

      // Two layers: the first installs tg-alpha, the second rewrites the database adding tg-beta. Each
      // package keeps the layer that introduced it (read from the older database copy), as dpkg's and apk's do.
      const dbOne = join(dir, "rpmdb-one");
      await mkdir(dbOne);
      const alphaRpm = rpms.find((f) => f.includes("tg-alpha")) as string;
      await run("rpm", ["--define", "_db_backend sqlite", "--dbpath", dbOne, "--initdb"]);
      await run("rpm", ["--define", "_db_backend sqlite", "--dbpath", dbOne, "-i", "--justdb", "--nodeps", "--noscripts", alphaRpm]);
      const layout = join(dir, "two-layers");
      const img = await layoutOf(layout, [
        { tar: await tarOf([{ name: "etc/os-release", content: 'ID="rhel"\nVERSION_ID="9.4"\n' }, { name: "var/lib/rpm/rpmdb.sqlite", content: await readFile(join(dbOne, "rpmdb.sqlite")) }]), compression: "gzip" },
        { tar: await tarOf([{ name: "var/lib/rpm/rpmdb.sqlite", content: await readFile(join(dbpath, "rpmdb.sqlite")) }]), compression: "gzip" },
      ]);
      const source = await openImageSource({ kind: "oci-dir", input: layout, path: layout });
      try {
        const r2 = await collect(source.fs, source.catalogers);
        const layerOf = (name: string) => r2.components.find((c) => c.name === name)?.locations[0]?.layer;
        assert.equal(layerOf("tg-alpha"), img.layerDigests[0]);
        assert.equal(layerOf("tg-beta"), img.layerDigests[1]);
      } finally {
        await source.close();
      }
    } finally {
      await cleanup();
    }
  });

  test("Java archives: pom.properties, nested jars and MANIFEST.MF", { skip: toolsMissing("zip") }, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const inner = join(dir, "inner");
      await mkdir(join(inner, "META-INF/maven/org.example/inner-lib"), { recursive: true });
      await writeFile(join(inner, "META-INF/maven/org.example/inner-lib/pom.properties"), "#Generated by Maven\ngroupId=org.example\nartifactId=inner-lib\nversion=2.0.1\n");
      await run("sh", ["-c", 'cd "$1" && zip -qr ../inner-lib-2.0.1.jar META-INF', "sh", inner]);
      const outer = join(dir, "outer");
      await mkdir(join(outer, "META-INF/maven/com.acme/app"), { recursive: true });
      await mkdir(join(outer, "BOOT-INF/lib"), { recursive: true });
      await writeFile(join(outer, "META-INF/maven/com.acme/app/pom.properties"), "groupId=com.acme\nartifactId=app\nversion=1.0.0\n");
      await run("cp", [join(dir, "inner-lib-2.0.1.jar"), join(outer, "BOOT-INF/lib/")]);
      await run("sh", ["-c", 'cd "$1" && zip -qr ../app.jar META-INF BOOT-INF', "sh", outer]);
      const mf = join(dir, "mf");
      await mkdir(join(mf, "META-INF"), { recursive: true });
      await writeFile(join(mf, "META-INF/MANIFEST.MF"), "Manifest-Version: 1.0\r\nImplementation-Title: legacy\r\nImplementation-Version: 3.1\r\nImplementation-Vendor-Id: org.legacy\r\n\r\n");
      await run("sh", ["-c", 'cd "$1" && zip -qr ../legacy.jar META-INF', "sh", mf]);
      const r = await catalogFiles(dir, [
        { name: "opt/app/app.jar", content: await readFile(join(dir, "app.jar")) },
        { name: "opt/app/lib/legacy.jar", content: await readFile(join(dir, "legacy.jar")) },
        { name: "opt/app/broken.jar", content: "not a zip" },
      ]);
      assert.deepEqual(names(r.components, "java-archive"), ["com.acme:app 1.0.0", "org.example:inner-lib 2.0.1", "org.legacy:legacy 3.1"]);
      assert.equal(r.components.find((c) => c.name === "org.example:inner-lib")?.purl, "pkg:maven/org.example/inner-lib@2.0.1");
      assert.ok(r.problems.some((p) => p.file === "opt/app/broken.jar"));
    } finally {
      await cleanup();
    }
  });

  test("dpkg: distroless status.d entries (no Status field; .md5sums skipped)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // The layout of gcr.io/distroless/base-debian12: one deb822 stanza per package under status.d.
      const r = await catalogFiles(dir, [
        { name: "etc/os-release", content: 'PRETTY_NAME="Distroless"\nID=debian\nVERSION_ID="12"\n' },
        { name: "var/lib/dpkg/status.d/base-files", content: "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n" },
        { name: "var/lib/dpkg/status.d/libssl3", content: "Package: libssl3\nSource: openssl\nVersion: 3.0.13-1~deb12u1\nArchitecture: amd64\nDepends: libc6 (>= 2.34)\n" },
        { name: "var/lib/dpkg/status.d/libssl3.md5sums", content: "d41d8cd98f00b204e9800998ecf8427e  usr/lib/x86_64-linux-gnu/libssl.so.3\n" },
      ]);
      assert.deepEqual(names(r.components, "dpkg"), ["base-files 12.4+deb12u5", "libssl3 3.0.13-1~deb12u1"]);
      const ssl = r.components.find((c) => c.name === "libssl3");
      assert.equal(ssl?.sourceName, "openssl");
      assert.equal(ssl?.purl, "pkg:deb/debian/libssl3@3.0.13-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl");
      assert.deepEqual(r.problems, []);
    } finally {
      await cleanup();
    }
  });

  test("apk: /lib/apk/db/installed with the Alpine release from os-release", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // Two records in apk-tools' installed-database format (as in alpine:3.20's /lib/apk/db/installed).
      const installed =
        "C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:411323\nI:647168\nT:the musl c library (libc) implementation\nL:MIT\no:musl\np:so:libc.musl-x86_64.so.1=1\n\n" +
        "C:Q1def=\nP:busybox\nV:1.36.1-r29\nA:x86_64\nL:GPL-2.0-only\no:busybox\nD:so:libc.musl-x86_64.so.1\n\n";
      const r = await catalogFiles(dir, [
        { name: "etc/os-release", content: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n' },
        { name: "lib/apk/db/installed", content: installed },
      ]);
      assert.deepEqual(names(r.components, "apk"), ["busybox 1.36.1-r29", "musl 1.2.5-r0"]);
      const busybox = r.components.find((c) => c.name === "busybox");
      assert.equal(busybox?.purl, "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3");
      assert.equal(busybox?.ecosystemRelease, "v3.20");
      assert.deepEqual(busybox?.dependencies, ["pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3"]);
      assert.deepEqual(busybox?.licenses, ["GPL-2.0-only"]);

      // A second layer rewrites the database to add curl: each package keeps the layer that introduced it.
      const layout = join(dir, "two-layers");
      const l1 = await tarOf([{ name: "etc/os-release", content: "ID=alpine\nVERSION_ID=3.20.3\n" }, { name: "lib/apk/db/installed", content: installed }]);
      const l2 = await tarOf([{ name: "lib/apk/db/installed", content: `${installed}P:curl\nV:8.9.1-r0\nA:x86_64\n\n` }]);
      const img = await layoutOf(layout, [
        { tar: l1, compression: "gzip" },
        { tar: l2, compression: "gzip" },
      ]);
      const source = await openImageSource({ kind: "oci-dir", input: layout, path: layout });
      const r2 = await collect(source.fs, source.catalogers);
      const layerOf = (name: string) => r2.components.find((c) => c.name === name)?.locations[0]?.layer;
      assert.equal(layerOf("musl"), img.layerDigests[0]);
      assert.equal(layerOf("curl"), img.layerDigests[1]);
      await source.close();
    } finally {
      await cleanup();
    }
  });
});

describe("Debian license names", () => {
  test("DEP-5 short names become SPDX expressions when every part has an id", async () => {
    const { debianLicense } = await import("../../src/catalogers/os/dpkg-copyright.ts");
    assert.equal(debianLicense("GPL-2+"), "GPL-2.0-or-later");
    assert.equal(debianLicense("GPL-1+ or Artistic"), "GPL-1.0-or-later OR Artistic-1.0-Perl");
    assert.equal(debianLicense("LGPL-2.1+ and BSD-3-clause"), "LGPL-2.1-or-later AND BSD-3-Clause");
    assert.equal(debianLicense("Expat"), "MIT");
    assert.equal(debianLicense("Apache-2.0"), "Apache-2.0");
    assert.equal(debianLicense("GPL-3+ with Bison exception"), "GPL-3+ with Bison exception");
    assert.equal(debianLicense("public-domain"), "public-domain");
  });
});
