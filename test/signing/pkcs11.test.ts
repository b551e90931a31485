/**
 * PKCS#11 signing against a real SoftHSM2 token initialised by this test. Signatures are checked with
 * node:crypto's `verify` against the public key the token itself reported when the key was generated
 * (test/signing/softhsm.ts), an independent path from the signer's own public key lookup.
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey, generateKeyPairSync, sign as nodeSign, verify } from "node:crypto";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { runCli } from "../helpers.ts";
import { ecdsaRawToDer, pkcs11Source } from "../../src/signing/keys/pkcs11.ts";
import type { Signer } from "../../src/signing/keys/types.ts";
import { SOFTHSM_MODULE, generateTestKeys, initSoftHsmToken, relabelPublicKeyId, softhsmMissing, type SoftHsmToken } from "./softhsm.ts";

const skip = softhsmMissing();
if (skip) console.log(`# ${skip}`);

const LABEL = "tollgate-test";
const PIN = "1234";
const MESSAGE = Buffer.from("tollgate signs this artifact\n");

function uri(path: string, query = `module-path=${SOFTHSM_MODULE}&pin-value=${PIN}`): string {
  return `pkcs11:token=${LABEL};${path}${query ? `?${query}` : ""}`;
}

async function openError(ref: string, options: Parameters<typeof pkcs11Source.open>[1] = { env: {} }): Promise<InputError> {
  try {
    const signer = await pkcs11Source.open(ref, options);
    await signer.close();
  } catch (err) {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.ok(!err.message.includes("\n"), "one line");
    return err;
  }
  assert.fail(`${ref} opened`);
}

describe("PKCS#11 keys on SoftHSM2", { skip }, () => {
  let token: SoftHsmToken;
  let pems: Map<string, string>;

  before(async () => {
    token = await initSoftHsmToken(LABEL, PIN);
    pems = generateTestKeys(token, [
      { kind: "ec", curve: "secp256r1", label: "sigkey", id: "01" },
      { kind: "ec", curve: "secp384r1", label: "sigkey384", id: "02" },
      { kind: "rsa", bits: 2048, label: "rsakey", id: "03" },
      { kind: "ec", curve: "secp256r1", label: "no-public-half", id: "04", withPublicKey: false },
      { kind: "ec", curve: "secp256r1", label: "mismatched", id: "05", withPublicKey: false },
      { kind: "ec", curve: "secp256r1", label: "other", id: "06" },
    ]);
    // The public half of "other" now claims to belong to "mismatched" (same CKA_ID).
    relabelPublicKeyId(token, "06", "05");
  });
  after(async () => {
    await token?.cleanup();
  });

  it("signs a digest with CKM_ECDSA and returns DER that node:crypto verifies with the token's public key", async () => {
    const signer = await pkcs11Source.open(uri("object=sigkey;id=%01;type=private"), { env: {} });
    try {
      assert.equal(signer.backend, "pkcs11");
      assert.equal(signer.algorithm, "ecdsa-p256-sha256");
      assert.equal(signer.ref, `pkcs11:token=${LABEL};object=sigkey;id=%01;type=private?module-path=${SOFTHSM_MODULE}`);
      assert.ok(!signer.ref.includes(PIN));

      const pem = await signer.publicKeyPem();
      assert.equal(pem, pems.get("sigkey"));
      const der = createPublicKey(pem).export({ type: "spki", format: "der" });
      assert.equal(await signer.keyId(), createHash("sha256").update(der).digest("hex"));

      const digest = createHash("sha256").update(MESSAGE).digest();
      const sig = await signer.signDigest(digest, "sha256");
      assert.equal(sig[0], 0x30, "DER SEQUENCE");
      const tokenPublicKey = createPublicKey(pems.get("sigkey")!);
      assert.equal(verify("sha256", MESSAGE, tokenPublicKey, sig), true);
      assert.equal(verify("sha256", Buffer.from("tollgate signs this artifacT\n"), tokenPublicKey, sig), false, "another message fails");
      const otherKey = createPublicKey(pems.get("other")!);
      assert.equal(verify("sha256", MESSAGE, otherKey, sig), false, "another key fails");

      const messageSig = await signer.signMessage(MESSAGE);
      assert.equal(verify("sha256", MESSAGE, tokenPublicKey, messageSig), true);
    } finally {
      await signer.close();
      await signer.close();
    }
    await assert.rejects(signer.signMessage(MESSAGE), /closed/);
  });

  it("signs with P-384 (sha384) and RSA 2048 (CKM_RSA_PKCS over a DigestInfo)", async () => {
    const p384 = await pkcs11Source.open(uri("id=%02"), { env: {} });
    const rsa = await pkcs11Source.open(uri("object=rsakey"), { env: {} }).catch(async (err: unknown) => {
      await p384.close();
      throw err;
    });
    try {
      assert.equal(p384.algorithm, "ecdsa-p384-sha384");
      assert.equal(await p384.publicKeyPem(), pems.get("sigkey384"));
      assert.equal(verify("sha384", MESSAGE, createPublicKey(pems.get("sigkey384")!), await p384.signMessage(MESSAGE)), true);
      await assert.rejects(p384.signDigest(createHash("sha256").update(MESSAGE).digest(), "sha256"), /signs sha384 digests, not sha256/);

      assert.equal(rsa.algorithm, "rsa-pkcs1v15-sha256");
      assert.equal(await rsa.publicKeyPem(), pems.get("rsakey"));
      const sig = await rsa.signDigest(createHash("sha256").update(MESSAGE).digest(), "sha256");
      assert.equal(sig.length, 256);
      assert.equal(verify("sha256", MESSAGE, createPublicKey(pems.get("rsakey")!), sig), true);
      await assert.rejects(rsa.signDigest(new Uint8Array(31), "sha256"), /a sha256 digest is 32 bytes, not 31/);
    } finally {
      await p384.close();
      await rsa.close();
    }
  });

  it("reads the PIN from pin-source, from TOLLGATE_PKCS11_PIN and PKCS11_PIN, and the module from tollgate.yaml", async () => {
    const pinFile = join(token.dir, "pin");
    await writeFile(pinFile, `${PIN}\n`);
    await chmod(pinFile, 0o600);
    const cases: Array<[string, Parameters<typeof pkcs11Source.open>[1]]> = [
      [uri("object=sigkey", `module-path=${SOFTHSM_MODULE}&pin-source=file:${pinFile}`), { env: {} }],
      [uri("object=sigkey", `module-path=${SOFTHSM_MODULE}&pin-source=${pinFile}`), { env: {} }],
      [uri("object=sigkey", `module-path=${SOFTHSM_MODULE}`), { env: { TOLLGATE_PKCS11_PIN: PIN, PKCS11_PIN: "0000" } }],
      [uri("object=sigkey", `module-path=${SOFTHSM_MODULE}`), { env: { PKCS11_PIN: PIN } }],
      [uri("object=sigkey", ""), { env: { TOLLGATE_PKCS11_PIN: PIN }, config: { pkcs11: { module: SOFTHSM_MODULE } } }],
      [uri("object=sigkey", ""), { env: {}, config: { pkcs11: { module: SOFTHSM_MODULE } }, promptPassword: async () => PIN }],
    ];
    for (const [ref, options] of cases) {
      const signer: Signer = await pkcs11Source.open(ref, options);
      try {
        assert.equal(verify("sha256", MESSAGE, createPublicKey(pems.get("sigkey")!), await signer.signMessage(MESSAGE)), true, ref);
      } finally {
        await signer.close();
      }
    }
  });

  it("two signers on one token share the module and the login: closing one leaves the other working", async () => {
    const a = await pkcs11Source.open(uri("object=sigkey"), { env: {} });
    try {
      const b = await pkcs11Source.open(uri("object=sigkey384"), { env: {} });
      await a.close();
      try {
        assert.equal(verify("sha384", MESSAGE, createPublicKey(pems.get("sigkey384")!), await b.signMessage(MESSAGE)), true);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  });

  it("a second signer on a token this process is logged in to must give the same PIN", async () => {
    const a = await pkcs11Source.open(uri("object=sigkey"), { env: {} });
    try {
      const err = await openError(uri("object=sigkey384", `module-path=${SOFTHSM_MODULE}&pin-value=9876`));
      assert.match(err.message, /wrong PIN \(not the PIN this process is logged in to the token with\)$/);
      assert.ok(!err.message.includes("9876"));
      assert.equal(verify("sha256", MESSAGE, createPublicKey(pems.get("sigkey")!), await a.signMessage(MESSAGE)), true, "the first signer still works");
    } finally {
      await a.close();
    }
  });

  it("a wrong PIN is one clear line (exit 2) that does not show the PIN", async () => {
    const err = await openError(uri("object=sigkey", `module-path=${SOFTHSM_MODULE}&pin-value=9876`));
    assert.match(err.message, /logging in to token "tollgate-test": wrong PIN \(CKR_PIN_INCORRECT\)$/);
    assert.ok(!err.message.includes("9876"));
    const fromEnv = await openError(uri("object=sigkey", `module-path=${SOFTHSM_MODULE}`), { env: { TOLLGATE_PKCS11_PIN: "9876" } });
    assert.match(fromEnv.message, /wrong PIN/);
    assert.ok(!fromEnv.message.includes("9876"));
  });

  it("names what is missing: object, token, module, PIN, public half", async () => {
    assert.match((await openError(uri("object=nokey"))).message, /no private key with object="nokey" on token "tollgate-test"$/);
    assert.match((await openError(uri("object=sigkey;id=%02"))).message, /no private key with object="sigkey", id=02/);
    assert.match((await openError(`pkcs11:token=nosuchtoken;object=sigkey?module-path=${SOFTHSM_MODULE}&pin-value=${PIN}`)).message, /no initialized token matches \(token="nosuchtoken"\)/);
    assert.match((await openError(uri("object=sigkey", `pin-value=${PIN}`))).message, /no PKCS#11 module; add module-path=/);
    assert.match((await openError(uri("object=sigkey", `module-name=softhsm2&pin-value=${PIN}`))).message, /module-name=softhsm2 is not looked up/);
    assert.match((await openError(uri("object=sigkey", `module-path=/nonexistent/libp11.so&pin-value=${PIN}`))).message, /no such PKCS#11 module/);
    assert.match((await openError(uri("object=sigkey", `module-path=${SOFTHSM_MODULE}`))).message, /needs a PIN; give pin-source=file:PATH in the URI or set TOLLGATE_PKCS11_PIN/);
    assert.match((await openError(uri("object=sigkey", `module-path=${SOFTHSM_MODULE}&pin-source=${join(token.dir, "absent")}`))).message, /absent/);
    assert.match((await openError(uri("object=sigkey", `module-path=${SOFTHSM_MODULE}&pin-source=https://example.com/pin`))).message, /only files are read/);
    assert.match((await openError(uri("object=sigkey;type=public"))).message, /type=public cannot sign/);
    assert.match((await openError(uri("type=private"))).message, /name the key with object=LABEL or id=%XX/);
    assert.match((await openError(uri("object=no-public-half"))).message, /no public key object with CKA_ID 04 on token "tollgate-test"/);
  });

  it("tollgate keys public prints the token key's PEM; a wrong PIN exits 2 with one line", async () => {
    const env = { SOFTHSM2_CONF: token.conf, TOLLGATE_PKCS11_PIN: PIN };
    const json = await runCli(["keys", "public", uri("object=sigkey", `module-path=${SOFTHSM_MODULE}`), "--format", "json"], { env });
    assert.equal(json.code, 0, json.stderr);
    const printed = JSON.parse(json.stdout) as { backend: string; algorithm: string; publicKey: string; keyId: string };
    assert.equal(printed.backend, "pkcs11");
    assert.equal(printed.algorithm, "ecdsa-p256-sha256");
    assert.equal(printed.publicKey, pems.get("sigkey"));

    // The module from tollgate.yaml (signing.pkcs11.module) when the URI has no module-path.
    await writeFile(join(token.dir, "tollgate.yaml"), `signing:\n  pkcs11:\n    module: ${SOFTHSM_MODULE}\n`);
    const fromConfig = await runCli(["keys", "public", uri("id=%02", "")], { env, cwd: token.dir });
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.equal(fromConfig.stdout, pems.get("sigkey384"));

    const wrong = await runCli(["keys", "public", uri("object=sigkey", `module-path=${SOFTHSM_MODULE}&pin-value=9876`)], { env });
    assert.equal(wrong.code, 2);
    assert.equal(wrong.stderr.trim().split("\n").length, 1, wrong.stderr);
    assert.match(wrong.stderr, /wrong PIN \(CKR_PIN_INCORRECT\)/);
    assert.ok(!wrong.stderr.includes("9876") && !wrong.stdout.includes("9876"));
  });

  it("refuses to return a signature that does not verify with the public key it reports", async () => {
    const signer = await pkcs11Source.open(uri("object=mismatched"), { env: {} });
    try {
      assert.equal(await signer.publicKeyPem(), pems.get("other"), "the lookup by CKA_ID found the other key's public half");
      await assert.rejects(signer.signMessage(MESSAGE), (err: unknown) => err instanceof InputError && /does not verify with the public key found for this key/.test(err.message));
    } finally {
      await signer.close();
    }
  });
});

describe("ECDSA r‖s to DER", () => {
  it("gives DER that node:crypto verifies, for every curve size", () => {
    for (const namedCurve of ["prime256v1", "secp384r1", "secp521r1"]) {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve });
      for (let i = 0; i < 20; i++) {
        const raw = nodeSign("sha256", MESSAGE, { key: privateKey, dsaEncoding: "ieee-p1363" });
        assert.equal(verify("sha256", MESSAGE, publicKey, ecdsaRawToDer(raw)), true, namedCurve);
      }
    }
  });

  it("drops leading zeros and adds one before a high bit, as DER INTEGERs require", () => {
    const raw = Buffer.concat([Buffer.alloc(31, 0), Buffer.from([0x05]), Buffer.from([0x80]), Buffer.alloc(31, 0x11)]);
    assert.deepEqual(Buffer.from(ecdsaRawToDer(raw)).toString("hex"), `3026020105022100${"80"}${"11".repeat(31)}`);
    assert.throws(() => ecdsaRawToDer(new Uint8Array(63)), /even length/);
  });
});
