import { createReadStream } from "node:fs";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import { openRegularFile, readRegularFile } from "../io/files.ts";
import { InputError, LimitExceededError } from "../errors.ts";
import { TarFileIndex } from "./archive.ts";
import { digestAlgorithm, isDigest, parseDescriptor, parseJsonDocument, resolveManifest, verifyDigest, type BlobSource } from "./manifest.ts";
import type { Descriptor, ImageConfig, OciLimits, LayerRef, Platform, ResolvedImage } from "./types.ts";

const REF_NAME = "org.opencontainers.image.ref.name";

/** A layout's file, bounded; a FIFO, device or directory in its place is refused at once, never waited on. */
function readFileBounded(path: string, maxBytes: number): Promise<Buffer> {
  return readRegularFile(path, maxBytes);
}

function blobPath(digest: string, where: string): string {
  digestAlgorithm(digest, where);
  const [alg, hex] = digest.split(":") as [string, string];
  return `blobs/${alg}/${hex}`;
}

/** Reads the members of an OCI image layout, from a directory or from a tar of one. */
interface LayoutFiles {
  description: string;
  read(rel: string, maxBytes: number): Promise<Buffer>;
  /** A member's bytes; a missing member is a NOT_FOUND InputError. */
  stream(rel: string): Promise<Readable>;
}

function directoryFiles(dir: string): LayoutFiles {
  return {
    description: dir,
    read: (rel, max) => readFileBounded(join(dir, rel), max),
    async stream(rel) {
      // Opened (without blocking) and checked to be a regular file before it is streamed.
      const { handle } = await openRegularFile(join(dir, rel));
      return createReadStream(join(dir, rel), { fd: handle, highWaterMark: 1024 * 1024 });
    },
  };
}

function archiveFiles(index: TarFileIndex): LayoutFiles {
  return {
    description: index.path,
    read: (rel, max) => index.read(rel, max),
    stream: async (rel) => index.stream(rel),
  };
}

function layoutBlobSource(files: LayoutFiles): BlobSource {
  return {
    description: files.description,
    async fetch(desc: Descriptor, maxBytes: number) {
      const where = `${files.description}: ${desc.digest}`;
      if (desc.size > maxBytes) throw new LimitExceededError(`${where}: ${desc.size} bytes is over the limit of ${maxBytes}`);
      const buf = await files.read(blobPath(desc.digest, where), maxBytes);
      verifyDigest(buf, desc.digest, where);
      return buf;
    },
    async open(desc: Descriptor) {
      const rel = blobPath(desc.digest, `${files.description}: ${desc.digest}`);
      try {
        return await files.stream(rel);
      } catch (e) {
        if (e instanceof InputError && e.code === "NOT_FOUND") {
          throw new InputError(`layer blob ${desc.digest} is missing from the layout`, { file: files.description, code: "NOT_FOUND" });
        }
        throw e;
      }
    },
  };
}

function listRefNames(manifests: Descriptor[]): string {
  const names = manifests.map((m) => m.annotations?.[REF_NAME]).filter((n): n is string => n !== undefined);
  return names.length ? names.join(", ") : "none";
}

async function openLayout(files: LayoutFiles, tag: string | undefined, platform: Platform, limits: OciLimits): Promise<ResolvedImage> {
  const where = `${files.description}/index.json`;
  const index = parseJsonDocument(await files.read("index.json", limits.maxManifestBytes), where);
  if (!Array.isArray(index.manifests)) throw new InputError("not an OCI image layout index (no manifests)", { file: where });
  const manifests = index.manifests.map((m, i) => parseDescriptor(m, `${where}: manifests[${i}]`));
  let chosen: Descriptor | undefined;
  if (tag !== undefined) {
    chosen = manifests.find((m) => m.annotations?.[REF_NAME] === tag || m.annotations?.["io.containerd.image.name"]?.endsWith(`:${tag}`));
    if (!chosen) throw new InputError(`no image tagged "${tag}"; the layout holds: ${listRefNames(manifests)}`, { file: where });
  } else if (manifests.length === 1) {
    chosen = manifests[0];
  } else {
    throw new InputError(`the layout holds ${manifests.length} images; name one with PATH:TAG (tags: ${listRefNames(manifests)})`, { file: where });
  }
  if (!chosen) throw new InputError("the layout holds no image", { file: where });
  const source = layoutBlobSource(files);
  const r = await resolveManifest(source, chosen, platform, limits);
  const image: ResolvedImage = {
    description: files.description,
    name: chosen.annotations?.["io.containerd.image.name"]?.replace(/:[^:/]+$/, "") ?? (basename(files.description.replace(/\/+$/, "")).replace(/\.tar$/, "") || files.description),
    manifestDigest: r.manifestDigest,
    configDigest: r.configDigest,
    config: r.config,
    platform: r.platform,
    layers: r.layers,
  };
  if (r.indexDigest) image.indexDigest = r.indexDigest;
  const ref = chosen.annotations?.[REF_NAME] ?? tag;
  if (ref !== undefined) image.tag = ref;
  return image;
}

export async function openOciDirectory(dir: string, tag: string | undefined, platform: Platform, limits: OciLimits): Promise<ResolvedImage> {
  const layoutFile = parseJsonDocument(await readFileBounded(join(dir, "oci-layout"), 64 * 1024), join(dir, "oci-layout"));
  if (typeof layoutFile.imageLayoutVersion !== "string") throw new InputError("not an OCI image layout (no imageLayoutVersion)", { file: join(dir, "oci-layout") });
  return openLayout(directoryFiles(dir), tag, platform, limits);
}

export async function openOciArchive(path: string, tag: string | undefined, platform: Platform, limits: OciLimits): Promise<ResolvedImage> {
  const index = await TarFileIndex.open(path);
  if (!index.has("oci-layout")) throw new InputError("not an OCI archive (no oci-layout member)", { file: path });
  return openLayout(archiveFiles(index), tag, platform, limits);
}

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** `docker save` output: manifest.json names each image's config and layer tars by path. */
export async function openDockerArchive(path: string, tag: string | undefined, limits: OciLimits): Promise<ResolvedImage> {
  const index = await TarFileIndex.open(path);
  const where = `${path}: manifest.json`;
  let list: unknown;
  try {
    list = JSON.parse((await index.read("manifest.json", limits.maxManifestBytes)).toString("utf8"));
  } catch (e) {
    if (e instanceof InputError || e instanceof LimitExceededError) throw e;
    throw new InputError(`not valid JSON: ${(e as Error).message}`, { file: where });
  }
  if (!Array.isArray(list) || list.length === 0) throw new InputError("expected a non-empty array of images", { file: where });
  const entries = list.map((e, i) => {
    const o = e as Partial<DockerManifestEntry> | null;
    if (!o || typeof o.Config !== "string" || !Array.isArray(o.Layers) || !o.Layers.every((l) => typeof l === "string")) {
      throw new InputError(`[${i}]: expected Config and Layers`, { file: where });
    }
    return { Config: o.Config, Layers: o.Layers, RepoTags: Array.isArray(o.RepoTags) ? o.RepoTags.filter((t) => typeof t === "string") : [] };
  });
  const allTags = entries.flatMap((e) => e.RepoTags);
  let chosen: DockerManifestEntry | undefined;
  let repoTag: string | undefined;
  if (tag !== undefined) {
    for (const e of entries) {
      repoTag = e.RepoTags.find((t) => t === tag || t.endsWith(`:${tag}`));
      if (repoTag) {
        chosen = e;
        break;
      }
    }
    if (!chosen) throw new InputError(`no image tagged "${tag}"; the archive holds: ${allTags.join(", ") || "untagged images"}`, { file: where });
  } else if (entries.length === 1) {
    chosen = entries[0];
    repoTag = chosen?.RepoTags[0];
  } else {
    throw new InputError(`the archive holds ${entries.length} images; name one with PATH:TAG (tags: ${allTags.join(", ")})`, { file: where });
  }
  if (!chosen) throw new InputError("the archive holds no image", { file: where });
  const configBuf = await index.read(chosen.Config, limits.maxManifestBytes);
  // The config's file name is its sha256 in both the classic and the OCI-style layout of `docker save`.
  const hex = /([a-f0-9]{64})(\.json)?$/.exec(chosen.Config)?.[1];
  const configDigest = hex ? `sha256:${hex}` : undefined;
  if (configDigest) verifyDigest(configBuf, configDigest, `${path}: ${chosen.Config}`);
  const config = parseJsonDocument(configBuf, `${path}: ${chosen.Config}`) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (chosen.Layers.length > limits.maxLayers) throw new LimitExceededError(`${where}: ${chosen.Layers.length} layers is over the limit of ${limits.maxLayers}`);
  if (diffIds.length !== chosen.Layers.length || !diffIds.every(isDigest)) {
    throw new InputError(`the config lists ${diffIds.length} diff_ids for ${chosen.Layers.length} layers`, { file: `${path}: ${chosen.Config}` });
  }
  const layers: LayerRef[] = chosen.Layers.map((layerPath, i) => {
    if (!index.has(layerPath)) throw new InputError(`layer ${layerPath} is missing from the archive`, { file: where });
    const diffId = diffIds[i] as string;
    return { id: diffId, diffId, size: index.get(layerPath)?.size ?? 0, open: async () => index.stream(layerPath) };
  });
  let name = basename(path).replace(/\.tar$/, "") || path;
  let imageTag: string | undefined;
  if (repoTag) {
    const colon = repoTag.lastIndexOf(":");
    if (colon > 0 && !repoTag.slice(colon).includes("/")) {
      name = repoTag.slice(0, colon);
      imageTag = repoTag.slice(colon + 1);
    } else name = repoTag;
  }
  const image: ResolvedImage = {
    description: path,
    name,
    config,
    platform: `${config.os ?? "unknown"}/${config.architecture ?? "unknown"}${config.variant ? `/${config.variant}` : ""}`,
    layers,
  };
  if (imageTag !== undefined) image.tag = imageTag;
  if (configDigest) image.configDigest = configDigest;
  return image;
}
