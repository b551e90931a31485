/**
 * Round trip: `attest provenance` under a simulated GitHub Actions job (the documented default
 * variables, and the job's OIDC token served by a stand-in of GitHub's token endpoint on 127.0.0.1,
 * with the claims GitHub puts in it: job_workflow_ref, repository, ref, sha, runner_environment…),
 * signed keyless against MOCK Sigstore services (@sigstore/mock's Fulcio, Rekor and TSA on 127.0.0.1;
 * the mock Fulcio writes GitHub's certificate extensions from the claims, as the real one does), then
 * `verify provenance` with the mock's trusted root: it verifies for the repository, ref and builder
 * it was made for and fails for another repository, ref or builder, or another artifact. Key-signed
 * provenance (a PKCS#8 key, a Rekor entry from the mock) verifies with `--key`.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { validateInToto } from "../../src/attest/intoto-validate.ts";
import { runCli, tempDir } from "../helpers.ts";
import { startMockSigstore, unsignedJwt, type MockSigstore } from "../signing/sigstore-mock-services.ts";

const ISSUER = "https://token.actions.githubusercontent.com";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const WORKFLOW_REF = "acme/app/.github/workflows/release.yml@refs/heads/main";
const BUILDER = "https://github.com/acme/app/.github/workflows/release.yml";

describe("attest provenance → verify provenance (simulated GitHub Actions, mock Sigstore)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let mocks: MockSigstore;
  let oidc: Server;
  let env: NodeJS.ProcessEnv;
  let rootPath: string;
  let artifact: string;
  const requestToken = "request-token-for-the-test";
  const claims = {
    iss: ISSUER,
    aud: "sigstore",
    exp: Math.floor(Date.now() / 1000) + 600,
    sub: `https://github.com/${WORKFLOW_REF}`,
    repository: "acme/app",
    repository_id: "4242",
    repository_owner: "acme",
    repository_owner_id: "17",
    ref: "refs/heads/main",
    sha: SHA,
    workflow_ref: WORKFLOW_REF,
    workflow_sha: SHA,
    job_workflow_ref: WORKFLOW_REF,
    job_workflow_sha: SHA,
    event_name: "push",
    runner_environment: "github-hosted",
    run_id: "98765",
    run_attempt: "2",
  };

  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-provenance-"));
    // canonicalDsse: Rekor stores dsse entries as the real one does, so their bodies are verified too.
    mocks = await startMockSigstore({ canonicalDsse: true });
    rootPath = join(dir, "trusted_root.json");
    await writeFile(rootPath, JSON.stringify(TrustedRoot.toJSON(mocks.trustedRoot)));
    const token = unsignedJwt(claims);
    oidc = createServer((req, res) => {
      if (req.headers.authorization?.toLowerCase() !== `bearer ${requestToken}`) return void res.writeHead(401).end();
      if (new URL(req.url ?? "/", "http://x").searchParams.get("audience") !== "sigstore") return void res.writeHead(400).end();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value: token }));
    });
    await new Promise<void>((resolve) => oidc.listen(0, "127.0.0.1", resolve));
    env = {
      TOLLGATE_CONFIG: "",
      TOLLGATE_AUDIT_LOG: join(dir, "audit.log"),
      SIGSTORE_ID_TOKEN: "",
      GITHUB_ACTIONS: "true",
      GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(oidc.address() as AddressInfo).port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_REPOSITORY: "acme/app",
      GITHUB_REPOSITORY_ID: "4242",
      GITHUB_REPOSITORY_OWNER_ID: "17",
      GITHUB_WORKFLOW_REF: WORKFLOW_REF,
      GITHUB_SHA: SHA,
      GITHUB_REF: "refs/heads/main",
      GITHUB_REF_TYPE: "branch",
      GITHUB_RUN_ID: "98765",
      GITHUB_RUN_ATTEMPT: "2",
      GITHUB_EVENT_NAME: "push",
      RUNNER_ENVIRONMENT: "github-hosted",
    };
    artifact = join(dir, "app.tar.gz");
    await writeFile(artifact, "the release archive\n");
  });
  after(async () => {
    await new Promise<void>((resolve) => oidc.close(() => resolve()));
    await mocks.close();
    await cleanup();
  });

  const verifyArgs = (bundle: string, file = artifact) => ["verify", "provenance", file, "--provenance", bundle, "--trusted-root", rootPath];

  test("keyless by default in the job: the statement has actions/attest-build-provenance's shape and verifies", async () => {
    const made = await runCli(["attest", "provenance", "--fulcio-url", mocks.fulcioUrl, "--rekor-url", mocks.rekorUrl, "--tsa-url", mocks.tsaUrl, artifact], { cwd: dir, env });
    assert.equal(made.code, 0, made.stderr);
    const bundlePath = `${artifact}.intoto.sigstore.json`;
    const bundle = JSON.parse(await readFile(bundlePath, "utf8")) as { mediaType: string; verificationMaterial: { certificate?: unknown }; dsseEnvelope: { payload: string; payloadType: string } };
    assert.equal(bundle.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.ok(bundle.verificationMaterial.certificate, "keyless: a Fulcio certificate");
    assert.equal(bundle.dsseEnvelope.payloadType, "application/vnd.in-toto+json");
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8")) as { predicate: unknown; subject: { name: string; digest: { sha256: string } }[] };
    assert.deepEqual(validateInToto("statement", statement), { valid: true });
    assert.deepEqual(validateInToto("slsa-provenance-v1-predicate", statement.predicate), { valid: true });
    assert.equal(statement.subject[0]!.name, "app.tar.gz");
    assert.deepEqual(statement.predicate, {
      buildDefinition: {
        buildType: "https://actions.github.io/buildtypes/workflow/v1",
        externalParameters: { workflow: { ref: "refs/heads/main", repository: "https://github.com/acme/app", path: ".github/workflows/release.yml" } },
        internalParameters: { github: { event_name: "push", repository_id: "4242", repository_owner_id: "17", runner_environment: "github-hosted" } },
        resolvedDependencies: [{ uri: "git+https://github.com/acme/app@refs/heads/main", digest: { gitCommit: SHA } }],
      },
      runDetails: { builder: { id: `${BUILDER}@refs/heads/main` }, metadata: { invocationId: "https://github.com/acme/app/actions/runs/98765/attempts/2" } },
    });
    assert.match(await readFile(join(dir, "audit.log"), "utf8"), /"operation":"attest provenance".*"result":"success"/);

    const ok = await runCli([...verifyArgs(bundlePath), "--source-uri", "github.com/acme/app", "--builder-id", BUILDER, "--source-branch", "main", "--format", "json"], { cwd: dir, env: { TOLLGATE_CONFIG: "" } });
    assert.equal(ok.code, 0, ok.stderr);
    const verdict = JSON.parse(ok.stdout) as { builderId: string; sourceCommit: string };
    assert.equal(verdict.builderId, `${BUILDER}@refs/heads/main`);
    assert.equal(verdict.sourceCommit, SHA);

    for (const [extra, reason] of [
      [["--source-uri", "github.com/acme/other", "--builder-id", BUILDER], /\[POLICY\]: source used to generate the binary does not match provenance/],
      [["--source-uri", "github.com/acme/app", "--builder-id", BUILDER, "--source-branch", "release"], /branch used to generate the binary does not match provenance/],
      [["--source-uri", "github.com/acme/app", "--builder-id", BUILDER, "--source-tag", "v1.0.0"], /invalid ref/],
      [["--source-uri", "github.com/acme/app", "--builder-id", "https://github.com/acme/app/.github/workflows/other.yml"], /\[IDENTITY\]: untrusted reusable workflow/],
      [["--source-uri", "github.com/acme/app", "--builder-id", `${BUILDER}@refs/heads/dev`], /untrusted reusable workflow/],
      [["--source-uri", "github.com/acme/app"], /untrusted reusable workflow/],
    ] as const) {
      const res = await runCli([...verifyArgs(bundlePath), ...extra], { cwd: dir, env: { TOLLGATE_CONFIG: "" } });
      assert.equal(res.code, 1, `${extra.join(" ")}: ${res.stderr}`);
      assert.match(res.stderr, reason);
    }
    // Another artifact, and the public-good root instead of the mock's: both fail.
    const other = join(dir, "other.tar.gz");
    await writeFile(other, "another archive\n");
    const wrongArtifact = await runCli([...verifyArgs(bundlePath, other), "--source-uri", "github.com/acme/app", "--builder-id", BUILDER], { cwd: dir, env: { TOLLGATE_CONFIG: "" } });
    assert.equal(wrongArtifact.code, 1);
    assert.match(wrongArtifact.stderr, /DIGEST_MISMATCH/);
    const publicGood = await runCli(["verify", "provenance", artifact, "--provenance", bundlePath, "--source-uri", "github.com/acme/app", "--builder-id", BUILDER], { cwd: dir, env: { TOLLGATE_CONFIG: "", TOLLGATE_CACHE_DIR: join(dir, "cache") } });
    assert.equal(publicGood.code, 1, publicGood.stderr);
  });

  test("--output and several subjects; a key-signed provenance verifies with --key", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const keyPath = join(dir, "release.key");
    const pubPath = join(dir, "release.pub");
    await writeFile(keyPath, privateKey.export({ type: "pkcs8", format: "pem" }));
    await writeFile(pubPath, publicKey.export({ type: "spki", format: "pem" }));
    const second = join(dir, "app.sbom.json");
    await writeFile(second, "{}\n");
    const out = join(dir, "keyed.intoto.sigstore.json");
    const made = await runCli(["attest", "provenance", "--key", keyPath, "--rekor-url", mocks.rekorUrl, "--output", out, artifact, second], { cwd: dir, env });
    assert.equal(made.code, 0, made.stderr);
    const args = (file: string) => ["verify", "provenance", file, "--provenance", out, "--trusted-root", rootPath, "--key", pubPath, "--source-uri", "github.com/acme/app"];
    for (const file of [artifact, second]) {
      const ok = await runCli([...args(file), "--builder-id", BUILDER, "--source-branch", "main"], { cwd: dir, env: { TOLLGATE_CONFIG: "" } });
      assert.equal(ok.code, 0, ok.stderr);
    }
    const wrongBuilder = await runCli([...args(artifact), "--builder-id", "https://github.com/acme/app/.github/workflows/other.yml"], { cwd: dir, env: { TOLLGATE_CONFIG: "" } });
    assert.equal(wrongBuilder.code, 1);
    assert.match(wrongBuilder.stderr, /builderID does not match provenance/);
    const wrongRepo = await runCli(["verify", "provenance", artifact, "--provenance", out, "--trusted-root", rootPath, "--key", pubPath, "--source-uri", "github.com/acme/other"], { cwd: dir, env: { TOLLGATE_CONFIG: "" } });
    assert.equal(wrongRepo.code, 1);
    assert.match(wrongRepo.stderr, /source used to generate the binary/);
    // Another key does not verify it; the keyless path refuses a keyed bundle.
    const otherPub = join(dir, "other.pub");
    await writeFile(otherPub, generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "pem" }));
    const otherKey = await runCli(["verify", "provenance", artifact, "--provenance", out, "--trusted-root", rootPath, "--key", otherPub, "--source-uri", "github.com/acme/app"], { cwd: dir, env: { TOLLGATE_CONFIG: "" } });
    assert.equal(otherKey.code, 1);
    assert.match(otherKey.stderr, /SIGNATURE/);
    const noKey = await runCli(["verify", "provenance", artifact, "--provenance", out, "--trusted-root", rootPath, "--source-uri", "github.com/acme/app", "--builder-id", BUILDER], { cwd: dir, env: { TOLLGATE_CONFIG: "" } });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /\[KEY\]/);
  });

  test("outside CI: exit 2 with a clear line, unless --builder-id names the builder", async () => {
    const local = { TOLLGATE_CONFIG: "", TOLLGATE_AUDIT_LOG: join(dir, "local-audit.log"), GITHUB_ACTIONS: "", GITLAB_CI: "", SIGSTORE_ID_TOKEN: "", ACTIONS_ID_TOKEN_REQUEST_URL: "" };
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const keyPath = join(dir, "local.key");
    await writeFile(keyPath, privateKey.export({ type: "pkcs8", format: "pem" }));
    const refused = await runCli(["attest", "provenance", "--key", keyPath, "--no-tlog-upload", artifact], { cwd: dir, env: local });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /not running in GitHub Actions .* or GitLab CI .*--builder-id/);
    const out = join(dir, "local.intoto.sigstore.json");
    const made = await runCli(["attest", "provenance", "--key", keyPath, "--no-tlog-upload", "--builder-id", "https://build.example.com/hosts/1", "--output", out, artifact], { cwd: dir, env: local });
    assert.equal(made.code, 0, made.stderr);
    const statement = JSON.parse(Buffer.from((JSON.parse(await readFile(out, "utf8")) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, "base64").toString("utf8")) as { predicate: { runDetails: { builder: { id: string } }; buildDefinition: { buildType: string } } };
    assert.equal(statement.predicate.runDetails.builder.id, "https://build.example.com/hosts/1");
    assert.equal(statement.predicate.buildDefinition.buildType, "urn:tollgate:buildtype:local:v1");
    // No key and no token outside CI: a usage error, nothing written.
    const noKey = await runCli(["attest", "provenance", "--builder-id", "https://build.example.com/hosts/1", "--output", join(dir, "never.json"), artifact], { cwd: dir, env: local });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /no signing key/);
  });
});
