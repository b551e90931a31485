/**
 * `tollgate verify image` against Debian's docker-registry (distribution 2.8) on 127.0.0.1: images
 * pushed by the test, legacy cosign signatures made here with node:crypto (ECDSA P-256 over a
 * simple-signing payload, as cosign signs) and pushed under `sha256-<hex>.sig` as cosign lays them
 * out; then the CLI verifies, and fails for a wrong key, a signature copied onto another image, no
 * signature, and a missing -a annotation. Last, a round trip with `tollgate sign image`.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { bundleToJSON } from "@sigstore/bundle";
import { DSSEBundleBuilder } from "@sigstore/sign";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { pushReferrer } from "../../src/oci/referrers.ts";
import { EMPTY_JSON_DESCRIPTOR, MEDIA_TYPES } from "../../src/oci/types.ts";
import { buildSimpleSigningPayload } from "../../src/signing/simple-signing.ts";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { runCli, tempDir } from "../helpers.ts";
import { startMockSigstore, type MockSigstore } from "./sigstore-mock-services.ts";
import { toolsMissing } from "../image/fixtures.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { pushSmallImage, sha } from "../oci/images.ts";

const skip = toolsMissing("docker-registry");

/** Pushes a cosign `.sig` manifest for `digest` holding the given signature layers, under the tag `tagDigest`'s .sig tag. */
async function pushSignatures(client: RegistryClient, tagDigest: string, layers: { payload: Buffer; signature: string; annotations?: Record<string, string> }[]): Promise<void> {
  const descriptors = [];
  for (const l of layers) {
    await client.pushBlob(l.payload);
    descriptors.push({
      mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
      digest: sha(l.payload),
      size: l.payload.length,
      annotations: { "dev.cosignproject.cosign/signature": l.signature, ...l.annotations },
    });
  }
  const config = Buffer.from(JSON.stringify({ architecture: "", os: "", config: {}, rootfs: { type: "layers", diff_ids: descriptors.map((d) => d.digest) } }));
  await client.pushBlob(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length },
      layers: descriptors,
    }),
  );
  await client.putManifest(manifest, MEDIA_TYPES.ociManifest, `${tagDigest.replace(":", "-")}.sig`);
}

const BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

/**
 * A cosign v3 image signature: an in-toto Statement v1 about the image digest in a DSSE envelope,
 * built into a Sigstore bundle by @sigstore/sign's DSSE builder with a key (no log: as
 * `--tlog-upload=false`), attached as an OCI 1.1 referrer as cosign's WriteReferrer lays it out.
 */
async function pushBundleReferrer(
  client: RegistryClient,
  subject: { mediaType: string; digest: string; size: number },
  statementDigest: string,
  key: { privateKey: KeyObject; publicKey: KeyObject },
  annotations?: Record<string, string>,
): Promise<void> {
  const statement = {
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ digest: { sha256: statementDigest.replace("sha256:", "") }, ...(annotations ? { annotations } : {}) }],
    predicateType: "https://sigstore.dev/cosign/sign/v1",
    predicate: {},
  };
  const builder = new DSSEBundleBuilder({
    signer: {
      sign: (data: Buffer) =>
        Promise.resolve({ signature: sign("sha256", data, key.privateKey), key: { $case: "publicKey" as const, publicKey: key.publicKey.export({ format: "pem", type: "spki" }).toString() } }),
    },
    witnesses: [],
  });
  const bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: "application/vnd.in-toto+json" });
  const bundleBytes = Buffer.from(JSON.stringify({ ...bundleToJSON(bundle), mediaType: BUNDLE_TYPE }));
  await client.pushBlob(bundleBytes);
  await client.pushBlob(Buffer.from("{}"));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: BUNDLE_TYPE,
      config: { ...EMPTY_JSON_DESCRIPTOR, artifactType: BUNDLE_TYPE },
      layers: [{ mediaType: BUNDLE_TYPE, digest: sha(bundleBytes), size: bundleBytes.length }],
      subject,
      annotations: { "dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1" },
    }),
  );
  await pushReferrer(client, manifest, MEDIA_TYPES.ociManifest);
}

function signPayload(payload: Buffer, key: KeyObject): string {
  return sign("sha256", payload, key).toString("base64"); // DER ECDSA, as cosign
}

describe("verify image against docker-registry on 127.0.0.1", { skip, timeout: 180_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  const keyA = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const keyB = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  let pubA: string;
  let pubB: string;
  let privA: string;
  const env = (): NodeJS.ProcessEnv => ({ TOLLGATE_AUDIT_LOG: join(dir, "audit.log"), USER: "tester" });

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-verify-image-"));
    registry = await startRegistry(join(dir, "registry"));
    pubA = join(dir, "a.pub");
    pubB = join(dir, "b.pub");
    privA = join(dir, "a.pem");
    await writeFile(pubA, keyA.publicKey.export({ format: "pem", type: "spki" }));
    await writeFile(pubB, keyB.publicKey.export({ format: "pem", type: "spki" }));
    await writeFile(privA, keyA.privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  const clientFor = (repo: string) => new RegistryClient(parseRegistryReference(`${registry.host}/${repo}:x`));
  const verifyCli = (args: string[]) => runCli(["verify", "image", ...args], { env: env() });

  test("a legacy signature made with a key verifies; the wrong key, a re-tagged image, no signature and a missing annotation fail", async () => {
    const client = clientFor("team/app");
    const image = await pushSmallImage(client, "app v1\n", "1");
    const payload = buildSimpleSigningPayload({ dockerReference: `${registry.host}/team/app`, manifestDigest: image.digest, optional: { env: "prod" } });
    await pushSignatures(client, image.digest, [{ payload, signature: signPayload(payload, keyA.privateKey) }]);

    const ok = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", "-a", "env=prod", `registry:${registry.host}/team/app:1`]);
    assert.equal(ok.code, 0, ok.stderr);
    const printed = JSON.parse(ok.stdout) as { critical: { image: { "docker-manifest-digest": string }; type: string }; optional: Record<string, unknown> }[];
    assert.equal(printed.length, 1);
    assert.equal(printed[0]?.critical.image["docker-manifest-digest"], image.digest);
    assert.equal(printed[0]?.critical.type, "cosign container image signature");
    assert.deepEqual(printed[0]?.optional, { env: "prod" });
    assert.match(ok.stderr, new RegExp(`verified .*${image.digest}.*1 signature`));

    // By digest, and with several keys of which one signed.
    const byDigest = await verifyCli(["--key", pubB, "--key", pubA, "--insecure-ignore-tlog", `${registry.host}/team/app@${image.digest}`]);
    assert.equal(byDigest.code, 0, byDigest.stderr);

    // Without --insecure-ignore-tlog: a keyed signature with no Rekor SET is refused.
    const noTlog = await verifyCli(["--key", pubA, `${registry.host}/team/app:1`]);
    assert.equal(noTlog.code, 1, noTlog.stderr);
    assert.match(noTlog.stderr, /\[TLOG\]/);

    const wrongKey = await verifyCli(["--key", pubB, "--insecure-ignore-tlog", `${registry.host}/team/app:1`]);
    assert.equal(wrongKey.code, 1, wrongKey.stderr);
    assert.match(wrongKey.stderr, /\[SIGNATURE\]/);
    assert.equal(wrongKey.stdout, "");

    const missingAnnotation = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", "-a", "env=staging", `${registry.host}/team/app:1`]);
    assert.equal(missingAnnotation.code, 1, missingAnnotation.stderr);
    assert.match(missingAnnotation.stderr, /\[POLICY\].*env/);

    // The tag moves to another manifest; someone copies the old signature to the new digest's .sig tag.
    const moved = await pushSmallImage(client, "app v1, changed\n", "1");
    assert.notEqual(moved.digest, image.digest);
    const noSig = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", `${registry.host}/team/app:1`]);
    assert.equal(noSig.code, 1, noSig.stderr);
    assert.match(noSig.stderr, /\[NOT_SIGNED\]/);
    await pushSignatures(client, moved.digest, [{ payload, signature: signPayload(payload, keyA.privateKey) }]);
    const copied = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", `${registry.host}/team/app:1`]);
    assert.equal(copied.code, 1, copied.stderr);
    assert.match(copied.stderr, /\[DIGEST_MISMATCH\]/);
    // The original digest still verifies.
    assert.equal((await verifyCli(["--key", pubA, "--insecure-ignore-tlog", `${registry.host}/team/app@${image.digest}`])).code, 0);
  });

  test("a signature over a payload that is not strictly cosign's fails (POLICY); one good signature among bad ones is enough", async () => {
    const client = clientFor("team/strict");
    const image = await pushSmallImage(client, "strict\n", "1");
    const loose = Buffer.from(
      JSON.stringify({ critical: { identity: { "docker-reference": "x/y" }, image: { "docker-manifest-digest": image.digest }, type: "cosign container image signature", extra: 1 }, optional: null }),
    );
    await pushSignatures(client, image.digest, [{ payload: loose, signature: signPayload(loose, keyA.privateKey) }]);
    const r = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", `${registry.host}/team/strict:1`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\[POLICY\].*unknown field/);

    const good = buildSimpleSigningPayload({ dockerReference: `${registry.host}/team/strict`, manifestDigest: image.digest });
    await pushSignatures(client, image.digest, [
      { payload: loose, signature: signPayload(loose, keyA.privateKey) },
      { payload: good, signature: signPayload(good, keyB.privateKey) },
      { payload: good, signature: signPayload(good, keyA.privateKey) },
    ]);
    const mixed = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", `${registry.host}/team/strict:1`]);
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.equal((JSON.parse(mixed.stdout) as unknown[]).length, 1);
  });

  test("a Sigstore bundle attached as an OCI 1.1 referrer (cosign v3) verifies; one about another digest does not", async () => {
    const client = clientFor("team/v3");
    const image = await pushSmallImage(client, "cosign v3\n", "1");
    await pushBundleReferrer(client, image, image.digest, keyA, { env: "prod" });
    const ok = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", "-a", "env=prod", `${registry.host}/team/v3:1`]);
    assert.equal(ok.code, 0, ok.stderr);
    const printed = JSON.parse(ok.stdout) as { predicateType: string; subject: { digest: { sha256: string } }[] }[];
    assert.equal(printed[0]?.predicateType, "https://sigstore.dev/cosign/sign/v1");
    assert.equal(`sha256:${printed[0]?.subject[0]?.digest.sha256}`, image.digest);
    assert.match(ok.stderr, /bundle/);
    const wrongKey = await verifyCli(["--key", pubB, "--insecure-ignore-tlog", `${registry.host}/team/v3:1`]);
    assert.equal(wrongKey.code, 1, wrongKey.stderr);
    assert.match(wrongKey.stderr, /\[SIGNATURE\]/);
    const annotation = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", "-a", "env=dev", `${registry.host}/team/v3:1`]);
    assert.equal(annotation.code, 1, annotation.stderr);
    assert.match(annotation.stderr, /\[POLICY\]/);

    // A referrer of this image whose statement is about another image.
    const other = await pushSmallImage(client, "cosign v3, other\n", "2");
    await pushBundleReferrer(client, other, image.digest, keyA);
    const mismatch = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", `${registry.host}/team/v3:2`]);
    assert.equal(mismatch.code, 1, mismatch.stderr);
    assert.match(mismatch.stderr, /\[DIGEST_MISMATCH\]/);
  });

  test("--policy: the first entry whose glob matches the repository says who must have signed; an image no entry matches is refused", async () => {
    const client = clientFor("prod/api");
    const image = await pushSmallImage(client, "policy\n", "1");
    const payload = buildSimpleSigningPayload({ dockerReference: `${registry.host}/prod/api`, manifestDigest: image.digest, optional: { env: "prod" } });
    await pushSignatures(client, image.digest, [{ payload, signature: signPayload(payload, keyA.privateKey) }]);
    const policyFile = join(dir, "policy.yaml");
    const write = (text: string) => writeFile(policyFile, text);
    const verifyWithPolicy = (ref: string) => verifyCli(["--policy", policyFile, "--insecure-ignore-tlog", ref]);

    // Key paths are relative to the policy file.
    await write(`images:\n  - match: "${registry.host}/prod/*"\n    keys: [a.pub]\n    annotations: { env: prod }\n  - match: "**"\n    keys: [b.pub]\n`);
    const ok = await verifyWithPolicy(`${registry.host}/prod/api:1`);
    assert.equal(ok.code, 0, ok.stderr);
    // Entries apply in order: the catch-all after it names key B, which did not sign team/app.
    const otherClient = clientFor("other/thing");
    const otherImage = await pushSmallImage(otherClient, "other\n", "1");
    const otherPayload = buildSimpleSigningPayload({ dockerReference: `${registry.host}/other/thing`, manifestDigest: otherImage.digest, optional: { env: "prod" } });
    await pushSignatures(otherClient, otherImage.digest, [{ payload: otherPayload, signature: signPayload(otherPayload, keyA.privateKey) }]);
    const other = await verifyWithPolicy(`${registry.host}/other/thing:1`);
    assert.equal(other.code, 1, other.stderr);
    assert.match(other.stderr, /\[SIGNATURE\]/);

    await write(`images:\n  - match: "${registry.host}/prod/*"\n    keys: [b.pub]\n`);
    const wrongKey = await verifyWithPolicy(`${registry.host}/prod/api:1`);
    assert.equal(wrongKey.code, 1, wrongKey.stderr);
    assert.match(wrongKey.stderr, /\[SIGNATURE\]/);

    await write(`images:\n  - match: "${registry.host}/prod/*"\n    keys: [a.pub, b.pub]\n    annotations: { env: staging }\n`);
    const annotation = await verifyWithPolicy(`${registry.host}/prod/api:1`);
    assert.equal(annotation.code, 1, annotation.stderr);
    assert.match(annotation.stderr, /\[POLICY\].*env/);

    await write(`images:\n  - match: "${registry.host}/staging/*"\n    keys: [a.pub]\n`);
    const unmatched = await verifyWithPolicy(`${registry.host}/prod/api:1`);
    assert.equal(unmatched.code, 1, unmatched.stderr);
    assert.match(unmatched.stderr, /\[POLICY\].*no entry/);

    // A misspelt field is an error, not "no requirement"; so is --policy with --key.
    await write(`images:\n  - match: "**"\n    key: [a.pub]\n`);
    const misspelt = await verifyWithPolicy(`${registry.host}/prod/api:1`);
    assert.equal(misspelt.code, 2, misspelt.stderr);
    assert.match(misspelt.stderr, /unknown field key/);
    const both = await verifyCli(["--policy", policyFile, "--key", pubA, `${registry.host}/prod/api:1`]);
    assert.equal(both.code, 2, both.stderr);
  });

  test("usage errors and unreadable input exit 2", async () => {
    const noPolicy = await verifyCli([`${registry.host}/team/app:1`]);
    assert.equal(noPolicy.code, 2, noPolicy.stderr);
    const badAnnotation = await verifyCli(["--key", pubA, "-a", "novalue", `${registry.host}/team/app:1`]);
    assert.equal(badAnnotation.code, 2, badAnnotation.stderr);
    const missingKey = await verifyCli(["--key", join(dir, "absent.pub"), `${registry.host}/team/app:1`]);
    assert.equal(missingKey.code, 2, missingKey.stderr);
    const notRegistry = await verifyCli(["--key", pubA, "oci-dir:/tmp/x"]);
    assert.equal(notRegistry.code, 2, notRegistry.stderr);
  });

  test("round trip: tollgate sign image, then tollgate verify image", async () => {
    const client = clientFor("team/roundtrip");
    await pushSmallImage(client, "round trip\n", "1");
    const signed = await runCli(["sign", "image", "--key", privA, "--tlog-upload=false", "-a", "git_sha=abc", `registry:${registry.host}/team/roundtrip:1`], { env: env() });
    assert.equal(signed.code, 0, signed.stderr);
    const ok = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", "-a", "git_sha=abc", `registry:${registry.host}/team/roundtrip:1`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as { optional: unknown }[])[0]?.optional, { git_sha: "abc" });
    const wrong = await verifyCli(["--key", pubB, "--insecure-ignore-tlog", `registry:${registry.host}/team/roundtrip:1`]);
    assert.equal(wrong.code, 1, wrong.stderr);

    // --bundle-format (cosign v3): a referrer; both signatures are then found and verified.
    const bundled = await runCli(["sign", "image", "--bundle-format", "--key", privA, "--tlog-upload=false", "-a", "git_sha=abc", `${registry.host}/team/roundtrip:1`], { env: env() });
    assert.equal(bundled.code, 0, bundled.stderr);
    const both = await verifyCli(["--key", pubA, "--insecure-ignore-tlog", "-a", "git_sha=abc", `${registry.host}/team/roundtrip:1`]);
    assert.equal(both.code, 0, both.stderr);
    assert.equal((JSON.parse(both.stdout) as unknown[]).length, 2);
    assert.match(both.stderr, /2 signatures .*legacy, bundle/);
  });

  test("round trip with a Rekor entry (mock Rekor, a stand-in: real Rekor is not reachable here): verified by its SET, without --insecure-ignore-tlog", async () => {
    let rekor: MockSigstore | undefined;
    try {
      rekor = await startMockSigstore();
      const root = join(dir, "mock-trusted-root.json");
      await writeFile(root, JSON.stringify(TrustedRoot.toJSON(rekor.trustedRoot)));
      const client = clientFor("team/logged");
      await pushSmallImage(client, "logged\n", "1");
      const signed = await runCli(["sign", "image", "--key", privA, "--rekor-url", rekor.rekorUrl, `${registry.host}/team/logged:1`], { env: env() });
      assert.equal(signed.code, 0, signed.stderr);
      const ok = await verifyCli(["--key", pubA, "--trusted-root", root, `${registry.host}/team/logged:1`]);
      assert.equal(ok.code, 0, ok.stderr);
      const printed = JSON.parse(ok.stdout) as { optional: { Bundle?: { Payload: { logIndex: number } } } }[];
      assert.equal(typeof printed[0]?.optional.Bundle?.Payload.logIndex, "number", "the SET is printed as cosign prints it (optional.Bundle)");
      // Against the public-good root the mock log's SET does not verify.
      const publicGood = await verifyCli(["--key", pubA, `${registry.host}/team/logged:1`], );
      assert.equal(publicGood.code, 1, publicGood.stderr);
      assert.match(publicGood.stderr, /\[TLOG\]/);
    } finally {
      await rekor?.close();
    }
  });
});
