/**
 * `tollgate sign model` / `verify model` and the load-time `verifyModel` API, end to end: signatures
 * made here are checked independently (the DSSE PAE rebuilt in the test and the ECDSA signature
 * verified with node:crypto, the payload compared with model_signing's layout, the root digest
 * recomputed), then verified by tollgate; every change to the model fails. Keys: files (P-256, P-384,
 * P-521), the certificate method (model_signing's test PKI, when ../shared/testdata is there), Vault
 * Transit through A STAND-IN FOR VAULT on 127.0.0.1 (test/signing/vault-standin.ts: sign and verify
 * with real ECDSA), and keyless through MOCK Sigstore services (@sigstore/mock on 127.0.0.1).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { UsageError, VerificationFailedError } from "../../src/errors.ts";
import { verifyModel } from "../../src/signing/model/load-check.ts";
import { serializeModel, statementBytes } from "../../src/signing/model/serialize.ts";
import { signModel } from "../../src/signing/model/sign.ts";
import { verifyModelSignature } from "../../src/signing/model/verify.ts";
import { runCli, SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { startMockSigstore, unsignedJwt, type MockSigstore } from "./sigstore-mock-services.ts";
import { SOFTHSM_MODULE, generateTestKeys, initSoftHsmToken, softhsmMissing, type SoftHsmToken } from "./softhsm.ts";
import { VaultStandIn } from "./vault-standin.ts";

const ROOT_TOKEN = "hvs.model-signing-test-root-token";

interface Bundle {
  mediaType: string;
  verificationMaterial: { publicKey?: { hint: string }; x509CertificateChain?: { certificates: { rawBytes: string }[] }; certificate?: unknown; tlogEntries: unknown[] };
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
}

/** DSSE's PAE, written out here (not tollgate's) for the independent check. */
function paeOf(payload: Buffer): Buffer {
  const type = "application/vnd.in-toto+json";
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
}

async function makeModel(dir: string): Promise<void> {
  await mkdir(join(dir, "tokenizer"), { recursive: true });
  await mkdir(join(dir, ".git", "objects"), { recursive: true });
  await writeFile(join(dir, "model.safetensors"), Buffer.alloc(4096, 7));
  await writeFile(join(dir, "config.json"), '{"model_type":"bert"}\n');
  await writeFile(join(dir, "tokenizer", "vocab.txt"), "a\nb\nc\n");
  await writeFile(join(dir, "a-b"), "sorts after a/ in model_signing's order");
  await writeFile(join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
  await writeFile(join(dir, ".gitattributes"), "*.safetensors filter=lfs\n");
}

describe("sign model / verify model", { timeout: 300_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const path = (...p: string[]): string => join(dir, ...p);
  const env = (): NodeJS.ProcessEnv => ({ TOLLGATE_AUDIT_LOG: path("audit.log"), USER: "tester" });

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-model-sign-"));
  });
  after(() => cleanup());

  test("a key file: model.sig as model_signing writes it, checked independently, verified; every change fails", async () => {
    const model = path("m-key");
    await makeModel(model);
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    await writeFile(path("k256.pem"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await writeFile(path("k256.pub"), publicKey.export({ type: "spki", format: "pem" }));

    const r = await runCli(["sign", "model", "--key", path("k256.pem"), model], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /signed .*m-key \(4 resources, root sha256:[0-9a-f]{64}\) with key [0-9a-f]{64}/);
    const bundle = JSON.parse(await readFile(join(model, "model.sig"), "utf8")) as Bundle;
    assert.equal(bundle.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.deepEqual(bundle.verificationMaterial.tlogEntries, []);
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    assert.equal(bundle.verificationMaterial.publicKey?.hint, createHash("sha256").update(pem).digest("hex"), "hint: hex(sha256(PEM))");
    assert.equal(bundle.dsseEnvelope.payloadType, "application/vnd.in-toto+json");
    assert.equal(bundle.dsseEnvelope.signatures.length, 1);

    const payload = Buffer.from(bundle.dsseEnvelope.payload, "base64");
    const signature = Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, "base64");
    assert.equal(cryptoVerify("sha256", paeOf(payload), { key: publicKey, dsaEncoding: "der" }, signature), true, "ECDSA P-256/SHA-256 over the PAE, DER");
    const statement = JSON.parse(payload.toString("utf8")) as {
      _type: string;
      subject: { name: string; digest: { sha256: string } }[];
      predicateType: string;
      predicate: { serialization: Record<string, unknown>; resources: { algorithm: string; digest: string; name: string }[] };
    };
    assert.equal(statement._type, "https://in-toto.io/Statement/v1");
    assert.equal(statement.predicateType, "https://model_signing/signature/v1.0");
    assert.equal(statement.subject[0]!.name, "m-key");
    // model_signing's order: a, a/b before a-b; .git and .gitattributes left out; the signature too.
    assert.deepEqual(
      statement.predicate.resources.map((x) => x.name),
      ["a-b", "config.json", "model.safetensors", "tokenizer/vocab.txt"],
    );
    for (const res of statement.predicate.resources) {
      assert.equal(res.algorithm, "sha256");
      assert.equal(res.digest, createHash("sha256").update(await readFile(join(model, res.name))).digest("hex"), res.name);
    }
    const root = createHash("sha256");
    for (const res of statement.predicate.resources) root.update(Buffer.from(res.digest, "hex"));
    assert.equal(statement.subject[0]!.digest.sha256, root.digest("hex"), "root digest over the raw digests");
    assert.deepEqual(
      { ...statement.predicate.serialization, ignore_paths: [...(statement.predicate.serialization.ignore_paths as string[])].sort() },
      { method: "files", hash_type: "sha256", allow_symlinks: false, ignore_paths: [".git", ".gitattributes", ".github", ".gitignore", "model.sig"] },
    );
    assert.match(payload.toString("utf8"), /^\{\n {2}"_type": /, "printed as MessageToJson prints it");
    // The audit log has the event, with the root digest as the artifact digest.
    const audit = (await readFile(path("audit.log"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = audit.at(-1)!;
    assert.equal(last.operation, "sign model");
    assert.equal(last.result, "success");
    assert.equal(last.artifactDigest, `sha256:${statement.subject[0]!.digest.sha256}`);

    // Verified by the CLI; JSON to --output.
    let v = await runCli(["verify", "model", "--key", path("k256.pub"), "--format", "json", "--output", path("verified.json"), model]);
    assert.equal(v.code, 0, v.stderr);
    const verified = JSON.parse(await readFile(path("verified.json"), "utf8")) as { verified: boolean; files: { name: string }[]; rootDigest: string };
    assert.equal(verified.verified, true);
    assert.deepEqual(verified.files.map((f) => f.name), ["a-b", "config.json", "model.safetensors", "tokenizer/vocab.txt"]);
    assert.equal(verified.rootDigest, statement.subject[0]!.digest.sha256);

    // git's files and the signature are not part of the model.
    await writeFile(join(model, ".git", "HEAD"), "ref: refs/heads/other\n");
    await writeFile(join(model, ".gitignore"), "*.tmp\n");
    await verifyModelSignature({ modelPath: model, trust: { kind: "key", key: publicKey } });

    const expectMismatch = async (pattern: RegExp): Promise<void> => {
      await assert.rejects(verifyModel(model, { key: path("k256.pub") }), (e: unknown) => e instanceof VerificationFailedError && e.reason === "DIGEST_MISMATCH" && pattern.test(e.message));
    };
    await writeFile(join(model, "tokenizer", "vocab.txt"), "a\nb\nX\n");
    v = await runCli(["verify", "model", "--key", path("k256.pub"), model]);
    assert.equal(v.code, 1);
    assert.match(v.stderr, /\[DIGEST_MISMATCH\]: .*changed: tokenizer\/vocab\.txt/);
    await writeFile(join(model, "tokenizer", "vocab.txt"), "a\nb\nc\n");
    await writeFile(join(model, "tokenizer", "merges.txt"), "new");
    await expectMismatch(/unsigned file added: tokenizer\/merges\.txt/);
    await rm(join(model, "tokenizer", "merges.txt"));
    await rm(join(model, "config.json"));
    await expectMismatch(/signed file missing: config\.json/);
    await writeFile(join(model, "config.json"), '{"model_type":"bert"}\n');
    const ok = await verifyModel(model, { key: await readFile(path("k256.pub"), "utf8") });
    assert.deepEqual(ok.files, ["a-b", "config.json", "model.safetensors", "tokenizer/vocab.txt"]);
    assert.equal(ok.method, "key");
    assert.equal((await verifyModel(model, { policy: { kind: "key", key: publicKey } })).files.length, 4);

    // Another key: the hint names another key (KEY).
    const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey;
    await assert.rejects(verifyModel(model, { key: other }), (e: unknown) => e instanceof VerificationFailedError && e.reason === "KEY");
    // Without the hint, another key fails the signature itself.
    const noHint = { ...bundle, verificationMaterial: { publicKey: { hint: "" }, tlogEntries: [] } };
    await writeFile(path("no-hint.sig"), JSON.stringify(noHint));
    await assert.rejects(verifyModel(model, { key: other, signature: path("no-hint.sig") }), (e: unknown) => e instanceof VerificationFailedError && e.reason === "SIGNATURE");
    await verifyModel(model, { key: publicKey, signature: path("no-hint.sig") });
  });

  test("P-384 and P-521 keys sign with SHA-384 and SHA-512 (model_signing's pairing); Ed25519 is refused (exit 2)", async () => {
    for (const [curve, hash] of [
      ["secp384r1", "sha384"],
      ["secp521r1", "sha512"],
    ] as const) {
      const model = path(`m-${curve}`);
      await makeModel(model);
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
      await writeFile(path(`${curve}.pem`), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
      const result = await signModel({ modelPath: model, keyRef: path(`${curve}.pem`), signerOptions: { env: {} }, env: env(), audit: { config: {} } });
      assert.equal(result.method, "key");
      const bundle = JSON.parse(await readFile(join(model, "model.sig"), "utf8")) as Bundle;
      const payload = Buffer.from(bundle.dsseEnvelope.payload, "base64");
      assert.equal(cryptoVerify(hash, paeOf(payload), { key: publicKey, dsaEncoding: "der" }, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, "base64")), true, curve);
      await verifyModel(model, { key: publicKey });
    }
    const model = path("m-ed25519");
    await makeModel(model);
    await writeFile(path("ed.pem"), generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const r = await runCli(["sign", "model", "--key", path("ed.pem"), model], { env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot sign models: OpenSSF model signatures are ECDSA P-256, P-384 or P-521/);
    await assert.rejects(readFile(join(model, "model.sig")), { code: "ENOENT" });
  });

  test("a single-file model: model.sig beside it, the one resource named '.'", async () => {
    await mkdir(path("single"));
    const file = path("single", "model.gguf");
    await writeFile(file, "GGUF model bytes");
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    await writeFile(path("single.pem"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await signModel({ modelPath: file, keyRef: path("single.pem"), signerOptions: { env: {} }, env: env(), audit: { config: {} } });
    const result = await verifyModel(file, { key: publicKey });
    assert.deepEqual(result.files, ["."]);
    assert.equal(result.verification?.signature, path("single", "model.sig"));
    await writeFile(file, "GGUF model bytes, changed");
    await assert.rejects(verifyModel(file, { key: publicKey }), (e: unknown) => e instanceof VerificationFailedError && /changed: \./.test(e.message));
  });

  test("symbolic links: an error unless allowed; a signature made with them verifies only with --allow-symlinks", async () => {
    const model = path("m-link");
    await makeModel(model);
    await writeFile(path("outside.bin"), "weights kept elsewhere");
    await symlink(path("outside.bin"), join(model, "weights.bin"));
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    await writeFile(path("link.pem"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await writeFile(path("link.pub"), createPublicKey(privateKey).export({ type: "spki", format: "pem" }));
    let r = await runCli(["sign", "model", "--key", path("link.pem"), model], { env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /weights\.bin is a symbolic link \(allowed only with --allow-symlinks\)/);
    r = await runCli(["sign", "model", "--key", path("link.pem"), "--allow-symlinks", model], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(["verify", "model", "--key", path("link.pub"), model]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[DIGEST_MISMATCH\]: .*weights\.bin is a symbolic link/);
    r = await runCli(["verify", "model", "--key", path("link.pub"), "--allow-symlinks", model]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /weights\.bin +sha256 +[0-9a-f]{64}/);
    // --ignore-paths (as given on the command line) leaves a file out of signing and verifying.
    await writeFile(join(model, "notes.md"), "not part of the model");
    r = await runCli(["sign", "model", "--key", path("link.pem"), "--allow-symlinks", "--ignore-paths", join(model, "notes.md"), "--signature", path("link-notes.sig"), model], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    await writeFile(join(model, "notes.md"), "changed notes");
    // The signature records notes.md in ignore_paths: the verifier leaves it out without being told.
    r = await runCli(["verify", "model", "--key", path("link.pub"), "--allow-symlinks", "--signature", path("link-notes.sig"), model]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /notes\.md/);
  });

  test("a FIFO in the model: refused at once (exit 2 when signing, DIGEST_MISMATCH when verifying), never read", async () => {
    const model = path("m-fifo");
    await makeModel(model);
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    await writeFile(path("fifo.pem"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await signModel({ modelPath: model, keyRef: path("fifo.pem"), signerOptions: { env: {} }, env: env(), audit: { config: {} } });
    execFileSync("mkfifo", [join(model, "pipe")]);
    await assert.rejects(verifyModel(model, { key: publicKey }), (e: unknown) => e instanceof VerificationFailedError && e.reason === "DIGEST_MISMATCH" && /pipe is neither a regular file nor a directory/.test(e.message));
    const r = await runCli(["sign", "model", "--key", path("fifo.pem"), "--signature", path("fifo.sig"), model], { env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pipe is neither a regular file nor a directory/);
  });

  test("shards: resources path:start:end with model_signing's algorithm name, verified from what the signature records", async () => {
    const model = path("m-shards");
    await makeModel(model);
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    await writeFile(path("shards.pem"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const result = await signModel({ modelPath: model, keyRef: path("shards.pem"), signerOptions: { env: {} }, method: "shards", shardSize: 1000, env: env(), audit: { config: {} } });
    assert.ok(result.resources.some((x) => x.name === "model.safetensors:4000:4096" && x.algorithm === "sha256-sharded-1000"));
    const payload = Buffer.from((JSON.parse(await readFile(join(model, "model.sig"), "utf8")) as Bundle).dsseEnvelope.payload, "base64").toString("utf8");
    assert.match(payload, /"shard_size": 1000\.0/, "a protobuf Struct number, printed as a float");
    const v = await verifyModel(model, { key: publicKey });
    assert.ok(v.files.includes("model.safetensors:0:1000"));
    const bytes = await readFile(join(model, "model.safetensors"));
    bytes[4095] = 0;
    await writeFile(join(model, "model.safetensors"), bytes);
    await assert.rejects(verifyModel(model, { key: publicKey }), (e: unknown) => e instanceof VerificationFailedError && /changed: model\.safetensors:4000:4096/.test(e.message) && !/0:1000/.test(e.message));
  });

  test("statements tollgate does not accept fail closed: an inconsistent root digest, BLAKE3, another predicate (BUNDLE)", async () => {
    const model = path("m-crafted");
    await makeModel(model);
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const manifest = await serializeModel(model);
    const good = statementBytes(manifest).toString("utf8");
    const crafted = async (text: string): Promise<void> => {
      const payload = Buffer.from(text);
      const sig = cryptoSign("sha256", paeOf(payload), { key: privateKey, dsaEncoding: "der" });
      const bundle = {
        mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
        verificationMaterial: { publicKey: { hint: "" }, tlogEntries: [] },
        dsseEnvelope: { payload: payload.toString("base64"), payloadType: "application/vnd.in-toto+json", signatures: [{ sig: sig.toString("base64"), keyid: "" }] },
      };
      await writeFile(path("crafted.sig"), JSON.stringify(bundle));
    };
    await crafted(good);
    await verifyModel(model, { key: publicKey, signature: path("crafted.sig") });
    const root = (JSON.parse(good) as { subject: { digest: { sha256: string } }[] }).subject[0]!.digest.sha256;
    for (const [text, pattern] of [
      [good.replace(root, "0".repeat(64)), /manifest is inconsistent/],
      [good.replace('"hash_type": "sha256"', '"hash_type": "blake3"'), /BLAKE3/],
      [good.replace("https://model_signing/signature/v1.0", "https://example.com/other/v1"), /is not a model signature/],
      [good.replace('"name": "config.json"', '"name": "../config.json"'), /not a relative path inside the model/],
    ] as const) {
      await crafted(text);
      await assert.rejects(verifyModel(model, { key: publicKey, signature: path("crafted.sig") }), (e: unknown) => e instanceof VerificationFailedError && e.reason === "BUNDLE" && pattern.test(e.message), String(pattern));
    }
  });

  test("the API's options: exactly one way to say who signed (UsageError)", async () => {
    await assert.rejects(verifyModel(path("m-key"), {}), UsageError);
    await assert.rejects(verifyModel(path("m-key"), { key: path("k256.pub"), keyring: path("x.asc") }), UsageError);
    const r = await runCli(["verify", "model", path("m-key")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /say who must have signed/);
  });

  test("the certificate method with model_signing's test PKI: signed with key + certificate + chain, verified against the root CA", { skip: sharedTestdataMissing("model-signing-oms") }, async () => {
    const keys = join(SHARED_TESTDATA, "model-signing-oms", "keys", "certificate");
    const model = path("m-cert");
    await makeModel(model);
    let r = await runCli(
      ["sign", "model", "--key", join(keys, "signing-key.pem"), "--signing-certificate", join(keys, "signing-key-cert.pem"), "--certificate-chain", join(keys, "int-ca-cert.pem"), model],
      { env: env() },
    );
    assert.equal(r.code, 0, r.stderr);
    const bundle = JSON.parse(await readFile(join(model, "model.sig"), "utf8")) as Bundle;
    assert.equal(bundle.verificationMaterial.x509CertificateChain?.certificates.length, 2);
    assert.equal(bundle.verificationMaterial.publicKey, undefined);
    r = await runCli(["verify", "model", "--certificate-chain", join(keys, "ca-cert.pem"), model]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /signed by certificate CN=intermediate-ca \(chain to CN=root-ca\)/);
    const api = await verifyModel(model, { certificateChain: [join(keys, "ca-cert.pem")] });
    assert.equal(api.method, "certificate");
    // A key that is not the certificate's: refused before anything is signed (exit 2).
    await writeFile(path("not-cert.pem"), generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    r = await runCli(["sign", "model", "--key", path("not-cert.pem"), "--signing-certificate", join(keys, "signing-key-cert.pem"), "--signature", path("nc.sig"), model], { env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the certificate's public key is not the signing key's/);
  });

  describe("a key on a real SoftHSM2 token (pkcs11:)", { skip: softhsmMissing() }, () => {
    let token: SoftHsmToken;
    let pem: string;
    const PIN = "135790";
    before(async () => {
      token = await initSoftHsmToken("tollgate-models", PIN);
      pem = generateTestKeys(token, [{ kind: "ec", curve: "secp384r1", label: "models", id: "b1" }]).get("models")!;
    });
    after(() => token?.cleanup());

    test("signed on the token (P-384: SHA-384), the PIN kept out of the audit log, verified with the token's public key", async () => {
      const model = path("m-pkcs11");
      await makeModel(model);
      const keyRef = `pkcs11:token=tollgate-models;object=models;type=private?module-path=${SOFTHSM_MODULE}&pin-value=${PIN}`;
      const r = await runCli(["sign", "model", "--key", keyRef, model], { env: env() });
      assert.equal(r.code, 0, r.stderr);
      const bundle = JSON.parse(await readFile(join(model, "model.sig"), "utf8")) as Bundle;
      const payload = Buffer.from(bundle.dsseEnvelope.payload, "base64");
      assert.equal(cryptoVerify("sha384", paeOf(payload), { key: createPublicKey(pem), dsaEncoding: "der" }, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, "base64")), true);
      const audit = await readFile(path("audit.log"), "utf8");
      assert.ok(!audit.includes(PIN), "no PIN in the audit log");
      assert.match(audit.trim().split("\n").at(-1)!, /"backend":"pkcs11"/);
      await writeFile(path("pkcs11.pub"), pem);
      const v = await verifyModel(model, { key: path("pkcs11.pub") });
      assert.equal(v.files.length, 4);
    });
  });

  describe("Vault Transit (A STAND-IN FOR VAULT on 127.0.0.1)", () => {
    let vault: VaultStandIn;
    const vaultEnv = (): NodeJS.ProcessEnv => ({ ...env(), VAULT_ADDR: vault.url, VAULT_TOKEN: ROOT_TOKEN });
    before(async () => {
      vault = await VaultStandIn.start({ tokens: [ROOT_TOKEN] });
      vault.createKey("models", "ecdsa-p256");
      vault.createKey("models-384", "ecdsa-p384");
    });
    after(() => vault.close());

    test("signed with hashivault://, verified through Transit's /verify (the load-time check) and with the public key", async () => {
      const model = path("m-vault");
      await makeModel(model);
      let r = await runCli(["sign", "model", "--key", "hashivault://models", model], { env: vaultEnv() });
      assert.equal(r.code, 0, r.stderr);
      const bundle = JSON.parse(await readFile(join(model, "model.sig"), "utf8")) as Bundle;
      const payload = Buffer.from(bundle.dsseEnvelope.payload, "base64");
      const pem = vault.publicKeyPem("models", 1);
      assert.equal(cryptoVerify("sha256", paeOf(payload), { key: createPublicKey(pem), dsaEncoding: "der" }, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, "base64")), true);

      const before = vault.requests.length;
      r = await runCli(["verify", "model", "--key", "hashivault://models", model], { env: vaultEnv() });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /signed by hashivault:\/\/models \(version 1, checked by Vault\)/);
      const verifies = vault.requests.slice(before).filter((q) => q.path === "/v1/transit/verify/models");
      assert.equal(verifies.length, 1, "Vault judged the signature");
      assert.equal(verifies[0]!.body?.prehashed, true);
      assert.equal(verifies[0]!.body?.hash_algorithm, "sha2-256");
      assert.equal(verifies[0]!.body?.input, createHash("sha256").update(paeOf(payload)).digest("base64"), "only the PAE's digest goes to Vault");
      assert.equal(verifies[0]!.body?.signature, `vault:v1:${bundle.dsseEnvelope.signatures[0]!.sig}`);

      // The API, after a key rotation: the hint picks version 1.
      vault.rotateKey("models");
      const api = await verifyModel(model, { key: "hashivault://models", signerOptions: { env: vaultEnv() } });
      assert.equal(api.method, "hashivault");
      assert.deepEqual(api.verification?.signer, { kind: "hashivault", ref: "hashivault://models", version: 1 });
      // The public key alone verifies too (offline).
      await writeFile(path("vault.pub"), pem);
      await verifyModel(model, { key: path("vault.pub") });

      // Another Vault key: the hint matches none of its versions (KEY); a changed file: DIGEST_MISMATCH.
      await assert.rejects(verifyModel(model, { key: "hashivault://models-384", signerOptions: { env: vaultEnv() } }), (e: unknown) => e instanceof VerificationFailedError && e.reason === "KEY");
      await writeFile(join(model, "config.json"), "{}");
      r = await runCli(["verify", "model", "--key", "hashivault://models", model], { env: vaultEnv() });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[DIGEST_MISMATCH\]: .*changed: config\.json/);
      // A signature Vault does not accept: SIGNATURE, from Vault's own verdict.
      const forged = { ...bundle, verificationMaterial: { publicKey: { hint: "" }, tlogEntries: [] } };
      forged.dsseEnvelope = { ...bundle.dsseEnvelope, signatures: [{ sig: cryptoSign("sha256", Buffer.from("x"), { key: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey, dsaEncoding: "der" }).toString("base64"), keyid: "" }] };
      await writeFile(path("forged.sig"), JSON.stringify(forged));
      await writeFile(join(model, "config.json"), '{"model_type":"bert"}\n');
      await assert.rejects(verifyModel(model, { key: "hashivault://models", signature: path("forged.sig"), signerOptions: { env: vaultEnv() } }), (e: unknown) => e instanceof VerificationFailedError && e.reason === "SIGNATURE" && /Vault says/.test(e.message));
    });

    test("a P-384 Transit key signs SHA-384 digests", async () => {
      const model = path("m-vault-384");
      await makeModel(model);
      await signModel({ modelPath: model, keyRef: "hashivault://models-384", signerOptions: { env: vaultEnv() }, env: vaultEnv(), audit: { config: {} } });
      const bundle = JSON.parse(await readFile(join(model, "model.sig"), "utf8")) as Bundle;
      const payload = Buffer.from(bundle.dsseEnvelope.payload, "base64");
      assert.equal(cryptoVerify("sha384", paeOf(payload), { key: createPublicKey(vault.publicKeyPem("models-384", 1)), dsaEncoding: "der" }, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, "base64")), true);
      const api = await verifyModel(model, { key: "hashivault://models-384", signerOptions: { env: vaultEnv() } });
      assert.equal(api.files.length, 4);
    });
  });

  describe("keyless (MOCK Fulcio, Rekor and TSA on 127.0.0.1)", () => {
    let mocks: MockSigstore;
    const ISSUER = "https://token.actions.githubusercontent.com";
    const IDENTITY = "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main";
    before(async () => {
      mocks = await startMockSigstore({ canonicalDsse: true });
    });
    after(() => mocks.close());

    test("a Fulcio certificate and a Rekor dsse entry; verified with the identity against the mocks' trusted root", async () => {
      const model = path("m-keyless");
      await makeModel(model);
      const token = unsignedJwt({ iss: ISSUER, sub: IDENTITY, aud: "sigstore", exp: Math.floor(Date.now() / 1000) + 600 });
      const result = await signModel({ modelPath: model, identityToken: token, fulcioUrl: mocks.fulcioUrl, rekorUrl: mocks.rekorUrl, env: env(), audit: { config: {} } });
      assert.equal(result.method, "keyless");
      assert.equal(result.tlogEntries, 1);
      assert.deepEqual(result.identity, { subjectAlternativeName: IDENTITY, issuer: ISSUER });
      const bundle = JSON.parse(await readFile(join(model, "model.sig"), "utf8")) as Bundle;
      assert.ok(bundle.verificationMaterial.certificate);
      const payload = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8")) as { predicateType: string };
      assert.equal(payload.predicateType, "https://model_signing/signature/v1.0");

      const trustedRoot = path("mock-trusted-root.json");
      await writeFile(trustedRoot, JSON.stringify(TrustedRoot.toJSON(mocks.trustedRoot)));
      let r = await runCli(["verify", "model", "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER, "--trusted-root", trustedRoot, model]);
      assert.equal(r.code, 0, r.stderr);
      const api = await verifyModel(model, { identity: { subjectRegExp: "^https://github\\.com/acme/", issuer: ISSUER, trustedRoot } });
      assert.equal(api.method, "keyless");
      // A policy built by the caller (verify/policy.ts), with the trusted root beside it.
      const viaPolicy = await verifyModel(model, { policy: { kind: "certificate", subject: { exact: IDENTITY }, issuer: { exact: ISSUER } }, trustedRoot });
      assert.equal(viaPolicy.files.length, 4);
      r = await runCli(["verify", "model", "--certificate-identity", "https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main", "--certificate-oidc-issuer", ISSUER, "--trusted-root", trustedRoot, model]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[IDENTITY\]/);
      // The public-good root does not know the mock CA: the certificate fails.
      r = await runCli(["verify", "model", "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER, model], { env: { TOLLGATE_CACHE_DIR: path("empty-cache") } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /verification failed \[(CERTIFICATE|TLOG)\]/);
    });
  });

  test("--gpg-key / --gpg-keyring dispatch to OpenPGP detached signatures per file", async () => {
    const openpgp = await import("openpgp");
    const { privateKey, publicKey } = await openpgp.generateKey({ type: "ecc", curve: "ed25519Legacy", userIDs: [{ name: "Model Release", email: "models@example.com" }], passphrase: "pgp-pass", format: "armored" });
    await writeFile(path("pgp-secret.asc"), privateKey, { mode: 0o600 });
    await writeFile(path("pgp-public.asc"), publicKey);
    const model = path("m-pgp");
    await mkdir(model);
    await writeFile(join(model, "model.safetensors"), "weights");
    await writeFile(join(model, "config.json"), "{}");
    let r = await runCli(["sign", "model", "--gpg-key", path("pgp-secret.asc"), "--armor", model], { env: { ...env(), TOLLGATE_GPG_PASSPHRASE: "pgp-pass" } });
    assert.equal(r.code, 0, r.stderr);
    await readFile(join(model, "model.safetensors.asc"));
    r = await runCli(["verify", "model", "--gpg-keyring", path("pgp-public.asc"), "--format", "json", model]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { files: unknown[] }).files.length, 2);
    const api = await verifyModel(model, { keyring: path("pgp-public.asc") });
    assert.equal(api.method, "openpgp");
    assert.equal(api.files.length, 2);
    await writeFile(join(model, "config.json"), '{"changed":true}');
    r = await runCli(["verify", "model", "--gpg-keyring", path("pgp-public.asc"), model]);
    assert.equal(r.code, 1, r.stderr);
    r = await runCli(["sign", "model", "--gpg-key", path("pgp-secret.asc"), "--key", path("k256.pem"), model], { env: env() });
    assert.equal(r.code, 2);
  });
});
