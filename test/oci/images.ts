/** Small images and artifacts for the push and referrers tests, built as the OCI image spec describes them. */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { EMPTY_JSON_DESCRIPTOR, MEDIA_TYPES } from "../../src/oci/types.ts";
import type { RegistryClient } from "../../src/oci/registry.ts";
import { tarOf } from "../image/layout-builder.ts";

export const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A one-layer image: its layer, config and manifest bytes. */
export async function smallImage(content: string): Promise<{ layer: Buffer; config: Buffer; manifest: Buffer }> {
  const tar = await tarOf([{ name: "etc/hello", content }]);
  const layer = gzipSync(tar);
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(tar)] }, config: {} }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha(layer), size: layer.length }],
    }),
  );
  return { layer, config, manifest };
}

/** Pushes a small image's blobs and its manifest under a tag; returns the manifest's descriptor. */
export async function pushSmallImage(client: RegistryClient, content: string, tag: string): Promise<{ mediaType: string; digest: string; size: number }> {
  const img = await smallImage(content);
  await client.pushBlob(img.layer);
  await client.pushBlob(img.config);
  const pushed = await client.putManifest(img.manifest, MEDIA_TYPES.ociManifest, tag);
  return { mediaType: MEDIA_TYPES.ociManifest, digest: pushed.digest, size: pushed.size };
}

/**
 * An artifact manifest with a subject (image-spec 1.1): one payload layer; the empty config with an
 * `artifactType`, or (artifactType undefined) a config of its own media type. Its blobs are pushed.
 */
export async function pushArtifactBlobs(
  client: RegistryClient,
  subject: { mediaType: string; digest: string; size: number },
  payload: string,
  options: { artifactType?: string; configMediaType?: string; annotations?: Record<string, string> },
): Promise<Buffer> {
  const data = Buffer.from(payload);
  await client.pushBlob(data);
  let config: { mediaType: string; digest: string; size: number } = { ...EMPTY_JSON_DESCRIPTOR };
  if (options.configMediaType) {
    const c = Buffer.from(JSON.stringify({ kind: options.configMediaType }));
    await client.pushBlob(c);
    config = { mediaType: options.configMediaType, digest: sha(c), size: c.length };
  } else await client.pushBlob(Buffer.from("{}"));
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      ...(options.artifactType ? { artifactType: options.artifactType } : {}),
      config,
      layers: [{ mediaType: "application/vnd.tollgate.test.payload", digest: sha(data), size: data.length }],
      subject,
      ...(options.annotations ? { annotations: options.annotations } : {}),
    }),
  );
}
