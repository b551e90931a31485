/**
 * Keyless `sign image` and `attest` (an ephemeral key certified by Fulcio for the OIDC identity, a
 * Rekor entry), against Debian's docker-registry on 127.0.0.1 and MOCK Sigstore services
 * (@sigstore/mock's Fulcio, Rekor and TSA on 127.0.0.1: the public-good services are not reachable
 * here; Rekor stores dsse entries as the real Rekor does, see canonicalRekorEntry). What is written is
 * verified by `tollgate verify image --certificate-identity … --certificate-oidc-issuer …
 * --trusted-root <the mocks' root>`: the Fulcio chain, the SCT, the SET and the identity; another
 * identity or issuer fails. Both layouts (`.sig`/`.att` tags with cosign's certificate and chain
 * annotations, and bundle referrers). Also: keyless without Rekor is refused, and the token never
 * reaches the output or the audit log.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { attestationTagOf } from "../../src/signing/attest-image.ts";
import { signatureTagOf } from "../../src/signing/sign-image.ts";
import { runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { pushSmallImage } from "../oci/images.ts";
import { startMockSigstore, unsignedJwt, type MockSigstore } from "./sigstore-mock-services.ts";

const skip = toolsMissing("docker-registry");
const ISSUER = "https://token.actions.githubusercontent.com";
const IDENTITY = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";

const SBOM = { bomFormat: "CycloneDX", specVersion: "1.5", version: 1, components: [{ type: "library", name: "left-pad", version: "1.3.0", purl: "pkg:npm/left-pad@1.3.0" }] };

interface Layer {
  mediaType: string;
  annotations: Record<string, string>;
}

describe("keyless sign image and attest (mock Fulcio and Rekor), verified by identity", { skip, timeout: 240_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  let mocks: MockSigstore;
  let trustedRoot: string;
  let sbomPath: string;
  let auditLog: string;
  const token = unsignedJwt({ iss: ISSUER, sub: IDENTITY, aud: "sigstore", exp: Math.floor(Date.now() / 1000) + 3600 });
  const env = (): NodeJS.ProcessEnv => ({ TOLLGATE_CONFIG: "", TOLLGATE_AUDIT_LOG: auditLog, SIGSTORE_ID_TOKEN: token, GITHUB_ACTIONS: "", ACTIONS_ID_TOKEN_REQUEST_URL: "", USER: "tester" });
  const keyless = () => ["--fulcio-url", mocks.fulcioUrl, "--rekor-url", mocks.rekorUrl];
  const byIdentity = (identity = IDENTITY, issuer = ISSUER) => ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--trusted-root", trustedRoot];

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-image-keyless-"));
    registry = await startRegistry(join(dir, "registry"));
    mocks = await startMockSigstore({ canonicalDsse: true });
    trustedRoot = join(dir, "trusted_root.json");
    await writeFile(trustedRoot, JSON.stringify(TrustedRoot.toJSON(mocks.trustedRoot)));
    sbomPath = join(dir, "sbom.cdx.json");
    await writeFile(sbomPath, JSON.stringify(SBOM));
    auditLog = join(dir, "audit.log");
  });
  after(async () => {
    await mocks?.close();
    await registry?.stop();
    await cleanup?.();
  });

  const clientFor = (repo: string) => new RegistryClient(parseRegistryReference(`${registry.host}/${repo}:x`));

  test("sign image keyless (legacy .sig): cosign's certificate, chain and SET annotations; verify image by identity", async () => {
    const client = clientFor("keyless/app");
    const image = await pushSmallImage(client, "keyless app v1\n", "1");
    const ref = `registry:${registry.host}/keyless/app:1`;
    const signed = await runCli(["sign", "image", ...keyless(), ref], { env: env() });
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stderr, new RegExp(`a certificate for ${IDENTITY.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: 1 Rekor entry`));

    const manifest = JSON.parse((await client.getManifest(signatureTagOf(image.digest), 1 << 20)).body.toString()) as { layers: Layer[] };
    assert.equal(manifest.layers.length, 1);
    const a = manifest.layers[0]!.annotations;
    const leaf = new X509Certificate(a["dev.sigstore.cosign/certificate"]!);
    assert.match(leaf.subjectAltName ?? "", new RegExp(IDENTITY.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")));
    assert.ok(a["dev.sigstore.cosign/chain"] !== undefined, "the chain annotation is written (cosign writes it, possibly empty)");
    const set = JSON.parse(a["dev.sigstore.cosign/bundle"]!) as { Payload: { logIndex: number } };
    assert.equal(typeof set.Payload.logIndex, "number");

    const ok = await runCli(["verify", "image", ...byIdentity(), ref], { env: env() });
    assert.equal(ok.code, 0, ok.stderr);
    const payloads = JSON.parse(ok.stdout) as { critical: { image: { "docker-manifest-digest": string } }; optional: { Subject: string; Issuer: string } }[];
    assert.equal(payloads[0]?.critical.image["docker-manifest-digest"], image.digest);
    assert.equal(payloads[0]?.optional.Subject, IDENTITY);
    assert.equal(payloads[0]?.optional.Issuer, ISSUER);

    const otherIdentity = await runCli(["verify", "image", ...byIdentity("https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main"), ref], { env: env() });
    assert.equal(otherIdentity.code, 1, otherIdentity.stderr);
    const otherIssuer = await runCli(["verify", "image", ...byIdentity(IDENTITY, "https://accounts.google.com"), ref], { env: env() });
    assert.equal(otherIssuer.code, 1, otherIssuer.stderr);
    // Against the public-good root (not the mocks' CA), the certificate does not chain: fails.
    const publicGood = await runCli(["verify", "image", "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER, ref], { env: env() });
    assert.equal(publicGood.code, 1, publicGood.stderr);

    const log = await readFile(auditLog, "utf8");
    assert.ok(!log.includes(token) && !signed.stderr.includes(token), "the token is never written");
    const event = JSON.parse(log.trim().split("\n").at(-1)!) as { backend: string; keyId: string; result: string; signer: Record<string, string> };
    assert.equal(event.backend, "keyless");
    assert.equal(event.keyId, IDENTITY);
    assert.equal(event.signer.issuer, ISSUER);
  });

  test("sign image keyless --bundle-format: a referrer bundle with the certificate; verify image by identity", async () => {
    const client = clientFor("keyless/bundle");
    await pushSmallImage(client, "keyless bundle v1\n", "1");
    const ref = `registry:${registry.host}/keyless/bundle:1`;
    const signed = await runCli(["sign", "image", "--bundle-format", ...keyless(), ref], { env: env() });
    assert.equal(signed.code, 0, signed.stderr);
    const ok = await runCli(["verify", "image", ...byIdentity(), ref], { env: env() });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /1 signature satisfy the policy \(bundle\)/);
    const other = await runCli(["verify", "image", ...byIdentity("someone@example.com"), ref], { env: env() });
    assert.equal(other.code, 1, other.stderr);
  });

  test("attest keyless (legacy .att, dsse Rekor entry): verify image --attestation-type by identity", async () => {
    const client = clientFor("keyless/attested");
    const image = await pushSmallImage(client, "keyless attested v1\n", "1");
    const ref = `registry:${registry.host}/keyless/attested:1`;
    const r = await runCli(["attest", ref, "--predicate", sbomPath, "--type", "cyclonedx", ...keyless()], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const manifest = JSON.parse((await client.getManifest(attestationTagOf(image.digest), 1 << 20)).body.toString()) as { layers: Layer[] };
    const a = manifest.layers[0]!.annotations;
    assert.equal(a.predicateType, "https://cyclonedx.org/bom");
    assert.ok(a["dev.sigstore.cosign/certificate"]?.includes("BEGIN CERTIFICATE"));
    assert.ok(a["dev.sigstore.cosign/bundle"]);

    const ok = await runCli(["verify", "image", "--attestation-type", "cyclonedx", ...byIdentity(), ref], { env: env() });
    assert.equal(ok.code, 0, ok.stderr);
    const statements = JSON.parse(ok.stdout) as { predicate: unknown; subject: { digest: { sha256: string } }[] }[];
    assert.deepEqual(statements[0]?.predicate, SBOM);
    assert.equal(statements[0]?.subject[0]?.digest.sha256, image.digest.slice(7));
    const other = await runCli(["verify", "image", "--attestation-type", "cyclonedx", ...byIdentity("https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main"), ref], { env: env() });
    assert.equal(other.code, 1, other.stderr);
    // check takes this SBOM from the attestation, verified by the same identity flags.
    const checkEnv = { ...env(), TOLLGATE_DB: join(import.meta.dirname, "..", "..", "examples", "advisories"), XDG_CACHE_HOME: join(dir, "cache") };
    const checked = await runCli(["check", ref, "--format", "json", "--sbom-sources", "attestation", ...byIdentity()], { cwd: dir, env: checkEnv });
    assert.equal(checked.code, 0, checked.stderr);
    const report = JSON.parse(checked.stdout) as { notices: string[]; summary: { components: number } };
    assert.ok(report.notices.some((n) => n.startsWith("SBOM from the verified cyclonedx attestation") && n.includes(IDENTITY)), JSON.stringify(report.notices));
    assert.equal(report.summary.components, 1, "left-pad, from the predicate (the image holds no package)");
    const checkedOther = await runCli(["check", ref, "--sbom-sources", "attestation", ...byIdentity(IDENTITY, "https://accounts.google.com")], { cwd: dir, env: checkEnv });
    assert.equal(checkedOther.code, 1, checkedOther.stderr);
    assert.match(checkedOther.stderr, /no verified SBOM attestation/);
    // A changed SET (another integrated time) no longer verifies: the log entry is checked, not just present.
    const set = JSON.parse(a["dev.sigstore.cosign/bundle"]!) as { Payload: { integratedTime: number } };
    set.Payload.integratedTime += 1;
    const { legacyAttestationBundle } = await import("../../src/signing/verify-image.ts");
    const { verifyImageAttestation } = await import("../../src/signing/verify-image.ts");
    const envelope = await client.fetch(manifest.layers[0] as never, 1 << 20);
    const policies = [{ kind: "certificate" as const, subject: { exact: IDENTITY }, issuer: { exact: ISSUER } }];
    const good = legacyAttestationBundle(envelope, a, "layer");
    assert.equal(verifyImageAttestation("legacy", good, "layer", image.digest, "https://cyclonedx.org/bom", { policies, trustRoot: mocks.trustedRoot }).result.tlogEntries.length, 1);
    const tampered = legacyAttestationBundle(envelope, { ...a, "dev.sigstore.cosign/bundle": JSON.stringify(set) }, "layer");
    assert.throws(() => verifyImageAttestation("legacy", tampered, "layer", image.digest, "https://cyclonedx.org/bom", { policies, trustRoot: mocks.trustedRoot }), /TLOG|SET|signature|verif/i);
  });

  test("attest keyless --bundle-format: verified by identity", async () => {
    const client = clientFor("keyless/attested-bundle");
    await pushSmallImage(client, "keyless attested bundle v1\n", "1");
    const ref = `registry:${registry.host}/keyless/attested-bundle:1`;
    const r = await runCli(["attest", ref, "--bundle-format", "--predicate", sbomPath, "--type", "cyclonedx", ...keyless()], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const ok = await runCli(["verify", "image", "--attestation-type", "cyclonedx", ...byIdentity(), ref], { env: env() });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /\(bundle\)/);
    const other = await runCli(["verify", "image", "--attestation-type", "cyclonedx", ...byIdentity(IDENTITY, "https://accounts.google.com"), ref], { env: env() });
    assert.equal(other.code, 1, other.stderr);
  });

  test("keyless without a Rekor entry is refused (exit 2), nothing is pushed; --identity-token with --key is a usage error", async () => {
    const client = clientFor("keyless/nolog");
    const image = await pushSmallImage(client, "keyless nolog\n", "1");
    const ref = `registry:${registry.host}/keyless/nolog:1`;
    const r = await runCli(["sign", "image", "--tlog-upload=false", "--fulcio-url", mocks.fulcioUrl, ref], { env: env() });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Rekor entry/);
    await assert.rejects(client.getManifest(signatureTagOf(image.digest), 1 << 20), /not found|NOT_FOUND|404|unknown/i);
    const a = await runCli(["attest", ref, "--tlog-upload=false", "--predicate", sbomPath, "--type", "cyclonedx", "--fulcio-url", mocks.fulcioUrl], { env: env() });
    assert.equal(a.code, 2, a.stderr);
    const both = await runCli(["sign", "image", "--key", join(dir, "none.key"), "--identity-token", token, ref], { env: env() });
    assert.equal(both.code, 2, both.stderr);
    assert.ok(!both.stderr.includes(token));
  });
});
