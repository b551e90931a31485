// File keys: cosign's encrypted key format (cosign's own test vectors in ../shared/testdata/cosign-keys),
// PKCS#8/SEC1/PKCS#1 PEM keys, the file Signer (its signatures checked with node:crypto's verify on the
// message, an independent path from @noble/curves' digest signing), passwords, and openSigner.
import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { InputError, UsageError } from "../../src/errors.ts";
import { ACCEPTED_SCRYPT_N, WRITTEN_SCRYPT_N, decryptCosignKey, encryptCosignKey, parsePemBlocks, toPem } from "../../src/signing/keys/cosign-key.ts";
import { FileSigner, generateCosignKeyPair, loadPrivateKeyFile } from "../../src/signing/keys/file.ts";
import { openSigner } from "../../src/signing/keys/index.ts";
import { readPassword } from "../../src/signing/keys/password.ts";
import { SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";

const COSIGN_KEYS = join(SHARED_TESTDATA, "cosign-keys");
const skipKeys = sharedTestdataMissing("cosign-keys");
const hello = { env: { TOLLGATE_PASSWORD: "hello" } };

function pemType(path: string): string {
  return /-----BEGIN ([A-Z0-9 ]+)-----/.exec(readFileSync(path, "utf8"))?.[1] ?? "";
}

describe("cosign's key vectors (../shared/testdata/cosign-keys)", { skip: skipKeys }, () => {
  const files = skipKeys ? [] : readdirSync(COSIGN_KEYS).filter((f) => f.endsWith(".pem"));
  const encrypted = files.filter((f) => pemType(join(COSIGN_KEYS, f)).startsWith("ENCRYPTED "));

  it("every encrypted key decrypts with the password hello, and no other", async () => {
    assert.ok(encrypted.length >= 3, `encrypted keys found: ${encrypted.join(", ")}`);
    for (const f of encrypted) {
      const path = join(COSIGN_KEYS, f);
      const block = parsePemBlocks(readFileSync(path, "utf8"), path)[0]!;
      const plaintext = await decryptCosignKey(block.der, "hello", path);
      assert.ok(plaintext.length > 32, f);
      await assert.rejects(decryptCosignKey(block.der, "hellO", path), (e: unknown) => e instanceof InputError && /wrong password/.test(e.message), f);
    }
  });

  it("pemcosignkey and pemsigstorekey open as signers whose signatures node:crypto verifies", async () => {
    for (const f of ["pemcosignkey.pem", "pemsigstorekey.pem"]) {
      const signer = await openSigner(join(COSIGN_KEYS, f), hello);
      assert.equal(signer.backend, "file");
      assert.equal(signer.algorithm, "ecdsa-p256-sha256");
      const message = Buffer.from(`signed with ${f}`);
      const sig = await signer.signMessage(message);
      const pub = createPublicKey(await signer.publicKeyPem());
      assert.ok(verify("sha256", message, pub, sig), f);
      assert.ok(!verify("sha256", Buffer.from(`signed with ${f}!`), pub, sig), `${f}: another message does not verify`);
      await signer.close();
    }
  });

  it("the SEC1 payload of pemcosigneckey is refused: not PKCS#8", async () => {
    await assert.rejects(
      openSigner(join(COSIGN_KEYS, "pemcosigneckey.pem"), hello),
      (e: unknown) => e instanceof InputError && e.exitCode === 2 && /not a PKCS#8 private key/.test(e.message),
    );
  });

  it("plain keys cosign imports load (SEC1, PKCS#8 EC, PKCS#8 RSA, Ed25519); P-224 and RSA-1024 are refused", async () => {
    const expected: Record<string, string> = {
      "validecp256.pem": "ecdsa-p256-sha256",
      "validecpkcs8.pem": "ecdsa-p256-sha256",
      "validrsapkcs8.pem": "rsa-pkcs1v15-sha256",
      "ed25519key.pem": "ed25519",
    };
    for (const [f, algorithm] of Object.entries(expected)) {
      const signer = await openSigner(join(COSIGN_KEYS, f), { env: {} });
      assert.equal(signer.algorithm, algorithm, f);
      const message = Buffer.from("payload");
      const sig = await signer.signMessage(message);
      assert.ok(verify(algorithm === "ed25519" ? null : "sha256", message, createPublicKey(await signer.publicKeyPem()), sig), f);
    }
    await assert.rejects(openSigner(join(COSIGN_KEYS, "invalidecp224.pem"), { env: {} }), /ECDSA curve P-224 not allowed/);
    await assert.rejects(openSigner(join(COSIGN_KEYS, "invalidrsasmallkey.pem"), { env: {} }), /key size not supported: 1024/);
  });
});

describe("the encrypted format we write", () => {
  it("writes N=32768 (read by every cosign and containers/image), r=8, p=1, and reads back with node:crypto", async () => {
    const { privateKeyPem, publicKeyPem, keyId } = await generateCosignKeyPair("s3cret");
    assert.match(privateKeyPem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    assert.doesNotMatch(privateKeyPem, /s3cret/);
    const block = parsePemBlocks(privateKeyPem, "new")[0]!;
    const json = JSON.parse(block.der.toString("utf8")) as { kdf: { params: { N: number; r: number; p: number }; salt: string }; cipher: { nonce: string } };
    assert.deepEqual(json.kdf.params, { N: WRITTEN_SCRYPT_N, r: 8, p: 1 });
    assert.equal(WRITTEN_SCRYPT_N, 32768);
    assert.equal(Buffer.from(json.cipher.nonce, "base64").length, 24);
    const plaintext = await decryptCosignKey(block.der, "s3cret", "new");
    const key = createPrivateKey({ key: plaintext, format: "der", type: "pkcs8" });
    assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
    assert.equal(createPublicKey(key).export({ format: "pem", type: "spki" }), publicKeyPem);
    const spki = createPublicKey(publicKeyPem).export({ format: "der", type: "spki" });
    assert.equal(keyId, createHash("sha256").update(spki).digest("hex"));
  });

  it("reads N = 2^15, 2^16 and 2^17 and refuses other parameters", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    for (const n of ACCEPTED_SCRYPT_N) {
      const pem = await encryptCosignKey(der, "pw", n);
      const block = parsePemBlocks(pem, "k")[0]!;
      assert.deepEqual(await decryptCosignKey(block.der, "pw", "k"), der, `N=${n}`);
    }
    const pem = await encryptCosignKey(der, "pw");
    const block = parsePemBlocks(pem, "k")[0]!;
    const json = JSON.parse(block.der.toString("utf8")) as { kdf: { params: Record<string, number> } };
    for (const params of [{ N: 16384, r: 8, p: 1 }, { N: 32768, r: 4, p: 1 }, { N: 32768, r: 8, p: 2 }]) {
      json.kdf.params = params;
      await assert.rejects(decryptCosignKey(Buffer.from(JSON.stringify(json)), "pw", "k"), /not ones cosign accepts/, JSON.stringify(params));
    }
  });

  it("a flipped ciphertext byte is refused as a wrong password or corrupted file", async () => {
    const { privateKeyPem } = await generateCosignKeyPair("pw");
    const block = parsePemBlocks(privateKeyPem, "k")[0]!;
    const json = JSON.parse(block.der.toString("utf8")) as { ciphertext: string };
    const ct = Buffer.from(json.ciphertext, "base64");
    ct[10] = (ct[10] ?? 0) ^ 1;
    json.ciphertext = ct.toString("base64");
    await assert.rejects(decryptCosignKey(Buffer.from(JSON.stringify(json)), "pw", "k"), /wrong password \(or the key file is corrupted\)/);
  });

  it("encrypted PKCS#8 (ENCRYPTED PRIVATE KEY) reads with the password", async () => {
    const t = await tempDir();
    try {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
      const path = join(t.dir, "k.pem");
      await writeFile(path, privateKey.export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase: "pw" }));
      const key = await loadPrivateKeyFile(path, { env: { COSIGN_PASSWORD: "pw" } });
      assert.equal(key.asymmetricKeyDetails?.namedCurve, "secp384r1");
      await assert.rejects(loadPrivateKeyFile(path, { env: { COSIGN_PASSWORD: "nope" } }), /wrong password/);
      await writeFile(join(t.dir, "k.pub"), createPublicKey(privateKey).export({ format: "pem", type: "spki" }));
      await assert.rejects(loadPrivateKeyFile(join(t.dir, "k.pub"), {}), /holds a public key, not a private key/);
    } finally {
      await t.cleanup();
    }
  });
});

describe("the file Signer", () => {
  const cases: { curve: string; hash: "sha256" | "sha384" | "sha512"; algorithm: string }[] = [
    { curve: "P-256", hash: "sha256", algorithm: "ecdsa-p256-sha256" },
    { curve: "P-384", hash: "sha384", algorithm: "ecdsa-p384-sha384" },
    { curve: "P-521", hash: "sha512", algorithm: "ecdsa-p521-sha512" },
  ];
  for (const c of cases) {
    it(`ECDSA ${c.curve}: signDigest gives DER that node:crypto verifies over the message`, async () => {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: c.curve });
      const signer = new FileSigner("mem", privateKey);
      assert.equal(signer.algorithm, c.algorithm);
      const message = Buffer.from(`artifact for ${c.curve}`);
      const digest = createHash(c.hash).update(message).digest();
      const sig = await signer.signDigest(digest, c.hash);
      assert.equal(sig[0], 0x30, "ASN.1 DER SEQUENCE");
      assert.ok(verify(c.hash, message, { key: publicKey, dsaEncoding: "der" }, sig));
      assert.ok(!verify(c.hash, Buffer.concat([message, Buffer.from("x")]), publicKey, sig));
      assert.ok(verify(c.hash, message, publicKey, await signer.signMessage(message)));
      await assert.rejects(signer.signDigest(digest.subarray(1), c.hash), UsageError);
      await signer.close();
      await assert.rejects(signer.signDigest(digest, c.hash), /closed/);
    });
  }

  it("RSA: signDigest is PKCS#1 v1.5 over SHA-256, verified by node:crypto", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const signer = new FileSigner("mem", privateKey);
    const message = Buffer.from("rsa artifact");
    const sig = await signer.signDigest(createHash("sha256").update(message).digest(), "sha256");
    assert.ok(verify("sha256", message, publicKey, sig));
    assert.ok(!verify("sha256", Buffer.from("other"), publicKey, sig));
  });

  it("Ed25519 signs messages only", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const signer = new FileSigner("mem", privateKey);
    const message = Buffer.from("ed artifact");
    assert.ok(verify(null, message, publicKey, await signer.signMessage(message)));
    await assert.rejects(signer.signDigest(createHash("sha256").update(message).digest(), "sha256"), /sign messages, not digests/);
  });

  it("the key id is the hex SHA-256 of the DER SubjectPublicKeyInfo", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const signer = new FileSigner("mem", privateKey as KeyObject);
    assert.equal(await signer.keyId(), createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("hex"));
    assert.equal(await signer.publicKeyPem(), publicKey.export({ format: "pem", type: "spki" }));
  });
});

describe("passwords and key references", () => {
  it("TOLLGATE_PASSWORD wins over COSIGN_PASSWORD; an empty one counts; the prompt comes last", async () => {
    assert.equal(await readPassword("k", { env: { TOLLGATE_PASSWORD: "a", COSIGN_PASSWORD: "b" } }), "a");
    assert.equal(await readPassword("k", { env: { COSIGN_PASSWORD: "b" } }), "b");
    assert.equal(await readPassword("k", { env: { COSIGN_PASSWORD: "" }, promptPassword: () => Promise.resolve("p") }), "");
    assert.equal(await readPassword("k", { env: {}, promptPassword: () => Promise.resolve("p") }), "p");
    await assert.rejects(readPassword("k", { env: {} }), (e: unknown) => e instanceof UsageError && /set TOLLGATE_PASSWORD \(or COSIGN_PASSWORD\)/.test(e.message));
    let n = 0;
    await assert.rejects(readPassword("k", { env: {}, promptPassword: () => Promise.resolve(`p${n++}`) }, true), /the two passwords differ/);
  });

  it("a scheme no backend reads is a usage error that shows only the scheme", async () => {
    await assert.rejects(openSigner("k8s://ns/secret?token=TOPSECRET", {}), (e: unknown) => e instanceof UsageError && /"k8s:"/.test(e.message) && !e.message.includes("TOPSECRET"));
    await assert.rejects(openSigner("", {}), UsageError);
  });

  it("a missing key file is one clear input error", async () => {
    await assert.rejects(openSigner("/nonexistent/cosign.key", {}), (e: unknown) => e instanceof InputError && /no such file/.test(e.message));
  });

  it("toPem and parsePemBlocks round-trip", () => {
    const der = Buffer.from("0123456789".repeat(20));
    const blocks = parsePemBlocks(`junk\n${toPem("PUBLIC KEY", der)}`, "x");
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0]!.type, "PUBLIC KEY");
    assert.deepEqual(blocks[0]!.der, der);
  });
});
