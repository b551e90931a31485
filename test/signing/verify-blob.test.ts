// `tollgate verify blob` and the verifier under it (src/signing/verify/): keyed bundles without a log
// (as `tollgate sign blob --key … --tlog-upload=false` writes them: v0.3, a public-key hint, no tlog
// entry), keyed and keyless bundles with log evidence from the sigstore-conformance suite, flipped bytes
// in the artifact and in the bundle, the policy flags and the exit codes (0 / 1 with a reason / 2).
import { strict as assert } from "node:assert";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bundleToJSON, toMessageSignatureBundle } from "@sigstore/bundle";
import { runCli, SHARED_TESTDATA, sharedTestdataMissing, tempDir } from "../helpers.ts";
import { VerificationFailedError } from "../../src/errors.ts";
import { artifactFromBytes } from "../../src/signing/verify/artifact.ts";
import { parseBundle } from "../../src/signing/verify/bundle.ts";
import { reasonForSigstoreCode } from "../../src/signing/verify/errors.ts";
import { policyFromOptions } from "../../src/signing/verify/policy.ts";
import { verifyBundle } from "../../src/signing/verify/verifier.ts";
import { loadTrustedRoot, parseTrustedRoot, publicGoodTrustedRoot } from "../../src/signing/trust-root.ts";
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from "../../src/signing/public-good-trusted-root.ts";
import { signBlob } from "../../src/signing/sign-blob.ts";
import type { Signer } from "../../src/signing/keys/types.ts";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { p256 } from "@noble/curves/nist.js";
import { startMockSigstore, unsignedJwt, type MockSigstore } from "./sigstore-mock-services.ts";

const SUITE = join(SHARED_TESTDATA, "sigstore-conformance", "test", "assets", "bundle-verify");
const missing = sharedTestdataMissing("sigstore-conformance/test/assets/bundle-verify");
const IDENTITY =
  "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER = "https://token.actions.githubusercontent.com";

/** A keyed v0.3 message-signature bundle with no log entry, signed here with node:crypto. */
function keyedBundle(artifact: Buffer, privateKey: KeyObject, publicKey: KeyObject): string {
  const spki = publicKey.export({ type: "spki", format: "der" });
  const bundle = toMessageSignatureBundle({
    digest: createHash("sha256").update(artifact).digest(),
    signature: sign("sha256", artifact, privateKey),
    keyHint: createHash("sha256").update(spki).digest("base64"),
    certificateChain: false,
  });
  return JSON.stringify(bundleToJSON(bundle));
}

function reasonOf(stderr: string): string | undefined {
  return /verification failed \[([A-Z_]+)\]/.exec(stderr)?.[1];
}

describe("tollgate verify blob: keyed bundles without a transparency log entry", () => {
  let dir = "";
  let cleanup: () => Promise<void> = () => Promise.resolve();
  const artifact = Buffer.from("release contents\n".repeat(100));
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const path = (f: string): string => join(dir, f);

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-verify-blob-"));
    writeFileSync(path("release.bin"), artifact);
    writeFileSync(path("ec.pub"), ec.publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(path("rsa.pub"), rsa.publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(path("other.pub"), other.publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(path("ec.sigstore.json"), keyedBundle(artifact, ec.privateKey, ec.publicKey));
    writeFileSync(path("rsa.sigstore.json"), keyedBundle(artifact, rsa.privateKey, rsa.publicKey));
  });
  after(() => cleanup());

  test("the bundle is v0.3 with a public-key hint and no tlog entry (what sign blob --tlog-upload=false writes)", () => {
    const json = JSON.parse(readFileSync(path("ec.sigstore.json"), "utf8")) as { mediaType: string; verificationMaterial: { publicKey?: { hint: string }; tlogEntries?: unknown[] } };
    assert.equal(json.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.ok(json.verificationMaterial.publicKey?.hint);
    assert.equal(json.verificationMaterial.tlogEntries?.length ?? 0, 0);
  });

  test("without --insecure-ignore-tlog it is refused: no log entry, no timestamp (exit 1, TLOG)", async () => {
    const r = await runCli(["verify", "blob", "--bundle", path("ec.sigstore.json"), "--key", path("ec.pub"), path("release.bin")]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(reasonOf(r.stderr), "TLOG");
    assert.match(r.stderr, /--insecure-ignore-tlog/);
  });

  test("with --insecure-ignore-tlog it verifies; --format json gives the key id, no time, no tlog entry", async () => {
    const r = await runCli(["verify", "blob", "--bundle", path("ec.sigstore.json"), "--key", path("ec.pub"), "--insecure-ignore-tlog", "--format", "json", path("release.bin")]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^tollgate: verified .*release\.bin: signed by key [0-9a-f]{16}… \(no verified time/m);
    const out = JSON.parse(r.stdout) as { verified: boolean; signer: { kind: string; keyId: string }; signedAt: unknown; tlogEntries: unknown[] };
    assert.equal(out.verified, true);
    assert.deepEqual(out.signer, { kind: "key", keyId: createHash("sha256").update(ec.publicKey.export({ type: "spki", format: "der" })).digest("hex") });
    assert.equal(out.signedAt, null);
    assert.deepEqual(out.tlogEntries, []);
  });

  test("a flipped byte in the artifact fails (exit 1, DIGEST_MISMATCH)", async () => {
    const flipped = Buffer.from(artifact);
    flipped[1000] = (flipped[1000] ?? 0) ^ 0x01;
    writeFileSync(path("flipped.bin"), flipped);
    const r = await runCli(["verify", "blob", "--bundle", path("ec.sigstore.json"), "--key", path("ec.pub"), "--insecure-ignore-tlog", path("flipped.bin")]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(reasonOf(r.stderr), "DIGEST_MISMATCH");
  });

  test("a flipped byte in the bundle's signature fails (exit 1, SIGNATURE)", async () => {
    const json = JSON.parse(readFileSync(path("ec.sigstore.json"), "utf8")) as { messageSignature: { signature: string } };
    const sig = Buffer.from(json.messageSignature.signature, "base64");
    sig[sig.length - 5] = (sig[sig.length - 5] ?? 0) ^ 0x01;
    json.messageSignature.signature = sig.toString("base64");
    writeFileSync(path("tampered.sigstore.json"), JSON.stringify(json));
    const r = await runCli(["verify", "blob", "--bundle", path("tampered.sigstore.json"), "--key", path("ec.pub"), "--insecure-ignore-tlog", path("release.bin")]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(reasonOf(r.stderr), "SIGNATURE");
  });

  test("a flipped byte in the bundle's message digest fails (exit 1, DIGEST_MISMATCH)", async () => {
    const json = JSON.parse(readFileSync(path("ec.sigstore.json"), "utf8")) as { messageSignature: { messageDigest: { digest: string } } };
    const d = Buffer.from(json.messageSignature.messageDigest.digest, "base64");
    d[0] = (d[0] ?? 0) ^ 0x80;
    json.messageSignature.messageDigest.digest = d.toString("base64");
    writeFileSync(path("tampered-digest.sigstore.json"), JSON.stringify(json));
    const r = await runCli(["verify", "blob", "--bundle", path("tampered-digest.sigstore.json"), "--key", path("ec.pub"), "--insecure-ignore-tlog", path("release.bin")]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(reasonOf(r.stderr), "DIGEST_MISMATCH");
  });

  test("another key fails (exit 1, SIGNATURE)", async () => {
    const r = await runCli(["verify", "blob", "--bundle", path("ec.sigstore.json"), "--key", path("other.pub"), "--insecure-ignore-tlog", path("release.bin")]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(reasonOf(r.stderr), "SIGNATURE");
  });

  test("given only the sha256 digest: ECDSA and RSA signatures are checked over the digest", async () => {
    const digest = `sha256:${createHash("sha256").update(artifact).digest("hex")}`;
    for (const k of ["ec", "rsa"]) {
      const ok = await runCli(["verify-bundle", "--bundle", path(`${k}.sigstore.json`), "--key", path(`${k}.pub`), "--insecure-ignore-tlog", digest]);
      assert.equal(ok.code, 0, `${k}: ${ok.stderr}`);
      const wrongKey = await runCli(["verify-bundle", "--bundle", path(`${k}.sigstore.json`), "--key", path(k === "ec" ? "rsa.pub" : "ec.pub"), "--insecure-ignore-tlog", digest]);
      assert.equal(wrongKey.code, 1, wrongKey.stderr);
      assert.equal(reasonOf(wrongKey.stderr), "SIGNATURE");
    }
  });

  test("the library: verifyBundle returns the signer, and throws VerificationFailedError with a reason", () => {
    const bundle = parseBundle(readFileSync(path("ec.sigstore.json"), "utf8"), "ec.sigstore.json");
    const policy = policyFromOptions({ key: ec.publicKey, insecureIgnoreTlog: true });
    const root = publicGoodTrustedRoot().root;
    const result = verifyBundle(bundle, artifactFromBytes(artifact), policy, root);
    assert.equal(result.signer.kind, "key");
    assert.throws(
      () => verifyBundle(bundle, artifactFromBytes(Buffer.from("other")), policy, root),
      (e: unknown) => e instanceof VerificationFailedError && e.reason === "DIGEST_MISMATCH",
    );
    assert.throws(
      () => verifyBundle(bundle, artifactFromBytes(artifact), policyFromOptions({ key: ec.publicKey }), root),
      (e: unknown) => e instanceof VerificationFailedError && e.reason === "TLOG",
    );
  });
});

describe("tollgate verify blob: bundles with log evidence (sigstore-conformance assets)", () => {
  const a = join(SUITE, "a.txt");
  const managed = join(SUITE, "managed-key-happy-path");
  const keyless = join(SUITE, "happy-path-v0.3", "bundle.sigstore.json");

  test("a keyed bundle with a Rekor entry verifies against the shipped public-good root; json gives time and tlog index", { skip: missing }, async () => {
    // An empty cache of its own: a root from `trust-root update` in the user's cache would be preferred.
    const cache = await tempDir();
    const r = await runCli(["verify", "blob", "--bundle", join(managed, "bundle.sigstore.json"), "--key", join(managed, "key.pub"), "--format", "json", a], { env: { TOLLGATE_CACHE_DIR: cache.dir } }).finally(() => cache.cleanup());
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { signedAt: string; tlogEntries: { logIndex: string }[]; trustedRoot: string };
    assert.equal(out.trustedRoot, "public-good (shipped)");
    assert.equal(out.signedAt, "2025-12-18T17:04:39.000Z");
    assert.deepEqual(out.tlogEntries.map((e) => e.logIndex), ["771488337"]);
  });

  test("a flipped byte in the logged entry body fails (exit 1, TLOG)", { skip: missing }, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const json = JSON.parse(readFileSync(join(managed, "bundle.sigstore.json"), "utf8")) as { verificationMaterial: { tlogEntries: { canonicalizedBody: string }[] } };
      const entry = json.verificationMaterial.tlogEntries[0]!;
      const body = Buffer.from(entry.canonicalizedBody, "base64");
      body[body.length - 3] = (body[body.length - 3] ?? 0) ^ 0x01;
      entry.canonicalizedBody = body.toString("base64");
      writeFileSync(join(dir, "b.json"), JSON.stringify(json));
      const r = await runCli(["verify", "blob", "--bundle", join(dir, "b.json"), "--key", join(managed, "key.pub"), a]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(reasonOf(r.stderr), "TLOG");
    } finally {
      await cleanup();
    }
  });

  test("keyless: exact identity and issuer, or regular expressions, verify; json gives the identity", { skip: missing }, async () => {
    const exact = await runCli(["verify", "blob", "--bundle", keyless, "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER, "--format", "json", a]);
    assert.equal(exact.code, 0, exact.stderr);
    assert.deepEqual((JSON.parse(exact.stdout) as { signer: unknown }).signer, { kind: "certificate", subject: IDENTITY, issuer: ISSUER });
    const re = await runCli([
      "verify", "blob", "--bundle", keyless,
      "--certificate-identity-regexp", "^https://github\\.com/sigstore-conformance/",
      "--certificate-oidc-issuer-regexp", "^https://token\\.actions\\.githubusercontent\\.com$", a,
    ]);
    assert.equal(re.code, 0, re.stderr);
  });

  test("keyless: another identity or issuer fails (exit 1, IDENTITY)", { skip: missing }, async () => {
    const id = await runCli(["verify", "blob", "--bundle", keyless, "--certificate-identity", `${IDENTITY}x`, "--certificate-oidc-issuer", ISSUER, a]);
    assert.equal(id.code, 1, id.stderr);
    assert.equal(reasonOf(id.stderr), "IDENTITY");
    const iss = await runCli(["verify", "blob", "--bundle", keyless, "--certificate-identity", IDENTITY, "--certificate-oidc-issuer-regexp", "^https://accounts\\.google\\.com$", a]);
    assert.equal(iss.code, 1, iss.stderr);
    assert.equal(reasonOf(iss.stderr), "IDENTITY");
  });

  test("verify blob reads signing.trusted_root from tollgate.yaml (here a malformed root: TRUST_ROOT); --trusted-root wins", { skip: missing }, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const root = join(SUITE, "trust-root-tlog-missing-validity-start_fail", "trusted_root.json");
      writeFileSync(join(dir, "tollgate.yaml"), `signing:\n  trusted_root: ${JSON.stringify(root)}\n`);
      const args = ["verify", "blob", "--bundle", join(managed, "bundle.sigstore.json"), "--key", join(managed, "key.pub"), a];
      const fromConfig = await runCli(args, { cwd: dir });
      assert.equal(fromConfig.code, 1, fromConfig.stderr);
      assert.equal(reasonOf(fromConfig.stderr), "TRUST_ROOT");
      const explicit = await runCli([...args.slice(0, -1), "--trusted-root", join(SHARED_TESTDATA, "sigstore-conformance", "public-good-trust", "trusted_root.json"), a], { cwd: dir });
      assert.equal(explicit.code, 0, explicit.stderr);
    } finally {
      await cleanup();
    }
  });

  test("keyless bundle with --key, keyed bundle without: exit 1, KEY", { skip: missing }, async () => {
    const r = await runCli(["verify", "blob", "--bundle", keyless, "--key", join(managed, "key.pub"), a]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(reasonOf(r.stderr), "KEY");
  });
});

describe("tollgate verify blob: usage and unreadable input exit 2", () => {
  const cases: [string, string[], RegExp][] = [
    ["no policy", ["verify", "blob", "--bundle", "b.json", "a.txt"], /--key PUBLIC_KEY, or --certificate-identity/],
    ["no --bundle", ["verify", "blob", "--key", "k.pub", "a.txt"], /--bundle <file> is required/],
    ["--key with --certificate-identity", ["verify", "blob", "--bundle", "b.json", "--key", "k.pub", "--certificate-identity", "x", "--certificate-oidc-issuer", "y", "a"], /one or the other/],
    ["--insecure-ignore-tlog without --key", ["verify", "blob", "--bundle", "b.json", "--certificate-identity", "x", "--certificate-oidc-issuer", "y", "--insecure-ignore-tlog", "a"], /only for --key/],
    ["identity and identity regexp", ["verify", "blob", "--bundle", "b", "--certificate-identity", "x", "--certificate-identity-regexp", "y", "--certificate-oidc-issuer", "z", "a"], /not both/],
    ["a bad regexp", ["verify", "blob", "--bundle", "b", "--certificate-identity-regexp", "(", "--certificate-oidc-issuer", "z", "a"], /not a valid regular expression/],
    ["a missing key file", ["verify", "blob", "--bundle", "b", "--key", "/nonexistent/k.pub", "a"], /no such file/],
    ["a key reference whose backend is not set up (read through the backend, as cosign's --key)", ["verify", "blob", "--bundle", "b", "--key", "hashivault://release", "a"], /hashivault: no Vault address/],
    ["a scheme no backend reads", ["verify", "blob", "--bundle", "b", "--key", "nokms://x/y", "a"], /nokms:…/],
    ["a file that is not a public key", ["verify", "blob", "--bundle", "b", "--key", "package.json", "a"], /not a PEM public key/],
    ["--staging without --trusted-root", ["verify-bundle", "--staging", "--bundle", "b", "--certificate-identity", "x", "--certificate-oidc-issuer", "y", "a"], /--staging needs --trusted-root/],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  test("a missing bundle or artifact file", { skip: missing }, async () => {
    const managed = join(SUITE, "managed-key-happy-path");
    const noBundle = await runCli(["verify", "blob", "--bundle", "/nonexistent/b.json", "--key", join(managed, "key.pub"), join(SUITE, "a.txt")]);
    assert.equal(noBundle.code, 2, noBundle.stderr);
    assert.match(noBundle.stderr, /b\.json: no such file/);
    const noArtifact = await runCli(["verify", "blob", "--bundle", join(managed, "bundle.sigstore.json"), "--key", join(managed, "key.pub"), "/nonexistent/a.txt"]);
    assert.equal(noArtifact.code, 2, noArtifact.stderr);
  });
});

describe("trust roots", () => {
  test("the shipped public-good root parses and trusts Fulcio, Rekor, the CT logs and the TSA", () => {
    const root = publicGoodTrustedRoot().root;
    assert.ok(root.certificateAuthorities.length >= 1 && root.tlogs.length >= 1 && root.ctlogs.length >= 1 && root.timestampAuthorities.length >= 1);
  });

  test("the shipped public-good root is the public-good TUF target (as sigstore-python embeds it)", { skip: missing }, () => {
    const reference = readFileSync(join(SHARED_TESTDATA, "sigstore-conformance", "public-good-trust", "trusted_root.json"), "utf8");
    assert.deepEqual(JSON.parse(PUBLIC_GOOD_TRUSTED_ROOT_JSON), JSON.parse(reference));
  });

  const withoutStart = (field: "tlogs" | "ctlogs" | "certificateAuthorities" | "timestampAuthorities"): string => {
    const json = JSON.parse(PUBLIC_GOOD_TRUSTED_ROOT_JSON) as Record<string, { publicKey?: { validFor?: { start?: string } }; validFor?: { start?: string } }[]>;
    const first = json[field]![0]!;
    if (first.publicKey?.validFor) delete first.publicKey.validFor.start;
    if (first.validFor) delete first.validFor.start;
    return JSON.stringify(json);
  };
  for (const field of ["tlogs", "ctlogs", "certificateAuthorities", "timestampAuthorities"] as const) {
    test(`a ${field} entry without validFor.start is refused (TRUST_ROOT), not read as unbounded`, () => {
      assert.throws(
        () => parseTrustedRoot(withoutStart(field), "t.json"),
        (e: unknown) => e instanceof VerificationFailedError && e.reason === "TRUST_ROOT" && /validFor\.start is missing/.test(e.message),
      );
    });
  }

  test("not JSON, not a trusted root: TRUST_ROOT; a missing file: an input error", async () => {
    for (const text of ["{", '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}', "[]"]) {
      assert.throws(() => parseTrustedRoot(text, "t.json"), (e: unknown) => e instanceof VerificationFailedError && e.reason === "TRUST_ROOT");
    }
    await assert.rejects(loadTrustedRoot("/nonexistent/trusted_root.json"), /no such file/);
  });
});

describe("sigstore-js error codes map to reasons", () => {
  test("each code", () => {
    const expected: Record<string, string> = {
      TLOG_INCLUSION_PROOF_ERROR: "TLOG",
      TLOG_INCLUSION_PROMISE_ERROR: "TLOG",
      TLOG_BODY_ERROR: "TLOG",
      TLOG_MISSING_INCLUSION_ERROR: "TLOG",
      CERTIFICATE_ERROR: "CERTIFICATE",
      PUBLIC_KEY_ERROR: "KEY",
      SIGNATURE_ERROR: "SIGNATURE",
      TIMESTAMP_ERROR: "TIMESTAMP",
      UNTRUSTED_SIGNER_ERROR: "IDENTITY",
      SOMETHING_NEW: "BUNDLE",
    };
    for (const [code, reason] of Object.entries(expected)) assert.equal(reasonForSigstoreCode(code), reason, code);
  });
});

describe("tollgate verify blob on bundles tollgate signs against mock Fulcio, Rekor and TSA (MOCK services on 127.0.0.1)", () => {
  // The mocks (test/signing/sigstore-mock-services.ts) are @sigstore/mock's services with real
  // cryptography; their keys are written out as a trusted_root.json for --trusted-root.
  const ISSUER_MOCK = "https://token.actions.githubusercontent.com";
  const IDENTITY_MOCK = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
  let dir = "";
  let cleanup: () => Promise<void> = () => Promise.resolve();
  let mocks: MockSigstore | undefined;
  const artifact = Buffer.from("signed by tollgate against the mocks\n");
  const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const path = (f: string): string => join(dir, f);

  /** A Signer over an in-memory P-256 key (the file, HSM, Vault and KMS backends are tested elsewhere). */
  const signer: Signer = {
    backend: "test",
    ref: "test-key",
    algorithm: "ecdsa-p256-sha256",
    publicKeyPem: () => Promise.resolve(keys.publicKey.export({ type: "spki", format: "pem" }).toString()),
    keyId: () => Promise.resolve(createHash("sha256").update(keys.publicKey.export({ type: "spki", format: "der" })).digest("hex")),
    signDigest: (digest) => Promise.resolve(signPrehashed(digest)),
    signMessage: (message) => Promise.resolve(sign("sha256", message, keys.privateKey)),
    close: () => Promise.resolve(),
  };
  function signPrehashed(digest: Uint8Array): Uint8Array {
    // ECDSA over a digest the caller computed: what a KMS or HSM does.
    const d = Buffer.from(keys.privateKey.export({ format: "jwk" }).d ?? "", "base64url");
    return p256.sign(digest, d, { prehash: false, format: "der" });
  }

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-verify-mock-"));
    mocks = await startMockSigstore();
    writeFileSync(path("app.bin"), artifact);
    writeFileSync(path("trusted_root.json"), JSON.stringify(TrustedRoot.toJSON(mocks.trustedRoot)));
    writeFileSync(path("key.pub"), keys.publicKey.export({ type: "spki", format: "pem" }));
    const token = unsignedJwt({ iss: ISSUER_MOCK, sub: IDENTITY_MOCK, aud: "sigstore", exp: Math.floor(Date.now() / 1000) + 600 });
    const audit = { config: {} };
    const env = { TOLLGATE_AUDIT_LOG: path("audit.log") };
    // No TSA here: the mock TSA writes genTime with 1 or 2 fractional digits when the milliseconds
    // end in 0 (asn1js drops trailing zeros, as DER wants), which @sigstore/core's time parser refuses
    // (it takes exactly 3), so one run in ten would fail on the mock. Real RFC 3161 timestamps are
    // covered by the conformance suite.
    await signBlob({ artifact: path("app.bin"), bundlePath: path("keyless.sigstore.json"), identityToken: token, fulcioUrl: mocks.fulcioUrl, rekorUrl: mocks.rekorUrl, env, audit });
    await signBlob({ artifact: path("app.bin"), bundlePath: path("keyed.sigstore.json"), signer, rekorUrl: mocks.rekorUrl, env, audit });
  });
  after(async () => {
    await mocks?.close();
    await cleanup();
  });

  test("keyless (Fulcio certificate, Rekor entry): verifies with the identity and the mocks' root", async () => {
    const r = await runCli(["verify", "blob", "--bundle", path("keyless.sigstore.json"), "--trusted-root", path("trusted_root.json"), "--certificate-identity", IDENTITY_MOCK, "--certificate-oidc-issuer", ISSUER_MOCK, "--format", "json", path("app.bin")]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { signer: unknown; timestamps: { source: string }[]; tlogEntries: unknown[] };
    assert.deepEqual(out.signer, { kind: "certificate", subject: IDENTITY_MOCK, issuer: ISSUER_MOCK });
    assert.deepEqual(out.timestamps.map((t) => t.source), ["transparency-log"]);
    assert.equal(out.tlogEntries.length, 1);
  });

  test("keyless: a flipped artifact byte, another identity, or the public-good root instead of the mocks' fail", async () => {
    const flipped = Buffer.from(artifact);
    flipped[3] = (flipped[3] ?? 0) ^ 0x01;
    writeFileSync(path("flipped.bin"), flipped);
    const base = ["verify", "blob", "--bundle", path("keyless.sigstore.json"), "--certificate-oidc-issuer", ISSUER_MOCK];
    const bad = await runCli([...base, "--trusted-root", path("trusted_root.json"), "--certificate-identity", IDENTITY_MOCK, path("flipped.bin")]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.equal(reasonOf(bad.stderr), "DIGEST_MISMATCH");
    const who = await runCli([...base, "--trusted-root", path("trusted_root.json"), "--certificate-identity-regexp", "^https://github\\.com/evil/", path("app.bin")]);
    assert.equal(who.code, 1, who.stderr);
    assert.equal(reasonOf(who.stderr), "IDENTITY");
    const publicGood = await runCli([...base, "--certificate-identity", IDENTITY_MOCK, path("app.bin")]);
    assert.equal(publicGood.code, 1, publicGood.stderr);
    assert.ok(["TIMESTAMP", "CERTIFICATE", "TLOG"].includes(reasonOf(publicGood.stderr) ?? ""), publicGood.stderr);
  });

  test("keyed with a Rekor entry: verifies without --insecure-ignore-tlog; the public-good root does not know the log", async () => {
    const r = await runCli(["verify", "blob", "--bundle", path("keyed.sigstore.json"), "--key", path("key.pub"), "--trusted-root", path("trusted_root.json"), "--format", "json", path("app.bin")]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { signedAt: string | null; tlogEntries: unknown[] };
    assert.ok(out.signedAt !== null);
    assert.equal(out.tlogEntries.length, 1);
    const publicGood = await runCli(["verify", "blob", "--bundle", path("keyed.sigstore.json"), "--key", path("key.pub"), path("app.bin")]);
    assert.equal(publicGood.code, 1, publicGood.stderr);
    assert.equal(reasonOf(publicGood.stderr), "TLOG");
  });
});
