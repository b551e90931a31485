/**
 * Hand-made OCI image layouts for the small tests (whiteouts, platforms, malicious layers). Each layer
 * is a tar written with tar-stream from the entries a test lists; the manifest, config (with diff_ids)
 * and index are written as the OCI image spec describes them.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { pack } from "tar-stream";

export interface TarEntrySpec {
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
}

export async function tarOf(entries: TarEntrySpec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((r) => p.on("end", () => r()));
  for (const e of entries) {
    const content = e.content === undefined ? undefined : Buffer.from(e.content);
    const header = { name: e.name, type: e.type ?? "file", mode: e.mode ?? (e.type === "directory" ? 0o755 : 0o644), ...(e.linkname ? { linkname: e.linkname } : {}) };
    if (content) p.entry({ ...header, size: content.length }, content);
    else p.entry(header);
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export interface BuiltImage {
  manifest: { digest: string; size: number; mediaType: string; platform: { os: string; architecture: string } };
  layerDigests: string[];
}

async function putBlob(dir: string, data: Buffer): Promise<string> {
  const d = sha(data);
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "blobs", "sha256", d.slice(7)), data);
  return d;
}

/** Writes one image's blobs into a layout directory; layers given as tar bytes with their compression. */
export async function writeImage(dir: string, layers: { tar: Buffer; compression: "gzip" | "zstd" | "none" }[], arch = "amd64"): Promise<BuiltImage> {
  const layerDescs = [];
  const diffIds = [];
  for (const l of layers) {
    const stored = l.compression === "gzip" ? gzipSync(l.tar) : l.compression === "zstd" ? zstdCompressSync(l.tar) : l.tar;
    const digest = await putBlob(dir, stored);
    diffIds.push(sha(l.tar));
    layerDescs.push({ mediaType: `application/vnd.oci.image.layer.v1.tar${l.compression === "none" ? "" : `+${l.compression}`}`, digest, size: stored.length });
  }
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: "linux", rootfs: { type: "layers", diff_ids: diffIds }, config: {} }));
  const configDigest = await putBlob(dir, config);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length }, layers: layerDescs }),
  );
  const manifestDigest = await putBlob(dir, manifest);
  return {
    manifest: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifestDigest, size: manifest.length, platform: { os: "linux", architecture: arch } },
    layerDigests: layerDescs.map((l) => l.digest),
  };
}

/** index.json naming the given manifests (or one nested index of them), each with an optional tag. */
export async function writeIndex(dir: string, manifests: { desc: BuiltImage["manifest"]; tag?: string }[], nested = false): Promise<void> {
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const descs = manifests.map((m) => ({ ...m.desc, ...(m.tag ? { annotations: { "org.opencontainers.image.ref.name": m.tag } } : {}) }));
  if (!nested) {
    await writeFile(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: descs }));
    return;
  }
  const inner = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: descs }));
  const d = await putBlob(dir, inner);
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: d, size: inner.length, annotations: { "org.opencontainers.image.ref.name": "multi" } }] }),
  );
}

/** A one-image layout in a fresh directory. */
export async function layoutOf(dir: string, layers: { tar: Buffer; compression: "gzip" | "zstd" | "none" }[]): Promise<BuiltImage> {
  await mkdir(dir, { recursive: true });
  const img = await writeImage(dir, layers);
  await writeIndex(dir, [{ desc: img.manifest, tag: "t" }]);
  return img;
}
