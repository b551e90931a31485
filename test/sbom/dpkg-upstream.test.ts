/**
 * Debian purls' `upstream` qualifier (issue 11, item 9) on an excerpt of a real Debian 12 dpkg status
 * file (fixtures/dpkg-bookworm): the source package, with its version when that differs from the
 * binary's (syft's `upstream=bash@5.2.15-2`), so a binNMU (`5.2.15-2+b8`, rebuilt without a source
 * change) keeps the version Debian's advisories are written against.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { VirtualFs } from "../../src/collect/index.ts";
import { dpkgCataloger } from "../../src/catalogers/os/dpkg.ts";
import { OsContext } from "../../src/catalogers/os/os-context.ts";
import { packageKeyOf } from "../../src/match/index.ts";
import type { Component } from "../../src/model/index.ts";

const STATUS = fileURLToPath(new URL("fixtures/dpkg-bookworm/status", import.meta.url));

async function catalog(text: string): Promise<Component[]> {
  const ctx = new OsContext();
  const cataloger = dpkgCataloger(ctx);
  const entry = { path: "var/lib/dpkg/status", size: text.length };
  const result = await cataloger.extract({ entry, contents: Buffer.from(text), fs: {} as VirtualFs } as Parameters<typeof cataloger.extract>[0]);
  ctx.setDistro({ id: "debian", versionId: "12", path: "etc/os-release" });
  ctx.finalize();
  return result.components;
}

describe("dpkg: the source package in the purl", () => {
  it("real bookworm status: upstream=source, with @version when the binary's version differs", async () => {
    const components = await catalog(readFileSync(STATUS, "utf8"));
    assert.deepEqual(components.map((c) => c.purl), [
      "pkg:deb/debian/base-files@12.4+deb12u11?arch=amd64&distro=debian-12",
      // binNMU: Source: bash (5.2.15-2)
      "pkg:deb/debian/bash@5.2.15-2+b8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
      // another name and another version (the binary has an epoch)
      "pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3",
      // binNMU of another source: Source: bzip2 (1.0.8-5)
      "pkg:deb/debian/libbz2-1.0@1.0.8-5+b1?arch=amd64&distro=debian-12&upstream=bzip2%401.0.8-5",
      // Source: glibc, same version
      "pkg:deb/debian/libc6@2.36-9+deb12u14?arch=amd64&distro=debian-12&upstream=glibc",
      "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib",
    ]);
    const bash = components.find((c) => c.name === "bash") as Component;
    assert.deepEqual(packageKeyOf(bash), { ecosystem: "Debian", name: "bash", version: "5.2.15-2", release: "12" });
  });

  it("a binNMU whose Source: field has no version (or that has none): the version without +bN", async () => {
    const components = await catalog(
      [
        "Package: libfoo1\nStatus: install ok installed\nSource: foo\nVersion: 1.2-3+b10\nArchitecture: arm64\n",
        "Package: bar\nStatus: install ok installed\nVersion: 2:0.9-1+b2\nArchitecture: arm64\n",
      ].join("\n"),
    );
    assert.deepEqual(
      components.map((c) => [c.sourceName, c.sourceVersion, c.purl]),
      [
        ["foo", "1.2-3", "pkg:deb/debian/libfoo1@1.2-3+b10?arch=arm64&distro=debian-12&upstream=foo%401.2-3"],
        ["bar", "2:0.9-1", "pkg:deb/debian/bar@2:0.9-1+b2?arch=arm64&distro=debian-12&upstream=bar%402%3A0.9-1"],
      ],
    );
  });
});
