/**
 * `tollgate attest` and `tollgate verify image --attestation-type` against Debian's docker-registry on
 * 127.0.0.1, with images pushed by the test: the `.att` manifest's layer media type and annotations as
 * cosign writes them (read back with the registry client); the DSSE signature checked independently
 * with node:crypto over the PAE bytes; the statement (in-toto v0.1, the image name and digest as
 * subject, cosign's predicate type); appending keeps the existing layers; the bundle format as an OCI
 * 1.1 referrer (tag-schema fallback); the round trip through `verify image --attestation-type`, and its
 * failures: another key, another predicate type, a tag moved to an unattested image; every attempt audited.
 * Rekor entries come from @sigstore/mock's Rekor on 127.0.0.1 (a stand-in: real Rekor is not reachable
 * here); the SET is checked with node:crypto against the log's key.
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey, generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { verifyAuditLog, type AuditEntry } from "../../src/audit/index.ts";
import { listReferrers } from "../../src/oci/referrers.ts";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { attestationTagOf, dssePae } from "../../src/signing/attest-image.ts";
import { runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { pushSmallImage, sha } from "../oci/images.ts";
import { startMockSigstore, type MockSigstore } from "./sigstore-mock-services.ts";

const skip = toolsMissing("docker-registry");

/** A small valid CycloneDX 1.5 SBOM. */
const SBOM = {
  bomFormat: "CycloneDX",
  specVersion: "1.5",
  serialNumber: "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  version: 1,
  components: [{ type: "library", name: "left-pad", version: "1.3.0", purl: "pkg:npm/left-pad@1.3.0" }],
};

interface Layer {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}

describe("attest: cosign's attestations in docker-registry 2.8 on 127.0.0.1", { skip, timeout: 180_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  let auditLog: string;
  let sbomPath: string;
  const keys: Record<string, { path: string; pub: string; publicKey: KeyObject }> = {};
  const env = (): NodeJS.ProcessEnv => ({ TOLLGATE_AUDIT_LOG: auditLog, USER: "tester" });

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-attest-"));
    registry = await startRegistry(join(dir, "registry"));
    auditLog = join(dir, "audit.log");
    sbomPath = join(dir, "sbom.cdx.json");
    await writeFile(sbomPath, JSON.stringify(SBOM));
    for (const name of ["a", "b"]) {
      const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const path = join(dir, `${name}.pem`);
      const pub = join(dir, `${name}.pub`);
      await writeFile(path, pair.privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
      await writeFile(pub, pair.publicKey.export({ format: "pem", type: "spki" }));
      keys[name] = { path, pub, publicKey: pair.publicKey };
    }
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  const clientFor = (repo: string) => new RegistryClient(parseRegistryReference(`${registry.host}/${repo}:x`));
  const attest = (args: string[]) => runCli(["attest", "--tlog-upload=false", ...args], { env: env() });
  const verifyCli = (args: string[]) => runCli(["verify", "image", "--insecure-ignore-tlog", ...args], { env: env() });

  async function auditEntries(): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    const v = await verifyAuditLog(auditLog, { onEntry: (e) => entries.push(e) });
    assert.equal(v.intact, true);
    return entries;
  }

  /** The DSSE signature checked with node:crypto over the PAE of the envelope's payload. */
  function dsseVerifies(envelope: { payloadType: string; payload: string; signatures: { sig: string }[] }, key: KeyObject): boolean {
    const pae = dssePae(envelope.payloadType, Buffer.from(envelope.payload, "base64"));
    return verify("sha256", pae, key, Buffer.from(envelope.signatures[0]!.sig, "base64"));
  }

  test("legacy: the .att layer, envelope and statement as cosign writes them; appended; verified by --attestation-type; audited", async () => {
    const client = clientFor("team/app");
    const image = await pushSmallImage(client, "app v1\n", "1");
    const ref = `registry:${registry.host}/team/app:1`;
    const r = await attest([ref, "--predicate", sbomPath, "--type", "cyclonedx", "--key", keys.a!.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`attested ${image.digest} \\(https://cyclonedx.org/bom\\)`));

    const got = await client.getManifest(attestationTagOf(image.digest), 1 << 20);
    const manifest = JSON.parse(got.body.toString()) as { mediaType: string; config: { mediaType: string }; layers: Layer[] };
    assert.equal(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
    assert.equal(manifest.config.mediaType, "application/vnd.oci.image.config.v1+json");
    assert.equal(manifest.layers.length, 1);
    const layer = manifest.layers[0]!;
    const blob = await client.fetch(layer, 1 << 20);
    assert.deepEqual(layer, {
      mediaType: "application/vnd.dsse.envelope.v1+json",
      size: blob.length,
      digest: sha(blob),
      annotations: { "dev.cosignproject.cosign/signature": "", predicateType: "https://cyclonedx.org/bom" },
    });
    const envelope = JSON.parse(blob.toString()) as { payloadType: string; payload: string; signatures: { sig: string; keyid: string }[] };
    assert.equal(envelope.payloadType, "application/vnd.in-toto+json");
    assert.equal(envelope.signatures.length, 1);
    const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString()) as Record<string, unknown>;
    assert.deepEqual(statement, {
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType: "https://cyclonedx.org/bom",
      subject: [{ name: `${registry.host}/team/app`, digest: { sha256: image.digest.slice("sha256:".length) } }],
      predicate: SBOM,
    });
    assert.ok(dsseVerifies(envelope, keys.a!.publicKey), "ECDSA signature over the DSSE PAE");
    assert.ok(!dsseVerifies(envelope, keys.b!.publicKey), "not with another key");
    assert.ok(!verify("sha256", Buffer.from(envelope.payload, "base64"), keys.a!.publicKey, Buffer.from(envelope.signatures[0]!.sig, "base64")), "over the PAE, not the bare payload");

    // A second attestation (another key, another type) is appended; the first layer is kept as it was.
    await writeFile(join(dir, "vuln.json"), JSON.stringify({ scanner: { uri: "pkg:github/aquasecurity/trivy", result: {} } }));
    const second = await attest([ref, "--predicate", join(dir, "vuln.json"), "--type", "vuln", "--key", keys.b!.path]);
    assert.equal(second.code, 0, second.stderr);
    const after2 = JSON.parse((await client.getManifest(attestationTagOf(image.digest), 1 << 20)).body.toString()) as { layers: Layer[] };
    assert.equal(after2.layers.length, 2);
    assert.deepEqual(after2.layers[0], layer);
    assert.equal(after2.layers[1]!.annotations.predicateType, "https://cosign.sigstore.dev/attestation/vuln/v1");

    // Round trip: the SBOM verifies with key a and is printed; the vuln attestation with key b.
    const ok = await verifyCli(["--key", keys.a!.pub, "--attestation-type", "cyclonedx", ref]);
    assert.equal(ok.code, 0, ok.stderr);
    const printed = JSON.parse(ok.stdout) as { predicateType: string; predicate: unknown }[];
    assert.equal(printed.length, 1);
    assert.equal(printed[0]!.predicateType, "https://cyclonedx.org/bom");
    assert.deepEqual(printed[0]!.predicate, SBOM);
    assert.match(ok.stderr, /1 attestation of type https:\/\/cyclonedx.org\/bom/);
    const byUri = await verifyCli(["--key", keys.b!.pub, "--attestation-type", "https://cosign.sigstore.dev/attestation/vuln/v1", `${registry.host}/team/app@${image.digest}`]);
    assert.equal(byUri.code, 0, byUri.stderr);

    // Wrong key: the SBOM was signed by a only.
    const wrongKey = await verifyCli(["--key", keys.b!.pub, "--attestation-type", "cyclonedx", ref]);
    assert.equal(wrongKey.code, 1, wrongKey.stderr);
    assert.match(wrongKey.stderr, /\[SIGNATURE\]/);
    assert.equal(wrongKey.stdout, "");
    // Predicate type mismatch: key a signed a CycloneDX SBOM, no SPDX document.
    const wrongType = await verifyCli(["--key", keys.a!.pub, "--attestation-type", "spdx", ref]);
    assert.equal(wrongType.code, 1, wrongType.stderr);
    assert.match(wrongType.stderr, /\[POLICY\].*predicate type/);
    // Plain signature verification is unaffected: there is no .sig signature.
    const plain = await verifyCli(["--key", keys.a!.pub, ref]);
    assert.equal(plain.code, 1, plain.stderr);
    assert.match(plain.stderr, /\[NOT_SIGNED\]/);

    const entries = (await auditEntries()).filter((e) => e.operation === "attest");
    assert.equal(entries.length, 2);
    assert.equal(entries[0]!.result, "success");
    assert.equal(entries[0]!.artifactDigest, image.digest);
    assert.equal(entries[0]!.output, `${registry.host}/team/app:${attestationTagOf(image.digest)}`);
  });

  test("a moved tag: the attestation stays on the old digest and the new image does not verify", async () => {
    const client = clientFor("team/moving");
    const old = await pushSmallImage(client, "old\n", "latest");
    const ref = `${registry.host}/team/moving:latest`;
    assert.equal((await attest([ref, "--predicate", sbomPath, "--type", "cyclonedx", "--key", keys.a!.path])).code, 0);
    assert.equal((await verifyCli(["--key", keys.a!.pub, "--attestation-type", "cyclonedx", ref])).code, 0);
    await pushSmallImage(client, "new\n", "latest");
    const moved = await verifyCli(["--key", keys.a!.pub, "--attestation-type", "cyclonedx", ref]);
    assert.equal(moved.code, 1, moved.stderr);
    assert.match(moved.stderr, /\[NOT_SIGNED\]/);
    assert.equal((await verifyCli(["--key", keys.a!.pub, "--attestation-type", "cyclonedx", `${registry.host}/team/moving@${old.digest}`])).code, 0);
  });

  test("an attestation layer copied onto another image's .att tag fails with DIGEST_MISMATCH", async () => {
    const client = clientFor("team/copy");
    const first = await pushSmallImage(client, "first\n", "1");
    const second = await pushSmallImage(client, "second\n", "2");
    assert.equal((await attest([`${registry.host}/team/copy:1`, "--predicate", sbomPath, "--type", "cyclonedx", "--key", keys.a!.path])).code, 0);
    const att = await client.getManifest(attestationTagOf(first.digest), 1 << 20);
    await client.putManifest(att.body, "application/vnd.oci.image.manifest.v1+json", attestationTagOf(second.digest));
    const r = await verifyCli(["--key", keys.a!.pub, "--attestation-type", "cyclonedx", `${registry.host}/team/copy:2`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\[DIGEST_MISMATCH\]/);
  });

  test("--bundle-format: a Sigstore bundle v0.3 (DSSE) as an OCI 1.1 referrer; verified by --attestation-type", async () => {
    const client = clientFor("team/bundled");
    const image = await pushSmallImage(client, "bundled\n", "1");
    const ref = `${registry.host}/team/bundled:1`;
    const r = await attest([ref, "--predicate", sbomPath, "--type", "cyclonedx", "--key", keys.a!.path, "--bundle-format"]);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(client.getManifest(attestationTagOf(image.digest), 1 << 20), "no .att tag in the bundle format");

    const referrers = await listReferrers(client, image.digest, { artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json" });
    assert.equal(referrers.manifests.length, 1);
    const referrer = JSON.parse((await client.getManifest(referrers.manifests[0]!.digest, 1 << 20)).body.toString()) as {
      artifactType: string;
      subject: { digest: string };
      annotations: Record<string, string>;
      layers: Layer[];
    };
    assert.equal(referrer.artifactType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.equal(referrer.subject.digest, image.digest);
    assert.equal(referrer.annotations["dev.sigstore.bundle.predicateType"], "https://cyclonedx.org/bom");
    assert.equal(referrer.annotations["dev.sigstore.bundle.content"], "dsse-envelope");
    const bundle = JSON.parse((await client.fetch(referrer.layers[0]!, 1 << 20)).toString()) as {
      mediaType: string;
      dsseEnvelope: { payloadType: string; payload: string; signatures: { sig: string }[] };
    };
    assert.equal(bundle.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.ok(dsseVerifies(bundle.dsseEnvelope, keys.a!.publicKey));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString()) as { predicate: unknown; subject: { digest: { sha256: string } }[] };
    assert.deepEqual(statement.predicate, SBOM);
    assert.equal(statement.subject[0]!.digest.sha256, image.digest.slice("sha256:".length));

    const ok = await verifyCli(["--key", keys.a!.pub, "--attestation-type", "cyclonedx", ref]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as { predicate: unknown }[])[0]!.predicate, SBOM);
    assert.match(ok.stderr, /\(bundle\)/);
    assert.equal((await verifyCli(["--key", keys.b!.pub, "--attestation-type", "cyclonedx", ref])).code, 1);
    assert.equal((await verifyCli(["--key", keys.a!.pub, "--attestation-type", "slsaprovenance1", ref])).code, 1);
  });

  test("bad input: a predicate that is not JSON, an unknown type, no predicate: exit 2, audited as failures", async () => {
    const client = clientFor("team/bad");
    await pushSmallImage(client, "bad\n", "1");
    const ref = `${registry.host}/team/bad:1`;
    await writeFile(join(dir, "not.json"), "not json {");
    const notJson = await attest([ref, "--predicate", join(dir, "not.json"), "--type", "cyclonedx", "--key", keys.a!.path]);
    assert.equal(notJson.code, 2, notJson.stderr);
    assert.match(notJson.stderr, /not JSON/);
    const badType = await attest([ref, "--predicate", sbomPath, "--type", "nonsense", "--key", keys.a!.path]);
    assert.equal(badType.code, 2, badType.stderr);
    assert.match(badType.stderr, /--type "nonsense"/);
    const noPredicate = await attest([ref, "--type", "cyclonedx", "--key", keys.a!.path]);
    assert.equal(noPredicate.code, 2, noPredicate.stderr);
    const failures = (await auditEntries()).filter((e) => e.operation === "attest" && e.result === "failure");
    assert.ok(failures.length >= 2, `${failures.length} failed attempts audited`);
  });

  test("with a Rekor entry (mock Rekor, a stand-in): the legacy layer carries the SET as cosign's bundle annotation, read by verify", async () => {
    let rekor: MockSigstore | undefined;
    try {
      rekor = await startMockSigstore();
      const client = clientFor("team/logged");
      const image = await pushSmallImage(client, "logged\n", "1");
      const ref = `${registry.host}/team/logged:1`;
      const legacy = await runCli(["attest", "--rekor-url", rekor.rekorUrl, ref, "--predicate", sbomPath, "--type", "cyclonedx", "--key", keys.a!.path], { env: env() });
      assert.equal(legacy.code, 0, legacy.stderr);
      assert.match(legacy.stderr, /1 Rekor entry/);
      const manifest = JSON.parse((await client.getManifest(attestationTagOf(image.digest), 1 << 20)).body.toString()) as { layers: Layer[] };
      const annotation = JSON.parse(manifest.layers[0]!.annotations["dev.sigstore.cosign/bundle"]!) as { SignedEntryTimestamp: string; Payload: { body: string; integratedTime: number; logIndex: number; logID: string } };
      const body = JSON.parse(Buffer.from(annotation.Payload.body, "base64").toString()) as { kind: string };
      assert.equal(body.kind, "dsse");
      const logKeyDer = Buffer.from(rekor.trustedRoot.tlogs[0]!.publicKey!.rawBytes!);
      const logKey = createPublicKey({ key: logKeyDer, format: "der", type: "spki" });
      assert.equal(annotation.Payload.logID, createHash("sha256").update(logKeyDer).digest("hex"));
      const p = annotation.Payload;
      const canonical = JSON.stringify({ body: p.body, integratedTime: p.integratedTime, logID: p.logID, logIndex: p.logIndex });
      assert.ok(verify("sha256", Buffer.from(canonical), logKey, Buffer.from(annotation.SignedEntryTimestamp, "base64")), "the SET verifies against the log's key");
      // verify reads the SET (the mock log's entry is refused against the public-good root: TLOG, not
      // "no transparency log entry"). A full pass is not tested: @sigstore/mock's Rekor logs the proposed
      // DSSE entry as it was sent, not the canonicalized entry real Rekor stores, which sigstore-js checks.
      const publicGood = await runCli(["verify", "image", "--key", keys.a!.pub, "--attestation-type", "cyclonedx", ref], { env: env() });
      assert.equal(publicGood.code, 1, publicGood.stderr);
      assert.match(publicGood.stderr, /\[TLOG\]/);
      assert.doesNotMatch(publicGood.stderr, /no transparency log entry/);
    } finally {
      await rekor?.close();
    }
  });
});
