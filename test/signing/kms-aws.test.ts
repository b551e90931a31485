// awskms:// keys through @aws-sdk/client-kms, against a STAND-IN for AWS KMS on 127.0.0.1
// (test/signing/kms-stand-ins.ts: the documented JSON protocol of GetPublicKey and Sign, real P-256 keys,
// SigV4 recomputed). Signatures are checked with node:crypto against the public key the signer reports.
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { InputError, NetworkError } from "../../src/errors.ts";
import { runCli } from "../helpers.ts";
import { awskmsSource, parseAwsKmsReference } from "../../src/signing/keys/aws-kms.ts";
import { newP256Key, newRsaKey, startAwsKmsStandIn, startSilentServer, type AwsKmsStandIn, type AwsStandInKey } from "./kms-stand-ins.ts";

const credentials = { accessKeyId: "AKIDTOLLGATETEST", secretAccessKey: "stand-in-secret-key/abc123" };
const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const ARN = `arn:aws:kms:us-east-2:111122223333:key/${KEY_ID}`;

describe("awskms:// (against a stand-in for AWS KMS)", () => {
  let kms: AwsKmsStandIn;
  let key: AwsStandInKey;
  let rogue: AwsStandInKey;

  before(async () => {
    key = { keyId: KEY_ID, region: "us-east-2", account: "111122223333", aliases: ["alias/release"], key: newP256Key() };
    // A misbehaving KMS: reports one public key and signs with another.
    const other = newP256Key();
    rogue = { keyId: "99999999-12ab-34cd-56ef-1234567890ab", region: "us-east-2", account: "111122223333", aliases: ["alias/rogue"], key: newP256Key(), signsWith: other };
    const rsa: AwsStandInKey = { keyId: "7777aaaa-12ab-34cd-56ef-1234567890ab", region: "us-east-2", account: "111122223333", aliases: ["alias/rsa"], key: newRsaKey() };
    kms = await startAwsKmsStandIn([key, rogue, rsa], credentials);
  });
  after(() => kms.close());

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL: kms.url,
    ...extra,
  });

  it("signs a digest (MessageType DIGEST) with an alias; the DER signature verifies with node:crypto", async () => {
    const artifact = Buffer.from("the artifact bytes that must never leave this machine\n");
    const digest = createHash("sha256").update(artifact).digest();
    const before = kms.requests.length;
    const signer = await awskmsSource.open("awskms:///alias/release", { env: env() });
    try {
      assert.equal(signer.backend, "awskms");
      assert.equal(signer.algorithm, "ecdsa-p256-sha256");
      const pem = await signer.publicKeyPem();
      assert.equal(pem, key.key.pem, "the public key is the KMS key's");
      assert.equal(await signer.keyId(), createHash("sha256").update(key.key.spki).digest("hex"));
      const signature = await signer.signDigest(digest, "sha256");
      // Independent check: node:crypto hashes the artifact itself and verifies the DER signature.
      assert.ok(verify("sha256", artifact, createPublicKey(pem), signature), "the signature verifies");
      assert.ok(!verify("sha256", Buffer.concat([artifact, Buffer.of(0)]), createPublicKey(pem), signature), "and not over other bytes");
    } finally {
      await signer.close();
    }
    const calls = kms.requests.slice(before);
    assert.deepEqual(calls.map((r) => r.headers["x-amz-target"]), ["TrentService.GetPublicKey", "TrentService.Sign"]);
    const sign = JSON.parse(calls[1]!.body) as Record<string, string>;
    assert.equal(sign.MessageType, "DIGEST");
    assert.equal(sign.SigningAlgorithm, "ECDSA_SHA_256");
    assert.equal(sign.Message, digest.toString("base64"));
    // The alias was resolved once: the signature is asked of the key the public key came from.
    assert.equal(sign.KeyId, ARN);
    for (const r of calls) assert.ok(!r.body.includes(artifact.toString("base64")) && !r.body.includes("never leave"), "the artifact never left the machine");
    // The region came from AWS_REGION (no ARN), and the SigV4 the stand-in recomputed matched.
    assert.deepEqual(kms.regions.slice(-2), ["eu-west-1", "eu-west-1"]);
  });

  it("signs a message by hashing it here and sending the digest", async () => {
    const message = Buffer.from("a DSSE PAE or any payload");
    const before = kms.requests.length;
    const signer = await awskmsSource.open(`awskms:///${ARN}`, { env: env() });
    try {
      const signature = await signer.signMessage(message);
      assert.ok(verify("sha256", message, createPublicKey(await signer.publicKeyPem()), signature));
    } finally {
      await signer.close();
    }
    const sign = JSON.parse(kms.requests.at(-1)!.body) as Record<string, string>;
    assert.equal(sign.MessageType, "DIGEST");
    assert.equal(sign.Message, createHash("sha256").update(message).digest("base64"));
    // A key ARN names its region, which wins over AWS_REGION.
    assert.deepEqual(kms.regions.slice(before), ["us-east-2", "us-east-2"]);
  });

  it("an RSA key signs with RSASSA_PKCS1_V1_5_SHA_256 (not the PSS AWS lists first); node:crypto verifies it", async () => {
    const message = Buffer.from("signed with an RSA key in KMS");
    const signer = await awskmsSource.open("awskms:///alias/rsa", { env: env() });
    try {
      assert.equal(signer.algorithm, "rsa-pkcs1v15-sha256");
      const signature = await signer.signMessage(message);
      assert.ok(verify("sha256", message, createPublicKey(await signer.publicKeyPem()), signature));
    } finally {
      await signer.close();
    }
    const sign = JSON.parse(kms.requests.at(-1)!.body) as Record<string, string>;
    assert.equal(sign.SigningAlgorithm, "RSASSA_PKCS1_V1_5_SHA_256");
    assert.equal(sign.MessageType, "DIGEST");
  });

  it("takes the endpoint from the reference's host (http to this machine) and the region from signing.aws", async () => {
    const signer = await awskmsSource.open(`awskms://127.0.0.1:${kms.port}/${KEY_ID}`, {
      env: env({ AWS_ENDPOINT_URL: "http://127.0.0.1:9/nothing-listens-here", AWS_REGION: "" }),
      config: { aws: { region: "ap-south-1" } },
    });
    try {
      const digest = createHash("sha256").update("x").digest();
      const signature = await signer.signDigest(digest, "sha256");
      assert.ok(verify("sha256", Buffer.from("x"), createPublicKey(await signer.publicKeyPem()), signature));
    } finally {
      await signer.close();
    }
    assert.equal(kms.regions.at(-1), "ap-south-1");
  });

  it("takes the endpoint from signing.aws.endpoint over AWS_ENDPOINT_URL", async () => {
    const signer = await awskmsSource.open("awskms:///alias/release", {
      env: env({ AWS_ENDPOINT_URL: "http://127.0.0.1:9" }),
      config: { aws: { endpoint: kms.url } },
    });
    await signer.close();
  });

  it("an unknown key is one clear line naming the reference (NotFoundException)", async () => {
    const error = await awskmsSource.open("awskms:///alias/no-such-key", { env: env() }).then(
      () => assert.fail("opened an unknown key"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof InputError, String(error));
    assert.equal(error.code, "NOT_FOUND");
    assert.match(error.message, /^awskms:\/\/\/alias\/no-such-key: no such key in AWS KMS \(NotFoundException: Key 'alias\/no-such-key' does not exist\)$/);
    assert.ok(!error.message.includes("\n"));
  });

  it("wrong credentials fail without the secret in the message", async () => {
    const error = await awskmsSource
      .open("awskms:///alias/release", { env: env({ AWS_SECRET_ACCESS_KEY: "not-the-secret-key" }) })
      .then(() => assert.fail("signed with a wrong secret"), (e: unknown) => e);
    assert.ok(error instanceof NetworkError, String(error));
    assert.match(error.message, /GetPublicKey failed: InvalidSignatureException/);
    assert.ok(!error.message.includes("not-the-secret-key"));
  });

  it("refuses a signature that does not verify with the key's public key (fails closed)", async () => {
    const signer = await awskmsSource.open("awskms:///alias/rogue", { env: env() });
    try {
      await assert.rejects(signer.signDigest(createHash("sha256").update("y").digest(), "sha256"), /does not verify with the key's public key/);
    } finally {
      await signer.close();
    }
  });

  it("refuses a digest of the wrong size or algorithm before calling KMS", async () => {
    const signer = await awskmsSource.open("awskms:///alias/release", { env: env() });
    const before = kms.requests.length;
    try {
      await assert.rejects(signer.signDigest(new Uint8Array(20), "sha256"), /digest is 32 bytes, not 20/);
      await assert.rejects(signer.signDigest(new Uint8Array(48), "sha384"), /signs sha256 digests, not sha384/);
    } finally {
      await signer.close();
    }
    assert.equal(kms.requests.length, before);
  });

  it("refuses plain http to another host and malformed references, before any request", async () => {
    const before = kms.requests.length;
    await assert.rejects(awskmsSource.open("awskms:///alias/release", { env: env({ AWS_ENDPOINT_URL: "http://kms.example.com" }) }), /refusing plain http:\/\/ to kms\.example\.com/);
    await assert.rejects(awskmsSource.open("awskms://alias/release", { env: env() }), /is not a KMS key id, key ARN, alias or alias ARN/);
    await assert.rejects(awskmsSource.open("awskms:///not-a-key", { env: env() }), InputError);
    assert.equal(kms.requests.length, before);
  });

  it("tollgate keys public prints the KMS key's PEM; an unknown key exits 2 with one line", async () => {
    const ok = await runCli(["keys", "public", "awskms:///alias/release"], { env: env() });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, key.key.pem);
    const missing = await runCli(["keys", "public", "awskms:///alias/no-such-key"], { env: env() });
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, "");
    assert.equal(missing.stderr, "tollgate: awskms:///alias/no-such-key: no such key in AWS KMS (NotFoundException: Key 'alias/no-such-key' does not exist)\n");
  });

  it("a KMS that never answers fails within the timeouts, as one line", async () => {
    const silent = await startSilentServer();
    const started = Date.now();
    try {
      const error = await awskmsSource
        .open("awskms:///alias/release", { env: env({ AWS_ENDPOINT_URL: silent.url }), timeouts: { connectMs: 200, responseMs: 300 } })
        .then(() => assert.fail("opened a key on a silent server"), (e: unknown) => e);
      assert.ok(error instanceof NetworkError, String(error));
      assert.match(error.message, /^awskms:\/\/\/alias\/release: AWS KMS GetPublicKey failed: .*300 ms requestTimeout/);
    } finally {
      await silent.close();
    }
    assert.ok(Date.now() - started < 10_000, "bounded by the timeouts given");
  });

  it("parses cosign's reference forms", () => {
    assert.deepEqual(parseAwsKmsReference(`awskms:///${KEY_ID}`), { host: "", keyId: KEY_ID, arnRegion: undefined });
    assert.deepEqual(parseAwsKmsReference(`awskms://localhost:4566/${ARN}`), { host: "localhost:4566", keyId: ARN, arnRegion: "us-east-2" });
    assert.deepEqual(parseAwsKmsReference("awskms:///alias/ExampleAlias"), { host: "", keyId: "alias/ExampleAlias", arnRegion: undefined });
    assert.deepEqual(parseAwsKmsReference("awskms:///arn:aws:kms:eu-west-3:111122223333:alias/ExampleAlias"), {
      host: "",
      keyId: "arn:aws:kms:eu-west-3:111122223333:alias/ExampleAlias",
      arnRegion: "eu-west-3",
    });
    assert.equal(awskmsSource.handles("awskms:///alias/x"), true);
    assert.equal(awskmsSource.handles("gcpkms://projects/p"), false);
  });
});
