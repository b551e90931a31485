// gcpkms:// keys through @google-cloud/kms (its HTTP/JSON transport), against a STAND-IN for Cloud KMS
// on 127.0.0.1 (test/signing/kms-stand-ins.ts: the documented REST calls, real P-256 keys, CRC32C
// fields, a bearer token). Signatures are checked with node:crypto against the public key the signer reports.
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { InputError, NetworkError } from "../../src/errors.ts";
import { runCli } from "../helpers.ts";
import { crc32c, gcpkmsSource, parseGcpKmsReference } from "../../src/signing/keys/gcp-kms.ts";
import { crc32cBitwise, newP256Key, startGcpKmsStandIn, startSilentServer, type GcpKmsStandIn, type GcpStandInKey } from "./kms-stand-ins.ts";

const TOKEN = "ya29.stand-in-access-token";
const KEY = "projects/tollgate-test/locations/global/keyRings/release/cryptoKeys/signing";
const SYMMETRIC = "projects/tollgate-test/locations/global/keyRings/release/cryptoKeys/encryption";

describe("gcpkms:// (against a stand-in for Cloud KMS)", () => {
  let kms: GcpKmsStandIn;
  let key: GcpStandInKey;

  before(async () => {
    key = {
      name: KEY,
      purpose: "ASYMMETRIC_SIGN",
      versions: { "1": { state: "ENABLED", key: newP256Key() }, "2": { state: "ENABLED", key: newP256Key() }, "3": { state: "DISABLED", key: newP256Key() } },
    };
    kms = await startGcpKmsStandIn([key, { name: SYMMETRIC, purpose: "ENCRYPT_DECRYPT", versions: {} }], TOKEN);
  });
  after(() => kms.close());

  const options = () => ({ env: { GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN }, config: { gcp: { endpoint: kms.url } } });

  it("signs a digest of a given version; the DER signature verifies with node:crypto", async () => {
    const artifact = Buffer.from("the artifact bytes that must never leave this machine\n");
    const digest = createHash("sha256").update(artifact).digest();
    const before = kms.requests.length;
    const signer = await gcpkmsSource.open(`gcpkms://${KEY}/cryptoKeyVersions/1`, options());
    try {
      assert.equal(signer.backend, "gcpkms");
      assert.equal(signer.algorithm, "ecdsa-p256-sha256");
      const pem = await signer.publicKeyPem();
      assert.equal(pem, key.versions["1"]!.key.pem);
      assert.equal(await signer.keyId(), createHash("sha256").update(key.versions["1"]!.key.spki).digest("hex"));
      const signature = await signer.signDigest(digest, "sha256");
      assert.ok(verify("sha256", artifact, createPublicKey(pem), signature), "the signature verifies");
      assert.ok(!verify("sha256", Buffer.concat([artifact, Buffer.of(0)]), createPublicKey(pem), signature));
    } finally {
      await signer.close();
    }
    const calls = kms.requests.slice(before);
    assert.deepEqual(
      calls.map((r) => `${r.method} ${r.url.split("?")[0]}`),
      [`GET /v1/${KEY}/cryptoKeyVersions/1/publicKey`, `POST /v1/${KEY}/cryptoKeyVersions/1:asymmetricSign`],
    );
    const sign = JSON.parse(calls[1]!.body) as { digest: { sha256: string }; digestCrc32c: string; data?: string };
    assert.equal(sign.digest.sha256, digest.toString("base64"), "only the digest was sent");
    assert.equal(sign.data, undefined);
    assert.equal(Number(sign.digestCrc32c), crc32cBitwise(digest), "with its CRC32C");
    for (const r of calls) {
      assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
      assert.ok(!r.body.includes("never leave") && !r.body.includes(artifact.toString("base64")), "the artifact never left the machine");
    }
  });

  it("without a version, uses the highest enabled version (as cosign picks it)", async () => {
    const before = kms.requests.length;
    const signer = await gcpkmsSource.open(`gcpkms://${KEY}`, options());
    try {
      assert.equal(await signer.publicKeyPem(), key.versions["2"]!.key.pem, "version 2 (3 is disabled)");
      const message = Buffer.from("payload");
      const signature = await signer.signMessage(message);
      assert.ok(verify("sha256", message, createPublicKey(key.versions["2"]!.key.pem), signature));
    } finally {
      await signer.close();
    }
    const paths = kms.requests.slice(before).map((r) => `${r.method} ${r.url.split("?")[0]}`);
    assert.deepEqual(paths, [
      `GET /v1/${KEY}`,
      `GET /v1/${KEY}/cryptoKeyVersions`,
      `GET /v1/${KEY}/cryptoKeyVersions/2/publicKey`,
      `POST /v1/${KEY}/cryptoKeyVersions/2:asymmetricSign`,
    ]);
  });

  it("an unknown key is one clear line naming the reference (NOT_FOUND)", async () => {
    const ref = "gcpkms://projects/tollgate-test/locations/global/keyRings/release/cryptoKeys/nope/cryptoKeyVersions/1";
    const error = await gcpkmsSource.open(ref, options()).then(() => assert.fail("opened an unknown key"), (e: unknown) => e);
    assert.ok(error instanceof InputError, String(error));
    assert.equal(error.code, "NOT_FOUND");
    assert.match(error.message, /^gcpkms:\/\/projects\/.*\/cryptoKeys\/nope\/cryptoKeyVersions\/1: no such key in Cloud KMS \(.*CryptoKey projects\/.*\/nope not found\.\)$/);
    assert.ok(!error.message.includes("\n"));
  });

  it("refuses a key that is not for signing, and an unknown version", async () => {
    await assert.rejects(gcpkmsSource.open(`gcpkms://${SYMMETRIC}`, options()), /purpose is ENCRYPT_DECRYPT, not ASYMMETRIC_SIGN/);
    await assert.rejects(gcpkmsSource.open(`gcpkms://${KEY}/cryptoKeyVersions/7`, options()), (e: unknown) => e instanceof InputError && e.code === "NOT_FOUND");
  });

  it("checks the integrity fields: a wrong signature CRC32C or an unverified digest CRC32C fails closed", async () => {
    const signer = await gcpkmsSource.open(`gcpkms://${KEY}/cryptoKeyVersions/1`, options());
    const digest = createHash("sha256").update("z").digest();
    try {
      kms.tamper.signatureCrc = true;
      await assert.rejects(signer.signDigest(digest, "sha256"), (e: unknown) => e instanceof NetworkError && /signatureCrc32c does not match/.test(e.message));
      kms.tamper.signatureCrc = false;
      kms.tamper.unverifiedDigest = true;
      await assert.rejects(signer.signDigest(digest, "sha256"), /digest CRC32C not verified by the server/);
      kms.tamper.unverifiedDigest = false;
      assert.ok((await signer.signDigest(digest, "sha256")).length > 0);
    } finally {
      kms.tamper.signatureCrc = false;
      kms.tamper.unverifiedDigest = false;
      await signer.close();
    }
  });

  it("a wrong access token is refused by the service, and the token is not in the message", async () => {
    const error = await gcpkmsSource
      .open(`gcpkms://${KEY}/cryptoKeyVersions/1`, { ...options(), env: { GOOGLE_OAUTH_ACCESS_TOKEN: "ya29.wrong-token" } })
      .then(() => assert.fail("opened with a wrong token"), (e: unknown) => e);
    assert.ok(error instanceof NetworkError, String(error));
    assert.ok(!error.message.includes("ya29.wrong-token"), error.message);
  });

  it("refuses plain http to another host and malformed references, before any request", async () => {
    const before = kms.requests.length;
    await assert.rejects(
      gcpkmsSource.open(`gcpkms://${KEY}`, { env: { GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN }, config: { gcp: { endpoint: "http://kms.example.com" } } }),
      /refusing plain http:\/\/ to kms\.example\.com/,
    );
    await assert.rejects(gcpkmsSource.open("gcpkms://projects/p/keyRings/r/cryptoKeys/k", options()), /expected gcpkms:\/\/projects\/PROJECT/);
    assert.equal(kms.requests.length, before);
  });

  it("tollgate keys public prints the KMS key's PEM (endpoint from gcloud's override variable); an unknown version exits 2 with one line", async () => {
    const env = { GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN, CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS: kms.url };
    const ok = await runCli(["keys", "public", `gcpkms://${KEY}`], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, key.versions["2"]!.key.pem);
    const missing = await runCli(["keys", "public", `gcpkms://${KEY}/cryptoKeyVersions/9`], { env });
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, "");
    assert.equal(missing.stderr, `tollgate: gcpkms://${KEY}/cryptoKeyVersions/9: no such key in Cloud KMS (CryptoKeyVersion ${KEY}/cryptoKeyVersions/9 not found.)\n`);
    assert.ok(!missing.stderr.includes(TOKEN));
  });

  it("a KMS that never answers fails within the timeouts, as one line", async () => {
    const silent = await startSilentServer();
    const started = Date.now();
    try {
      const error = await gcpkmsSource
        .open(`gcpkms://${KEY}/cryptoKeyVersions/1`, { env: { GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN }, config: { gcp: { endpoint: silent.url } }, timeouts: { connectMs: 200, responseMs: 300 } })
        .then(() => assert.fail("opened a key on a silent server"), (e: unknown) => e);
      assert.ok(error instanceof NetworkError, String(error));
      // The deadline is the timeouts given (200 + 300 ms); the client reports what is left of it when the call starts (500, or 499 on a busy machine).
      assert.match(error.message, /^gcpkms:\/\/.*: Cloud KMS GetPublicKey failed: .*did not respond within (?:49\d|500) milliseconds/);
      assert.ok(!error.message.includes("\n"));
    } finally {
      await silent.close();
    }
    assert.ok(Date.now() - started < 10_000, "bounded by the timeouts given");
  });

  it("parses cosign's reference forms and computes CRC32C as Cloud KMS does", () => {
    assert.deepEqual(parseGcpKmsReference(`gcpkms://${KEY}/cryptoKeyVersions/4`), { keyName: KEY, version: "4" });
    assert.deepEqual(parseGcpKmsReference(`gcpkms://${KEY}/versions/4`), { keyName: KEY, version: "4" });
    assert.deepEqual(parseGcpKmsReference(`gcpkms://${KEY}`), { keyName: KEY, version: undefined });
    // The CRC-32C check value (RFC 3720 B.4 / the catalogue of CRC algorithms).
    assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
    const random = createHash("sha512").update("seed").digest();
    assert.equal(crc32c(random), crc32cBitwise(random));
    assert.equal(gcpkmsSource.handles(`gcpkms://${KEY}`), true);
    assert.equal(gcpkmsSource.handles("awskms:///alias/x"), false);
  });
});
