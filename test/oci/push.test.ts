/**
 * Pushing to Debian's docker-registry (distribution 2.8) on 127.0.0.1: blobs (monolithic and in PATCH
 * chunks, skipped when present), manifests by tag and by digest, tag listing over pages, push-scoped
 * tokens; read back with this client, through `openImageSource`, and with skopeo (an independent
 * reader). The digest checks fail closed: a small proxy in front of the real registry rewrites the
 * Docker-Content-Digest it answers (a stand-in for a lying registry, which cannot be had for real).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { describe, test } from "node:test";
import { VerificationFailedError } from "../../src/errors.ts";
import { openImageSource } from "../../src/image/index.ts";
import { parseRegistryReference, RegistryClient } from "../../src/oci/registry.ts";
import { MEDIA_TYPES } from "../../src/oci/types.ts";
import { tempDir } from "../helpers.ts";
import { freePort, run, toolsMissing } from "../image/fixtures.ts";
import { tarOf } from "../image/layout-builder.ts";
import { startRegistry } from "../image/registry-server.ts";
import { startStandIn } from "./distribution-stand-in.ts";
import { sha, smallImage } from "./images.ts";

const skip = toolsMissing("docker-registry", "skopeo");

describe("registry push (docker-registry 2.8 on 127.0.0.1)", { skip, timeout: 120_000 }, () => {
  test("blob, config and manifest pushed by tag and by digest; read back by this client, openImageSource and skopeo", async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"));
    try {
      const client = new RegistryClient(parseRegistryReference(`${registry.host}/team/app:1`));
      const img = await smallImage("hello from a push\n");
      const layer = await client.pushBlob(img.layer, sha(img.layer));
      assert.deepEqual(layer, { digest: sha(img.layer), size: img.layer.length, uploaded: true });
      assert.equal((await client.pushBlob(img.config)).uploaded, true);
      assert.equal((await client.pushBlob(img.layer)).uploaded, false, "a blob the registry has is not sent again (HEAD)");
      assert.equal(await client.blobExists(sha(img.layer)), true);
      assert.equal(await client.blobExists(sha(Buffer.from("never pushed"))), false);

      const byTag = await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, "1");
      assert.equal(byTag.digest, sha(img.manifest));
      assert.equal(byTag.ociSubject, undefined);
      const byDigest = await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, sha(img.manifest));
      assert.equal(byDigest.digest, sha(img.manifest));

      const head = await client.headManifest("1");
      assert.deepEqual(head, { digest: sha(img.manifest), mediaType: MEDIA_TYPES.ociManifest, size: img.manifest.length });
      assert.equal(await client.headManifest("nope"), undefined);
      const back = await client.getManifest(sha(img.manifest), 1 << 20);
      assert.ok(back.body.equals(img.manifest), "the registry stores the exact bytes");

      const source = await openImageSource({ kind: "registry", input: "x", reference: `${registry.host}/team/app:1` });
      try {
        assert.equal((await source.fs.readFile("etc/hello")).toString(), "hello from a push\n");
        assert.equal(source.metadata.properties?.["tollgate:image:manifestDigest"], sha(img.manifest));
      } finally {
        await source.close();
      }

      const { stdout } = await run("skopeo", ["inspect", "--tls-verify=false", `docker://${registry.host}/team/app:1`]);
      const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[]; Os: string; Architecture: string };
      assert.equal(inspected.Digest, sha(img.manifest));
      assert.deepEqual(inspected.Layers, [sha(img.layer)]);
      assert.equal(`${inspected.Os}/${inspected.Architecture}`, "linux/amd64");
      const raw = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/team/app@${sha(img.manifest)}`]);
      assert.equal(raw.stdout, img.manifest.toString());
    } finally {
      await registry.stop();
      await cleanup();
    }
  });

  test("a blob larger than the chunk size goes in PATCH chunks; skopeo copies the image it belongs to", async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"));
    try {
      const client = new RegistryClient(parseRegistryReference(`${registry.host}/chunked:1`), { uploadChunkBytes: 1000 });
      const tar = await tarOf([{ name: "data.bin", content: randomBytes(4500) }]);
      const layer = tar; // uncompressed layer, over four chunks
      const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(tar)] } }));
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length },
          layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha(layer), size: layer.length }],
        }),
      );
      assert.ok(layer.length > 4000);
      assert.equal((await client.pushBlob(layer)).uploaded, true);
      await client.pushBlob(config);
      await client.putManifest(manifest, MEDIA_TYPES.ociManifest, "1");
      const fetched = await client.fetch({ digest: sha(layer), size: layer.length }, 1 << 20);
      assert.ok(fetched.equals(layer));
      // skopeo's dir: transport keeps each blob as it was served, named by its hex digest.
      const out = join(dir, "copied");
      await run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${registry.host}/chunked:1`, `dir:${out}`]);
      assert.ok((await readFile(join(out, sha(layer).slice(7)))).equals(layer), "skopeo reads the chunked blob back byte for byte");
    } finally {
      await registry.stop();
      await cleanup();
    }
  });

  test("tags listed (distribution 2.8 answers in one page; pages are tested on the stand-in in referrers.test.ts)", async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"));
    try {
      const client = new RegistryClient(parseRegistryReference(`${registry.host}/tags:1`));
      const img = await smallImage("tags\n");
      await client.pushBlob(img.layer);
      await client.pushBlob(img.config);
      const tags = ["v1", "v2", "v3", "v4", "latest"];
      for (const t of tags) await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, t);
      // 2.8 ignores `n` and answers every tag in one page, in storage order.
      assert.deepEqual((await client.listTags(2)).sort(), [...tags].sort());
      assert.deepEqual((await client.listTags()).sort(), [...tags].sort());
      await assert.rejects(new RegistryClient(parseRegistryReference(`${registry.host}/none:1`)).listTags(), /not found/);
    } finally {
      await registry.stop();
      await cleanup();
    }
  });

  test("token auth: writes ask for repository:<name>:pull,push; reads after them reuse the token", { skip: toolsMissing("docker-registry", "openssl") }, async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"), { username: "ci", password: "s3cret-pw" });
    try {
      const cfg = join(dir, "cfg");
      await mkdir(cfg);
      await writeFile(join(cfg, "config.json"), JSON.stringify({ auths: { [registry.host]: { username: "ci", password: "s3cret-pw" } } }));
      const client = new RegistryClient(parseRegistryReference(`${registry.host}/secure/app:1`), { env: { ...process.env, DOCKER_CONFIG: cfg } });
      const img = await smallImage("auth\n");
      await client.pushBlob(img.layer);
      await client.pushBlob(img.config);
      await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, "1");
      assert.ok(
        registry.tokenRequests.some((q) => new URLSearchParams(q).get("scope") === "repository:secure/app:pull,push"),
        registry.tokenRequests.join("\n"),
      );
      const requestsBefore = registry.tokenRequests.length;
      assert.deepEqual(await client.listTags(), ["1"]);
      assert.equal(registry.tokenRequests.length, requestsBefore, "the push token serves reads");
      const anonymous = new RegistryClient(parseRegistryReference(`${registry.host}/secure/app:1`), { env: { ...process.env, DOCKER_CONFIG: join(dir, "empty") } });
      await assert.rejects(anonymous.pushBlob(Buffer.from("x")), /token endpoint .* answered HTTP 401|access denied/);
    } finally {
      await registry.stop();
      await cleanup();
    }
  });

  test("digests fail closed: wrong expected digests, and a registry answering another digest (DIGEST_MISMATCH)", async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"));
    const port = await freePort();
    const forged = `sha256:${"e".repeat(64)}`;
    let forge = true;
    // Forwards everything to the real registry; rewrites Docker-Content-Digest on 201 answers.
    const proxy = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const k of ["accept", "content-type", "content-range", "authorization"]) if (req.headers[k]) headers[k] = String(req.headers[k]);
      const method = req.method ?? "GET";
      const upstream = await fetch(`http://${registry.host}${req.url}`, { method, headers, ...(method === "GET" || method === "HEAD" ? {} : { body: Buffer.concat(chunks) }), redirect: "manual" });
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (k !== "content-encoding" && k !== "transfer-encoding") out[k] = v;
      });
      if (forge && upstream.status === 201) out["docker-content-digest"] = forged;
      if (out.location) out.location = out.location.replace(registry.host, `127.0.0.1:${port}`);
      res.writeHead(upstream.status, out).end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((r) => proxy.listen(port, "127.0.0.1", r));
    try {
      const client = new RegistryClient(parseRegistryReference(`127.0.0.1:${port}/lying:1`));
      const img = await smallImage("lies\n");
      const wrong = await client.pushBlob(img.layer, sha(Buffer.from("other"))).catch((e: unknown) => e);
      assert.ok(wrong instanceof VerificationFailedError && wrong.reason === "DIGEST_MISMATCH", String(wrong));
      const blob = await client.pushBlob(img.layer).catch((e: unknown) => e);
      assert.ok(blob instanceof VerificationFailedError, String(blob));
      assert.equal(blob.reason, "DIGEST_MISMATCH");
      assert.match(blob.message, /answered blob digest sha256:e{64} for content with digest/);
      forge = false;
      await client.pushBlob(img.config);
      await client.pushBlob(img.layer);
      forge = true;
      const manifest = await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, "1").catch((e: unknown) => e);
      assert.ok(manifest instanceof VerificationFailedError && manifest.reason === "DIGEST_MISMATCH", String(manifest));
      const byOtherDigest = await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, forged).catch((e: unknown) => e);
      assert.ok(byOtherDigest instanceof VerificationFailedError && byOtherDigest.reason === "DIGEST_MISMATCH", String(byOtherDigest));
      await assert.rejects(client.putManifest(img.manifest, MEDIA_TYPES.ociIndex, "1"), /is not the Content-Type given/);
      forge = false;
      assert.equal((await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, "1")).digest, sha(img.manifest), "the same push through an honest proxy succeeds");
    } finally {
      await new Promise((r) => proxy.close(r));
      await registry.stop();
      await cleanup();
    }
  });
});

describe("chunked uploads, seen request by request (stand-in registry, test/oci/distribution-stand-in.ts)", () => {
  test("POST, PATCH chunks with Content-Range in order, closing PUT with the digest", async () => {
    const standIn = await startStandIn();
    try {
      const client = new RegistryClient(parseRegistryReference(`${standIn.host}/app:1`), { uploadChunkBytes: 1000 });
      const blob = randomBytes(4500);
      assert.equal((await client.pushBlob(blob)).uploaded, true);
      const writes = standIn.requests.filter((r) => !r.startsWith("HEAD"));
      assert.equal(writes[0], "POST /v2/app/blobs/uploads/");
      assert.equal(writes.filter((r) => r.startsWith("PATCH")).length, 5);
      assert.match(writes[writes.length - 1] as string, new RegExp(`^PUT /v2/app/blobs/uploads/[^?]+\\?digest=${encodeURIComponent(sha(blob))}$`));
      assert.ok((await client.fetch({ digest: sha(blob), size: blob.length }, 1 << 20)).equals(blob));
      const small = new RegistryClient(parseRegistryReference(`${standIn.host}/small:1`), { uploadChunkBytes: 1000 });
      await small.pushBlob(randomBytes(1000));
      assert.equal(standIn.requests.filter((r) => r.startsWith("PATCH /v2/small/")).length, 0, "a blob within the chunk size goes in one PUT");
    } finally {
      await standIn.stop();
    }
  });
});
