/**
 * `tollgate sign blob` with keys: Sigstore bundles v0.3 verified by @sigstore/verify used directly
 * (an independent path, with a TrustMaterial holding the public key as @sigstore/verify accepts keys),
 * tampering detected, bundles written atomically, every attempt in the audit log, exit codes.
 * Rekor entries come from @sigstore/mock's Rekor served on 127.0.0.1 (a mock service).
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bundleFromJSON, type SerializedBundle } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { verifyAuditLog } from "../../src/audit/index.ts";
import { InputError, UsageError } from "../../src/errors.ts";
import { openSigner } from "../../src/signing/keys/index.ts";
import type { DigestAlgorithm, Signer } from "../../src/signing/keys/types.ts";
import { COSIGN_SIGN_PREDICATE_TYPE, IN_TOTO_STATEMENT_V1, keyHintOf, signBlob } from "../../src/signing/sign-blob.ts";
import { runCli, tempDir } from "../helpers.ts";
import { startMockSigstore, type MockSigstore } from "./sigstore-mock-services.ts";

const EMPTY_ROOT = TrustedRoot.fromJSON({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });

/** Verifies a bundle with @sigstore/verify and this public key (looked up by the bundle's hint, which must be cosign's). */
function verifyWithKey(json: unknown, publicKey: KeyObject, artifact?: Buffer, root: TrustedRoot = EMPTY_ROOT, tlogThreshold = 0): void {
  const expectedHint = createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("base64");
  const trust = toTrustMaterial(root, (hint) => {
    if (hint !== expectedHint) throw new Error(`unexpected key hint ${hint}`);
    return { publicKey, validFor: () => true };
  });
  const bundle = bundleFromJSON(json);
  new Verifier(trust, { tlogThreshold, ctlogThreshold: 0, timestampThreshold: tlogThreshold }).verify(toSignedEntity(bundle, artifact));
}

/**
 * A test-only backend (what an HSM or KMS backend looks like from the outside):
 * it records what it was asked to sign, so that the test sees that only the digest leaves.
 */
function recordingSigner(privateKey: KeyObject): Signer & { digests: Buffer[]; messages: number } {
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ format: "der", type: "spki" });
  const digests: Buffer[] = [];
  let messages = 0;
  return {
    backend: "test-recording",
    ref: "test://recording",
    algorithm: "ecdsa-p256-sha256",
    digests,
    get messages() {
      return messages;
    },
    publicKeyPem: () => Promise.resolve(publicKey.export({ format: "pem", type: "spki" }).toString()),
    keyId: () => Promise.resolve(createHash("sha256").update(der).digest("hex")),
    signDigest(digest: Uint8Array, algorithm: DigestAlgorithm) {
      assert.equal(algorithm, "sha256");
      digests.push(Buffer.from(digest));
      return Promise.resolve(new Uint8Array(prehashedSign(digest, privateKey)));
    },
    signMessage() {
      messages++;
      return Promise.reject(new Error("the recording signer only signs digests"));
    },
    close: () => Promise.resolve(),
  };
}

/** ECDSA P-256 over a prehashed SHA-256 digest, with @noble/curves (node:crypto only signs messages). */
let prehashedSign: (digest: Uint8Array, key: KeyObject) => Buffer;

describe("sign blob with a key", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let keyPath: string;
  let privateKey: KeyObject;
  let publicKey: KeyObject;
  let artifact: string;
  let artifactBytes: Buffer;
  let auditLog: string;
  let rekor: MockSigstore;
  const env = (): NodeJS.ProcessEnv => ({ TOLLGATE_AUDIT_LOG: auditLog, USER: "tester" });

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-sign-blob-"));
    const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    privateKey = pair.privateKey;
    publicKey = pair.publicKey;
    keyPath = join(dir, "release.pem");
    await writeFile(keyPath, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    artifact = join(dir, "release.tar.gz");
    artifactBytes = Buffer.from("the release artifact\n".repeat(100));
    await writeFile(artifact, artifactBytes);
    auditLog = join(dir, "audit.log");
    const { p256 } = await import("@noble/curves/nist.js");
    prehashedSign = (digest, key) => {
      const jwk = key.export({ format: "jwk" });
      const d = Buffer.from(jwk.d!, "base64url");
      return Buffer.from(p256.sign(digest, d, { prehash: false, format: "der" }));
    };
    rekor = await startMockSigstore();
  });
  after(async () => {
    await rekor.close();
    await cleanup();
  });

  test("a message-signature bundle v0.3 signed through openSigner verifies with @sigstore/verify; a flipped byte fails", async () => {
    const bundlePath = join(dir, "msg.sigstore.json");
    const signer = await openSigner(keyPath, { env: {} });
    try {
      const result = await signBlob({ artifact, bundlePath, signer, tlogUpload: false, env: env(), audit: { config: {} } });
      assert.equal(result.artifactDigest, `sha256:${createHash("sha256").update(artifactBytes).digest("hex")}`);
      assert.equal(result.keyId, await signer.keyId());
    } finally {
      await signer.close();
    }
    const json = JSON.parse(await readFile(bundlePath, "utf8")) as SerializedBundle;
    assert.equal(json.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.ok(json.messageSignature);
    assert.equal(json.verificationMaterial.publicKey?.hint, keyHintOf(createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("hex")));
    verifyWithKey(json, publicKey, artifactBytes);

    // A flipped byte in the artifact.
    const flippedArtifact = Buffer.from(artifactBytes);
    flippedArtifact[7]! ^= 0x01;
    assert.throws(() => verifyWithKey(json, publicKey, flippedArtifact));
    // A flipped byte in the bundle's signature, and in its message digest.
    const sig = Buffer.from(json.messageSignature.signature, "base64");
    sig[sig.length - 3]! ^= 0x01;
    assert.throws(() => verifyWithKey({ ...json, messageSignature: { ...json.messageSignature, signature: sig.toString("base64") } }, publicKey, artifactBytes));
    // Another key does not verify it.
    assert.throws(() => verifyWithKey(json, generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey, artifactBytes));
  });

  test("--in-toto: a DSSE bundle v0.3 with a Statement v1 naming the file and its sha256", async () => {
    const bundlePath = join(dir, "dsse.sigstore.json");
    await signBlob({ artifact, bundlePath, keyRef: keyPath, signerOptions: { env: {} }, inToto: true, tlogUpload: false, env: env(), audit: { config: {} } });
    const json = JSON.parse(await readFile(bundlePath, "utf8")) as SerializedBundle;
    assert.equal(json.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.ok(json.dsseEnvelope);
    assert.equal(json.dsseEnvelope.payloadType, "application/vnd.in-toto+json");
    assert.equal(json.dsseEnvelope.signatures.length, 1);
    assert.equal(json.dsseEnvelope.signatures[0]!.keyid, json.verificationMaterial.publicKey?.hint);
    const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, "base64").toString("utf8")) as Record<string, unknown>;
    assert.deepEqual(statement, {
      _type: IN_TOTO_STATEMENT_V1,
      subject: [{ name: "release.tar.gz", digest: { sha256: createHash("sha256").update(artifactBytes).digest("hex") } }],
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
      predicate: {},
    });
    verifyWithKey(json, publicKey);
    const payload = Buffer.from(json.dsseEnvelope.payload, "base64");
    payload[payload.length - 2]! ^= 0x01;
    assert.throws(() => verifyWithKey({ ...json, dsseEnvelope: { ...json.dsseEnvelope, payload: payload.toString("base64") } }, publicKey));
  });

  test("any Signer: a backend gets only the SHA-256 digest, never the artifact", async () => {
    const signer = recordingSigner(privateKey);
    const bundlePath = join(dir, "backend.sigstore.json");
    await signBlob({ artifact, bundlePath, signer, tlogUpload: false, env: env(), audit: { config: {} } });
    assert.deepEqual(signer.digests, [createHash("sha256").update(artifactBytes).digest()]);
    assert.equal(signer.messages, 0);
    verifyWithKey(JSON.parse(await readFile(bundlePath, "utf8")), publicKey, artifactBytes);
  });

  test("with a Rekor entry (mock Rekor on 127.0.0.1): a hashedrekord entry that verifies against the log's key", async () => {
    const bundlePath = join(dir, "rekor.sigstore.json");
    const before = rekor.requests.length;
    const result = await signBlob({ artifact, bundlePath, keyRef: keyPath, signerOptions: { env: {} }, rekorUrl: rekor.rekorUrl, env: env(), audit: { config: {} } });
    assert.equal(result.tlogEntries, 1);
    assert.deepEqual(rekor.requests.slice(before), ["POST /api/v1/log/entries"]);
    const json = JSON.parse(await readFile(bundlePath, "utf8")) as SerializedBundle;
    assert.equal(json.verificationMaterial.tlogEntries[0]?.kindVersion?.kind, "hashedrekord");
    assert.ok(json.verificationMaterial.tlogEntries[0]?.inclusionProof);
    verifyWithKey(json, publicKey, artifactBytes, rekor.trustedRoot, 1);
    // The entry is bound to this signature: another file's signature with this entry fails the log check.
    const otherFile = join(dir, "other.txt");
    await writeFile(otherFile, "another file\n");
    const otherPath = join(dir, "other.sigstore.json");
    await signBlob({ artifact: otherFile, bundlePath: otherPath, keyRef: keyPath, signerOptions: { env: {} }, tlogUpload: false, env: env(), audit: { config: {} } });
    const other = JSON.parse(await readFile(otherPath, "utf8")) as SerializedBundle;
    verifyWithKey(other, publicKey, Buffer.from("another file\n"));
    assert.throws(() => verifyWithKey({ ...other, verificationMaterial: json.verificationMaterial }, publicKey, Buffer.from("another file\n"), rekor.trustedRoot, 1));
    // A flipped byte in the entry's signed entry timestamp.
    const entry = json.verificationMaterial.tlogEntries[0]!;
    const set = Buffer.from(entry.inclusionPromise!.signedEntryTimestamp, "base64");
    set[set.length - 4]! ^= 0x01;
    const tampered = { ...entry, inclusionPromise: { signedEntryTimestamp: set.toString("base64") } };
    assert.throws(() => verifyWithKey({ ...json, verificationMaterial: { ...json.verificationMaterial, tlogEntries: [tampered] } }, publicKey, artifactBytes, rekor.trustedRoot, 1));
  });

  test("an unusable key algorithm, an unreadable file: typed errors, no bundle written", async () => {
    const signer = { ...recordingSigner(privateKey), algorithm: "ecdsa-p384-sha384" as const };
    const bundlePath = join(dir, "never.sigstore.json");
    await assert.rejects(signBlob({ artifact, bundlePath, signer, tlogUpload: false, env: env(), audit: { config: {} } }), UsageError);
    await assert.rejects(signBlob({ artifact: join(dir, "missing"), bundlePath, keyRef: keyPath, signerOptions: { env: {} }, tlogUpload: false, env: env(), audit: { config: {} } }), InputError);
    await assert.rejects(signBlob({ artifact: dir, bundlePath, keyRef: keyPath, signerOptions: { env: {} }, tlogUpload: false, env: env(), audit: { config: {} } }), InputError);
    assert.ok(!(await readdir(dir)).some((n) => n.includes("never.sigstore.json")));
  });

  test("CLI: signs, records success and failure in the audit log; exit 2 for bad usage and unreadable input", async () => {
    const log = join(dir, "cli-audit.log");
    const cliEnv = { TOLLGATE_AUDIT_LOG: log, TOLLGATE_CONFIG: "", GITHUB_ACTIONS: "" };
    const bundlePath = join(dir, "cli.sigstore.json");
    const ok = await runCli(["sign", "blob", "--key", keyPath, "--tlog-upload=false", "--bundle", bundlePath, artifact], { cwd: dir, env: cliEnv });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /wrote bundle to/);
    verifyWithKey(JSON.parse(await readFile(bundlePath, "utf8")), publicKey, artifactBytes);

    const inToto = await runCli(["sign", "blob", "--key", keyPath, "--no-tlog-upload", "--in-toto", "--bundle", join(dir, "cli-dsse.json"), artifact], { cwd: dir, env: cliEnv });
    assert.equal(inToto.code, 0, inToto.stderr);
    verifyWithKey(JSON.parse(await readFile(join(dir, "cli-dsse.json"), "utf8")), publicKey);

    const noBundle = await runCli(["sign", "blob", "--key", keyPath, artifact], { cwd: dir, env: cliEnv });
    assert.equal(noBundle.code, 2);
    assert.match(noBundle.stderr, /--bundle <path> is required/);
    const badBool = await runCli(["sign", "blob", "--key", keyPath, "--tlog-upload=maybe", "--bundle", bundlePath, artifact], { cwd: dir, env: cliEnv });
    assert.equal(badBool.code, 2);
    const missing = await runCli(["sign", "blob", "--key", keyPath, "--tlog-upload=false", "--bundle", join(dir, "x.json"), join(dir, "no-such-file")], { cwd: dir, env: cliEnv });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no-such-file: no such file/);
    const badKey = await runCli(["sign", "blob", "--key", join(dir, "no-such.key"), "--tlog-upload=false", "--bundle", join(dir, "x.json"), artifact], { cwd: dir, env: cliEnv });
    assert.equal(badKey.code, 2);
    const badUrl = await runCli(["sign", "blob", "--key", keyPath, "--rekor-url", "http://rekor.example.com", "--bundle", join(dir, "x.json"), artifact], { cwd: dir, env: cliEnv });
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /only https/);
    assert.ok(!(await readdir(dir)).includes("x.json"));

    const lines = (await readFile(log, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l.result, l.output]),
      [
        ["success", bundlePath],
        ["success", join(dir, "cli-dsse.json")],
        ["failure", join(dir, "x.json")],
        ["failure", join(dir, "x.json")],
        ["failure", join(dir, "x.json")],
      ],
    );
    const first = lines[0]!;
    assert.equal(first.operation, "sign blob");
    assert.equal(first.backend, "file");
    assert.equal(first.keyRef, keyPath);
    assert.equal(first.keyId, createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("hex"));
    assert.equal(first.artifactDigest, `sha256:${createHash("sha256").update(artifactBytes).digest("hex")}`);
    assert.match(String(lines[2]!.error), /no such file/);
    assert.equal((await verifyAuditLog(log)).intact, true);
  });

  test("the bundle is written atomically: a failed signing leaves an existing bundle as it was, and no temporary file", async () => {
    const bundlePath = join(dir, "existing.sigstore.json");
    await writeFile(bundlePath, "previous bundle\n");
    // Rekor on a port where nothing listens: the signature is made, the log entry fails, nothing is written.
    await rekor.close();
    const failed = await runCli(["sign", "blob", "--key", keyPath, "--rekor-url", rekor.rekorUrl, "--bundle", bundlePath, artifact], {
      cwd: dir,
      env: { TOLLGATE_AUDIT_LOG: join(dir, "atomic-audit.log"), TOLLGATE_CONFIG: "", GITHUB_ACTIONS: "" },
    });
    assert.equal(failed.code, 2, failed.stderr);
    assert.match(failed.stderr, /tlog/i);
    assert.equal(await readFile(bundlePath, "utf8"), "previous bundle\n");
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes(".tmp-")), []);
    const event = JSON.parse((await readFile(join(dir, "atomic-audit.log"), "utf8")).trim()) as Record<string, unknown>;
    assert.equal(event.result, "failure");
    rekor = await startMockSigstore();
  });

  test("an audit log that cannot be written fails the command before the bundle exists", async () => {
    const bundlePath = join(dir, "unaudited.sigstore.json");
    await writeFile(join(dir, "not-a-dir"), "");
    await assert.rejects(
      signBlob({ artifact, bundlePath, keyRef: keyPath, signerOptions: { env: {} }, tlogUpload: false, env: { TOLLGATE_AUDIT_LOG: join(dir, "not-a-dir", "audit.log") }, audit: { config: {} } }),
      /not recorded/,
    );
    assert.ok(!(await readdir(dir)).includes("unaudited.sigstore.json"));
  });
});
