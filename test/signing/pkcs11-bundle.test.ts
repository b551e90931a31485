/**
 * Sigstore bundles signed with a key on a real SoftHSM2 token (`pkcs11:` URI), initialised by this
 * test: verified with @sigstore/verify used directly against the public key the token reported when
 * the key was generated (an independent path), and with `tollgate verify blob`; a flipped byte in the
 * artifact or the bundle fails. The audit log records the pkcs11 backend and a ref without the PIN.
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bundleFromJSON, type SerializedBundle } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { pkcs11Source } from "../../src/signing/keys/pkcs11.ts";
import { signBlob } from "../../src/signing/sign-blob.ts";
import { runCli } from "../helpers.ts";
import { SOFTHSM_MODULE, generateTestKeys, initSoftHsmToken, softhsmMissing, type SoftHsmToken } from "./softhsm.ts";

const skip = softhsmMissing();
if (skip) console.log(`# ${skip}`);

const EMPTY_ROOT = TrustedRoot.fromJSON({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
const LABEL = "tollgate-bundle";
const PIN = "246810";

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

describe("Sigstore bundles signed with a SoftHSM2 key (pkcs11:)", { skip, timeout: 60_000 }, () => {
  let token: SoftHsmToken;
  let publicKey: KeyObject;
  let publicKeyPem: string;
  const artifactBytes = Buffer.from("release artifact signed on an HSM\n".repeat(100));
  const keyRef = `pkcs11:token=${LABEL};object=release;type=private?module-path=${SOFTHSM_MODULE}&pin-value=${PIN}`;

  before(async () => {
    token = await initSoftHsmToken(LABEL, PIN);
    publicKeyPem = generateTestKeys(token, [{ kind: "ec", curve: "secp256r1", label: "release", id: "a1" }]).get("release")!;
    publicKey = createPublicKey(publicKeyPem);
    await writeFile(join(token.dir, "artifact.bin"), artifactBytes);
    await writeFile(join(token.dir, "release.pub"), publicKeyPem);
  });
  after(async () => {
    await token?.cleanup();
  });

  test("signBlob with the token key: @sigstore/verify accepts it; a flipped byte fails; the audit log has no PIN", async () => {
    const signer = await pkcs11Source.open(keyRef, { env: {} });
    const bundlePath = join(token.dir, "lib.sigstore.json");
    const auditLog = join(token.dir, "audit.log");
    try {
      await signBlob({ artifact: join(token.dir, "artifact.bin"), bundlePath, signer, tlogUpload: false, env: {}, audit: { config: {}, env: { TOLLGATE_AUDIT_LOG: auditLog } } });
    } finally {
      await signer.close();
    }
    const json = JSON.parse(await readFile(bundlePath, "utf8")) as SerializedBundle;
    verifyWithKey(json, publicKey, artifactBytes);
    assert.throws(() => verifyWithKey(json, publicKey, flipped(artifactBytes, 17)));
    const sig = Buffer.from(json.messageSignature!.signature, "base64");
    assert.throws(() => verifyWithKey({ ...json, messageSignature: { ...json.messageSignature!, signature: flipped(sig, sig.length - 2).toString("base64") } }, publicKey, artifactBytes));

    const audit = await readFile(auditLog, "utf8");
    assert.match(audit, /"pkcs11"/);
    assert.match(audit, /pkcs11:token=tollgate-bundle;object=release;type=private\?module-path=/);
    assert.ok(!audit.includes(PIN), "the PIN is not in the audit log");
  });

  test("CLI: sign blob --key pkcs11:…, verify blob --key: exit 0; a flipped artifact or bundle: exit 1", async () => {
    const dir = token.dir;
    const env = { SOFTHSM2_CONF: token.conf, TOLLGATE_AUDIT_LOG: join(dir, "cli-audit.log"), ACTIONS_ID_TOKEN_REQUEST_URL: "", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "" };
    const bundle = join(dir, "cli.sigstore.json");
    const signed = await runCli(["sign", "blob", "--key", keyRef, "--bundle", bundle, "--no-tlog-upload", join(dir, "artifact.bin")], { cwd: dir, env });
    assert.equal(signed.code, 0, signed.stderr);
    assert.ok(!`${signed.stdout}${signed.stderr}`.includes(PIN), "the PIN is never printed");
    const json = JSON.parse(await readFile(bundle, "utf8")) as SerializedBundle;
    verifyWithKey(json, publicKey, artifactBytes);

    const verified = await runCli(["verify", "blob", "--bundle", bundle, "--key", join(dir, "release.pub"), "--insecure-ignore-tlog", join(dir, "artifact.bin")], { cwd: dir, env: {} });
    assert.equal(verified.code, 0, verified.stderr);

    await writeFile(join(dir, "artifact-flipped.bin"), flipped(artifactBytes, 3));
    const badArtifact = await runCli(["verify", "blob", "--bundle", bundle, "--key", join(dir, "release.pub"), "--insecure-ignore-tlog", join(dir, "artifact-flipped.bin")], { cwd: dir, env: {} });
    assert.equal(badArtifact.code, 1, badArtifact.stderr);

    const sig = Buffer.from(json.messageSignature!.signature, "base64");
    await writeFile(join(dir, "flipped.sigstore.json"), JSON.stringify({ ...json, messageSignature: { ...json.messageSignature!, signature: flipped(sig, 10).toString("base64") } }));
    const badBundle = await runCli(["verify", "blob", "--bundle", join(dir, "flipped.sigstore.json"), "--key", join(dir, "release.pub"), "--insecure-ignore-tlog", join(dir, "artifact.bin")], { cwd: dir, env: {} });
    assert.equal(badBundle.code, 1, badBundle.stderr);
  });
});
