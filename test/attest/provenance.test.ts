/**
 * The provenance generator: the predicate from a GitHub Actions job (environment and token claims,
 * a reusable workflow as builder), from a GitLab CI job, outside CI; the subjects of files and OCI
 * layouts; every generated statement passes the in-toto rules. And a registry image: its provenance
 * attached as a cosign `slsaprovenance1` attestation in Debian's docker-registry on 127.0.0.1 and
 * verified with `verify image --attestation-type slsaprovenance1`.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { validateInToto } from "../../src/attest/intoto-validate.ts";
import { attestProvenance, fileSubject, ociLayoutSubject, provenancePredicate, provenanceStatement } from "../../src/attest/provenance.ts";
import { verifyProvenance } from "../../src/attest/verify-provenance.ts";
import { InputError, UsageError, VerificationFailedError } from "../../src/errors.ts";
import { artifactFromBytes } from "../../src/signing/verify/artifact.ts";
import { publicGoodTrustedRoot } from "../../src/signing/trust-root.ts";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { runCli, tempDir } from "../helpers.ts";
import { toolsMissing } from "../image/fixtures.ts";
import { startRegistry, type TestRegistry } from "../image/registry-server.ts";
import { pushSmallImage } from "../oci/images.ts";

const SHA = "89abcdef0123456789abcdef0123456789abcdef";
const GITHUB_ENV: NodeJS.ProcessEnv = {
  GITHUB_ACTIONS: "true",
  GITHUB_SERVER_URL: "https://github.com",
  GITHUB_REPOSITORY: "acme/app",
  GITHUB_WORKFLOW_REF: "acme/app/.github/workflows/release.yml@refs/tags/v1.2.0",
  GITHUB_SHA: SHA,
  GITHUB_REF: "refs/tags/v1.2.0",
  GITHUB_RUN_ID: "555",
  GITHUB_RUN_ATTEMPT: "3",
  GITHUB_EVENT_NAME: "release",
  RUNNER_ENVIRONMENT: "self-hosted",
};

function valid(statement: Record<string, unknown>): void {
  assert.deepEqual(validateInToto("statement", statement), { valid: true });
  assert.deepEqual(validateInToto("slsa-provenance-v1-predicate", statement.predicate), { valid: true });
}

describe("provenance predicates", () => {
  test("GitHub Actions: from the environment; the token's job_workflow_ref (a reusable workflow) is the builder", () => {
    const { kind, predicate } = provenancePredicate({ env: GITHUB_ENV });
    assert.equal(kind, "github-actions");
    const p = predicate as { buildDefinition: Record<string, unknown>; runDetails: { builder: { id: string }; metadata: { invocationId: string } } };
    assert.equal(p.buildDefinition.buildType, "https://actions.github.io/buildtypes/workflow/v1");
    assert.deepEqual(p.buildDefinition.externalParameters, { workflow: { ref: "refs/tags/v1.2.0", repository: "https://github.com/acme/app", path: ".github/workflows/release.yml" } });
    assert.deepEqual(p.buildDefinition.internalParameters, { github: { event_name: "release", runner_environment: "self-hosted" } });
    assert.deepEqual(p.buildDefinition.resolvedDependencies, [{ uri: "git+https://github.com/acme/app@refs/tags/v1.2.0", digest: { gitCommit: SHA } }]);
    assert.equal(p.runDetails.builder.id, "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0");
    assert.equal(p.runDetails.metadata.invocationId, "https://github.com/acme/app/actions/runs/555/attempts/3");
    valid(provenanceStatement([{ name: "app", digest: { sha256: "a".repeat(64) } }], predicate));

    const reusable = provenancePredicate({ env: GITHUB_ENV, claims: { job_workflow_ref: "acme/builders/.github/workflows/build.yml@refs/tags/v2.0.0", runner_environment: "github-hosted" } }).predicate as typeof p;
    assert.equal(reusable.runDetails.builder.id, "https://github.com/acme/builders/.github/workflows/build.yml@refs/tags/v2.0.0");
    assert.deepEqual(reusable.buildDefinition.internalParameters, { github: { event_name: "release", runner_environment: "github-hosted" } });
    assert.throws(() => provenancePredicate({ env: { ...GITHUB_ENV, GITHUB_SHA: "" } }), (e: unknown) => e instanceof UsageError && /GITHUB_SHA is not set/.test(e.message));
    assert.throws(() => provenancePredicate({ env: { ...GITHUB_ENV, GITHUB_WORKFLOW_REF: "other/repo/.github/workflows/x.yml@refs/heads/main" } }), UsageError);
  });

  test("GitLab CI: the runner as builder, the project at its commit, the job as invocation", () => {
    const env = {
      GITLAB_CI: "true",
      CI_SERVER_URL: "https://gitlab.example.com",
      CI_PROJECT_PATH: "group/app",
      CI_PROJECT_ID: "77",
      CI_COMMIT_SHA: SHA,
      CI_COMMIT_TAG: "v3.1.0",
      CI_RUNNER_ID: "12",
      CI_JOB_ID: "901",
      CI_JOB_URL: "https://gitlab.example.com/group/app/-/jobs/901",
      CI_PIPELINE_ID: "300",
      CI_PIPELINE_SOURCE: "push",
      CI_JOB_NAME: "release",
    };
    const { kind, predicate } = provenancePredicate({ env });
    assert.equal(kind, "gitlab-ci");
    const p = predicate as { buildDefinition: Record<string, unknown>; runDetails: { builder: { id: string }; metadata: { invocationId: string } } };
    assert.equal(p.buildDefinition.buildType, "urn:tollgate:buildtype:gitlab-ci:v1");
    assert.deepEqual(p.buildDefinition.externalParameters, { source: "https://gitlab.example.com/group/app", ref: "refs/tags/v3.1.0", configPath: ".gitlab-ci.yml", job: "release" });
    assert.deepEqual(p.buildDefinition.resolvedDependencies, [{ uri: "git+https://gitlab.example.com/group/app@refs/tags/v3.1.0", digest: { gitCommit: SHA } }]);
    assert.equal(p.runDetails.builder.id, "https://gitlab.example.com/group/app/-/runners/12");
    assert.equal(p.runDetails.metadata.invocationId, "https://gitlab.example.com/group/app/-/jobs/901");
    valid(provenanceStatement([{ name: "app", digest: { sha256: "b".repeat(64) } }], predicate));
    const branch = provenancePredicate({ env: { ...env, CI_COMMIT_TAG: "", CI_COMMIT_BRANCH: "main" } }).predicate as typeof p;
    assert.deepEqual((branch.buildDefinition.externalParameters as { ref: string }).ref, "refs/heads/main");
  });

  test("outside CI: a usage error unless --builder-id names the builder", () => {
    assert.throws(() => provenancePredicate({ env: {} }), (e: unknown) => e instanceof UsageError && /--builder-id/.test(e.message));
    assert.throws(() => provenancePredicate({ env: {}, builderId: "not a uri" }), UsageError);
    const { kind, predicate } = provenancePredicate({ env: {}, builderId: "https://build.example.com/host-1", now: new Date("2026-01-02T03:04:05.678Z") });
    assert.equal(kind, "local");
    assert.deepEqual(predicate, {
      buildDefinition: { buildType: "urn:tollgate:buildtype:local:v1", externalParameters: { builderId: "https://build.example.com/host-1" } },
      runDetails: { builder: { id: "https://build.example.com/host-1" }, metadata: { finishedOn: "2026-01-02T03:04:05Z" } },
    });
    valid(provenanceStatement([{ name: "x", digest: { sha256: "c".repeat(64) } }], predicate));
  });
});

describe("provenance subjects", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir("tollgate-provenance-subjects-")));
  after(() => cleanup());

  test("a file: its base name and SHA-256; an OCI layout: the manifest index.json names, by tag when there are several", async () => {
    const file = join(dir, "app.bin");
    await writeFile(file, "abc");
    assert.deepEqual(await fileSubject(file), { name: "app.bin", digest: { sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" } });
    await assert.rejects(fileSubject(join(dir, "missing")), InputError);

    const layout = join(dir, "layout");
    await mkdir(layout);
    await writeFile(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const m1 = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"1".repeat(64)}`, size: 10, annotations: { "org.opencontainers.image.ref.name": "v1" } };
    const m2 = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"2".repeat(64)}`, size: 10, annotations: { "org.opencontainers.image.ref.name": "v2" } };
    await writeFile(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [m1] }));
    assert.deepEqual(await ociLayoutSubject(layout), { name: "layout", digest: { sha256: "1".repeat(64) } });
    await writeFile(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [m1, m2] }));
    await assert.rejects(ociLayoutSubject(layout), /2 images in the layout/);
    assert.deepEqual(await ociLayoutSubject(`${layout}:v2`), { name: "layout:v2", digest: { sha256: "2".repeat(64) } });
    await assert.rejects(ociLayoutSubject(`${layout}:v3`), /no image tagged v3/);
  });
});

const skip = toolsMissing("docker-registry");

describe("provenance for a registry image (docker-registry on 127.0.0.1)", { skip, timeout: 180_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: TestRegistry;
  before(async () => {
    ({ dir, cleanup } = await tempDir("tollgate-provenance-image-"));
    registry = await startRegistry(join(dir, "registry"));
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  test("attached as a slsaprovenance1 attestation of the image's digest, verified by verify image --attestation-type", async () => {
    const client = new RegistryClient(parseRegistryReference(`${registry.host}/team/app:x`));
    const image = await pushSmallImage(client, "app v1\n", "1");
    const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const key = join(dir, "k.pem");
    const pub = join(dir, "k.pub");
    await writeFile(key, pair.privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    await writeFile(pub, pair.publicKey.export({ format: "pem", type: "spki" }));
    const env = { ...GITHUB_ENV, TOLLGATE_CONFIG: "", TOLLGATE_AUDIT_LOG: join(dir, "audit.log"), GITHUB_STEP_SUMMARY: join(dir, "summary.md"), SIGSTORE_ID_TOKEN: "", ACTIONS_ID_TOKEN_REQUEST_URL: "" };
    const ref = `registry:${registry.host}/team/app:1`;
    const made = await runCli(["attest", "provenance", "--key", key, "--tlog-upload=false", ref], { env });
    assert.equal(made.code, 0, made.stderr);
    const verified = await runCli(["verify", "image", "--key", pub, "--insecure-ignore-tlog", "--attestation-type", "slsaprovenance1", ref], { env: { TOLLGATE_CONFIG: "" } });
    assert.equal(verified.code, 0, verified.stderr);
    const [statement] = JSON.parse(verified.stdout) as { predicateType: string; subject: { digest: { sha256: string } }[]; predicate: { buildDefinition: { buildType: string } } }[];
    assert.equal(statement!.predicateType, "https://slsa.dev/provenance/v1");
    assert.equal(`sha256:${statement!.subject[0]!.digest.sha256}`, image.digest);
    assert.equal(statement!.predicate.buildDefinition.buildType, "https://actions.github.io/buildtypes/workflow/v1");
    // An image with a file beside it, or an --output, is refused.
    const mixed = await runCli(["attest", "provenance", "--key", key, ref, pub], { env });
    assert.equal(mixed.code, 2);
    // Another key does not verify it.
    const other = join(dir, "other.pub");
    await writeFile(other, generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ format: "pem", type: "spki" }));
    const wrong = await runCli(["verify", "image", "--key", other, "--insecure-ignore-tlog", "--attestation-type", "slsaprovenance1", ref], { env: { TOLLGATE_CONFIG: "" } });
    assert.equal(wrong.code, 1);
  });
});

describe("GitLab CI provenance, key-signed, verified with --key", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir("tollgate-provenance-gitlab-")));
  after(() => cleanup());

  test("the project and ref it ran for; another project, branch or key fails", async () => {
    const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const key = join(dir, "k.pem");
    await writeFile(key, pair.privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    const file = join(dir, "app.bin");
    const bytes = Buffer.from("gitlab build\n");
    await writeFile(file, bytes);
    const env = { GITLAB_CI: "true", CI_SERVER_URL: "https://gitlab.example.com", CI_PROJECT_PATH: "group/app", CI_COMMIT_SHA: SHA, CI_COMMIT_BRANCH: "main", CI_RUNNER_ID: "12", CI_JOB_ID: "901", TOLLGATE_AUDIT_LOG: join(dir, "audit.log") };
    const made = await attestProvenance({ subjects: [file], keyRef: key, tlogUpload: false, env, audit: { env, config: {} } });
    assert.equal(made.location, `${file}.intoto.sigstore.json`);
    const verify = (o: { sourceUri: string; sourceBranch?: string; key?: KeyObject }) =>
      verifyProvenance({ artifact: artifactFromBytes(bytes, file), provenancePath: made.location, trustRoot: publicGoodTrustedRoot().root, key: o.key ?? pair.publicKey, insecureIgnoreTlog: true, sourceUri: o.sourceUri, ...(o.sourceBranch ? { sourceBranch: o.sourceBranch } : {}) });
    const v = await verify({ sourceUri: "gitlab.example.com/group/app", sourceBranch: "main" });
    assert.equal(v.builderId, "https://gitlab.example.com/group/app/-/runners/12");
    assert.equal(v.sourceCommit, SHA);
    await assert.rejects(verify({ sourceUri: "gitlab.example.com/group/other" }), (e: unknown) => e instanceof VerificationFailedError && /^source used/.test(e.message));
    await assert.rejects(verify({ sourceUri: "gitlab.example.com/group/app", sourceBranch: "dev" }), (e: unknown) => e instanceof VerificationFailedError && /^branch used/.test(e.message));
    await assert.rejects(verify({ sourceUri: "gitlab.example.com/group/app", key: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey }), (e: unknown) => e instanceof VerificationFailedError && e.reason === "SIGNATURE");
  });
});
