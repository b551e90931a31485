/**
 * `verify provenance` against slsa-verifier's own regression data (../shared/testdata/slsa-verifier,
 * expectations from its cli/slsa-verifier/main_regression_test.go), offline, with the Sigstore
 * public-good trusted root shipped with tollgate: the GitHub generic generator (SLSA v0.2 in bundles
 * v0.3; the 1.4 MB binaries are not in the suite, so their recorded sha256 is given as the artifact),
 * the delegator builder example-trw (v1 in bundles v0.2), the Bazel Central Registry workflows (GitHub
 * attestation bundles) and npm packages (provenance + publish attestations). Each passing case is
 * also failed by changing one expectation, so a verifier that accepts everything cannot pass.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { verifyProvenance, type VerifyProvenanceOptions } from "../../src/attest/verify-provenance.ts";
import { VerificationFailedError } from "../../src/errors.ts";
import { readArtifactArgument } from "../../src/signing/verify/artifact.ts";
import { publicGoodTrustedRoot } from "../../src/signing/trust-root.ts";
import { runCli, SHARED_TESTDATA, sharedTestdataMissing } from "../helpers.ts";

const DIR = join(SHARED_TESTDATA, "slsa-verifier");
const missing = sharedTestdataMissing("slsa-verifier");
const EXAMPLE = "github.com/slsa-framework/example-package";
const GENERIC_DIGEST = "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa";
const TRW = "https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml";
const BCR_PUBLISHER = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml";
const BCR_RELEASER = "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml";
const NPM_HOSTED = "https://github.com/actions/runner/github-hosted";

type Opts = Omit<VerifyProvenanceOptions, "artifact" | "trustRoot" | "provenancePath"> & { artifact: string; provenance: string };

async function verify(o: Opts) {
  const { artifact, provenance, ...rest } = o;
  return verifyProvenance({ ...rest, artifact: await readArtifactArgument(artifact.startsWith("sha256:") ? artifact : join(DIR, artifact)), provenancePath: join(DIR, provenance), trustRoot: publicGoodTrustedRoot().root });
}

async function fails(o: Opts, message: RegExp): Promise<VerificationFailedError> {
  try {
    await verify(o);
  } catch (e) {
    assert.ok(e instanceof VerificationFailedError, `expected a verification failure, got ${String(e)}`);
    assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${o.provenance} to fail with ${String(message)}`);
}

describe("verify provenance: slsa-verifier's regression data (offline)", { skip: missing }, () => {
  test("gha_generic v2.1.0: tag and branch per file name, with and without the builder id", async () => {
    for (const [file, ref] of [
      ["push-v13.0.30", { sourceTag: "v13.0.30" }],
      ["push-v14", { sourceTag: "v14" }],
      ["push-v14.2", { sourceTag: "v14.2" }],
      ["workflow_dispatch", { sourceBranch: "main" }],
    ] as const) {
      const provenance = `gha_generic/v2.1.0/binary-linux-amd64-${file}.intoto.jsonl`;
      const v = await verify({ artifact: GENERIC_DIGEST, provenance, sourceUri: EXAMPLE, ...ref });
      assert.equal(v.builderId, "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0");
      assert.equal(v.predicateType, "https://slsa.dev/provenance/v0.2");
      for (const builderId of [
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml",
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@v2.1.0",
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0",
      ]) {
        await verify({ artifact: GENERIC_DIGEST, provenance, sourceUri: EXAMPLE, builderId, ...ref });
      }
    }
    const provenance = "gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl";
    await fails({ artifact: GENERIC_DIGEST, provenance, sourceUri: EXAMPLE, sourceBranch: "master" }, /^branch used to generate the binary does not match provenance/);
    await fails({ artifact: GENERIC_DIGEST, provenance, sourceUri: `${EXAMPLE}A` }, /^source used to generate the binary does not match provenance/);
    await fails({ artifact: GENERIC_DIGEST, provenance, sourceUri: "github.com/slsa-framework/Aexample-package" }, /^source used/);
    await fails({ artifact: GENERIC_DIGEST, provenance, sourceUri: EXAMPLE, sourceTag: "v1.2.3" }, /^invalid ref/);
    await fails({ artifact: GENERIC_DIGEST, provenance, sourceUri: EXAMPLE, builderId: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml" }, /^untrusted reusable workflow/);
    await fails({ artifact: GENERIC_DIGEST, provenance, sourceUri: EXAMPLE, builderId: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@v2.0.0" }, /^untrusted reusable workflow/);
    await fails({ artifact: GENERIC_DIGEST, provenance: "gha_generic/v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl", sourceUri: EXAMPLE, sourceTag: "v13.0.29" }, /^tag used to generate the binary does not match provenance/);
    const e = await fails({ artifact: `sha256:${"0".repeat(64)}`, provenance, sourceUri: EXAMPLE }, /is not a subject/);
    assert.equal(e.reason, "DIGEST_MISMATCH");
  });

  test("gha_generic v2.1.0: the Rekor entry is verified offline too (inclusion proof, entry body), and the signature", async () => {
    const path = join(DIR, "gha_generic/v2.1.0/binary-linux-amd64-push-v14.2.intoto.jsonl");
    const original = JSON.parse(await readFile(path, "utf8")) as {
      verificationMaterial: { tlogEntries: { inclusionProof: { hashes: string[] }; canonicalizedBody: string; inclusionPromise?: unknown }[] };
      dsseEnvelope: { signatures: { sig: string }[] };
    };
    const run = async (doc: unknown) =>
      verifyProvenance({
        artifact: await readArtifactArgument(GENERIC_DIGEST),
        provenancePath: path,
        provenanceText: JSON.stringify(doc),
        sourceUri: EXAMPLE,
        trustRoot: publicGoodTrustedRoot().root,
      });
    await run(original);
    const flip = (b64: string) => {
      const b = Buffer.from(b64, "base64");
      b[b.length - 1]! ^= 0x01;
      return b.toString("base64");
    };
    const proof = structuredClone(original);
    proof.verificationMaterial.tlogEntries[0]!.inclusionProof.hashes[0] = flip(proof.verificationMaterial.tlogEntries[0]!.inclusionProof.hashes[0]!);
    await assert.rejects(run(proof), (e: unknown) => e instanceof VerificationFailedError && e.reason === "TLOG");
    const body = structuredClone(original);
    const entryBody = JSON.parse(Buffer.from(body.verificationMaterial.tlogEntries[0]!.canonicalizedBody, "base64").toString("utf8")) as { spec: { signatures: { signature: string }[] } };
    entryBody.spec.signatures[0]!.signature = flip(entryBody.spec.signatures[0]!.signature);
    body.verificationMaterial.tlogEntries[0]!.canonicalizedBody = Buffer.from(JSON.stringify(entryBody)).toString("base64");
    await assert.rejects(run(body), (e: unknown) => e instanceof VerificationFailedError && e.reason === "TLOG");
    const sig = structuredClone(original);
    sig.dsseEnvelope.signatures[0]!.sig = flip(sig.dsseEnvelope.signatures[0]!.sig);
    await assert.rejects(run(sig), (e: unknown) => e instanceof VerificationFailedError && e.reason === "SIGNATURE");
    const noLog = structuredClone(original);
    noLog.verificationMaterial.tlogEntries = [];
    await assert.rejects(run(noLog), (e: unknown) => e instanceof VerificationFailedError && e.reason === "TLOG");
  });

  test("gha_generic v2.1.0: --source-versioned-tag matches by the precision given", async () => {
    const at = (file: string) => ({ artifact: GENERIC_DIGEST, provenance: `gha_generic/v2.1.0/binary-linux-amd64-${file}.intoto.jsonl`, sourceUri: EXAMPLE });
    for (const tag of ["v13.0.30", "v13.0", "v13"]) await verify({ ...at("push-v13.0.30"), sourceVersionedTag: tag });
    for (const tag of ["v2", "v0", "v13.1", "v12.9", "v13.0.29", "v13.0.31"]) await fails({ ...at("push-v13.0.30"), sourceVersionedTag: tag }, /^tag used to generate the binary does not match provenance/);
    for (const tag of ["v14", "v14.0"]) await verify({ ...at("push-v14"), sourceVersionedTag: tag });
    for (const tag of ["v14.1", "v13", "v15", "v13.2"]) await fails({ ...at("push-v14"), sourceVersionedTag: tag }, /^tag used/);
    await fails({ ...at("workflow_dispatch"), sourceVersionedTag: "v1" }, /^invalid ref/);
    await fails({ ...at("push-v14"), sourceVersionedTag: "14" }, /^invalid semantic version/);
  });

  test("gha_delegator v2.1.0: the example-trw builder behind the delegator", async () => {
    for (const [file, ref] of [
      ["push-v13.0.30", { sourceTag: "v13.0.30" }],
      ["push-v14", { sourceTag: "v14" }],
      ["push-v14.2", { sourceTag: "v14.2" }],
      ["workflow_dispatch", { sourceBranch: "main" }],
    ] as const) {
      const artifact = `gha_delegator/v2.1.0/binary-linux-amd64-${file}`;
      const v = await verify({ artifact, provenance: `${artifact}.build.slsa`, sourceUri: EXAMPLE, builderId: TRW, ...ref });
      assert.equal(v.builderId, `${TRW}@refs/tags/v2.1.0`);
      assert.equal(v.predicateType, "https://slsa.dev/provenance/v1");
    }
    const artifact = "gha_delegator/v2.1.0/binary-linux-amd64-push-v14.2";
    // Without a builder id the delegated builder must be one of slsa-github-generator's.
    await fails({ artifact, provenance: `${artifact}.build.slsa`, sourceUri: EXAMPLE }, /^builderID is invalid: BuilderID Path Mismatch/);
    await fails({ artifact, provenance: `${artifact}.build.slsa`, sourceUri: EXAMPLE, builderId: `${TRW}@v2.0.0` }, /^builderID does not match provenance/);
    await fails({ artifact, provenance: `${artifact}.build.slsa`, sourceUri: EXAMPLE, builderId: TRW, sourceTag: "v14.1" }, /^tag used/);
    // The 6-byte artifact of another build is not this provenance's subject.
    await fails({ artifact: "gha_delegator/v2.1.0/binary-linux-amd64-push-v14", provenance: "gha_generic/v2.1.0/binary-linux-amd64-push-v14.intoto.jsonl", sourceUri: EXAMPLE }, /is not a subject/);
  });

  test("BCR: the publisher and releaser workflows pass with their builder id; the wrong signer and a missing builder id are untrusted", async () => {
    const source = "github.com/aspect-build/rules_lint";
    const a = await verify({ artifact: "bcr/MODULE.bazel", provenance: "bcr/MODULE.bazel.intoto.jsonl", sourceUri: source, builderId: BCR_PUBLISHER });
    assert.equal(a.builderId, `${BCR_PUBLISHER}@refs/tags/v0.0.1`);
    const b = await verify({ artifact: "bcr/rules_lint-v1.3.1.tar.gz", provenance: "bcr/rules_lint-v1.3.1.tar.gz.intoto.jsonl", sourceUri: source, builderId: BCR_RELEASER });
    assert.equal(b.builderId, `${BCR_RELEASER}@refs/tags/v7.1.0`);
    await fails({ artifact: "bcr/MODULE-wrong-signer.bazel", provenance: "bcr/MODULE-wrong-signer.bazel.intoto.jsonl", sourceUri: source, builderId: BCR_PUBLISHER }, /^untrusted reusable workflow/);
    await fails({ artifact: "bcr/MODULE.bazel", provenance: "bcr/MODULE.bazel.intoto.jsonl", sourceUri: source }, /^untrusted reusable workflow/);
    await fails({ artifact: "bcr/rules_lint-v1.3.1.tar.gz", provenance: "bcr/rules_lint-v1.3.1.tar.gz.intoto.jsonl", sourceUri: source }, /^untrusted reusable workflow/);
    // The publisher's identity does not vouch for the releaser's build.
    await fails({ artifact: "bcr/rules_lint-v1.3.1.tar.gz", provenance: "bcr/rules_lint-v1.3.1.tar.gz.intoto.jsonl", sourceUri: source, builderId: BCR_PUBLISHER }, /^untrusted reusable workflow/);
    await fails({ artifact: "bcr/MODULE.bazel", provenance: "bcr/MODULE.bazel.intoto.jsonl", sourceUri: "github.com/aspect-build/rules_lintA", builderId: BCR_PUBLISHER }, /^source used/);
  });

  test("npm: provenance and publish attestations, package name and version, builder names", async () => {
    const supreme = { artifact: "npm/gha/supreme-googles-cli-v02-tag.tgz", provenance: "npm/gha/supreme-googles-cli-v02-tag.tgz.json", sourceUri: "github.com/trishankatdatadog/supreme-goggles", packageName: "@trishankatdatadog/supreme-goggles", packageVersion: "1.0.5" };
    const gundam = { artifact: "npm/gha/gundam-visor-cli-v1-tag.tgz", provenance: "npm/gha/gundam-visor-cli-v1-tag.tgz.json", sourceUri: "github.com/ramonpetgrave64/gundam-visor", packageName: "gundam-visor", packageVersion: "1.0.1" };
    const ossf = { artifact: "npm/gha/provenance-npm-test-ossf.tgz", provenance: "npm/gha/provenance-npm-test-ossf.tgz.json", sourceUri: "github.com/laurentsimon/provenance-npm-test", packageName: "@laurentsimon/provenance-npm-test", packageVersion: "1.0.5", builderId: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml" };
    assert.equal((await verify({ ...supreme, builderId: NPM_HOSTED })).predicateType, "https://slsa.dev/provenance/v0.2");
    await verify({ ...supreme, builderId: "https://github.com/actions/runner" });
    assert.equal((await verify({ ...gundam, builderId: NPM_HOSTED })).predicateType, "https://slsa.dev/provenance/v1");
    await verify({ artifact: "npm/gha/provenance-npm-test-cli-v02-prega.tgz", provenance: "npm/gha/provenance-npm-test-cli-v02-prega.tgz.json", sourceUri: "github.com/laurentsimon/provenance-npm-test", packageName: "@laurentsimon/provenance-npm-test", packageVersion: "1.0.3", builderId: NPM_HOSTED });
    await verify({ artifact: "npm/gha/provenance-npm-test-cli-v1-prega.tgz", provenance: "npm/gha/provenance-npm-test-cli-v1-prega.tgz.json", sourceUri: "github.com/sigstore/sigstore-js", packageName: "sigstore", packageVersion: "2.3.1", builderId: NPM_HOSTED });
    await verify(ossf);

    await fails({ ...gundam, builderId: "https://github.com/actions/runner" }, /^builderID is invalid/);
    await fails(gundam, /^builderID is invalid: no expected builder ID/);
    await fails({ ...supreme, builderId: "https://github.com/actions/runner2" }, /^not supported/);
    await fails({ ...gundam, builderId: `${NPM_HOSTED}2` }, /^not supported/);
    await fails({ ...supreme, builderId: NPM_HOSTED, sourceUri: "github.com/trishankatdatadog/supreme-goggleS" }, /^source used/);
    await fails({ ...gundam, builderId: NPM_HOSTED, packageVersion: "1.0.2" }, /^package version does not match provenance/);
    await fails({ ...supreme, builderId: NPM_HOSTED, packageName: "@trishankatdatadog/supreme-goggleS" }, /^package name does not match provenance/);
    await fails({ ...ossf, sourceUri: "github.com/laurentsimon/provenance-npm-test2" }, /^source used/);
    await fails({ ...ossf, packageVersion: "1.0.6" }, /^package version/);
    // Another package's tarball against these attestations.
    await fails({ ...gundam, builderId: NPM_HOSTED, artifact: supreme.artifact }, /is not a subject/);
  });

  test("npm: every invalidsig variant fails with an invalid signature", async () => {
    const cases = [
      ["supreme-googles-cli-v02-tag", "github.com/trishankatdatadog/supreme-goggles", "@trishankatdatadog/supreme-goggles", "1.0.5", NPM_HOSTED],
      ["gundam-visor-cli-v1-tag", "github.com/ramonpetgrave64/gundam-visor", "gundam-visor", "1.0.1", NPM_HOSTED],
      ["provenance-npm-test-cli-v02-prega", "github.com/laurentsimon/provenance-npm-test", "@laurentsimon/provenance-npm-test", "1.0.3", NPM_HOSTED],
      ["provenance-npm-test-cli-v1-prega", "github.com/sigstore/sigstore-js", "sigstore", "2.3.1", NPM_HOSTED],
      ["provenance-npm-test-ossf", "github.com/laurentsimon/provenance-npm-test", "@laurentsimon/provenance-npm-test", "1.0.5", "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml"],
    ] as const;
    for (const [name, sourceUri, packageName, packageVersion, builderId] of cases) {
      for (const variant of ["invalidsigprov", "invalidsigpub"]) {
        const file = `npm/gha/${name}-${variant}.tgz`;
        const e = await fails({ artifact: file, provenance: `${file}.json`, sourceUri, packageName, packageVersion, builderId }, /^invalid signature/);
        assert.equal(e.reason, "SIGNATURE", `${file}: ${e.message}`);
      }
    }
  });

  test("the CLI: exit 0 with the verdict, 1 with the reason, 2 for an unreadable provenance", async () => {
    const base = ["verify", "provenance", join(DIR, "bcr/MODULE.bazel"), "--provenance", join(DIR, "bcr/MODULE.bazel.intoto.jsonl"), "--source-uri", "github.com/aspect-build/rules_lint"];
    const ok = await runCli([...base, "--builder-id", BCR_PUBLISHER, "--format", "json"]);
    assert.equal(ok.code, 0, ok.stderr);
    const verdict = JSON.parse(ok.stdout) as { verified: boolean; builderId: string; sourceCommit: string };
    assert.equal(verdict.builderId, `${BCR_PUBLISHER}@refs/tags/v0.0.1`);
    assert.equal(verdict.sourceCommit, "8f70009fde0c94ade6ce2a054b94718c819126ec");
    const untrusted = await runCli(base);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /verification failed \[IDENTITY\]: untrusted reusable workflow/);
    // A bare DSSE envelope (slsa-github-generator v1's .intoto.jsonl) has no Rekor entry to check offline: exit 2.
    const bundle = JSON.parse(await readFile(join(DIR, "bcr/MODULE.bazel.intoto.jsonl"), "utf8")) as { dsseEnvelope: Record<string, unknown> };
    const bare = join(await mkdtemp(join(tmpdir(), "tollgate-bare-")), "bare.intoto.jsonl");
    await writeFile(bare, `${JSON.stringify(bundle.dsseEnvelope)}\n`);
    const envelope = await runCli(["verify", "provenance", join(DIR, "bcr/MODULE.bazel"), "--provenance", bare, "--source-uri", "github.com/aspect-build/rules_lint", "--builder-id", BCR_PUBLISHER]);
    assert.equal(envelope.code, 2, envelope.stderr);
    assert.match(envelope.stderr, /bare DSSE envelope: its signature cannot be verified offline/);
    await rm(dirname(bare), { recursive: true, force: true });
    const unreadable = await runCli(["verify", "provenance", join(DIR, "bcr/MODULE.bazel"), "--provenance", join(DIR, "bcr/no-such-file"), "--source-uri", "github.com/aspect-build/rules_lint"]);
    assert.equal(unreadable.code, 2, unreadable.stderr);
  });
});
