/**
 * The cosign-produced signatures of containers/image's tests (../shared/testdata/cosign-containers-image,
 * cosign-cases.json: 14 policy cases) through tollgate's image verification: each signature file of a
 * case's `dir:` image becomes the signature layer it was in the registry (media type, payload,
 * annotations), and is verified for the digest of the image's manifest.json by `verifyLegacySignature`
 * and `settleImageVerification`, the functions `verify image` runs after reading the registry. The
 * fixture manifests name blobs that are not here, so a registry will not take them; the registry path
 * is covered by verify-image-registry.test.ts. Key+SET and Fulcio+SET cases verify against the
 * Sigstore public-good trusted root shipped with tollgate (the fixtures were logged in public-good Rekor).
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { VerificationFailedError } from "../../src/errors.ts";
import { publicGoodTrustedRoot } from "../../src/signing/trust-root.ts";
import { checkedSimpleSigningPayload, settleImageVerification, verifyLegacySignature, type ImageVerificationOptions, type LegacySignature } from "../../src/signing/verify-image.ts";
import type { VerificationPolicy } from "../../src/signing/verify/policy.ts";
import { readPemCertificates, type PrivatePkiPolicy } from "../../src/signing/verify/private-pki.ts";
import { SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const SUITE = join(SHARED_TESTDATA, "cosign-containers-image");
const skip = sharedTestdataMissing("cosign-containers-image");

interface PolicyCase {
  dir: string;
  image_ref: string;
  key?: string;
  rekor_public_key?: string;
  fulcio_ca?: string;
  oidc_issuer?: string;
  subject_email?: string;
  pki_roots?: string;
  pki_intermediates?: string;
  subject_hostname?: string;
  identity_policy?: string;
  expect: "allowed" | "rejected";
  why?: string;
}

const SIGSTORE_PREFIX = Buffer.from("\0sigstore-json\n");

/** The sigstore signatures of a containers/image `dir:` image (GPG simple-signing files are not cosign signatures). */
function dirSignatures(dir: string): LegacySignature[] {
  const out: LegacySignature[] = [];
  for (const name of readdirSync(dir).filter((n) => n.startsWith("signature-")).sort()) {
    const bytes = readFileSync(join(dir, name));
    if (!bytes.subarray(0, SIGSTORE_PREFIX.length).equals(SIGSTORE_PREFIX)) continue;
    const json = JSON.parse(bytes.subarray(SIGSTORE_PREFIX.length).toString("utf8")) as { mimeType: string; payload: string; annotations: Record<string, string> };
    out.push({ mediaType: json.mimeType, payload: Buffer.from(json.payload, "base64"), annotations: json.annotations, source: `${dir}/${name}` });
  }
  return out;
}

function manifestDigest(dir: string): string {
  return `sha256:${createHash("sha256").update(readFileSync(join(dir, "manifest.json"))).digest("hex")}`;
}

function verifyDir(dir: string, digest: string, options: ImageVerificationOptions) {
  const sigs = dirSignatures(dir);
  return settleImageVerification(
    digest,
    sigs.map((s) => () => verifyLegacySignature(s, digest, options)),
    sigs.map((s) => s.source),
  );
}

function policiesFor(c: PolicyCase): VerificationPolicy[] {
  if (c.key !== undefined) {
    const key = createPublicKey(readFileSync(join(SUITE, c.key)));
    // Without a Rekor key the case is a signature not uploaded to a log: cosign's --insecure-ignore-tlog.
    return [{ kind: "key", key, insecureIgnoreTlog: c.rekor_public_key === undefined }];
  }
  assert.ok(c.subject_email !== undefined && c.oidc_issuer !== undefined);
  return [{ kind: "certificate", subject: { exact: c.subject_email }, issuer: { exact: c.oidc_issuer } }];
}

function rejection(f: () => unknown): VerificationFailedError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof VerificationFailedError, `expected a VerificationFailedError, got ${String(e)}`);
    return e;
  }
  assert.fail("verification passed");
}

describe("cosign-containers-image fixtures (containers/image policy cases)", { skip }, () => {
  const cases = skip ? [] : (JSON.parse(readFileSync(join(SUITE, "cosign-cases.json"), "utf8")) as { cases: PolicyCase[] }).cases;
  const trustRoot = skip ? undefined : publicGoodTrustedRoot().root;

  test("there are 14 cases", () => assert.equal(cases.length, 14));

  cases.forEach((c, i) => {
    const name = `case ${i + 1}: ${c.dir} as ${c.image_ref}${c.identity_policy ? ` (${c.identity_policy})` : ""} → ${c.expect}${c.why ? ` (${c.why})` : ""}`;
    if (c.pki_roots !== undefined) {
      // Private PKI (cosign --ca-roots/--ca-intermediates with --insecure-ignore-tlog; containers/image `pki`):
      // the certificate chains to the given roots, no Rekor, no Fulcio identity; the SAN is the identity.
      test(name, async () => {
        const dir = join(SUITE, c.dir);
        const pki: PrivatePkiPolicy = {
          roots: await readPemCertificates(join(SUITE, c.pki_roots!)),
          intermediates: c.pki_intermediates ? await readPemCertificates(join(SUITE, c.pki_intermediates)) : [],
          subject: { exact: c.subject_email! },
        };
        const options: ImageVerificationOptions = { policies: [], trustRoot: trustRoot!, pki, referencePolicy: { reference: c.image_ref, match: "repository" } };
        const digest = manifestDigest(dir);
        assert.equal(c.expect, "allowed");
        const result = verifyDir(dir, digest, options);
        assert.equal(result.verified.length, 1);
        assert.deepEqual(result.verified[0]?.result.signer, { kind: "certificate", subject: c.subject_email, issuer: "" });
        // The hostname SAN is an identity too (cosign matches any SAN); another identity is refused.
        assert.equal(verifyDir(dir, digest, { ...options, pki: { ...pki, subject: { exact: c.subject_hostname! } } }).verified.length, 1);
        assert.equal(rejection(() => verifyDir(dir, digest, { ...options, pki: { ...pki, subject: { exact: "someone@example.com" } } })).reason, "IDENTITY");
        // An issuer is required only when asked for: private certificates carry no OIDC issuer.
        assert.equal(rejection(() => verifyDir(dir, digest, { ...options, pki: { ...pki, issuer: { exact: "https://accounts.google.com" } } })).reason, "IDENTITY");
        // Without the certificate annotation (the case's "why"), or against other roots (Fulcio's), it is rejected.
        const [sig] = dirSignatures(dir);
        const noCert = { ...sig!, annotations: Object.fromEntries(Object.entries(sig!.annotations).filter(([k]) => k !== "dev.sigstore.cosign/certificate")) };
        assert.equal(rejection(() => verifyLegacySignature(noCert, digest, options)).reason, "CERTIFICATE");
        const fulcioRoots = await readPemCertificates(join(SUITE, "fixtures/fulcio_v1.crt.pem"));
        assert.equal(rejection(() => verifyDir(dir, digest, { ...options, pki: { ...pki, roots: fulcioRoots } })).reason, "CERTIFICATE");
        // The intermediate is also in the layer's chain annotation (untrusted, a path element only): the roots alone suffice.
        assert.equal(verifyDir(dir, digest, { ...options, pki: { ...pki, intermediates: [] } }).verified.length, 1);
        // Without it anywhere, no path reaches the root.
        const chainless = { ...sig!, annotations: Object.fromEntries(Object.entries(sig!.annotations).filter(([k]) => k !== "dev.sigstore.cosign/chain")) };
        assert.equal(rejection(() => verifyLegacySignature(chainless, digest, { ...options, pki: { ...pki, intermediates: [] } })).reason, "CERTIFICATE");
        assert.equal(verifyLegacySignature(chainless, digest, options).payload.critical !== undefined, true);
        // Another image's digest: the payload names this one.
        assert.equal(rejection(() => verifyDir(dir, `sha256:${"0".repeat(64)}`, options)).reason, "DIGEST_MISMATCH");
      });
      return;
    }
    test(name, () => {
      const dir = join(SUITE, c.dir);
      assert.ok(existsSync(dir));
      const options: ImageVerificationOptions = {
        policies: policiesFor(c),
        trustRoot: trustRoot!,
        referencePolicy: { reference: c.image_ref, match: c.identity_policy === "matchExact" ? "exact" : "repository" },
      };
      const digest = manifestDigest(dir);
      if (c.expect === "allowed") {
        const result = verifyDir(dir, digest, options);
        assert.ok(result.verified.length >= 1);
        for (const v of result.verified) {
          const critical = v.payload.critical as { image: { "docker-manifest-digest": string } };
          assert.equal(critical.image["docker-manifest-digest"], digest);
        }
        if (c.rekor_public_key !== undefined) assert.ok(result.verified.every((v) => v.result.tlogEntries.length === 1), "the SET was verified");
        if (c.subject_email !== undefined) {
          const optional = result.verified[0]?.payload.optional as Record<string, unknown>;
          assert.equal(optional.Subject, c.subject_email);
          assert.equal(optional.Issuer, c.oidc_issuer);
        }
      } else {
        const e = rejection(() => verifyDir(dir, digest, options));
        const expectedReason = ["dir-img-unsigned", "dir-img-valid", "dir-img-cosign-other-attachment"].some((d) => c.dir.endsWith(d)) ? "NOT_SIGNED" : "POLICY";
        assert.equal(e.reason, expectedReason, e.message);
      }
    });
  });

  test("the mixed image: the unknown-key signature fails (SIGNATURE), the other one verifies", () => {
    const dir = join(SUITE, "fixtures/dir-img-cosign-mixed");
    const options: ImageVerificationOptions = { policies: policiesFor({ key: "fixtures/cosign.pub" } as PolicyCase), trustRoot: trustRoot! };
    const result = verifyDir(dir, manifestDigest(dir), options);
    assert.equal(result.verified.length, 1);
    assert.deepEqual(result.failures.map((f) => f.reason), ["SIGNATURE"]);
  });

  test("a modified manifest (digest not the signed one) is DIGEST_MISMATCH; the wrong key is SIGNATURE", () => {
    const options: ImageVerificationOptions = { policies: policiesFor({ key: "fixtures/cosign.pub" } as PolicyCase), trustRoot: trustRoot! };
    for (const d of ["fixtures/dir-img-cosign-modified-manifest", "fixtures/dir-img-cosign-manifest-digest-error"]) {
      const dir = join(SUITE, d);
      assert.equal(rejection(() => verifyDir(dir, manifestDigest(dir), options)).reason, "DIGEST_MISMATCH", d);
    }
    const valid = join(SUITE, "fixtures/dir-img-cosign-valid");
    const other = { ...options, policies: policiesFor({ key: "fixtures/cosign2.pub" } as PolicyCase) };
    assert.equal(rejection(() => verifyDir(valid, manifestDigest(valid), other)).reason, "SIGNATURE");
    // Without --insecure-ignore-tlog a keyed signature with no SET is refused.
    const noFlag = { ...options, policies: [{ ...(options.policies[0] as Extract<VerificationPolicy, { kind: "key" }>), insecureIgnoreTlog: false }] };
    assert.equal(rejection(() => verifyDir(valid, manifestDigest(valid), noFlag)).reason, "TLOG");
  });

  test("a changed SET fails (TLOG); -a annotations must be in optional (POLICY)", () => {
    const dir = join(SUITE, "fixtures/dir-img-cosign-key-rekor-valid");
    const [sig] = dirSignatures(dir);
    assert.ok(sig);
    const options: ImageVerificationOptions = { policies: policiesFor({ key: "fixtures/cosign2.pub", rekor_public_key: "x" } as PolicyCase), trustRoot: trustRoot! };
    const digest = manifestDigest(dir);
    assert.equal(verifyLegacySignature(sig, digest, options).result.tlogEntries[0]?.logIndex, "11608800");
    const set = JSON.parse(sig.annotations["dev.sigstore.cosign/bundle"]!) as { Payload: { integratedTime: number } };
    set.Payload.integratedTime += 1;
    const tampered = { ...sig, annotations: { ...sig.annotations, "dev.sigstore.cosign/bundle": JSON.stringify(set) } };
    assert.equal(rejection(() => verifyLegacySignature(tampered, digest, options)).reason, "TLOG");

    const tagged = join(SUITE, "fixtures/dir-img-cosign-valid-with-tag");
    const [withOptional] = dirSignatures(tagged);
    assert.ok(withOptional);
    const keyed: ImageVerificationOptions = { policies: policiesFor({ key: "fixtures/cosign.pub" } as PolicyCase), trustRoot: trustRoot! };
    const ok = verifyLegacySignature(withOptional, manifestDigest(tagged), { ...keyed, annotations: { creator: "containers/image 5.21.2-dev" } });
    assert.equal((ok.payload.optional as Record<string, unknown>).timestamp, 1657296609);
    const e = rejection(() => verifyLegacySignature(withOptional, manifestDigest(tagged), { ...keyed, annotations: { creator: "someone else" } }));
    assert.equal(e.reason, "POLICY");
  });
});

describe("simple-signing payloads as verify image checks them (strict, as containers/image)", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  const good = { critical: { identity: { "docker-reference": "example.com/app" }, image: { "docker-manifest-digest": digest }, type: "cosign container image signature" }, optional: null };
  const parse = (v: unknown) => checkedSimpleSigningPayload(Buffer.from(JSON.stringify(v)));

  test("cosign's payload parses; optional may be null or an object", () => {
    assert.equal(parse(good).manifestDigest, digest);
    assert.deepEqual(parse({ ...good, optional: { a: "b", timestamp: 5 } }).optional, { a: "b", timestamp: 5 });
  });

  test("unknown or missing fields, a wrong type, a non-integer timestamp are refused", () => {
    const bad: unknown[] = [
      { ...good, extra: 1 },
      { critical: good.critical },
      { ...good, critical: { ...good.critical, type: "atomic container signature" } },
      { ...good, critical: { ...good.critical, image: { "docker-manifest-digest": digest, more: 1 } } },
      { ...good, critical: { ...good.critical, identity: {} } },
      { ...good, critical: { image: good.critical.image, type: good.critical.type } },
      { ...good, optional: { timestamp: 1.5 } },
      { ...good, optional: [] },
      [good],
      { ...good, critical: { ...good.critical, image: { "docker-manifest-digest": "sha256:short" } } },
    ];
    for (const b of bad) assert.equal(rejection(() => parse(b)).reason, "POLICY", JSON.stringify(b));
    assert.equal(rejection(() => checkedSimpleSigningPayload(Buffer.from("{not json"))).reason, "POLICY");
  });
});
