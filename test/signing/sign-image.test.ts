/**
 * `tollgate sign image` (cosign's legacy `.sig` layout) against Debian's docker-registry on 127.0.0.1,
 * with images pushed by the test: the signature manifest, layer, payload and annotation as cosign
 * writes them, read back with the registry client and with skopeo (an independent reader); the
 * signature checked with node:crypto against the key's public key over the exact payload bytes;
 * appending (two keys keep both layers, the same signature is not added twice); digests, not tags,
 * are signed; every attempt in the audit log. Rekor entries come from @sigstore/mock's Rekor on
 * 127.0.0.1 (a mock service); the SET is checked with node:crypto against the log's key.
 * `--bundle-format` (cosign v3): the referrer found through the tag-schema fallback (docker-registry
 * 2.8 has no referrers API), its bundle verified with @sigstore/verify used directly and the public key.
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey, generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { verifyAuditLog, type AuditEntry } from "../../src/audit/index.ts";
import { InputError, UsageError } from "../../src/errors.ts";
import { listReferrers, referrersTag } from "../../src/oci/referrers.ts";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { MEDIA_TYPES } from "../../src/oci/types.ts";
import { signatureTagOf, signImage } from "../../src/signing/sign-image.ts";
import { parseSimpleSigningPayload, SimpleSigningPayloadError } from "../../src/signing/simple-signing.ts";
import { runCli, tempDir } from "../helpers.ts";
import { run, toolsMissing } from "../image/fixtures.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { pushSmallImage, sha } from "../oci/images.ts";
import { startMockSigstore, type MockSigstore } from "./sigstore-mock-services.ts";

const skip = toolsMissing("docker-registry", "skopeo");

const EMPTY_ROOT = TrustedRoot.fromJSON({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });

/** Verifies a bundle with @sigstore/verify and this public key (found by cosign's key hint). */
function verifyBundleWithKey(json: unknown, publicKey: KeyObject): void {
  const expectedHint = createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("base64");
  const trust = toTrustMaterial(EMPTY_ROOT, (hint) => {
    if (hint !== expectedHint) throw new Error(`unexpected key hint ${hint}`);
    return { publicKey, validFor: () => true };
  });
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(json)));
}

interface SigLayer {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}

describe("sign image: cosign's legacy layout in docker-registry 2.8 on 127.0.0.1", { skip, timeout: 180_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  let rekor: MockSigstore;
  const keys: Record<string, { path: string; publicKey: KeyObject }> = {};
  let auditLog: string;
  const env = (): NodeJS.ProcessEnv => ({ TOLLGATE_AUDIT_LOG: auditLog, USER: "tester" });

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-sign-image-"));
    registry = await startRegistry(join(dir, "registry"));
    rekor = await startMockSigstore();
    auditLog = join(dir, "audit.log");
    const pairs = {
      a: generateKeyPairSync("ec", { namedCurve: "prime256v1" }),
      b: generateKeyPairSync("ec", { namedCurve: "prime256v1" }),
      rsa: generateKeyPairSync("rsa", { modulusLength: 2048 }),
      ed: generateKeyPairSync("ed25519"),
    };
    for (const [name, pair] of Object.entries(pairs)) {
      const path = join(dir, `${name}.pem`);
      await writeFile(path, pair.privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
      keys[name] = { path, publicKey: pair.publicKey };
    }
  });
  after(async () => {
    await rekor?.close();
    await registry?.stop();
    await cleanup();
  });

  const clientFor = (repo: string) => new RegistryClient(parseRegistryReference(`${registry.host}/${repo}:x`));

  async function readSignatures(repo: string, digest: string): Promise<{ manifest: Record<string, unknown>; raw: Buffer; layers: SigLayer[]; payloads: Buffer[] }> {
    const client = clientFor(repo);
    const got = await client.getManifest(signatureTagOf(digest), 1 << 20);
    const manifest = JSON.parse(got.body.toString()) as Record<string, unknown>;
    const layers = manifest.layers as SigLayer[];
    const payloads = await Promise.all(layers.map((l) => client.fetch(l, 1 << 20)));
    return { manifest, raw: got.body, layers, payloads };
  }

  const expectedPayload = (repo: string, digest: string, optional = "null") =>
    `{"critical":{"identity":{"docker-reference":"${registry.host}/${repo}"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":${optional}}`;

  async function auditEntries(): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    const v = await verifyAuditLog(auditLog, { onEntry: (e) => entries.push(e) });
    assert.equal(v.intact, true);
    return entries;
  }

  const verifies = (payload: Buffer, layer: SigLayer, key: KeyObject) => verify("sha256", payload, key, Buffer.from(layer.annotations["dev.cosignproject.cosign/signature"] as string, "base64"));

  test("the CLI signs a tag's digest: .sig manifest, config, layer, payload and annotation as cosign writes them; skopeo reads it; audited", async () => {
    const image = await pushSmallImage(clientFor("team/app"), "app v1\n", "1");
    const r = await runCli(["sign", "image", "--key", keys.a!.path, "--tlog-upload=false", `registry:${registry.host}/team/app:1`], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`signed ${registry.host}/team/app@${image.digest}`));

    const { manifest, raw, layers, payloads } = await readSignatures("team/app", image.digest);
    assert.equal(manifest.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(layers.length, 1);
    const payload = payloads[0]!;
    assert.equal(payload.toString(), expectedPayload("team/app", image.digest));
    assert.deepEqual(layers[0], {
      mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
      size: payload.length,
      digest: sha(payload),
      annotations: { "dev.cosignproject.cosign/signature": layers[0]!.annotations["dev.cosignproject.cosign/signature"] },
    });
    assert.ok(verifies(payload, layers[0]!, keys.a!.publicKey), "ECDSA DER signature over the exact payload bytes");
    assert.ok(!verifies(payload, layers[0]!, keys.b!.publicKey), "not with another key");
    assert.ok(!verify("sha256", Buffer.concat([payload, Buffer.from(" ")]), keys.a!.publicKey, Buffer.from(layers[0]!.annotations["dev.cosignproject.cosign/signature"]!, "base64")));

    const configDesc = manifest.config as { mediaType: string; digest: string; size: number };
    assert.equal(configDesc.mediaType, "application/vnd.oci.image.config.v1+json");
    const config = await clientFor("team/app").fetch(configDesc, 1 << 20);
    assert.equal(
      config.toString(),
      `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["${sha(payload)}"]},"config":{}}`,
    );

    const skopeo = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/team/app:${signatureTagOf(image.digest)}`]);
    assert.equal(skopeo.stdout, raw.toString());

    const last = (await auditEntries()).at(-1)!;
    assert.equal(last.operation, "sign image");
    assert.equal(last.result, "success");
    assert.equal(last.artifactDigest, image.digest);
    assert.equal(last.artifact, `registry:${registry.host}/team/app:1`);
    assert.equal(last.output, `${registry.host}/team/app:${signatureTagOf(image.digest)}`);
    assert.equal(last.backend, "file");
  });

  test("a second key appends a layer, keeping the first as it was; the same RSA signature is not added twice", async () => {
    const image = await pushSmallImage(clientFor("team/two"), "two keys\n", "v");
    const ref = `${registry.host}/team/two:v`;
    const first = await signImage({ reference: ref, keyRef: keys.a!.path, signerOptions: { env: {} }, tlogUpload: false, env: env() });
    assert.equal(first.manifestDigest, image.digest);
    assert.equal(first.appended, true);
    const before = await readSignatures("team/two", image.digest);
    const second = await signImage({ reference: ref, keyRef: keys.b!.path, signerOptions: { env: {} }, tlogUpload: false, env: env() });
    assert.equal(second.layers, 2);
    const afterTwo = await readSignatures("team/two", image.digest);
    assert.deepEqual(afterTwo.layers[0], before.layers[0], "the existing signature is kept as it was");
    assert.ok(verifies(afterTwo.payloads[0]!, afterTwo.layers[0]!, keys.a!.publicKey));
    assert.ok(verifies(afterTwo.payloads[1]!, afterTwo.layers[1]!, keys.b!.publicKey));
    const config = JSON.parse((await clientFor("team/two").fetch(afterTwo.manifest.config as { mediaType: string; digest: string; size: number }, 1 << 20)).toString()) as {
      rootfs: { diff_ids: string[] };
      history: unknown[];
    };
    assert.deepEqual(config.rootfs.diff_ids, afterTwo.layers.map((l) => l.digest));
    assert.equal(config.history.length, 2);

    // RSA PKCS#1 v1.5 is deterministic: the same payload and signature again is recognised.
    const rsa1 = await signImage({ reference: ref, keyRef: keys.rsa!.path, signerOptions: { env: {} }, tlogUpload: false, env: env() });
    assert.equal(rsa1.appended, true);
    const rsa2 = await signImage({ reference: ref, keyRef: keys.rsa!.path, signerOptions: { env: {} }, tlogUpload: false, env: env() });
    assert.equal(rsa2.appended, false);
    assert.equal(rsa2.layers, 3);
    const final = await readSignatures("team/two", image.digest);
    assert.equal(final.layers.length, 3);
    assert.ok(verifies(final.payloads[2]!, final.layers[2]!, keys.rsa!.publicKey));
  });

  test("the digest is signed, not the tag: moving the tag after signing leaves the signature on the old digest", async () => {
    const client = clientFor("team/moving");
    const old = await pushSmallImage(client, "old\n", "latest");
    const signed = await signImage({ reference: `${registry.host}/team/moving`, keyRef: keys.a!.path, signerOptions: { env: {} }, tlogUpload: false, env: env() });
    assert.equal(signed.manifestDigest, old.digest);
    const moved = await pushSmallImage(client, "new\n", "latest");
    assert.notEqual(moved.digest, old.digest);
    const oldSigs = await readSignatures("team/moving", old.digest);
    assert.equal(parseSimpleSigningPayload(oldSigs.payloads[0]!).manifestDigest, old.digest);
    await assert.rejects(client.getManifest(signatureTagOf(moved.digest), 1 << 20), (e: unknown) => e instanceof InputError && e.code === "NOT_FOUND");
    // By digest: the payload names the repository, no tag and no digest.
    const byDigest = await signImage({ reference: `${registry.host}/team/moving@${old.digest}`, keyRef: keys.b!.path, signerOptions: { env: {} }, tlogUpload: false, env: env() });
    assert.equal(byDigest.manifestDigest, old.digest);
    assert.equal(byDigest.payload.toString(), expectedPayload("team/moving", old.digest));
    assert.equal((await readSignatures("team/moving", old.digest)).layers.length, 2);
  });

  test("-a annotations fill optional (sorted keys, Go's escaping); the signature repository can be another one", async () => {
    const image = await pushSmallImage(clientFor("team/annotated"), "annotated\n", "1");
    const r = await runCli(["sign", "image", "--key", keys.a!.path, "--tlog-upload=false", "-a", "zeta=<z&>", "-a", "git_sha=abc=def", `${registry.host}/team/annotated:1`], {
      env: { ...env(), COSIGN_REPOSITORY: `${registry.host}/signatures/store` },
    });
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(clientFor("team/annotated").getManifest(signatureTagOf(image.digest), 1 << 20), /not found/);
    const { layers, payloads } = await readSignatures("signatures/store", image.digest);
    assert.equal(payloads[0]!.toString(), expectedPayload("team/annotated", image.digest, '{"git_sha":"abc=def","zeta":"\\u003cz\\u0026\\u003e"}'));
    assert.deepEqual(parseSimpleSigningPayload(payloads[0]!).optional, { git_sha: "abc=def", zeta: "<z&>" });
    assert.ok(verifies(payloads[0]!, layers[0]!, keys.a!.publicKey));
    // verify image finds them there with the same COSIGN_REPOSITORY, and not without it.
    const pub = join(dir, "a.pub");
    await writeFile(pub, keys.a!.publicKey.export({ type: "spki", format: "pem" }));
    const verify = (extra: Record<string, string>) =>
      runCli(["verify", "image", "--key", pub, "--insecure-ignore-tlog", "-a", "git_sha=abc=def", `${registry.host}/team/annotated:1`], { env: { ...env(), ...extra } });
    const found = await verify({ COSIGN_REPOSITORY: `${registry.host}/signatures/store` });
    assert.equal(found.code, 0, found.stderr);
    const notThere = await verify({ COSIGN_REPOSITORY: "" });
    assert.equal(notThere.code, 1, notThere.stderr);
    assert.match(notThere.stderr, /NOT_SIGNED/);

    const bad = await runCli(["sign", "image", "--key", keys.a!.path, "--tlog-upload=false", "-a", "novalue", `${registry.host}/team/annotated:1`], { env: env() });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected key=value/);
  });

  test("with a Rekor entry (mock Rekor): cosign's bundle annotation, its SET verifying against the log's key over the entry", async () => {
    const image = await pushSmallImage(clientFor("team/rekor"), "rekor\n", "1");
    const result = await signImage({ reference: `${registry.host}/team/rekor:1`, keyRef: keys.a!.path, signerOptions: { env: {} }, rekorUrl: rekor.rekorUrl, env: env() });
    assert.equal(result.tlogEntries, 1);
    const { layers, payloads } = await readSignatures("team/rekor", image.digest);
    const annotation = JSON.parse(layers[0]!.annotations["dev.sigstore.cosign/bundle"]!) as { SignedEntryTimestamp: string; Payload: { body: string; integratedTime: number; logIndex: number; logID: string } };
    const body = JSON.parse(Buffer.from(annotation.Payload.body, "base64").toString()) as {
      kind: string;
      spec: { data: { hash: { algorithm: string; value: string } }; signature: { content: string } };
    };
    assert.equal(body.kind, "hashedrekord");
    assert.deepEqual(body.spec.data.hash, { algorithm: "sha256", value: createHash("sha256").update(payloads[0]!).digest("hex") });
    assert.equal(body.spec.signature.content, layers[0]!.annotations["dev.cosignproject.cosign/signature"]);
    const logKeyDer = Buffer.from(rekor.trustedRoot.tlogs[0]!.publicKey!.rawBytes!);
    const logKey = createPublicKey({ key: logKeyDer, format: "der", type: "spki" });
    assert.equal(annotation.Payload.logID, createHash("sha256").update(logKeyDer).digest("hex"));
    const p = annotation.Payload;
    const canonical = JSON.stringify({ body: p.body, integratedTime: p.integratedTime, logID: p.logID, logIndex: p.logIndex });
    assert.ok(verify("sha256", Buffer.from(canonical), logKey, Buffer.from(annotation.SignedEntryTimestamp, "base64")), "the SET verifies");
    assert.ok(!verify("sha256", Buffer.from(canonical.replace(/"logIndex":\d+/, `"logIndex":${p.logIndex + 1}`)), logKey, Buffer.from(annotation.SignedEntryTimestamp, "base64")));
  });

  test("--bundle-format: a Sigstore bundle v0.3 (DSSE statement about the digest) as a referrer, via the tag-schema fallback; a second one is added", async () => {
    const client = clientFor("team/bundled");
    const image = await pushSmallImage(client, "bundled\n", "1");
    const r = await runCli(["sign", "image", "--bundle-format", "--key", keys.a!.path, "--tlog-upload=false", "-a", "env=prod", `${registry.host}/team/bundled:1`], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const listed = await listReferrers(client, image.digest);
    assert.equal(listed.source, "tag-schema");
    assert.equal(listed.manifests.length, 1);
    assert.equal(listed.manifests[0]!.artifactType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.equal(listed.manifests[0]!.annotations?.["dev.sigstore.bundle.content"], "dsse-envelope");
    assert.equal(listed.manifests[0]!.annotations?.["dev.sigstore.bundle.predicateType"], "https://sigstore.dev/cosign/sign/v1");
    // The referrer itself, by its (checked) digest.
    const referrer = JSON.parse((await client.getManifest(listed.manifests[0]!.digest, 1 << 20)).body.toString()) as {
      artifactType: string;
      config: { mediaType: string; digest: string; size: number };
      layers: Array<{ mediaType: string; digest: string; size: number }>;
      subject: { mediaType: string; digest: string; size: number };
    };
    assert.equal(referrer.artifactType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.equal(referrer.config.mediaType, "application/vnd.oci.empty.v1+json");
    assert.deepEqual(referrer.subject, image);
    assert.equal(referrer.layers.length, 1);
    assert.equal(referrer.layers[0]!.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    const bundle = JSON.parse((await client.fetch(referrer.layers[0]!, 1 << 20)).toString()) as { mediaType: string; dsseEnvelope: { payload: string; payloadType: string } };
    assert.equal(bundle.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.equal(bundle.dsseEnvelope.payloadType, "application/vnd.in-toto+json");
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString()) as Record<string, unknown>;
    assert.deepEqual(statement, {
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ digest: { sha256: image.digest.slice("sha256:".length) }, annotations: { env: "prod" } }],
      predicateType: "https://sigstore.dev/cosign/sign/v1",
      predicate: {},
    });
    verifyBundleWithKey(bundle, keys.a!.publicKey);
    assert.throws(() => verifyBundleWithKey(bundle, keys.b!.publicKey));
    const tampered = { ...bundle, dsseEnvelope: { ...bundle.dsseEnvelope, payload: Buffer.from(JSON.stringify({ ...statement, predicate: { x: 1 } })).toString("base64") } };
    assert.throws(() => verifyBundleWithKey(tampered, keys.a!.publicKey));
    // The fallback tag's index is there, and skopeo reads it.
    const skopeo = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/team/bundled:${referrersTag(image.digest)}`]);
    assert.equal((JSON.parse(skopeo.stdout) as { manifests: unknown[] }).manifests.length, 1);
    const last = (await auditEntries()).at(-1)!;
    assert.equal(last.result, "success");
    assert.equal(last.artifactDigest, image.digest);
    assert.equal(last.output, `${registry.host}/team/bundled@${listed.manifests[0]!.digest}`);

    const second = await signImage({ reference: `${registry.host}/team/bundled:1`, bundleFormat: true, keyRef: keys.b!.path, signerOptions: { env: {} }, tlogUpload: false, env: env() });
    assert.equal(second.format, "bundle");
    const both = await listReferrers(client, image.digest);
    assert.equal(both.manifests.length, 2);
    assert.ok(both.manifests.some((d) => d.digest === listed.manifests[0]!.digest), "the first referrer is kept");
    await assert.rejects(client.getManifest(signatureTagOf(image.digest), 1 << 20), /not found/, "no legacy .sig tag is written");

    // With a Rekor entry (mock Rekor): a dsse entry for this very envelope. @sigstore/mock stores the
    // proposed entry as its body (real Rekor stores the envelope's hashes and signatures), so
    // @sigstore/verify's body comparison cannot run against it: the proposed envelope is compared here.
    const logged = await signImage({ reference: `${registry.host}/team/bundled@${image.digest}`, bundleFormat: true, keyRef: keys.a!.path, signerOptions: { env: {} }, rekorUrl: rekor.rekorUrl, env: env() });
    assert.equal(logged.tlogEntries, 1);
    const loggedReferrer = JSON.parse((await client.getManifest(logged.signatureManifestDigest, 1 << 20)).body.toString()) as { layers: Array<{ mediaType: string; digest: string; size: number }> };
    const loggedBundle = JSON.parse((await client.fetch(loggedReferrer.layers[0]!, 1 << 20)).toString()) as {
      dsseEnvelope: { payload: string; signatures: Array<{ sig: string }> };
      verificationMaterial: { tlogEntries: Array<{ kindVersion: { kind: string }; canonicalizedBody: string }> };
    };
    const entry = loggedBundle.verificationMaterial.tlogEntries[0]!;
    assert.equal(entry.kindVersion.kind, "dsse");
    const proposed = JSON.parse(Buffer.from(entry.canonicalizedBody, "base64").toString()) as { kind: string; spec: { proposedContent: { envelope: string } } };
    assert.equal(proposed.kind, "dsse");
    const loggedEnvelope = JSON.parse(proposed.spec.proposedContent.envelope) as { payload: string; signatures: Array<{ sig: string }> };
    assert.equal(loggedEnvelope.payload, loggedBundle.dsseEnvelope.payload);
    assert.equal(loggedEnvelope.signatures[0]!.sig, loggedBundle.dsseEnvelope.signatures[0]!.sig);
    // The signature itself (the entry set aside: the mock's entry body is not Rekor's, see above).
    verifyBundleWithKey({ ...loggedBundle, verificationMaterial: { ...loggedBundle.verificationMaterial, tlogEntries: [] } }, keys.a!.publicKey);
    assert.equal((await listReferrers(client, image.digest)).manifests.length, 3);
  });

  test("failures: missing image (exit 2), unsupported key, a .sig tag that is not an image manifest; each attempt audited", async () => {
    const missing = await runCli(["sign", "image", "--key", keys.a!.path, "--tlog-upload=false", `${registry.host}/team/none:1`], { env: env() });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /not found/);
    const last = (await auditEntries()).at(-1)!;
    assert.equal(last.operation, "sign image");
    assert.equal(last.result, "failure");
    assert.match(last.error ?? "", /not found/);

    const image = await pushSmallImage(clientFor("team/odd"), "odd\n", "1");
    await assert.rejects(signImage({ reference: `${registry.host}/team/odd:1`, keyRef: keys.ed!.path, signerOptions: { env: {} }, tlogUpload: false, env: env() }), UsageError);

    // Something else under the .sig tag is refused, not overwritten.
    const client = clientFor("team/odd");
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [image] }));
    await client.putManifest(index, MEDIA_TYPES.ociIndex, signatureTagOf(image.digest));
    await assert.rejects(signImage({ reference: `${registry.host}/team/odd:1`, keyRef: keys.a!.path, signerOptions: { env: {} }, tlogUpload: false, env: env() }), /not overwritten/);
    assert.ok((await client.getManifest(signatureTagOf(image.digest), 1 << 20)).body.equals(index));
    const failed = (await auditEntries()).at(-1)!;
    assert.equal(failed.result, "failure");
    assert.equal(failed.artifactDigest, image.digest);
  });
});

describe("simple-signing payload: strict parse", () => {
  const good = {
    critical: { identity: { "docker-reference": "r.example/app" }, image: { "docker-manifest-digest": `sha256:${"a".repeat(64)}` }, type: "cosign container image signature" },
    optional: null,
  };
  const bytes = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v));

  test("a good payload parses; unknown fields, missing fields, wrong types, wrong type constant, bad digest, duplicate keys are refused", () => {
    assert.deepEqual(parseSimpleSigningPayload(bytes(good)), { dockerReference: "r.example/app", manifestDigest: `sha256:${"a".repeat(64)}`, optional: null });
    const bad: Array<[string, unknown]> = [
      ["unknown top-level field", { ...good, extra: 1 }],
      ["unknown field in critical", { ...good, critical: { ...good.critical, extra: {} } }],
      ["unknown field in identity", { ...good, critical: { ...good.critical, identity: { "docker-reference": "x", tag: "1" } } }],
      ["unknown field in image", { ...good, critical: { ...good.critical, image: { "docker-manifest-digest": good.critical.image["docker-manifest-digest"], "Docker-manifest-digest": "x" } } }],
      ["missing optional", { critical: good.critical }],
      ["missing type", { ...good, critical: { identity: good.critical.identity, image: good.critical.image } }],
      ["type wrong", { ...good, critical: { ...good.critical, type: "atomic container signature" } }],
      ["type not a string", { ...good, critical: { ...good.critical, type: 1 } }],
      ["reference not a string", { ...good, critical: { ...good.critical, identity: { "docker-reference": 5 } } }],
      ["digest malformed", { ...good, critical: { ...good.critical, image: { "docker-manifest-digest": "sha256:abc" } } }],
      ["critical an array", { ...good, critical: [] }],
      ["optional a string", { ...good, optional: "x" }],
      ["optional.timestamp not an integer", { ...good, optional: { timestamp: 1.5 } }],
      ["optional.timestamp a string", { ...good, optional: { timestamp: "1657296609" } }],
      ["duplicate key", JSON.stringify(good).replace('"type":', '"type":"other","type":')],
      ["not JSON", "{"],
      ["an array", "[]"],
    ];
    for (const [why, v] of bad) assert.throws(() => parseSimpleSigningPayload(bytes(v)), SimpleSigningPayloadError, why);
    assert.throws(() => parseSimpleSigningPayload(Buffer.from([0x7b, 0xff, 0x7d])), /not UTF-8/);
    assert.deepEqual(parseSimpleSigningPayload(bytes({ ...good, optional: { creator: "x", timestamp: 1657296609 } })).optional, { creator: "x", timestamp: 1657296609 });
  });
});
