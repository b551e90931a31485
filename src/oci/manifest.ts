import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { InputError, LimitExceededError, UsageError, VerificationFailedError } from "../errors.ts";
import { isIndexMediaType, MEDIA_TYPES, type Descriptor, type ImageConfig, type OciLimits, type LayerRef, type Platform } from "./types.ts";

/** Where manifests, configs and layer blobs of one repository or layout are read from. */
export interface BlobSource {
  readonly description: string;
  /** Reads a small blob (manifest, config) whole: bounded by maxBytes and verified against its digest. */
  fetch(desc: Descriptor, maxBytes: number): Promise<Buffer>;
  /** Opens a layer blob as a stream; the reader verifies its digest while streaming. */
  open(desc: Descriptor): Promise<Readable>;
}

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(s: unknown): s is string {
  return typeof s === "string" && DIGEST_RE.test(s);
}

/** The hash algorithm of a digest (`sha256` or `sha512`); anything else is refused. */
export function digestAlgorithm(digest: string, where: string): "sha256" | "sha512" {
  if (!isDigest(digest)) throw new InputError(`unsupported or malformed digest "${String(digest).slice(0, 80)}"`, { file: where });
  return digest.startsWith("sha512:") ? "sha512" : "sha256";
}

/** Checks bytes against a digest; fails closed. */
export function verifyDigest(data: Uint8Array, digest: string, where: string): void {
  const alg = digestAlgorithm(digest, where);
  const actual = `${alg}:${createHash(alg).update(data).digest("hex")}`;
  if (actual !== digest) throw new VerificationFailedError(`${where}: content digest ${actual} does not match ${digest}`);
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function parseJsonDocument(buf: Buffer, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString("utf8"));
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, { file: where });
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new InputError("expected a JSON object", { file: where });
  return v as Record<string, unknown>;
}

export function parseDescriptor(v: unknown, where: string): Descriptor {
  const o = v as Record<string, unknown> | null;
  if (!o || typeof o !== "object" || !isDigest(o.digest) || typeof o.size !== "number" || !Number.isSafeInteger(o.size) || o.size < 0) {
    throw new InputError("malformed descriptor (digest and size required)", { file: where });
  }
  const d: Descriptor = { digest: o.digest, size: o.size };
  if (typeof o.mediaType === "string") d.mediaType = o.mediaType;
  if (typeof o.artifactType === "string") d.artifactType = o.artifactType;
  if (o.annotations && typeof o.annotations === "object") d.annotations = o.annotations as Record<string, string>;
  const p = o.platform as Record<string, unknown> | undefined;
  if (p && typeof p.os === "string" && typeof p.architecture === "string") {
    d.platform = { os: p.os, architecture: p.architecture };
    if (typeof p.variant === "string") d.platform.variant = p.variant;
  }
  return d;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

export function parsePlatform(s: string): Platform {
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[a-z0-9_]+$/.test(x))) {
    throw new UsageError(`--platform ${s}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  const p: Platform = { os: parts[0] as string, architecture: parts[1] as string };
  if (parts[2]) p.variant = parts[2];
  return p;
}

function normalizeVariant(p: Platform): string | undefined {
  if (p.architecture === "arm64" && (p.variant === undefined || p.variant === "v8")) return "v8";
  return p.variant;
}

/** Picks the manifest for a platform out of an index; a clear error lists what the index holds. */
export function selectPlatform(manifests: Descriptor[], want: Platform, where: string): Descriptor {
  const candidates = manifests.filter((m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture);
  const wantVariant = normalizeVariant(want);
  const exact = candidates.find((m) => normalizeVariant(m.platform as Platform) === wantVariant);
  const chosen = exact ?? (want.variant === undefined ? candidates[0] : undefined);
  if (chosen) return chosen;
  const available = manifests
    .filter((m) => m.platform && m.platform.os !== "unknown")
    .map((m) => formatPlatform(m.platform as Platform));
  throw new InputError(
    `no image for platform ${formatPlatform(want)}; the index holds ${available.length ? available.join(", ") : "no platform-specific images"} (choose with --platform)`,
    { file: where },
  );
}

export interface ResolvedManifest {
  /** The index the platform's manifest was chosen from, when the reference named an index. */
  indexDigest?: string;
  manifestDigest: string;
  configDigest: string;
  config: ImageConfig;
  platform: string;
  layers: LayerRef[];
}

/**
 * From a manifest or index descriptor to an image: follows an index to the platform's manifest (one
 * level of nesting, as registries and layouts use), reads the config and lists the layers.
 */
export async function resolveManifest(
  source: BlobSource,
  root: Descriptor,
  want: Platform,
  limits: OciLimits,
  preloaded?: Buffer,
): Promise<ResolvedManifest> {
  let desc = root;
  let indexDigest: string | undefined;
  let body = preloaded ?? (await source.fetch(desc, limits.maxManifestBytes));
  for (let depth = 0; ; depth++) {
    const where = `${source.description}@${desc.digest}`;
    const doc = parseJsonDocument(body, where);
    const mediaType = typeof doc.mediaType === "string" ? doc.mediaType : desc.mediaType;
    if (doc.schemaVersion === 1) throw new InputError("Docker schema 1 manifests are not supported (deprecated since 2017)", { file: where });
    if (isIndexMediaType(mediaType) || (mediaType === undefined && Array.isArray(doc.manifests))) {
      if (depth >= 2) throw new InputError("index nesting deeper than two levels", { file: where });
      if (!Array.isArray(doc.manifests)) throw new InputError("index without manifests", { file: where });
      const manifests = doc.manifests.map((m, i) => parseDescriptor(m, `${where}: manifests[${i}]`));
      indexDigest ??= desc.digest;
      desc = selectPlatform(manifests, want, source.description);
      body = await source.fetch(desc, limits.maxManifestBytes);
      continue;
    }
    if (mediaType !== undefined && mediaType !== MEDIA_TYPES.ociManifest && mediaType !== MEDIA_TYPES.dockerManifest) {
      throw new InputError(`unsupported manifest media type ${mediaType}`, { file: where });
    }
    if (!Array.isArray(doc.layers)) throw new InputError("manifest without layers", { file: where });
    const configDesc = parseDescriptor(doc.config, `${where}: config`);
    const configBuf = await source.fetch(configDesc, limits.maxManifestBytes);
    const config = parseJsonDocument(configBuf, `${source.description}@${configDesc.digest}`) as ImageConfig;
    const layerDescs = doc.layers.map((l, i) => parseDescriptor(l, `${where}: layers[${i}]`));
    if (layerDescs.length > limits.maxLayers) throw new LimitExceededError(`${where}: ${layerDescs.length} layers is over the limit of ${limits.maxLayers}`);
    const diffIds = Array.isArray(config.rootfs?.diff_ids) ? config.rootfs.diff_ids : [];
    const layers: LayerRef[] = layerDescs.map((l, i) => {
      const ref: LayerRef = { id: l.digest, digest: l.digest, size: l.size, open: () => source.open(l) };
      if (l.mediaType) ref.mediaType = l.mediaType;
      const diffId = diffIds[i];
      if (isDigest(diffId) && diffIds.length === layerDescs.length) ref.diffId = diffId;
      return ref;
    });
    const platform = formatPlatform({
      os: config.os ?? desc.platform?.os ?? "unknown",
      architecture: config.architecture ?? desc.platform?.architecture ?? "unknown",
      ...((config.variant ?? desc.platform?.variant) ? { variant: config.variant ?? desc.platform?.variant } : {}),
    });
    const resolved: ResolvedManifest = { manifestDigest: desc.digest, configDigest: configDesc.digest, config, platform, layers };
    if (indexDigest) resolved.indexDigest = indexDigest;
    return resolved;
  }
}
