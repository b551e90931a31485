/**
 * Keyless `sign blob` end to end against MOCK Sigstore services (@sigstore/mock's Fulcio, Rekor and
 * TSA served on 127.0.0.1; see sigstore-mock-services.ts): the bundle is verified with
 * @sigstore/verify directly against a trust root built from the mocks' CA and keys (an independent
 * path), with the certificate identity and issuer as policy. GitHub's OIDC token endpoint cannot
 * run here: a small stand-in on 127.0.0.1 implements its documented request and answer.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bundleFromJSON, type SerializedBundle } from "@sigstore/bundle";
import { toSignedEntity, toTrustMaterial, Verifier, type VerificationPolicy } from "@sigstore/verify";
import { NetworkError, UsageError } from "../../src/errors.ts";
import { signBlob } from "../../src/signing/sign-blob.ts";
import { runCli, tempDir } from "../helpers.ts";
import { startMockSigstore, unsignedJwt, type MockSigstore } from "./sigstore-mock-services.ts";

const ISSUER = "https://token.actions.githubusercontent.com";
const IDENTITY = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";

describe("keyless sign blob (mock Fulcio, Rekor and TSA on 127.0.0.1)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let mocks: MockSigstore;
  let artifact: string;
  let artifactBytes: Buffer;
  const token = unsignedJwt({ iss: ISSUER, sub: IDENTITY, aud: "sigstore", exp: Math.floor(Date.now() / 1000) + 600 });

  function verify(json: unknown, data: Buffer | undefined, policy: VerificationPolicy, thresholds = { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }): void {
    const trust = toTrustMaterial(mocks.trustedRoot);
    new Verifier(trust, thresholds).verify(toSignedEntity(bundleFromJSON(json), data), policy);
  }

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-sign-keyless-"));
    mocks = await startMockSigstore();
    artifact = join(dir, "app.tar.gz");
    artifactBytes = Buffer.from("keyless artifact\n");
    await writeFile(artifact, artifactBytes);
  });
  after(async () => {
    await mocks.close();
    await cleanup();
  });

  test("a message signature: Fulcio certificate, Rekor entry and RFC 3161 timestamp, verified with the identity as policy", async () => {
    const bundlePath = join(dir, "keyless.sigstore.json");
    const auditLog = join(dir, "audit.log");
    const result = await signBlob({
      artifact,
      bundlePath,
      identityToken: token,
      fulcioUrl: mocks.fulcioUrl,
      rekorUrl: mocks.rekorUrl,
      tsaUrl: mocks.tsaUrl,
      env: { TOLLGATE_AUDIT_LOG: auditLog },
      audit: { config: {} },
    });
    assert.equal(result.tlogEntries, 1);
    assert.equal(result.timestamps, 1);
    assert.deepEqual(result.identity, { subjectAlternativeName: IDENTITY, issuer: ISSUER });
    const json = JSON.parse(await readFile(bundlePath, "utf8")) as SerializedBundle;
    assert.equal(json.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.ok(json.verificationMaterial.certificate, "v0.3 keyless bundles carry a single certificate");
    assert.equal(json.verificationMaterial.x509CertificateChain, undefined);
    assert.equal(json.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1);

    const policy = { subjectAlternativeName: IDENTITY, extensions: { issuer: ISSUER } };
    verify(json, artifactBytes, policy);
    // Both timestamps (the log's and the TSA's) count.
    verify(json, artifactBytes, policy, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 2 });
    // Another identity, another issuer, another artifact: each fails.
    assert.throws(() => verify(json, artifactBytes, { subjectAlternativeName: "https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main", extensions: { issuer: ISSUER } }));
    assert.throws(() => verify(json, artifactBytes, { subjectAlternativeName: IDENTITY, extensions: { issuer: "https://accounts.google.com" } }));
    const flipped = Buffer.from(artifactBytes);
    flipped[0]! ^= 0x01;
    assert.throws(() => verify(json, flipped, policy));
    // A flipped byte in the signature.
    const sig = Buffer.from(json.messageSignature!.signature, "base64");
    sig[10]! ^= 0x01;
    assert.throws(() => verify({ ...json, messageSignature: { ...json.messageSignature!, signature: sig.toString("base64") } }, artifactBytes, policy));

    const event = JSON.parse((await readFile(auditLog, "utf8")).trim()) as Record<string, unknown>;
    assert.equal(event.result, "success");
    assert.equal(event.backend, "keyless");
    assert.equal(event.keyId, IDENTITY);
    assert.equal((event.signer as Record<string, string>).subjectAlternativeName, IDENTITY);
    assert.equal((event.signer as Record<string, string>).issuer, ISSUER);
    assert.ok(!JSON.stringify(event).includes(token), "the token is not in the audit log");
  });

  test("--in-toto keyless: a DSSE bundle with a dsse Rekor entry and a timestamp", async () => {
    const bundlePath = join(dir, "keyless-dsse.sigstore.json");
    await signBlob({
      artifact,
      bundlePath,
      inToto: true,
      identityToken: token,
      fulcioUrl: mocks.fulcioUrl,
      rekorUrl: mocks.rekorUrl,
      tsaUrl: mocks.tsaUrl,
      env: { TOLLGATE_AUDIT_LOG: join(dir, "audit.log") },
      audit: { config: {} },
    });
    const json = JSON.parse(await readFile(bundlePath, "utf8")) as SerializedBundle;
    assert.equal(json.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.ok(json.verificationMaterial.certificate);
    const statement = JSON.parse(Buffer.from(json.dsseEnvelope!.payload, "base64").toString("utf8")) as { subject: { name: string; digest: { sha256: string } }[] };
    assert.deepEqual(statement.subject, [{ name: "app.tar.gz", digest: { sha256: createHash("sha256").update(artifactBytes).digest("hex") } }]);
    // The mock Rekor logs the proposed dsse entry as it came (the real Rekor stores the envelope's
    // hashes and signatures instead), so @sigstore/verify cannot check this entry's body: the entry
    // is checked here by what it holds, and the bundle is verified on its TSA timestamp.
    const entry = json.verificationMaterial.tlogEntries[0]!;
    assert.deepEqual(entry.kindVersion, { kind: "dsse", version: "0.0.1" });
    const body = JSON.parse(Buffer.from(entry.canonicalizedBody, "base64").toString("utf8")) as { spec: { proposedContent: { envelope: string } } };
    const logged = JSON.parse(body.spec.proposedContent.envelope) as { payload: string; signatures: { sig: string }[] };
    assert.equal(logged.payload, json.dsseEnvelope!.payload);
    assert.equal(logged.signatures[0]?.sig, json.dsseEnvelope!.signatures[0]?.sig);
    const withoutLog = { ...json, verificationMaterial: { ...json.verificationMaterial, tlogEntries: [] } };
    const policy = { subjectAlternativeName: IDENTITY, extensions: { issuer: ISSUER } };
    verify(withoutLog, undefined, policy, { tlogThreshold: 0, ctlogThreshold: 1, timestampThreshold: 1 });
    const payload = Buffer.from(json.dsseEnvelope!.payload, "base64");
    payload[payload.length - 3]! ^= 0x01;
    assert.throws(() => verify({ ...withoutLog, dsseEnvelope: { ...json.dsseEnvelope!, payload: payload.toString("base64") } }, undefined, policy, { tlogThreshold: 0, ctlogThreshold: 1, timestampThreshold: 1 }));
  });

  test("the CLI takes the token from the GitHub Actions job (a stand-in for GitHub's OIDC endpoint) with audience sigstore", async () => {
    const requestToken = "ghs_requesttoken0123456789abcdefghijklmnop";
    const seen: { audience: string | null; authorization: string | undefined }[] = [];
    const oidc = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      seen.push({ audience: url.searchParams.get("audience"), authorization: req.headers.authorization });
      if (req.headers.authorization?.toLowerCase() !== `bearer ${requestToken}`) return void res.writeHead(401).end();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value: token }));
    });
    await new Promise<void>((resolve) => oidc.listen(0, "127.0.0.1", resolve));
    try {
      const port = (oidc.address() as AddressInfo).port;
      const bundlePath = join(dir, "cli-keyless.sigstore.json");
      const auditLog = join(dir, "cli-audit.log");
      const res = await runCli(["sign", "blob", "--fulcio-url", mocks.fulcioUrl, "--rekor-url", mocks.rekorUrl, "--timestamp-server-url", `${mocks.tsaUrl}`, "--bundle", bundlePath, artifact], {
        cwd: dir,
        env: {
          TOLLGATE_CONFIG: "",
          TOLLGATE_AUDIT_LOG: auditLog,
          SIGSTORE_ID_TOKEN: "",
          ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
          GITHUB_ACTIONS: "true",
          GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
          GITHUB_WORKFLOW_REF: "acme/app/.github/workflows/release.yml@refs/heads/main",
          GITHUB_RUN_ID: "4242",
          GITHUB_REPOSITORY: "acme/app",
          GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
        },
      });
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(seen, [{ audience: "sigstore", authorization: `bearer ${requestToken}` }]);
      verify(JSON.parse(await readFile(bundlePath, "utf8")), artifactBytes, { subjectAlternativeName: IDENTITY, extensions: { issuer: ISSUER } }, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 2 });
      const event = JSON.parse((await readFile(auditLog, "utf8")).trim()) as { signer: Record<string, string>; result: string };
      assert.equal(event.result, "success");
      assert.equal(event.signer.run, "4242");
      assert.equal(event.signer.repository, "acme/app");
      assert.equal(event.signer.subjectAlternativeName, IDENTITY);
      for (const text of [res.stdout, res.stderr, await readFile(auditLog, "utf8")]) {
        assert.ok(!text.includes(token) && !text.includes(requestToken), "no token in the output or the log");
      }
    } finally {
      await new Promise<void>((resolve) => oidc.close(() => resolve()));
    }
  });

  test("a token Fulcio's client rejects: the error and the audit log never carry the token; no bundle", async () => {
    // sigstore-js puts the whole token in this error ("invalid identity token: <token>").
    const unverified = unsignedJwt({ iss: ISSUER, email: "someone@example.com", email_verified: false });
    const bundlePath = join(dir, "rejected.sigstore.json");
    const auditLog = join(dir, "rejected-audit.log");
    const res = await runCli(["sign", "blob", "--fulcio-url", mocks.fulcioUrl, "--rekor-url", mocks.rekorUrl, "--bundle", bundlePath, artifact], {
      cwd: dir,
      env: { TOLLGATE_CONFIG: "", TOLLGATE_AUDIT_LOG: auditLog, SIGSTORE_ID_TOKEN: unverified, GITHUB_ACTIONS: "", ACTIONS_ID_TOKEN_REQUEST_URL: "" },
    });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /identity token/);
    const log = await readFile(auditLog, "utf8");
    assert.match(log, /"result":"failure"/);
    for (const text of [res.stdout, res.stderr, log]) assert.ok(!text.includes(unverified.split(".")[1]!), "no token in the output or the log");
    assert.ok(!(await readdir(dir)).includes("rejected.sigstore.json"));
  });

  test("usage: no token, no Rekor and no TSA, a plain-HTTP Fulcio elsewhere, --identity-token with --key", async () => {
    const base = { artifact, bundlePath: join(dir, "never.json"), env: { TOLLGATE_AUDIT_LOG: join(dir, "usage-audit.log") }, audit: { config: {} } };
    await assert.rejects(signBlob({ ...base, fulcioUrl: mocks.fulcioUrl, rekorUrl: mocks.rekorUrl }), (e: unknown) => e instanceof UsageError && /OIDC identity token/.test(e.message));
    await assert.rejects(signBlob({ ...base, identityToken: token, fulcioUrl: mocks.fulcioUrl, tlogUpload: false }), (e: unknown) => e instanceof UsageError && /--tsa-url/.test(e.message));
    await assert.rejects(signBlob({ ...base, identityToken: token, fulcioUrl: "http://fulcio.example.com", rekorUrl: mocks.rekorUrl }), UsageError);
    // --identity-token takes a file holding the token, as cosign does; a value that is neither is not echoed.
    const tokenFile = join(dir, "token.jwt");
    await writeFile(tokenFile, `${token}\n`);
    const fromFile = await signBlob({ ...base, bundlePath: join(dir, "token-file.json"), identityToken: tokenFile, fulcioUrl: mocks.fulcioUrl, rekorUrl: mocks.rekorUrl });
    assert.equal(fromFile.identity?.subjectAlternativeName, IDENTITY);
    await assert.rejects(signBlob({ ...base, identityToken: "not-a-token-s3cr3t", fulcioUrl: mocks.fulcioUrl, rekorUrl: mocks.rekorUrl }), (e: unknown) => e instanceof UsageError && !e.message.includes("s3cr3t"));
    // Without --tlog-upload but with a TSA, keyless signing works (cosign allows it).
    await signBlob({ ...base, bundlePath: join(dir, "tsa-only.json"), identityToken: token, fulcioUrl: mocks.fulcioUrl, tlogUpload: false, tsaUrl: mocks.tsaUrl });
    verify(JSON.parse(await readFile(join(dir, "tsa-only.json"), "utf8")), artifactBytes, { subjectAlternativeName: IDENTITY }, { tlogThreshold: 0, ctlogThreshold: 1, timestampThreshold: 1 });
    const res = await runCli(["sign", "blob", "--key", "some.key", "--identity-token", token, "--bundle", join(dir, "never.json"), artifact], { cwd: dir, env: { TOLLGATE_CONFIG: "" } });
    assert.equal(res.code, 2);
    assert.ok(!(await readdir(dir)).includes("never.json"));
  });

  test("a Fulcio that refuses: a one-line NetworkError", async () => {
    const down = await startMockSigstore();
    await down.close();
    await assert.rejects(
      signBlob({ artifact, bundlePath: join(dir, "down.json"), identityToken: token, fulcioUrl: down.fulcioUrl, rekorUrl: mocks.rekorUrl, env: { TOLLGATE_AUDIT_LOG: join(dir, "down-audit.log") }, audit: { config: {} } }),
      (e: unknown) => e instanceof NetworkError && !e.message.includes("\n") && !e.message.includes(token),
    );
  });
});
