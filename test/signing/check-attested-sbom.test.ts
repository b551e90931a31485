/**
 * `tollgate check registry:REF --sbom-sources attestation` (the SBOM from a verified attestation, not
 * re-cataloged), `verify image --attestation-type` with COSIGN_REPOSITORY, and `-a` with
 * `--attestation-type`, against Debian's docker-registry on 127.0.0.1. The images the test pushes
 * hold no package at all, and the attested SBOMs name npm packages (lodash): a finding for lodash
 * can only come from the attestation's predicate. The database is examples/advisories (OSV records
 * of real GitHub advisories). Attestations are written by `tollgate attest` with keys made here and
 * --tlog-upload=false (so checks pass --insecure-ignore-tlog, as verify image does).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { attestationTagOf } from "../../src/signing/attest-image.ts";
import { ROOT, runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { pushSmallImage } from "../oci/images.ts";

const skip = toolsMissing("docker-registry");
const ADVISORIES = join(ROOT, "examples", "advisories");

const cyclonedx = (lodash: string) => ({
  bomFormat: "CycloneDX",
  specVersion: "1.5",
  version: 1,
  components: [{ type: "library", name: "lodash", version: lodash, purl: `pkg:npm/lodash@${lodash}` }],
});

const spdx = (lodash: string) => ({
  spdxVersion: "SPDX-2.3",
  dataLicense: "CC0-1.0",
  SPDXID: "SPDXRef-DOCUMENT",
  name: "app",
  documentNamespace: "https://example.test/spdx/app-1",
  creationInfo: { created: "2026-01-01T00:00:00Z", creators: ["Tool: test-1.0"] },
  packages: [
    {
      SPDXID: "SPDXRef-Package-lodash",
      name: "lodash",
      versionInfo: lodash,
      downloadLocation: "NOASSERTION",
      externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: `pkg:npm/lodash@${lodash}` }],
    },
  ],
});

interface CheckJson {
  outcome: string;
  notices: string[];
  findings: { id: string; package: { name: string; version: string } }[];
}

describe("check --sbom-sources attestation; attestations in COSIGN_REPOSITORY; -a with --attestation-type", { skip, timeout: 300_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  const keys: Record<string, { key: string; pub: string }> = {};
  const files: Record<string, string> = {};
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    TOLLGATE_CONFIG: "",
    TOLLGATE_AUDIT_LOG: join(dir, "audit.log"),
    TOLLGATE_DB: ADVISORIES,
    XDG_CACHE_HOME: join(dir, "cache"),
    COSIGN_REPOSITORY: "",
    USER: "tester",
    ...extra,
  });
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: env(extra) });
  const attest = (ref: string, predicate: string, type: string, key: string, extra: NodeJS.ProcessEnv = {}) =>
    cli(["attest", "--tlog-upload=false", ref, "--predicate", predicate, "--type", type, "--key", key], extra);
  const check = (ref: string, args: string[], extra: NodeJS.ProcessEnv = {}) => cli(["check", ref, "--format", "json", ...args], extra);

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-check-attested-"));
    registry = await startRegistry(join(dir, "registry"));
    for (const name of ["a", "b"]) {
      const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      keys[name] = { key: join(dir, `${name}.pem`), pub: join(dir, `${name}.pub`) };
      await writeFile(keys[name].key, pair.privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
      await writeFile(keys[name].pub, pair.publicKey.export({ format: "pem", type: "spki" }));
    }
    for (const [name, doc] of Object.entries({ vulnerable: cyclonedx("4.17.20"), fixed: cyclonedx("4.17.21"), spdxVulnerable: spdx("4.17.20") })) {
      files[name] = join(dir, `${name}.json`);
      await writeFile(files[name], JSON.stringify(doc));
    }
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  const clientFor = (repo: string) => new RegistryClient(parseRegistryReference(`${registry.host}/${repo}:x`));

  test("the SBOM is the verified attestation's predicate: lodash 4.17.20 fails the gate on an image holding no package; the report says where it came from", async () => {
    await pushSmallImage(clientFor("gate/vulnerable"), "no packages here\n", "1");
    const ref = `registry:${registry.host}/gate/vulnerable:1`;
    // Cataloged, the image has no package: the gate passes.
    const cataloged = await check(ref, []);
    assert.equal(cataloged.code, 0, cataloged.stderr);
    assert.equal((JSON.parse(cataloged.stdout) as CheckJson).findings.length, 0);

    const a = await attest(ref, files.vulnerable!, "cyclonedx", keys.a!.key);
    assert.equal(a.code, 0, a.stderr);
    const r = await check(ref, ["--sbom-sources", "attestation", "--key", keys.a!.pub, "--insecure-ignore-tlog"]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as CheckJson;
    assert.equal(report.outcome, "fail");
    assert.ok(report.findings.some((f) => f.id === "GHSA-35jh-r3h4-6jhm" && f.package.name === "lodash" && f.package.version === "4.17.20"), JSON.stringify(report.findings.map((f) => f.id)));
    const source = report.notices.find((n) => n.startsWith("SBOM from the verified cyclonedx attestation"));
    assert.ok(source, JSON.stringify(report.notices));
    assert.match(source, /sha256-[0-9a-f]{64}\.att layer 0/);
    assert.match(r.stderr, /SBOM from the verified cyclonedx attestation/);
    // --sbom-from is the same option.
    const same = await check(ref, ["--sbom-from", "attestation", "--key", keys.a!.pub, "--insecure-ignore-tlog"]);
    assert.equal(same.code, 1, same.stderr);
    assert.ok((JSON.parse(same.stdout) as CheckJson).findings.some((f) => f.id === "GHSA-35jh-r3h4-6jhm"));
  });

  test("a fixed SBOM passes; an SPDX attestation is read with --attestation-type spdx; keyless flags reach the same verifier", async () => {
    await pushSmallImage(clientFor("gate/fixed"), "fixed image\n", "1");
    const ref = `registry:${registry.host}/gate/fixed:1`;
    assert.equal((await attest(ref, files.fixed!, "cyclonedx", keys.a!.key)).code, 0);
    assert.equal((await attest(ref, files.spdxVulnerable!, "spdx", keys.a!.key)).code, 0);
    const ok = await check(ref, ["--sbom-sources", "attestation", "--key", keys.a!.pub, "--insecure-ignore-tlog"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as CheckJson).findings.length, 0);
    const fromSpdx = await check(ref, ["--sbom-sources", "attestation", "--attestation-type", "spdx", "--key", keys.a!.pub, "--insecure-ignore-tlog"]);
    assert.equal(fromSpdx.code, 1, fromSpdx.stderr);
    const report = JSON.parse(fromSpdx.stdout) as CheckJson;
    assert.ok(report.findings.some((f) => f.id === "GHSA-35jh-r3h4-6jhm"));
    assert.ok(report.notices.some((n) => n.startsWith("SBOM from the verified spdx attestation")));
    // A keyless identity: these attestations are keyed, so none verifies (fail closed, exit 1).
    const keyless = await check(ref, ["--sbom-sources", "attestation", "--certificate-identity", "x@example.com", "--certificate-oidc-issuer", "https://accounts.google.com"]);
    assert.equal(keyless.code, 1, keyless.stderr);
    assert.match(keyless.stderr, /no verified SBOM attestation/);
  });

  test("fail closed: another key, no attestation, a tag moved to an unattested image: exit 1 with the reason, no report; attestation,catalog falls back and says so", async () => {
    const client = clientFor("gate/closed");
    await pushSmallImage(client, "closed v1\n", "1");
    const ref = `registry:${registry.host}/gate/closed:1`;
    assert.equal((await attest(ref, files.vulnerable!, "cyclonedx", keys.a!.key)).code, 0);

    const wrongKey = await check(ref, ["--sbom-sources", "attestation", "--key", keys.b!.pub, "--insecure-ignore-tlog"]);
    assert.equal(wrongKey.code, 1, wrongKey.stderr);
    assert.match(wrongKey.stderr, /no verified SBOM attestation \[SIGNATURE\]/);
    assert.equal(wrongKey.stdout, "", "no report: the gate did not run on an unverified SBOM");
    // Without --insecure-ignore-tlog, a keyed attestation with no log entry is refused (TLOG).
    const noTlog = await check(ref, ["--sbom-sources", "attestation", "--key", keys.a!.pub]);
    assert.equal(noTlog.code, 1, noTlog.stderr);
    assert.match(noTlog.stderr, /\[TLOG\]/);

    // The tag moves to a new image: its digest has no attestation (the old one names the old digest).
    await pushSmallImage(client, "closed v2\n", "1");
    const moved = await check(ref, ["--sbom-sources", "attestation", "--key", keys.a!.pub, "--insecure-ignore-tlog"]);
    assert.equal(moved.code, 1, moved.stderr);
    assert.match(moved.stderr, /\[NOT_SIGNED\]/);
    const fallback = await check(ref, ["--sbom-sources", "attestation,catalog", "--key", keys.a!.pub, "--insecure-ignore-tlog"]);
    assert.equal(fallback.code, 0, fallback.stderr);
    const report = JSON.parse(fallback.stdout) as CheckJson;
    assert.ok(report.notices.some((n) => n.startsWith("SBOM cataloged from the image: no verified SBOM attestation")), JSON.stringify(report.notices));
    assert.equal(report.findings.length, 0, "cataloged: the image holds no package");
  });

  test("usage: attestation for a directory, identity flags without attestation, trivy's oci/rekor sources, catalog first: exit 2", async () => {
    const ref = `registry:${registry.host}/gate/closed:1`;
    for (const args of [
      [dir, "--sbom-sources", "attestation", "--key", keys.a!.pub],
      [ref, "--key", keys.a!.pub],
      [ref, "--sbom-sources", "oci"],
      [ref, "--sbom-sources", "catalog,attestation", "--key", keys.a!.pub],
      [ref, "--sbom-sources", "attestation"],
      [ref, "--sbom-sources", "attestation", "--key", keys.a!.pub, "--attestation-type", "slsaprovenance"],
    ]) {
      const r = await cli(["check", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    }
  });

  test("COSIGN_REPOSITORY: attest writes the .att tag there; verify image --attestation-type and check read it there", async () => {
    const client = clientFor("cosignrepo/app");
    const image = await pushSmallImage(client, "cosign repository app\n", "1");
    const ref = `registry:${registry.host}/cosignrepo/app:1`;
    const sigs = `${registry.host}/cosignrepo/signatures`;
    const a = await attest(ref, files.vulnerable!, "cyclonedx", keys.a!.key, { COSIGN_REPOSITORY: sigs });
    assert.equal(a.code, 0, a.stderr);
    // Stored in the signature repository, not in the image's.
    await assert.rejects(client.getManifest(attestationTagOf(image.digest), 1 << 20));
    const stored = await clientFor("cosignrepo/signatures").getManifest(attestationTagOf(image.digest), 1 << 20);
    assert.equal((JSON.parse(stored.body.toString()) as { layers: unknown[] }).layers.length, 1);

    const verifyArgs = ["verify", "image", "--attestation-type", "cyclonedx", "--key", keys.a!.pub, "--insecure-ignore-tlog", ref];
    const there = await cli(verifyArgs, { COSIGN_REPOSITORY: sigs });
    assert.equal(there.code, 0, there.stderr);
    assert.deepEqual((JSON.parse(there.stdout) as { predicate: unknown }[])[0]?.predicate, cyclonedx("4.17.20"));
    const notThere = await cli(verifyArgs);
    assert.equal(notThere.code, 1, notThere.stderr);
    assert.match(notThere.stderr, /NOT_SIGNED/);
    const checked = await check(ref, ["--sbom-sources", "attestation", "--key", keys.a!.pub, "--insecure-ignore-tlog"], { COSIGN_REPOSITORY: sigs });
    assert.equal(checked.code, 1, checked.stderr);
    assert.ok((JSON.parse(checked.stdout) as CheckJson).notices.some((n) => n.includes("cosignrepo/signatures")));
  });

  test("-a with --attestation-type is refused (exit 2): cosign writes no annotations on attestations and its verify-attestation never checks -a", async () => {
    const ref = `registry:${registry.host}/gate/fixed:1`;
    const r = await cli(["verify", "image", "--attestation-type", "cyclonedx", "--key", keys.a!.pub, "--insecure-ignore-tlog", "-a", "env=prod", ref]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /attestations carry no annotations/);
    // Without -a the same command verifies: the refusal is about -a only.
    const ok = await cli(["verify", "image", "--attestation-type", "cyclonedx", "--key", keys.a!.pub, "--insecure-ignore-tlog", ref]);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
