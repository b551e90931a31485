/**
 * OCI 1.1 referrers. On Debian's docker-registry (distribution 2.8, no referrers API: it answers 404)
 * pushes go through the referrers tag schema, read back by this client and by skopeo. The referrers
 * API itself is tested against a stand-in (test/oci/distribution-stand-in.ts): no registry with the
 * API can be installed here from Debian.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { InputError, VerificationFailedError } from "../../src/errors.ts";
import { deleteReferrer, listReferrers, pushReferrer, referrersTag } from "../../src/oci/referrers.ts";
import { nextLink, parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { MEDIA_TYPES } from "../../src/oci/types.ts";
import { tempDir } from "../helpers.ts";
import { run, toolsMissing } from "../image/fixtures.ts";
import { startRegistry } from "../image/registry-server.ts";
import { startStandIn } from "./distribution-stand-in.ts";
import { pushArtifactBlobs, pushSmallImage, sha } from "./images.ts";

const SIGNATURE = "application/vnd.tollgate.test.signature";
const SBOM_CONFIG = "application/vnd.tollgate.test.sbom.config";

describe("referrers tag schema", () => {
  test("the spec's examples: algorithm and encoded part truncated, other characters replaced", () => {
    assert.equal(referrersTag(`sha256:${"a".repeat(64)}`), `sha256-${"a".repeat(64)}`);
    assert.equal(referrersTag(`sha512:${"a".repeat(128)}`), `sha512-${"a".repeat(64)}`);
    assert.equal(
      referrersTag(
        "test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation",
      ),
      "test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot",
    );
    assert.throws(() => referrersTag("nodigest"), /not a digest/);
  });

  test("Link headers: the rel=next target only", () => {
    assert.equal(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"'), "/v2/a/tags/list?n=2&last=b");
    assert.equal(nextLink('<https://x/prev>; rel="prev", <https://x/next>; rel=next'), "https://x/next");
    assert.equal(nextLink('</v2/a/tags/list?n=2>; rel="prev"'), undefined);
    assert.equal(nextLink(null), undefined);
  });
});

describe("referrers on docker-registry 2.8 (tag schema fallback)", { skip: toolsMissing("docker-registry", "skopeo"), timeout: 120_000 }, () => {
  test("push referrers, list them (all and by artifactType), existing entries kept, no duplicates; skopeo reads the index", async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"));
    try {
      const client = new RegistryClient(parseRegistryReference(`${registry.host}/team/app:1`));
      const subject = await pushSmallImage(client, "subject\n", "1");
      assert.deepEqual(await listReferrers(client, subject.digest), { manifests: [], source: "tag-schema" }, "no referrers yet: the API answers 404, no tag");

      const sig = await pushArtifactBlobs(client, subject, "signature bytes", { artifactType: SIGNATURE, annotations: { "org.opencontainers.image.created": "2026-12-06T00:00:00Z" } });
      const a = await pushReferrer(client, sig, MEDIA_TYPES.ociManifest);
      assert.equal(a.via, "tag-schema");
      assert.equal(a.subject, subject.digest);
      assert.deepEqual(a.descriptor, {
        mediaType: MEDIA_TYPES.ociManifest,
        digest: sha(sig),
        size: sig.length,
        artifactType: SIGNATURE,
        annotations: { "org.opencontainers.image.created": "2026-12-06T00:00:00Z" },
      });

      // Another tool added an entry with a field this client does not know: it must survive.
      const other = await client.getManifest(referrersTag(subject.digest), 1 << 20);
      const index = JSON.parse(other.body.toString()) as { manifests: Record<string, unknown>[] };
      const foreign = await pushArtifactBlobs(client, subject, "foreign", { artifactType: "application/vnd.other.tool" });
      await client.putManifest(foreign, MEDIA_TYPES.ociManifest, sha(foreign));
      index.manifests.push({ mediaType: MEDIA_TYPES.ociManifest, digest: sha(foreign), size: foreign.length, artifactType: "application/vnd.other.tool", "x-other-tool": "kept" });
      await client.putManifest(Buffer.from(JSON.stringify(index)), MEDIA_TYPES.ociIndex, referrersTag(subject.digest));

      const sbom = await pushArtifactBlobs(client, subject, "sbom bytes", { configMediaType: SBOM_CONFIG });
      const b = await pushReferrer(client, sbom, MEDIA_TYPES.ociManifest);
      assert.equal(b.descriptor.artifactType, SBOM_CONFIG, "no artifactType: the config's media type");
      assert.equal((await pushReferrer(client, sig, MEDIA_TYPES.ociManifest)).via, "tag-schema");

      const all = await listReferrers(client, subject.digest);
      assert.equal(all.source, "tag-schema");
      assert.deepEqual(
        all.manifests.map((d) => [d.digest, d.artifactType]),
        [
          [sha(sig), SIGNATURE],
          [sha(foreign), "application/vnd.other.tool"],
          [sha(sbom), SBOM_CONFIG],
        ],
        "in push order, each once",
      );
      assert.deepEqual((await listReferrers(client, subject.digest, { artifactType: SIGNATURE })).manifests.map((d) => d.digest), [sha(sig)]);
      assert.deepEqual((await listReferrers(client, subject.digest, { artifactType: SBOM_CONFIG })).manifests.map((d) => d.digest), [sha(sbom)]);
      assert.deepEqual((await listReferrers(client, subject.digest, { artifactType: "application/none" })).manifests, []);

      const { stdout } = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/team/app:${referrersTag(subject.digest)}`]);
      const raw = JSON.parse(stdout) as { mediaType: string; manifests: Record<string, unknown>[] };
      assert.equal(raw.mediaType, MEDIA_TYPES.ociIndex);
      assert.deepEqual(
        raw.manifests.map((m) => m.digest),
        [sha(sig), sha(foreign), sha(sbom)],
      );
      assert.equal(raw.manifests[1]?.["x-other-tool"], "kept");
      // The referrer itself, by digest, as skopeo reads it: the subject is there.
      const referrer = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/team/app@${sha(sig)}`]);
      assert.equal((JSON.parse(referrer.stdout) as { subject: { digest: string } }).subject.digest, subject.digest);
    } finally {
      await registry.stop();
      await cleanup();
    }
  });

  test("deleting a referrer removes it from the tag's index and keeps the others; deletes disabled is a clear error", async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"), undefined, { deletes: true });
    const noDeletes = await startRegistry(join(dir, "no-deletes"));
    try {
      const client = new RegistryClient(parseRegistryReference(`${registry.host}/app:1`));
      const subject = await pushSmallImage(client, "subject\n", "1");
      const sig = await pushArtifactBlobs(client, subject, "sig", { artifactType: SIGNATURE });
      const sbom = await pushArtifactBlobs(client, subject, "sbom", { configMediaType: SBOM_CONFIG });
      await pushReferrer(client, sig, MEDIA_TYPES.ociManifest);
      await pushReferrer(client, sbom, MEDIA_TYPES.ociManifest);
      assert.deepEqual(await deleteReferrer(client, sha(sig)), { subject: subject.digest, via: "tag-schema" });
      assert.deepEqual((await listReferrers(client, subject.digest)).manifests.map((d) => d.digest), [sha(sbom)]);
      await assert.rejects(client.getManifest(sha(sig), 1 << 20), /not found/);
      await assert.rejects(deleteReferrer(client, subject.digest), /not a referrer/);

      const other = new RegistryClient(parseRegistryReference(`${noDeletes.host}/app:1`));
      const s2 = await pushSmallImage(other, "subject\n", "1");
      const sig2 = await pushArtifactBlobs(other, s2, "sig", { artifactType: SIGNATURE });
      await pushReferrer(other, sig2, MEDIA_TYPES.ociManifest);
      await assert.rejects(deleteReferrer(other, sha(sig2)), /manifest delete .*HTTP 405/);
      assert.equal((await listReferrers(other, s2.digest)).manifests.length, 1, "nothing removed when the delete failed");
    } finally {
      await registry.stop();
      await noDeletes.stop();
      await cleanup();
    }
  });

  test("behind token auth: the referrers request, the tag read and its update all go through the push-scoped token", { skip: toolsMissing("openssl") }, async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"), { username: "ci", password: "pw-ref" });
    try {
      const cfg = join(dir, "cfg");
      await mkdir(cfg);
      await writeFile(join(cfg, "config.json"), JSON.stringify({ auths: { [registry.host]: { username: "ci", password: "pw-ref" } } }));
      const client = new RegistryClient(parseRegistryReference(`${registry.host}/secure/app:1`), { env: { ...process.env, DOCKER_CONFIG: cfg } });
      const subject = await pushSmallImage(client, "subject\n", "1");
      const sig = await pushArtifactBlobs(client, subject, "sig", { artifactType: SIGNATURE });
      assert.equal((await pushReferrer(client, sig, MEDIA_TYPES.ociManifest)).via, "tag-schema");
      const reader = new RegistryClient(parseRegistryReference(`${registry.host}/secure/app:1`), { env: { ...process.env, DOCKER_CONFIG: cfg } });
      const listed = await listReferrers(reader, subject.digest);
      assert.deepEqual(listed, { source: "tag-schema", manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: sha(sig), size: sig.length, artifactType: SIGNATURE }] });
      assert.ok(registry.tokenRequests.some((q) => new URLSearchParams(q).get("scope") === "repository:secure/app:pull"), "the reader asks for pull only");
    } finally {
      await registry.stop();
      await cleanup();
    }
  });

  test("a referrers tag holding something other than an image index: listed as none, never overwritten", async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"));
    try {
      const client = new RegistryClient(parseRegistryReference(`${registry.host}/odd:1`));
      const subject = await pushSmallImage(client, "subject\n", "1");
      await pushSmallImage(client, "squatter\n", referrersTag(subject.digest));
      assert.deepEqual((await listReferrers(client, subject.digest)).manifests, []);
      const sig = await pushArtifactBlobs(client, subject, "sig", { artifactType: SIGNATURE });
      const e = await pushReferrer(client, sig, MEDIA_TYPES.ociManifest).catch((x: unknown) => x);
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, /holds something other than an image index; not overwritten/);
      await assert.rejects(pushReferrer(client, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest })), MEDIA_TYPES.ociManifest), /has no subject/);
    } finally {
      await registry.stop();
      await cleanup();
    }
  });
});

describe("referrers API (stand-in registry implementing the distribution-spec 1.1 endpoint)", () => {
  test("OCI-Subject answered: no tag written; listed through the API, filtered by the registry, over pages", async () => {
    const standIn = await startStandIn({ referrersPageSize: 1 });
    try {
      const client = new RegistryClient(parseRegistryReference(`${standIn.host}/app:1`));
      const subject = await pushSmallImage(client, "subject\n", "1");
      const sig = await pushArtifactBlobs(client, subject, "signature", { artifactType: SIGNATURE });
      const sbom = await pushArtifactBlobs(client, subject, "sbom", { configMediaType: SBOM_CONFIG });
      assert.equal((await pushReferrer(client, sig, MEDIA_TYPES.ociManifest)).via, "referrers-api");
      assert.equal((await pushReferrer(client, sbom, MEDIA_TYPES.ociManifest)).via, "referrers-api");
      assert.equal(await client.headManifest(referrersTag(subject.digest)), undefined, "no fallback tag on a registry with the API");

      const all = await listReferrers(client, subject.digest);
      assert.equal(all.source, "referrers-api");
      assert.deepEqual(all.manifests.map((d) => [d.digest, d.artifactType]), [
        [sha(sig), SIGNATURE],
        [sha(sbom), SBOM_CONFIG],
      ]);
      assert.equal(standIn.requests.filter((r) => r.startsWith(`GET /v2/app/referrers/${subject.digest}`)).length, 2, "two pages of one");
      const filtered = await listReferrers(client, subject.digest, { artifactType: SBOM_CONFIG });
      assert.deepEqual(filtered.manifests.map((d) => d.digest), [sha(sbom)]);
      assert.ok(standIn.requests.includes(`GET /v2/app/referrers/${subject.digest}?artifactType=${encodeURIComponent(SBOM_CONFIG)}`));
    } finally {
      await standIn.stop();
    }
  });

  test("deleting a referrer on a registry with the API: no tag touched", async () => {
    const standIn = await startStandIn();
    try {
      const client = new RegistryClient(parseRegistryReference(`${standIn.host}/app:1`));
      const subject = await pushSmallImage(client, "subject\n", "1");
      const sig = await pushArtifactBlobs(client, subject, "signature", { artifactType: SIGNATURE });
      await pushReferrer(client, sig, MEDIA_TYPES.ociManifest);
      assert.deepEqual(await deleteReferrer(client, sha(sig)), { subject: subject.digest, via: "referrers-api" });
      assert.deepEqual(await listReferrers(client, subject.digest), { manifests: [], source: "referrers-api" });
      assert.equal(standIn.requests.filter((r) => r.includes(referrersTag(subject.digest))).length, 0);
    } finally {
      await standIn.stop();
    }
  });

  test("a registry that does not apply the filter: filtered by the client", async () => {
    const standIn = await startStandIn({ applyFilter: false });
    try {
      const client = new RegistryClient(parseRegistryReference(`${standIn.host}/app:1`));
      const subject = await pushSmallImage(client, "subject\n", "1");
      await pushReferrer(client, await pushArtifactBlobs(client, subject, "signature", { artifactType: SIGNATURE }), MEDIA_TYPES.ociManifest);
      const sbom = await pushArtifactBlobs(client, subject, "sbom", { configMediaType: SBOM_CONFIG });
      await pushReferrer(client, sbom, MEDIA_TYPES.ociManifest);
      assert.deepEqual((await listReferrers(client, subject.digest, { artifactType: SBOM_CONFIG })).manifests.map((d) => d.digest), [sha(sbom)]);
    } finally {
      await standIn.stop();
    }
  });

  test("an OCI-Subject naming another manifest fails closed (DIGEST_MISMATCH)", async () => {
    const standIn = await startStandIn({ forgeSubject: `sha256:${"d".repeat(64)}` });
    try {
      const client = new RegistryClient(parseRegistryReference(`${standIn.host}/app:1`));
      const subject = await pushSmallImage(client, "subject\n", "1");
      const e = await pushReferrer(client, await pushArtifactBlobs(client, subject, "signature", { artifactType: SIGNATURE }), MEDIA_TYPES.ociManifest).catch((x: unknown) => x);
      assert.ok(e instanceof VerificationFailedError && e.reason === "DIGEST_MISMATCH", String(e));
    } finally {
      await standIn.stop();
    }
  });

  test("tags listed over pages (n, last and the Link header)", async () => {
    const standIn = await startStandIn();
    try {
      const client = new RegistryClient(parseRegistryReference(`${standIn.host}/app:1`));
      const tags = ["v1", "v2", "v3", "v4", "latest"];
      for (const t of tags) await pushSmallImage(client, "tags\n", t);
      assert.deepEqual(await client.listTags(2), [...tags].sort());
      assert.equal(standIn.requests.filter((r) => r.startsWith("GET /v2/app/tags/list")).length, 3, "five tags, two per page");
    } finally {
      await standIn.stop();
    }
  });
});
