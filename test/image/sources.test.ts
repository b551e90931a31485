/**
 * Real images end to end: a debootstrap bookworm rootfs made into an OCI layout with umoci, copied
 * with skopeo into Debian's docker-registry (plain, then behind token auth), an OCI archive and a
 * docker-archive. Every source must report exactly the packages `dpkg-query -W` lists for the rootfs.
 */
import assert from "node:assert/strict";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildSbom } from "../../src/sbom/index.ts";
import type { Component } from "../../src/model/index.ts";
import { parseTarget } from "../../src/target/index.ts";
import { runCli, sharedTestdataMissing, tempDir } from "../helpers.ts";
// The SBOM domain's validators (official CycloneDX schemas via the library, SPDX 2.3 from ../shared/testdata).
import { cycloneDxErrors, spdxErrors } from "../sbom/support.ts";
import { baseImage, dpkgQuery, run, toolsMissing, type BaseImage } from "./fixtures.ts";
import { startRegistry, type TestRegistry } from "./registry-server.ts";

const skip = toolsMissing("debootstrap", "umoci", "skopeo", "docker-registry", "openssl");

/** The image's SBOM as `tollgate sbom` builds it: the components, problems and the image's metadata component. */
async function catalog(input: string, env?: NodeJS.ProcessEnv) {
  const sbom = await buildSbom(await parseTarget(input), env ? { env } : {});
  const metadata = sbom.metadata.component;
  assert.ok(metadata, "an image SBOM describes the image");
  return { components: sbom.components, problems: sbom.problems, metadata };
}

function debLines(components: Component[]): string[] {
  return components
    .filter((c) => c.foundBy === "dpkg")
    .map((c) => `${c.name} ${c.version}`)
    .sort();
}

describe("image sources against dpkg-query", { skip }, () => {
  let base: BaseImage;
  let expected: string[];
  let work: { dir: string; cleanup: () => Promise<void> };
  let registry: TestRegistry;
  let layerDigest: string;

  before(async () => {
    base = await baseImage();
    expected = await dpkgQuery(base.rootfs);
    work = await tempDir("tollgate-image-");
    registry = await startRegistry(join(work.dir, "registry"));
    const src = `oci:${base.layout}:bookworm`;
    await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", src, `docker://${registry.host}/debian:bookworm`]);
    await run("skopeo", ["copy", "--quiet", src, `oci-archive:${join(work.dir, "image.oci.tar")}:bookworm`]);
    await run("skopeo", ["copy", "--quiet", src, `docker-archive:${join(work.dir, "image.docker.tar")}:debian:bookworm`]);
    const { stdout } = await run("skopeo", ["inspect", src]);
    layerDigest = (JSON.parse(stdout) as { Layers: string[] }).Layers[0] as string;
  });

  after(async () => {
    await registry?.stop();
    await work?.cleanup();
  });

  test("the rootfs has a realistic package list", () => {
    assert.ok(expected.length > 50, `dpkg-query listed ${expected.length} packages`);
    assert.ok(expected.some((l) => l.startsWith("libc6 ")));
  });

  for (const kind of ["oci-dir", "oci-archive", "docker-archive", "registry"] as const) {
    test(`${kind}: the package list equals dpkg-query -W`, async () => {
      const input =
        kind === "oci-dir"
          ? `oci-dir:${base.layout}:bookworm`
          : kind === "oci-archive"
            ? `oci-archive:${join(work.dir, "image.oci.tar")}`
            : kind === "docker-archive"
              ? `docker-archive:${join(work.dir, "image.docker.tar")}`
              : `registry:${registry.host}/debian:bookworm`;
      const r = await catalog(input);
      assert.deepEqual(debLines(r.components), expected);
      assert.deepEqual(r.problems, []);
      const libc = r.components.find((c) => c.name === "libc6");
      assert.ok(libc);
      assert.equal(libc.sourceName, "glibc");
      assert.equal(libc.ecosystem, "Debian");
      assert.equal(libc.ecosystemRelease, "12");
      assert.match(libc.purl ?? "", /^pkg:deb\/debian\/libc6@[^?]+\?arch=amd64&distro=debian-12&upstream=glibc$/);
      // The one layer introduced it; docker-archive names layers by their uncompressed diff_id.
      if (kind !== "docker-archive") assert.equal(libc.locations[0]?.layer, layerDigest);
      else assert.match(libc.locations[0]?.layer ?? "", /^sha256:[a-f0-9]{64}$/);
      assert.ok(libc.dependencies.length > 0, "libc6 depends on libgcc-s1");
      // Licenses from the DEP-5 copyright files, Debian short names mapped to SPDX (hand-checked against
      // /usr/share/doc/{zlib1g,libzstd1}/copyright: "Zlib"; "BSD-3-clause or GPL-2", "zlib", "Expat").
      assert.deepEqual(r.components.find((c) => c.name === "zlib1g")?.licenses, ["Zlib"]);
      assert.deepEqual(r.components.find((c) => c.name === "libzstd1")?.licenses, ["BSD-3-Clause OR GPL-2.0-only", "Zlib", "MIT"]);
      const os = r.components.find((c) => c.type === "operating-system");
      assert.equal(os?.name, "debian");
      assert.equal(os?.version, "12");
      assert.equal(r.metadata.type, "container");
      assert.equal(r.metadata.properties?.["tollgate:image:platform"], "linux/amd64");
      assert.equal(r.metadata.properties?.["tollgate:image:os"], "debian-12", "what the walk learnt about the image is on its component");
      assert.equal(r.metadata.properties?.["tollgate:image:layer:0"], kind === "docker-archive" ? libc.locations[0]?.layer : layerDigest);
      if (kind !== "docker-archive") assert.match(r.metadata.properties?.["tollgate:image:manifestDigest"] ?? "", /^sha256:/);
      assert.match(r.metadata.properties?.["tollgate:image:configDigest"] ?? "", /^sha256:/);
    });
  }

  test("registry: token auth with credentials from DOCKER_CONFIG, and a credential helper", async () => {
    const authDir = join(work.dir, "auth");
    await mkdir(authDir, { recursive: true });
    const secured = await startRegistry(authDir, { username: "ci", password: "s3cret" });
    try {
      await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "ci:s3cret", `oci:${base.layout}:bookworm`, `docker://${secured.host}/private/debian:1`]);
      const anonymous = join(authDir, "anon");
      await mkdir(anonymous);
      await assert.rejects(catalog(`registry:${secured.host}/private/debian:1`, { ...process.env, DOCKER_CONFIG: anonymous }), /access denied|token endpoint .* HTTP 401/);
      const withAuth = join(authDir, "cfg");
      await mkdir(withAuth);
      await writeFile(join(withAuth, "config.json"), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from("ci:s3cret").toString("base64") } } }));
      const before = secured.tokenRequests.length;
      const r = await catalog(`registry:${secured.host}/private/debian:1`, { ...process.env, DOCKER_CONFIG: withAuth });
      assert.deepEqual(debLines(r.components), expected);
      assert.ok(secured.tokenRequests.slice(before).some((q) => q.includes("scope=repository%3Aprivate%2Fdebian%3Apull")));
      // A credential helper (a stand-in script speaking the docker-credential-helpers protocol), run with execFile.
      const bin = join(authDir, "bin");
      await mkdir(bin);
      await writeFile(join(bin, "docker-credential-tgtest"), `#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = "${secured.host}" ] && echo '{"ServerURL":"'$server'","Username":"ci","Secret":"s3cret"}' && exit 0\necho "credentials not found in native keychain"; exit 1\n`);
      await chmod(join(bin, "docker-credential-tgtest"), 0o755);
      const withHelper = join(authDir, "helper");
      await mkdir(withHelper);
      await writeFile(join(withHelper, "config.json"), JSON.stringify({ credHelpers: { [secured.host]: "tgtest" } }));
      const r2 = await catalog(`registry:${secured.host}/private/debian:1`, { ...process.env, DOCKER_CONFIG: withHelper, PATH: `${bin}:${process.env.PATH}` });
      assert.equal(debLines(r2.components).length, expected.length);
      // credsStore: the same helper for every registry.
      const withStore = join(authDir, "store");
      await mkdir(withStore);
      await writeFile(join(withStore, "config.json"), JSON.stringify({ credsStore: "tgtest" }));
      const r3 = await catalog(`registry:${secured.host}/private/debian:1`, { ...process.env, DOCKER_CONFIG: withStore, PATH: `${bin}:${process.env.PATH}` });
      assert.equal(debLines(r3.components).length, expected.length);
      // An identity token (OAuth2 refresh token) is exchanged at the token endpoint with a POST.
      const withIdentity = join(authDir, "identity");
      await mkdir(withIdentity);
      await writeFile(join(withIdentity, "config.json"), JSON.stringify({ auths: { [secured.host]: { identitytoken: "refresh-s3cret" } } }));
      const r4 = await catalog(`registry:${secured.host}/private/debian:1`, { ...process.env, DOCKER_CONFIG: withIdentity });
      assert.equal(debLines(r4.components).length, expected.length);
      assert.ok(secured.tokenRequests.some((q) => q.startsWith("POST ") && q.includes("grant_type=refresh_token")));
    } finally {
      await secured.stop();
    }
  });

  test("registry: a missing tag is a clear error", async () => {
    await assert.rejects(catalog(`registry:${registry.host}/debian:nope`), /manifest nope not found/);
    const r = await runCli(["sbom", `${registry.host}/debian:nope`], { cwd: work.dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^tollgate: .*manifest nope not found \(HTTP 404\)\n$/);
  });

  test(
    "CLI: the image SBOM is valid SPDX 2.3",
    { skip: sharedTestdataMissing("spdx") },
    async () => {
      const spdx = await runCli(["sbom", `oci-dir:${base.layout}:bookworm`, "--format", "spdx-json"], { cwd: work.dir });
      assert.equal(spdx.code, 0, spdx.stderr);
      assert.equal(spdxErrors(JSON.parse(spdx.stdout)), null, "the image SBOM is valid SPDX 2.3");
    },
  );

  test("CLI: sbom of a bare registry reference, and scan/check match Debian source packages", async () => {
    const r = await runCli(["sbom", `${registry.host}/debian:bookworm`, "--format", "cyclonedx-json"], { cwd: work.dir });
    assert.equal(r.code, 0, r.stderr);
    const bom = JSON.parse(r.stdout) as { metadata: { component: { type: string; name: string } }; components: { purl?: string }[] };
    assert.equal(bom.metadata.component.type, "container");
    assert.equal(bom.metadata.component.name, `${registry.host}/debian`);
    assert.ok(bom.components.some((c) => /^pkg:deb\/debian\/libc6@.*distro=debian-12/.test(c.purl ?? "")));
    assert.equal(await cycloneDxErrors(r.stdout, "1.6"), null, "the image SBOM is valid CycloneDX 1.6");

    // A test-only advisory written here (not a real one) against the source package glibc in Debian 12.
    const osv = join(work.dir, "osv");
    await mkdir(osv, { recursive: true });
    await writeFile(
      join(osv, "TEST-GLIBC.json"),
      JSON.stringify({
        schema_version: "1.6.0",
        id: "TEST-GLIBC-0001",
        modified: "2026-01-01T00:00:00Z",
        summary: "test-only advisory",
        affected: [{ package: { ecosystem: "Debian:12", name: "glibc" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "2.36-9+deb12u999" }] }] }],
        database_specific: { severity: "HIGH" },
      }),
    );
    const db = join(work.dir, "vulns.db");
    assert.equal((await runCli(["db", "import", osv, "--db", db], { cwd: work.dir })).code, 0);
    const scan = await runCli(["scan", `oci-archive:${join(work.dir, "image.oci.tar")}`, "--db", db, "--format", "json"], { cwd: work.dir });
    assert.equal(scan.code, 0, scan.stderr);
    assert.match(scan.stdout, /TEST-GLIBC-0001/);
    assert.match(scan.stdout, /libc6/);
    const check = await runCli(["check", `docker-archive:${join(work.dir, "image.docker.tar")}`, "--db", db], { cwd: work.dir });
    assert.equal(check.code, 1, check.stderr);
  });
});
