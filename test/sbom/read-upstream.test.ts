/**
 * `sbom:` targets keep the source package of OS packages: the purl's `upstream` qualifier (tollgate's
 * and syft's `upstream=glibc`, `upstream=bash@5.2.15-2`, syft's apk `upstream=openssl` and rpm
 * `upstream=openssl-3.0.7-24.el9.src.rpm`) and trivy's source properties are read back into
 * `sourceName`/`sourceVersion`, so a Debian or Alpine package read from an SBOM is matched under
 * its source package, as Debian's and Alpine's OSV records name them, and not silently under
 * the binary's name.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { VirtualFs } from "../../src/collect/index.ts";
import { apkCataloger } from "../../src/catalogers/os/apk.ts";
import { dpkgCataloger } from "../../src/catalogers/os/dpkg.ts";
import { OsContext } from "../../src/catalogers/os/os-context.ts";
import { packageKeyOf } from "../../src/match/index.ts";
import type { Component, Sbom } from "../../src/model/index.ts";
import { readSbomDocument, serializeCycloneDx, serializeSpdx } from "../../src/sbom/index.ts";

const STATUS = fileURLToPath(new URL("fixtures/dpkg-bookworm/status", import.meta.url));

async function catalog(kind: "dpkg" | "apk", text: string, distro: { id: string; versionId: string }): Promise<Component[]> {
  const ctx = new OsContext();
  const cataloger = kind === "dpkg" ? dpkgCataloger(ctx) : apkCataloger(ctx);
  const entry = { path: kind === "dpkg" ? "var/lib/dpkg/status" : "lib/apk/db/installed", size: text.length };
  const result = await cataloger.extract({ entry, contents: Buffer.from(text), fs: {} as VirtualFs } as Parameters<typeof cataloger.extract>[0]);
  ctx.setDistro({ ...distro, path: "etc/os-release" });
  ctx.finalize();
  return result.components;
}

function imageSbom(components: Component[]): Sbom {
  const root: Component = { ref: "image", name: "example/image", version: "1", type: "container", hashes: [], licenses: [], locations: [{ path: "/" }], dependencies: components.map((c) => c.ref) };
  return { metadata: { timestamp: "2025-01-01T00:00:00.000Z", tool: { name: "tollgate", version: "0" }, component: root }, components, problems: [] };
}

/** name → the key matching uses. */
function keys(components: readonly Component[]): Record<string, unknown> {
  return Object.fromEntries(components.map((c) => [c.name, packageKeyOf(c)]));
}

function readBack(json: string): Component[] {
  return readSbomDocument(JSON.parse(json), "image.json").components;
}

describe("sbom: targets: the source package of Debian packages, tollgate's own SBOMs", () => {
  const expected = {
    "base-files": { ecosystem: "Debian", name: "base-files", version: "12.4+deb12u11", release: "12" },
    // binNMU: Source: bash (5.2.15-2)
    bash: { ecosystem: "Debian", name: "bash", version: "5.2.15-2", release: "12" },
    bsdutils: { ecosystem: "Debian", name: "util-linux", version: "2.38.1-5+deb12u3", release: "12" },
    "libbz2-1.0": { ecosystem: "Debian", name: "bzip2", version: "1.0.8-5", release: "12" },
    libc6: { ecosystem: "Debian", name: "glibc", version: "2.36-9+deb12u14", release: "12" },
    zlib1g: { ecosystem: "Debian", name: "zlib", version: "1:1.2.13.dfsg-1", release: "12" },
  };

  for (const format of ["CycloneDX", "SPDX"] as const) {
    it(`${format}: the key read back is the key of the image's packages (real bookworm status)`, async () => {
      const components = await catalog("dpkg", readFileSync(STATUS, "utf8"), { id: "debian", versionId: "12" });
      assert.deepEqual(keys(components), expected);
      const sbom = imageSbom(components);
      const back = readBack(format === "CycloneDX" ? serializeCycloneDx(sbom, { deterministic: true }) : serializeSpdx(sbom, { deterministic: true }));
      assert.deepEqual(keys(back), expected);
      const source = (list: readonly Component[]) => Object.fromEntries(list.filter((c) => c.name !== "base-files").map((c) => [c.name, [c.sourceName, c.sourceVersion]]));
      assert.deepEqual(source(back), source(components));
    });
  }

  it("Ubuntu: the source package too", async () => {
    const components = await catalog("dpkg", "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.2-0ubuntu1.15\nArchitecture: amd64\n", { id: "ubuntu", versionId: "22.04" });
    const back = readBack(serializeCycloneDx(imageSbom(components), { deterministic: true }));
    assert.deepEqual(keys(back), { libssl3: { ecosystem: "Ubuntu", name: "openssl", version: "3.0.2-0ubuntu1.15", release: "22.04" } });
  });

  it(
    "Alpine: the origin package survives a round trip (the purl had no upstream=, so libcrypto3 was matched instead of openssl)",
    async () => {
      const components = await catalog("apk", "P:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n\n", { id: "alpine", versionId: "3.19.1" });
      assert.equal(packageKeyOf(components[0] as Component) !== "no-version" && (packageKeyOf(components[0] as Component) as { name: string }).name, "openssl");
      const back = readBack(serializeCycloneDx(imageSbom(components), { deterministic: true }));
      assert.deepEqual(keys(back), { libcrypto3: { ecosystem: "Alpine", name: "openssl", version: "3.1.4-r5", release: "3.19.1" } });
    },
  );
});

describe("sbom: targets: syft's and trivy's spellings", () => {
  const cdx = (components: Record<string, unknown>[]): string =>
    JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", version: 1, metadata: { tools: { components: [{ type: "application", author: "anchore", name: "syft", version: "1.20.0" }] } }, components });

  it("syft CycloneDX: upstream=source and upstream=source@version (deb), upstream=origin (apk), upstream=srpm (rpm)", () => {
    const back = readBack(
      cdx([
        { "bom-ref": "a", type: "library", name: "libc6", version: "2.36-9+deb12u4", purl: "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc" },
        { "bom-ref": "b", type: "library", name: "libc-bin", version: "2.36-9+deb12u4", purl: "pkg:deb/debian/libc-bin@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc%402.36-9%2Bdeb12u4" },
        { "bom-ref": "c", type: "library", name: "bash", version: "5.2.15-2+b8", purl: "pkg:deb/debian/bash@5.2.15-2+b8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2" },
        // A source of the same name without a version: the binNMU's version less +bN (as the dpkg cataloger reads Source: bash).
        { "bom-ref": "d", type: "library", name: "dash", version: "0.5.12-2+b1", purl: "pkg:deb/debian/dash@0.5.12-2+b1?arch=amd64&distro=debian-12&upstream=dash" },
        // A '+' left unescaped in the qualifier (read as a space by form decoding).
        { "bom-ref": "e", type: "library", name: "libc-dev-bin", version: "2.36-9+deb12u4", purl: "pkg:deb/debian/libc-dev-bin@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc@2.36-9+deb12u4" },
        { "bom-ref": "f", type: "library", name: "libcrypto3", version: "3.1.4-r5", purl: "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&upstream=openssl&distro=alpine-3.19.1" },
        { "bom-ref": "g", type: "library", name: "openssl-libs", version: "3.0.7-24.el9", purl: "pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&epoch=1&upstream=openssl-3.0.7-24.el9.src.rpm&distro=rhel-9.2" },
      ]),
    );
    assert.deepEqual(
      back.map((c) => [c.name, c.sourceName, c.sourceVersion]),
      [
        ["libc6", "glibc", "2.36-9+deb12u4"],
        ["libc-bin", "glibc", "2.36-9+deb12u4"],
        ["bash", "bash", "5.2.15-2"],
        ["dash", "dash", "0.5.12-2"],
        ["libc-dev-bin", "glibc", "2.36-9+deb12u4"],
        ["libcrypto3", "openssl", "3.1.4-r5"],
        ["openssl-libs", "openssl", "3.0.7-24.el9"],
      ],
    );
    assert.deepEqual(keys(back), {
      libc6: { ecosystem: "Debian", name: "glibc", version: "2.36-9+deb12u4", release: "12" },
      "libc-bin": { ecosystem: "Debian", name: "glibc", version: "2.36-9+deb12u4", release: "12" },
      bash: { ecosystem: "Debian", name: "bash", version: "5.2.15-2", release: "12" },
      dash: { ecosystem: "Debian", name: "dash", version: "0.5.12-2", release: "12" },
      "libc-dev-bin": { ecosystem: "Debian", name: "glibc", version: "2.36-9+deb12u4", release: "12" },
      libcrypto3: { ecosystem: "Alpine", name: "openssl", version: "3.1.4-r5", release: "3.19.1" },
      "openssl-libs": { ecosystem: "Red Hat", name: "openssl-libs", version: "3.0.7-24.el9", release: "9.2" },
    });
  });

  it("syft SPDX: the purl in externalRefs", () => {
    const doc = {
      spdxVersion: "SPDX-2.3",
      SPDXID: "SPDXRef-DOCUMENT",
      creationInfo: { created: "2025-01-01T00:00:00Z", creators: ["Tool: syft-1.20.0"] },
      packages: [
        {
          SPDXID: "SPDXRef-Package-deb-libbz2-1.0",
          name: "libbz2-1.0",
          versionInfo: "1.0.8-5+b1",
          externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: "pkg:deb/debian/libbz2-1.0@1.0.8-5+b1?arch=amd64&distro=debian-12&upstream=bzip2%401.0.8-5" }],
        },
      ],
    };
    const [c] = readSbomDocument(doc, "syft.spdx.json").components;
    assert.deepEqual(packageKeyOf(c as Component), { ecosystem: "Debian", name: "bzip2", version: "1.0.8-5", release: "12" });
  });

  it("trivy: SrcName/SrcVersion/SrcRelease/SrcEpoch properties (CycloneDX), sourceInfo (SPDX)", () => {
    const prop = (name: string, value: string) => ({ name: `aquasecurity:trivy:${name}`, value });
    const back = readBack(
      cdx([
        {
          "bom-ref": "pkg:deb/debian/bsdutils@2.38.1-5+deb12u3?arch=amd64&distro=debian-12.8&epoch=1",
          type: "library",
          name: "bsdutils",
          version: "1:2.38.1-5+deb12u3",
          purl: "pkg:deb/debian/bsdutils@2.38.1-5+deb12u3?arch=amd64&distro=debian-12.8&epoch=1",
          properties: [prop("PkgType", "debian"), prop("SrcName", "util-linux"), prop("SrcRelease", "5+deb12u3"), prop("SrcVersion", "2.38.1"), prop("SrcEpoch", "0")],
        },
        {
          "bom-ref": "z",
          type: "library",
          name: "zlib1g",
          version: "1:1.2.13.dfsg-1",
          purl: "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.8&epoch=1",
          properties: [prop("SrcName", "zlib"), prop("SrcRelease", "1"), prop("SrcVersion", "1.2.13.dfsg"), prop("SrcEpoch", "1")],
        },
      ]),
    );
    assert.deepEqual(keys(back), {
      bsdutils: { ecosystem: "Debian", name: "util-linux", version: "2.38.1-5+deb12u3", release: "12.8" },
      zlib1g: { ecosystem: "Debian", name: "zlib", version: "1:1.2.13.dfsg-1", release: "12.8" },
    });
    const spdx = {
      spdxVersion: "SPDX-2.3",
      SPDXID: "SPDXRef-DOCUMENT",
      creationInfo: { created: "2025-01-01T00:00:00Z", creators: ["Organization: aquasecurity", "Tool: trivy-0.58.0"] },
      packages: [
        {
          SPDXID: "SPDXRef-Package-1",
          name: "libc6",
          versionInfo: "2.36-9+deb12u9",
          sourceInfo: "built package from: glibc 2.36-9+deb12u9",
          externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64&distro=debian-12.8" }],
        },
      ],
    };
    const [c] = readSbomDocument(spdx, "trivy.spdx.json").components;
    assert.deepEqual(packageKeyOf(c as Component), { ecosystem: "Debian", name: "glibc", version: "2.36-9+deb12u9", release: "12.8" });
  });

  it("language packages: an upstream qualifier or source property changes nothing", () => {
    const back = readBack(cdx([{ "bom-ref": "n", type: "library", name: "left-pad", version: "1.3.0", purl: "pkg:npm/left-pad@1.3.0?upstream=other" }]));
    assert.equal(back[0]?.sourceName, undefined);
    assert.deepEqual(packageKeyOf(back[0] as Component), { ecosystem: "npm", name: "left-pad", version: "1.3.0" });
  });
});
