/**
 * The verification side of containers/image OpenPGP simple signing (`verifyAtomicSignature`) on the
 * shared testdata (containers/image's `signature/fixtures`), judged by the gpg 2.2.40 oracle table
 * openpgp-gpg-oracle.tsv: GOODSIG rows verify with the recovered payload's sha256 as gpg gives it;
 * BADSIG, EXPSIG, REVKEYSIG, NO_PUBKEY, NODATA, encrypted and unsigned-literal rows are rejected;
 * `invalid-blob` (good signature, not JSON) is rejected by the strict payload parser. Also a round
 * trip of `signAtomicPayload` through it with a throw-away key, and another key refused.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as openpgp from "openpgp";
import { AtomicSignatureError, buildAtomicSignaturePayload, parseAtomicSignaturePayload, signAtomicPayload, verifyAtomicSignature } from "../../src/signing/openpgp-signing.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const DATA = join(SHARED_TESTDATA, "cosign-containers-image");
const FIXTURES = join(DATA, "fixtures");
const KEY_FILES = ["public-key.gpg", "public-key-1.gpg", "public-key-2.gpg", "public-key-with-subkey.gpg", "public-key-with-revoked-subkey.gpg"];

async function readKeyFile(path: string): Promise<openpgp.PublicKey[]> {
  const bytes = await readFile(path);
  return bytes.toString("latin1").includes("-----BEGIN PGP") ? await openpgp.readKeys({ armoredKeys: bytes.toString("utf8") }) : await openpgp.readKeys({ binaryKeys: bytes });
}

describe("atomic container signatures: containers/image fixtures against the gpg oracle", { skip: sharedTestdataMissing("cosign-containers-image") }, () => {
  test("every oracle row verifies or is rejected as gpg says", async () => {
    const keys = (await Promise.all(KEY_FILES.map((k) => readKeyFile(join(FIXTURES, k))))).flat();
    const rows = (await readFile(join(DATA, "openpgp-gpg-oracle.tsv"), "utf8")).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    assert.equal(rows.length, 17);
    let verified = 0;
    for (const row of rows) {
      const [file, , tokens, payloadSha] = row.split("\t") as [string, string, string, string];
      const good = /\bGOODSIG:/.test(tokens);
      const signature = await readFile(join(FIXTURES, file));
      // invalid-blob: a good signature over a payload that is not JSON, refused by the payload parser.
      // The -v3 rows: openpgp.js 6 does not read v3 signature packets, so even gpg's GOODSIG ones are refused (fail closed).
      const mustVerify = good && !file.startsWith("invalid-blob") && !file.endsWith("-v3");
      if (mustVerify) {
        const r = await verifyAtomicSignature(signature, keys);
        assert.equal(createHash("sha256").update(r.payloadBytes).digest("hex"), payloadSha, file);
        assert.ok(tokens.includes(`GOODSIG:${r.signingKeyId}`), `${file}: signed by ${r.signingKeyId}, gpg says ${tokens}`);
        verified++;
      } else {
        await assert.rejects(verifyAtomicSignature(signature, keys), AtomicSignatureError, file);
      }
    }
    assert.equal(verified, 4); // image, invalid-reference (rejected upstream only at policy level), no-optional-fields, subkey
  });

  test("image.signature's payload, parsed strictly", async () => {
    const keys = await readKeyFile(join(FIXTURES, "public-key.gpg"));
    const r = await verifyAtomicSignature(await readFile(join(FIXTURES, "image.signature")), keys);
    assert.equal(r.payload.dockerReference, "testing/manifest");
    assert.match(r.payload.manifestDigest, /^sha256:[0-9a-f]{64}$/);
    // Only a's key given: the subkey-signed fixture (another key) is refused.
    await assert.rejects(verifyAtomicSignature(await readFile(join(FIXTURES, "subkey.signature")), keys), AtomicSignatureError);
  });
});

describe("atomic container signatures: sign and verify round trip", () => {
  test("signAtomicPayload verifies with its key and not with another; the payload parses back", async () => {
    const make = () => openpgp.generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ name: "t", email: "t@example.test" }], format: "object" });
    const [a, b] = await Promise.all([make(), make()]);
    const digest = `sha256:${"ab".repeat(32)}`;
    const payload = buildAtomicSignaturePayload({ dockerReference: "127.0.0.1:5000/team/app:v1", manifestDigest: digest, creator: "tollgate", timestamp: 1700000000 });
    const signature = await signAtomicPayload(payload, a.privateKey);
    const r = await verifyAtomicSignature(signature, [a.publicKey]);
    assert.deepEqual(r.payload, { dockerReference: "127.0.0.1:5000/team/app:v1", manifestDigest: digest, creator: "tollgate", timestamp: 1700000000 });
    await assert.rejects(verifyAtomicSignature(signature, [b.publicKey]), AtomicSignatureError);
  });

  test("the strict parser refuses extra or missing fields and another type", () => {
    const ok = { critical: { identity: { "docker-reference": "r/x:1" }, image: { "docker-manifest-digest": `sha256:${"0".repeat(64)}` }, type: "atomic container signature" }, optional: {} };
    assert.equal(parseAtomicSignaturePayload(Buffer.from(JSON.stringify(ok))).dockerReference, "r/x:1");
    const bad = [
      { ...ok, extra: 1 },
      { ...ok, critical: { ...ok.critical, type: "cosign container image signature" } },
      { ...ok, critical: { ...ok.critical, more: true } },
      { ...ok, critical: { identity: ok.critical.identity, type: ok.critical.type } },
      { ...ok, optional: { timestamp: 1.5 } },
      { ...ok, optional: { other: "x" } },
    ];
    for (const doc of bad) assert.throws(() => parseAtomicSignaturePayload(Buffer.from(JSON.stringify(doc))), AtomicSignatureError, JSON.stringify(doc));
  });
});
