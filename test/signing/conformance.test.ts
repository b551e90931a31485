// The sigstore-conformance offline bundle-verify suite (../shared/testdata/sigstore-conformance,
// test/assets/bundle-verify: 21 cases that must verify, 49 that must fail), run through
// `tollgate verify-bundle` exactly as the conformance harness calls a client (docs/cli_protocol.md).
// Every `_fail` case must fail for its stated reason: the reason code in the error line (and a part
// of the message) is asserted per case, not just a non-zero exit.
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runCli, SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const SUITE = join(SHARED_TESTDATA, "sigstore-conformance", "test", "assets", "bundle-verify");
const missing = sharedTestdataMissing("sigstore-conformance/test/assets/bundle-verify");
const DEFAULT_IDENTITY =
  "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER = "https://token.actions.githubusercontent.com";

/** Why each `_fail` case must fail: the reason code, and a fragment of the message. */
const EXPECTED_FAILURES: Record<string, { reason: string; message: RegExp } | { exit: 2; message: RegExp }> = {
  "bundle-empty-certificate-chain_fail": { reason: "BUNDLE", message: /x509CertificateChain\.certificates/ },
  "bundle-from-wrong-instance_fail": { reason: "CERTIFICATE", message: /certificate chain/ },
  "bundle-invalid-base64-signature_fail": { reason: "BUNDLE", message: /messageSignature\.signature is not valid base64/ },
  "bundle-malformed-json_fail": { reason: "BUNDLE", message: /not JSON/ },
  "bundle-negative-log-index_fail": { reason: "TLOG", message: /log index "-1" is not a non-negative integer/ },
  "bundle-unknown-version_fail": { reason: "BUNDLE", message: /mediaType/ },
  "bundle-with-root-cert_fail": { reason: "CERTIFICATE", message: /self-signed root certificate/ },
  "checkpoint-bad-keyhint_fail": { reason: "TLOG", message: /invalid checkpoint signature/ },
  "checkpoint-wrong-roothash_fail": { reason: "TLOG", message: /TLOG_INCLUSION_PROOF_ERROR/ },
  "dsse-invalid-sig_fail": { reason: "SIGNATURE", message: /signature does not verify/ },
  "dsse-mismatch-envelope_fail": { reason: "TLOG", message: /TLOG_BODY_ERROR/ },
  "dsse-mismatch-sig_fail": { reason: "TLOG", message: /signature mismatch/ },
  "inclusion-proof-corrupted-hash_fail": { reason: "TLOG", message: /root hash does not match inclusion proof/ },
  "incorrect-public-key_fail": { reason: "TLOG", message: /inclusion promise could not be verified/ },
  "integrated-time-in-future_fail": { reason: "CERTIFICATE", message: /not valid or expired at the specified date/ },
  "intoto-expired-certificate_fail": { reason: "CERTIFICATE", message: /not valid or expired at the specified date/ },
  "intoto-log-entry-mismatch_fail": { reason: "TLOG", message: /TLOG_BODY_ERROR/ },
  "intoto-missing-inclusion-proof_fail": { reason: "TLOG", message: /inclusionProof/ },
  "intoto-set-outside-signing-cert-validity_fail": { reason: "CERTIFICATE", message: /not valid or expired at the specified date/ },
  "intoto-tsa-timestamp-outside-cert-validity_fail": { reason: "CERTIFICATE", message: /not valid or expired at the specified date/ },
  "invalid-checkpoint-signature_fail": { reason: "TLOG", message: /invalid checkpoint signature/ },
  "invalid-ct-key_fail": { reason: "CERTIFICATE", message: /SCT verification failed/ },
  "invalid-inclusion-proof_fail": { reason: "TLOG", message: /inclusionProof\.checkpoint/ },
  "managed-key-no-key_fail": { reason: "KEY", message: /signed with a key .*verify it with --key/ },
  // The case's key.pub is corrupt (its DER does not decode): an unreadable input, exit 2.
  "managed-key-wrong-key_fail": { exit: 2, message: /not a valid PEM public key/ },
  "message-digest-mismatch_fail": { reason: "DIGEST_MISMATCH", message: /message digest .* is not the digest of/ },
  "rekor2-checkpoint-missing-log-signature_fail": { reason: "TLOG", message: /no signatures found in checkpoint/ },
  "rekor2-checkpoint-missing-origin_fail": { reason: "TLOG", message: /checkpoint/ },
  "rekor2-checkpoint-missing-root-hash_fail": { reason: "TLOG", message: /checkpoint/ },
  "rekor2-checkpoint-missing-size_fail": { reason: "TLOG", message: /checkpoint/ },
  "rekor2-checkpoint-no-matching-signature_fail": { reason: "TLOG", message: /invalid checkpoint signature/ },
  "rekor2-dsse-invalid-sig_fail": { reason: "SIGNATURE", message: /signature does not verify/ },
  "rekor2-dsse-mismatch-envelope_fail": { reason: "TLOG", message: /TLOG_BODY_ERROR/ },
  "rekor2-dsse-mismatch-sig_fail": { reason: "TLOG", message: /signature mismatch/ },
  "rekor2-no-inclusion-proof_fail": { reason: "TLOG", message: /inclusionProof/ },
  "rekor2-no-timestamp_fail": { reason: "TIMESTAMP", message: /expected 1 timestamps, got 0/ },
  "rekor2-timestamp-outside-trust-root-tsa-validity_fail": { reason: "TIMESTAMP", message: /timestamp could not be verified/ },
  "rekor2-timestamp-outside-tsa-cert-validity_fail": { reason: "TIMESTAMP", message: /timestamp could not be verified/ },
  "rekor2-timestamp-payload-mismatch_fail": { reason: "TIMESTAMP", message: /timestamp could not be verified/ },
  "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail": { reason: "TIMESTAMP", message: /timestamp could not be verified/ },
  "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail": { reason: "TIMESTAMP", message: /timestamp could not be verified/ },
  "rekor2-timestamp-with-incorrect-time_fail": { reason: "CERTIFICATE", message: /not valid or expired at the specified date/ },
  "set-invalid-signature_fail": { reason: "TLOG", message: /inclusion promise could not be verified/ },
  "signature-mismatch_fail": { reason: "SIGNATURE", message: /signature does not verify/ },
  "trust-root-tlog-missing-validity-start_fail": { reason: "TRUST_ROOT", message: /validFor\.start is missing/ },
  "wrong-hashedrekord-artifact_fail": { reason: "TLOG", message: /TLOG_BODY_ERROR/ },
  "wrong-hashedrekord-cert-and-sig_fail": { reason: "TLOG", message: /signature mismatch/ },
  "wrong-hashedrekord-entry_fail": { reason: "TLOG", message: /TLOG_BODY_ERROR/ },
  "wrong-material_fail": { reason: "DIGEST_MISMATCH", message: /message digest .* is not the digest of/ },
};

const cases = missing ? [] : readdirSync(SUITE, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

/** The arguments the conformance harness passes for a case (test/assets/bundle-verify/README.md). */
function argumentsFor(name: string, artifactOverride?: string): string[] {
  const dir = join(SUITE, name);
  const file = (f: string): string | undefined => (existsSync(join(dir, f)) ? join(dir, f) : undefined);
  const args = ["verify-bundle", "--bundle", join(dir, "bundle.sigstore.json")];
  const key = file("key.pub");
  if (key !== undefined) args.push("--key", key);
  else {
    const identity = file("identity");
    const issuer = file("issuer");
    args.push("--certificate-identity", identity ? readFileSync(identity, "utf8").trim() : DEFAULT_IDENTITY);
    args.push("--certificate-oidc-issuer", issuer ? readFileSync(issuer, "utf8").trim() : DEFAULT_ISSUER);
  }
  // Without a case's own root, the client's default applies, as in the upstream harness: tollgate's
  // shipped public-good root (test/signing/verify-blob.test.ts checks it equals public-good-trust/).
  const root = file("trusted_root.json");
  if (root !== undefined) args.push("--trusted-root", root);
  args.push(artifactOverride ?? file("artifact") ?? join(SUITE, "a.txt"));
  return args;
}

describe("sigstore-conformance bundle-verify (offline), through tollgate verify-bundle", { concurrency: 4 }, () => {
  test("the suite has its 70 cases (21 verify, 49 fail), each with an expectation here", { skip: missing }, () => {
    assert.equal(cases.length, 70);
    assert.equal(cases.filter((c) => c.endsWith("_fail")).length, 49);
    assert.deepEqual(cases.filter((c) => c.endsWith("_fail")).sort(), Object.keys(EXPECTED_FAILURES).sort());
  });

  for (const name of missing ? ["(suite)"] : cases) {
    test(name, { skip: missing }, async () => {
      const { code, stderr } = await runCli(argumentsFor(name));
      if (!name.endsWith("_fail")) {
        assert.equal(code, 0, stderr);
        assert.match(stderr, /^tollgate: verified /m);
        return;
      }
      const expected = EXPECTED_FAILURES[name];
      assert.ok(expected, `no expectation for ${name}`);
      if ("exit" in expected) {
        assert.equal(code, expected.exit, stderr);
      } else {
        assert.equal(code, 1, stderr);
        assert.match(stderr, new RegExp(`verification failed \\[${expected.reason}\\]`), stderr);
      }
      assert.match(stderr, expected.message, stderr);
    });
  }

  // The contract's FILE_OR_DIGEST: the same cases given the artifact's sha256 instead of the file.
  const digestOf = (f: string): string => `sha256:${createHash("sha256").update(readFileSync(f)).digest("hex")}`;
  for (const name of ["happy-path-v0.3", "happy-path-v0.1", "managed-key-happy-path", "happy-path-intoto-in-dsse-v3", "rekor2-dsse-happy-path"]) {
    test(`${name}, artifact given as sha256:DIGEST`, { skip: missing }, async () => {
      const { code, stderr } = await runCli(argumentsFor(name, digestOf(join(SUITE, "a.txt"))));
      assert.equal(code, 0, stderr);
      assert.match(stderr, /verified sha256:/);
    });
  }
  test("wrong-material_fail, artifact given as sha256:DIGEST, fails on the digest", { skip: missing }, async () => {
    const { code, stderr } = await runCli(argumentsFor("wrong-material_fail", digestOf(join(SUITE, "wrong-material_fail", "artifact"))));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /\[DIGEST_MISMATCH\]/);
  });
  test("a digest of another artifact fails a DSSE bundle (not a subject)", { skip: missing }, async () => {
    const { code, stderr } = await runCli(argumentsFor("happy-path-intoto-in-dsse-v3", `sha256:${"0".repeat(64)}`));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /\[DIGEST_MISMATCH\].*not a subject of the in-toto statement/);
  });
});
