/**
 * `hashivault://KEY` signing through the Signer interface, against A STAND-IN FOR VAULT on 127.0.0.1
 * (test/signing/vault-standin.ts: no Vault server can run here). The stand-in implements the Transit
 * API with real ECDSA keys; every signature is checked here independently with node:crypto against
 * the public key read from the stand-in's /keys endpoint, not through the client.
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify as cryptoVerify } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { NetworkError, UsageError, VerificationFailedError } from "../../src/errors.ts";
import { hashivaultSource, parseHashivaultRef } from "../../src/signing/keys/hashivault.ts";
import { openSigner } from "../../src/signing/keys/index.ts";
import { VaultStandIn } from "./vault-standin.ts";

const ROOT_TOKEN = "hvs.test-root-token-given-to-the-client";

/** The public key of a key version, read from the stand-in over HTTP (not through the client). */
async function publicKeyFromVault(vault: VaultStandIn, name: string, version?: number, mount = "transit", headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${vault.url}/v1/${mount}/keys/${name}`, { headers: { "x-vault-token": ROOT_TOKEN, ...headers } });
  assert.equal(res.status, 200);
  const data = ((await res.json()) as { data: { latest_version: number; keys: Record<string, { public_key: string }> } }).data;
  return data.keys[String(version ?? data.latest_version)]!.public_key;
}

function tokenEnv(vault: VaultStandIn, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { VAULT_ADDR: vault.url, VAULT_TOKEN: ROOT_TOKEN, ...extra };
}

describe("hashivault:// signing (against a stand-in for Vault on 127.0.0.1)", { timeout: 30_000 }, () => {
  let vault: VaultStandIn;
  before(async () => {
    vault = await VaultStandIn.start({ tokens: [ROOT_TOKEN] });
    vault.createKey("release", "ecdsa-p256");
    vault.createKey("release-p384", "ecdsa-p384");
  });
  after(() => vault.close());

  test("signMessage: a DER ECDSA signature over SHA-256 that node:crypto verifies with the key from /keys; only the digest is sent", async () => {
    const signer = await hashivaultSource.open("hashivault://release", { env: tokenEnv(vault) });
    try {
      const message = Buffer.from("the artifact's bytes, which must never reach Vault");
      const before = vault.requests.length;
      const signature = await signer.signMessage(message);
      const pem = await publicKeyFromVault(vault, "release");
      assert.equal(cryptoVerify("sha256", message, pem, signature), true, "verifies against the key from /keys");
      assert.equal(cryptoVerify("sha256", Buffer.concat([message, Buffer.from("!")]), pem, signature), false, "another message does not verify");
      assert.equal(signature[0], 0x30, "ASN.1 DER SEQUENCE");
      assert.equal(signer.backend, "hashivault");
      assert.equal(signer.algorithm, "ecdsa-p256-sha256");
      assert.equal(signer.ref, "hashivault://release");
      assert.equal(await signer.publicKeyPem(), createPublicKey(pem).export({ type: "spki", format: "pem" }).toString());
      const spki = createPublicKey(pem).export({ type: "spki", format: "der" });
      assert.equal(await signer.keyId(), createHash("sha256").update(spki).digest("hex"));

      const signCalls = vault.requests.slice(before).filter((r) => r.path === "/v1/transit/sign/release");
      assert.equal(signCalls.length, 1);
      const body = signCalls[0]!.body!;
      assert.equal(body.prehashed, true);
      assert.equal(body.hash_algorithm, "sha2-256");
      assert.equal(body.marshaling_algorithm, "asn1");
      assert.equal(body.key_version, 1);
      assert.equal(body.input, createHash("sha256").update(message).digest("base64"), "the input is the digest");
      assert.equal(signCalls[0]!.headers["x-vault-token"], ROOT_TOKEN);
      for (const r of vault.requests) assert.ok(!JSON.stringify(r.body ?? {}).includes(message.toString("base64")), "the message is never sent");

      // Vault's own verify endpoint agrees (a second, server-side check of the same signature).
      const verify = await fetch(`${vault.url}/v1/transit/verify/release`, {
        method: "POST",
        headers: { "x-vault-token": ROOT_TOKEN, "content-type": "application/json" },
        body: JSON.stringify({ input: body.input, prehashed: true, hash_algorithm: "sha2-256", signature: `vault:v1:${Buffer.from(signature).toString("base64")}` }),
      });
      assert.equal(((await verify.json()) as { data: { valid: boolean } }).data.valid, true);
    } finally {
      await signer.close();
    }
  });

  test("signDigest signs the given SHA-256 digest; a P-384 key signs SHA-384", async () => {
    const message = Buffer.from("digest signed by the caller");
    const p256Signer = await hashivaultSource.open("hashivault://release", { env: tokenEnv(vault) });
    const p384Signer = await hashivaultSource.open("hashivault://release-p384", { env: tokenEnv(vault) });
    try {
      const sig = await p256Signer.signDigest(createHash("sha256").update(message).digest(), "sha256");
      assert.equal(cryptoVerify("sha256", message, await publicKeyFromVault(vault, "release"), sig), true);
      await assert.rejects(p256Signer.signDigest(new Uint8Array(31), "sha256"), UsageError, "a digest of the wrong length");

      assert.equal(p384Signer.algorithm, "ecdsa-p384-sha384");
      const sig384 = await p384Signer.signMessage(message);
      assert.equal(cryptoVerify("sha384", message, await publicKeyFromVault(vault, "release-p384"), sig384), true);
      assert.equal(cryptoVerify("sha256", message, await publicKeyFromVault(vault, "release-p384"), sig384), false);
    } finally {
      await p256Signer.close();
      await p384Signer.close();
    }
  });

  test("the key version read at open is the one signed with, even after the key is rotated", async () => {
    vault.createKey("rotating", "ecdsa-p256");
    const signer = await hashivaultSource.open("hashivault://rotating", { env: tokenEnv(vault) });
    try {
      vault.rotateKey("rotating");
      const message = Buffer.from("signed across a rotation");
      const sig = await signer.signMessage(message);
      assert.equal(cryptoVerify("sha256", message, await publicKeyFromVault(vault, "rotating", 1), sig), true);
      assert.equal(cryptoVerify("sha256", message, await publicKeyFromVault(vault, "rotating", 2), sig), false);
      assert.equal(await signer.publicKeyPem(), createPublicKey(await publicKeyFromVault(vault, "rotating", 1)).export({ type: "spki", format: "pem" }).toString());
    } finally {
      await signer.close();
    }
    const after = await hashivaultSource.open("hashivault://rotating", { env: tokenEnv(vault) });
    try {
      const message = Buffer.from("signed with version 2");
      assert.equal(cryptoVerify("sha256", message, await publicKeyFromVault(vault, "rotating", 2), await after.signMessage(message)), true);
    } finally {
      await after.close();
    }
  });

  test("vault://KEY, TRANSIT_SECRET_ENGINE_PATH and VAULT_NAMESPACE (sent as X-Vault-Namespace)", async () => {
    const namespaced = await VaultStandIn.start({ tokens: [ROOT_TOKEN], transitMount: "signing/transit", namespace: "team-a" });
    try {
      namespaced.createKey("app");
      const env = tokenEnv(namespaced, { TRANSIT_SECRET_ENGINE_PATH: "signing/transit", VAULT_NAMESPACE: "team-a" });
      assert.equal(hashivaultSource.handles("vault://app"), true);
      const signer = await hashivaultSource.open("vault://app", { env });
      try {
        const message = Buffer.from("namespaced");
        const sig = await signer.signMessage(message);
        assert.equal(cryptoVerify("sha256", message, await publicKeyFromVault(namespaced, "app", 1, "signing/transit", { "x-vault-namespace": "team-a" }), sig), true);
      } finally {
        await signer.close();
      }
      // the stand-in refuses a request without the namespace: the client sent it on every call
      await assert.rejects(hashivaultSource.open("vault://app", { env: { ...env, VAULT_NAMESPACE: "" } }), /HTTP 403/);
      // the config's transit_mount wins over the environment
      const fromConfig = await hashivaultSource.open("vault://app", { env: { ...env, TRANSIT_SECRET_ENGINE_PATH: "elsewhere" }, config: { vault: { transit_mount: "signing/transit" } } });
      await fromConfig.close();
    } finally {
      await namespaced.close();
    }
  });

  test("openSigner (src/signing/keys/index.ts) routes hashivault:// and vault:// here", async () => {
    for (const ref of ["hashivault://release", "vault://release"]) {
      const signer = await openSigner(ref, { env: tokenEnv(vault) });
      try {
        assert.equal(signer.backend, "hashivault");
        const message = Buffer.from(ref);
        assert.equal(cryptoVerify("sha256", message, await publicKeyFromVault(vault, "release"), await signer.signMessage(message)), true);
      } finally {
        await signer.close();
      }
    }
  });

  test("references: which ones the source handles, and bad key names refused as usage errors", async () => {
    assert.equal(hashivaultSource.handles("hashivault://release"), true);
    assert.equal(hashivaultSource.handles("vault://release"), true);
    assert.equal(hashivaultSource.handles("awskms://alias/release"), false);
    assert.equal(hashivaultSource.handles("cosign.key"), false);
    assert.equal(parseHashivaultRef("hashivault://my-key_1.v2"), "my-key_1.v2");
    for (const bad of ["hashivault://", "hashivault://../sys/seal", "hashivault://a/b", "hashivault://a?b", "vault://%2e%2e"]) {
      await assert.rejects(hashivaultSource.open(bad, { env: tokenEnv(vault) }), UsageError, bad);
    }
    await assert.rejects(hashivaultSource.open("hashivault://release", { env: { VAULT_TOKEN: ROOT_TOKEN } }), /no Vault address/);
    await assert.rejects(hashivaultSource.open("hashivault://release", { env: { VAULT_ADDR: vault.url } }), /no Vault credentials/);
  });

  test("Vault errors are one line with the status, never with the token", async () => {
    await assert.rejects(hashivaultSource.open("hashivault://absent", { env: tokenEnv(vault) }), (e: unknown) => {
      assert.ok(e instanceof NetworkError);
      assert.match(e.message, /HTTP 404/);
      return true;
    });
    const wrongToken = "hvs.a-token-vault-does-not-know";
    await assert.rejects(hashivaultSource.open("hashivault://release", { env: tokenEnv(vault, { VAULT_TOKEN: wrongToken }) }), (e: unknown) => {
      assert.ok(e instanceof NetworkError);
      assert.match(e.message, /HTTP 403: permission denied/);
      assert.ok(!e.message.includes(wrongToken));
      return true;
    });
  });

  test("a signature that does not verify against the key is not handed on (the client checks what Vault returns)", async () => {
    const signer = await hashivaultSource.open("hashivault://release", { env: tokenEnv(vault) });
    vault.signOtherDigest = true;
    try {
      await assert.rejects(signer.signMessage(Buffer.from("m")), (e: unknown) => e instanceof VerificationFailedError && e.reason === "SIGNATURE");
    } finally {
      vault.signOtherDigest = false;
      await signer.close();
    }
  });

  test("a redirect is refused: the token is not sent to where it points", async () => {
    let elsewhereRequests = 0;
    const elsewhere: Server = createServer((_req, res) => {
      elsewhereRequests++;
      res.writeHead(200).end("{}");
    });
    await new Promise<void>((r) => elsewhere.listen(0, "127.0.0.1", r));
    const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    const redirecting: Server = createServer((req, res) => {
      res.writeHead(307, { location: `${target}${req.url ?? "/"}` }).end();
    });
    await new Promise<void>((r) => redirecting.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`;
      await assert.rejects(hashivaultSource.open("hashivault://release", { env: { VAULT_ADDR: url, VAULT_TOKEN: ROOT_TOKEN } }), /redirect \(HTTP 307\)/);
      assert.equal(elsewhereRequests, 0);
    } finally {
      await new Promise((r) => elsewhere.close(r));
      await new Promise((r) => redirecting.close(r));
    }
  });
});
