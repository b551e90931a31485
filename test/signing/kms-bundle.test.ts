/**
 * Sigstore bundles signed by `tollgate sign blob --key awskms://…` and `--key gcpkms://…`, against
 * STAND-INS FOR AWS KMS and Cloud KMS on 127.0.0.1 (test/signing/kms-stand-ins.ts): verified with
 * @sigstore/verify used directly (an independent path) and with `tollgate verify blob`; a flipped
 * byte in the artifact fails both. The CLI runs in a child process talking to the stand-ins.
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { runCli, tempDir } from "../helpers.ts";
import { newP256Key, startAwsKmsStandIn, startGcpKmsStandIn, type AwsKmsStandIn, type GcpKmsStandIn, type StandInKey } from "./kms-stand-ins.ts";

const EMPTY_ROOT = TrustedRoot.fromJSON({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });

/** @sigstore/verify with this public key only (found by cosign's hint), no tlog or timestamp required. */
function verifyWithKey(json: unknown, publicKey: KeyObject, artifact: Buffer): void {
  const expectedHint = createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("base64");
  const trust = toTrustMaterial(EMPTY_ROOT, (hint) => {
    if (hint !== expectedHint) throw new Error(`unexpected key hint ${hint}`);
    return { publicKey, validFor: () => true };
  });
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(json), artifact));
}

describe("Sigstore bundles signed with KMS keys (stand-ins for AWS KMS and Cloud KMS on 127.0.0.1)", { timeout: 60_000 }, () => {
  const credentials = { accessKeyId: "AKIDTOLLGATEBUNDLE", secretAccessKey: "bundle-secret" };
  const GCP_KEY = "projects/tollgate-test/locations/europe-west1/keyRings/release/cryptoKeys/blob";
  let aws: AwsKmsStandIn;
  let gcp: GcpKmsStandIn;
  let awsKey: StandInKey;
  let gcpKey: StandInKey;
  let dir: string;
  let cleanup: () => Promise<void>;
  const artifact = Buffer.from("release artifact signed in a KMS\n".repeat(50));

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-kms-bundle-"));
    awsKey = newP256Key();
    gcpKey = newP256Key();
    aws = await startAwsKmsStandIn([{ keyId: "0badcafe-12ab-34cd-56ef-1234567890ab", region: "eu-central-1", account: "111122223333", aliases: ["alias/blob"], key: awsKey }], credentials);
    gcp = await startGcpKmsStandIn([{ name: GCP_KEY, purpose: "ASYMMETRIC_SIGN", versions: { "1": { state: "ENABLED", key: gcpKey } } }], "ya29.bundle-token");
    await writeFile(join(dir, "artifact.bin"), artifact);
  });
  after(async () => {
    await aws.close();
    await gcp.close();
    await cleanup();
  });

  const cases = () => [
    {
      name: "awskms",
      ref: "awskms:///alias/blob",
      key: awsKey,
      env: { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_REGION: "eu-central-1", AWS_ENDPOINT_URL: aws.url },
    },
    {
      name: "gcpkms",
      ref: `gcpkms://${GCP_KEY}/cryptoKeyVersions/1`,
      key: gcpKey,
      env: { GOOGLE_OAUTH_ACCESS_TOKEN: "ya29.bundle-token", CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS: gcp.url },
    },
  ];

  for (const backend of ["awskms", "gcpkms"]) {
    it(`${backend}: sign blob → verifies with @sigstore/verify and tollgate verify blob; a flipped byte fails`, async () => {
      const c = cases().find((x) => x.name === backend)!;
      const env = { ...c.env, TOLLGATE_AUDIT_LOG: join(dir, `${backend}-audit.log`) };
      const bundlePath = join(dir, `${backend}.sigstore.json`);
      const pubPath = join(dir, `${backend}.pub`);
      await writeFile(pubPath, c.key.pem);
      const signed = await runCli(["sign", "blob", "--key", c.ref, "--no-tlog-upload", "--bundle", bundlePath, join(dir, "artifact.bin")], { env, cwd: dir });
      assert.equal(signed.code, 0, signed.stderr);

      const json = JSON.parse(await readFile(bundlePath, "utf8")) as { messageSignature?: { messageDigest: { digest: string } } };
      assert.equal(json.messageSignature?.messageDigest.digest, createHash("sha256").update(artifact).digest("base64"));
      const publicKey = createPublicKey(c.key.pem);
      verifyWithKey(json, publicKey, artifact);
      const flipped = Buffer.from(artifact);
      flipped[7]! ^= 0x01;
      assert.throws(() => verifyWithKey(json, publicKey, flipped));

      const verified = await runCli(["verify", "blob", "--key", pubPath, "--insecure-ignore-tlog", "--bundle", bundlePath, join(dir, "artifact.bin")], { cwd: dir });
      assert.equal(verified.code, 0, verified.stderr);
      await writeFile(join(dir, "flipped.bin"), flipped);
      const refused = await runCli(["verify", "blob", "--key", pubPath, "--insecure-ignore-tlog", "--bundle", bundlePath, join(dir, "flipped.bin")], { cwd: dir });
      assert.equal(refused.code, 1, refused.stderr);
    });
  }

  it("the KMSs were only ever sent digests", () => {
    const needle = artifact.subarray(0, 24).toString("base64");
    for (const r of [...aws.requests, ...gcp.requests]) assert.ok(!r.body.includes(needle) && !r.body.includes("release artifact"), r.body);
    const awsSign = aws.requests.filter((r) => r.headers["x-amz-target"] === "TrentService.Sign").map((r) => JSON.parse(r.body) as Record<string, string>);
    assert.ok(awsSign.length >= 1);
    for (const s of awsSign) assert.equal(s.MessageType, "DIGEST");
  });
});
