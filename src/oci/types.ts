import type { Readable } from "node:stream";

/** An OCI content descriptor (image-spec descriptor.md), reduced to the fields tollgate reads. */
export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  /** The artifact's type (image-spec 1.1), as referrers lists carry it. */
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/**
 * Size limits for everything the OCI readers decode (manifests, indexes, configs, layer tars). Every
 * decoder is bounded by one of these. `ImageLimits` (src/image/types.ts) adds the catalogers' limits.
 */
export interface OciLimits {
  /** Largest manifest, index or config document, in bytes. */
  maxManifestBytes: number;
  /** Total decompressed bytes read from all layers in one pass over the image. */
  maxDecompressedBytes: number;
  /** Largest single file entry inside a layer. */
  maxEntryBytes: number;
  /** Most entries in all layers together. */
  maxEntries: number;
  /** Most layers in one image. */
  maxLayers: number;
}

export const DEFAULT_OCI_LIMITS: OciLimits = {
  maxManifestBytes: 4 * 1024 * 1024,
  maxDecompressedBytes: 32 * 1024 * 1024 * 1024,
  maxEntryBytes: 8 * 1024 * 1024 * 1024,
  maxEntries: 4_000_000,
  maxLayers: 1000,
};

/** One layer of a resolved image: how to open its (possibly compressed) bytes and what to verify. */
export interface LayerRef {
  /** The id recorded in component locations: the manifest's layer digest, or the diff_id for docker-archive. */
  id: string;
  mediaType?: string;
  /** Digest of the stored (compressed) blob, verified while streaming when known. */
  digest?: string;
  /** Digest of the uncompressed tar (config rootfs.diff_ids), verified while streaming when known. */
  diffId?: string;
  /** Stored size in bytes, when known. */
  size?: number;
  open(): Promise<Readable>;
}

/** The parts of an OCI/Docker image config that tollgate reads. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: { Labels?: Record<string, string> | null; Env?: string[] | null; Entrypoint?: string[] | null; Cmd?: string[] | null; User?: string };
  rootfs?: { type?: string; diff_ids?: string[] };
}

/** An image chosen out of a source: its layers, config and what names it. */
export interface ResolvedImage {
  /** Where it came from, for messages (a reference or a path). */
  description: string;
  /** Repository name (registry reference without tag, RepoTags name, or the layout's path). */
  name: string;
  tag?: string;
  registry?: string;
  /** The multi-platform index the manifest was chosen from, if any. */
  indexDigest?: string;
  manifestDigest?: string;
  configDigest?: string;
  config: ImageConfig;
  platform: string;
  layers: LayerRef[];
}

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  /** The empty JSON object `{}`, as the config or layer of an artifact with nothing there (image-spec 1.1). */
  ociEmpty: "application/vnd.oci.empty.v1+json",
} as const;

/** The descriptor of the empty JSON object `{}` (image-spec 1.1 "empty descriptor"). */
export const EMPTY_JSON_DESCRIPTOR = {
  mediaType: MEDIA_TYPES.ociEmpty,
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
} as const satisfies Descriptor;

export function isIndexMediaType(m: string | undefined): boolean {
  return m === MEDIA_TYPES.ociIndex || m === MEDIA_TYPES.dockerList;
}
