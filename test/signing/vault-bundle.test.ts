/**
 * Sigstore bundles signed with a Vault Transit key (`hashivault://KEY`), against A STAND-IN FOR
 * VAULT (and for GitHub's OIDC endpoint) on 127.0.0.1: verified with @sigstore/verify used directly
 * (an independent path) and with `tollgate verify blob`; a flipped byte in the artifact or the
 * bundle fails. The CLI runs as a user would, in a child process talking to the stand-in.
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bundleFromJSON, type SerializedBundle } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { hashivaultSource } from "../../src/signing/keys/hashivault.ts";
import { signBlob } from "../../src/signing/sign-blob.ts";
import { runCli, tempDir } from "../helpers.ts";
import { GITHUB_ISSUER, GitHubOidcStandIn, VaultStandIn } from "./vault-standin.ts";

const EMPTY_ROOT = TrustedRoot.fromJSON({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
const ROOT_TOKEN = "hvs.cli-test-token";

/** @sigstore/verify with this public key only (by cosign's hint), no tlog or timestamp required. */
function verifyWithKey(json: unknown, publicKey: KeyObject, artifact: Buffer): void {
  const expectedHint = createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("base64");
  const trust = toTrustMaterial(EMPTY_ROOT, (hint) => {
    if (hint !== expectedHint) throw new Error(`unexpected key hint ${hint}`);
    return { publicKey, validFor: () => true };
  });
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(json), artifact));
}

function flipped(data: Buffer, at: number): Buffer {
  const copy = Buffer.from(data);
  copy[at]! ^= 0x01;
  return copy;
}

describe("Sigstore bundles signed with a Vault Transit key (stand-in for Vault on 127.0.0.1)", { timeout: 60_000 }, () => {
  let vault: VaultStandIn;
  let github: GitHubOidcStandIn;
  let dir: string;
  let cleanup: () => Promise<void>;
  let publicKey: KeyObject;
  const artifactBytes = Buffer.from("release artifact signed by Vault\n".repeat(100));

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-vault-bundle-"));
    github = await GitHubOidcStandIn.start();
    const role = { bound_audiences: [] as string[], bound_claims: { repository: "acme/app" } };
    vault = await VaultStandIn.start({ tokens: [ROOT_TOKEN], jwtValidationKeys: [github.publicKey], boundIssuer: GITHUB_ISSUER, roles: { ci: role } });
    role.bound_audiences.push(vault.url);
    vault.createKey("release");
    publicKey = createPublicKey(vault.publicKeyPem("release", 1));
    await writeFile(join(dir, "artifact.bin"), artifactBytes);
  });
  after(async () => {
    await vault.close();
    await github.close();
    await cleanup();
  });

  test("signBlob with a Vault key obtained by GitHub OIDC login: @sigstore/verify accepts it; a flipped byte fails", async () => {
    const signer = await hashivaultSource.open("hashivault://release", { env: { VAULT_ADDR: vault.url, ...github.env() }, config: { vault: { jwt_role: "ci" } } });
    const bundlePath = join(dir, "lib.sigstore.json");
    try {
      await signBlob({ artifact: join(dir, "artifact.bin"), bundlePath, signer, tlogUpload: false, env: {}, audit: { config: {}, env: { TOLLGATE_AUDIT_LOG: join(dir, "audit.log") } } });
    } finally {
      await signer.close();
    }
    const json = JSON.parse(await readFile(bundlePath, "utf8")) as SerializedBundle;
    verifyWithKey(json, publicKey, artifactBytes);
    assert.throws(() => verifyWithKey(json, publicKey, flipped(artifactBytes, 17)));
    const sig = Buffer.from(json.messageSignature!.signature, "base64");
    assert.throws(() => verifyWithKey({ ...json, messageSignature: { ...json.messageSignature!, signature: flipped(sig, sig.length - 2).toString("base64") } }, publicKey, artifactBytes));
    assert.equal(vault.isLive(vault.issuedTokens.at(-1)!), false, "the login token is revoked");
  });

  test("CLI: keys public, sign blob --key hashivault://release, verify blob --key: exit 0; a flipped artifact or bundle: exit 1", async () => {
    const env = { VAULT_ADDR: vault.url, VAULT_TOKEN: ROOT_TOKEN, ACTIONS_ID_TOKEN_REQUEST_URL: "", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "", TOLLGATE_AUDIT_LOG: join(dir, "cli-audit.log") };
    const pub = await runCli(["keys", "public", "hashivault://release"], { cwd: dir, env });
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(createPublicKey(pub.stdout).export({ type: "spki", format: "pem" }), publicKey.export({ type: "spki", format: "pem" }));
    await writeFile(join(dir, "vault.pub"), pub.stdout);

    const bundle = join(dir, "cli.sigstore.json");
    const signed = await runCli(["sign", "blob", "--key", "vault://release", "--bundle", bundle, "--no-tlog-upload", join(dir, "artifact.bin")], { cwd: dir, env });
    assert.equal(signed.code, 0, signed.stderr);
    assert.ok(!`${signed.stdout}${signed.stderr}`.includes(ROOT_TOKEN), "the token is never printed");
    const json = JSON.parse(await readFile(bundle, "utf8")) as SerializedBundle;
    verifyWithKey(json, publicKey, artifactBytes);

    const verified = await runCli(["verify", "blob", "--bundle", bundle, "--key", join(dir, "vault.pub"), "--insecure-ignore-tlog", join(dir, "artifact.bin")], { cwd: dir, env: {} });
    assert.equal(verified.code, 0, verified.stderr);
    // As cosign's --key: the key reference itself, its public key read from Vault (nothing signed).
    const byRef = await runCli(["verify", "blob", "--bundle", bundle, "--key", "hashivault://release", "--insecure-ignore-tlog", join(dir, "artifact.bin")], { cwd: dir, env });
    assert.equal(byRef.code, 0, byRef.stderr);

    await writeFile(join(dir, "artifact-flipped.bin"), flipped(artifactBytes, 3));
    const badArtifact = await runCli(["verify", "blob", "--bundle", bundle, "--key", join(dir, "vault.pub"), "--insecure-ignore-tlog", join(dir, "artifact-flipped.bin")], { cwd: dir, env: {} });
    assert.equal(badArtifact.code, 1, badArtifact.stderr);
    const byRefFlipped = await runCli(["verify", "blob", "--bundle", bundle, "--key", "hashivault://release", "--insecure-ignore-tlog", join(dir, "artifact-flipped.bin")], { cwd: dir, env });
    assert.equal(byRefFlipped.code, 1, byRefFlipped.stderr);

    const sig = Buffer.from(json.messageSignature!.signature, "base64");
    await writeFile(join(dir, "flipped.sigstore.json"), JSON.stringify({ ...json, messageSignature: { ...json.messageSignature!, signature: flipped(sig, 10).toString("base64") } }));
    const badBundle = await runCli(["verify", "blob", "--bundle", join(dir, "flipped.sigstore.json"), "--key", join(dir, "vault.pub"), "--insecure-ignore-tlog", join(dir, "artifact.bin")], { cwd: dir, env: {} });
    assert.equal(badBundle.code, 1, badBundle.stderr);
  });
});
