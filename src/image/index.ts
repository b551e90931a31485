import { rm } from "node:fs/promises";
import { PackageURL } from "packageurl-js";
import type { Cataloger, VirtualFs } from "../collect/index.ts";
import type { NetworkTimeouts } from "../io/timeouts.ts";
import { makeScratchDirSync } from "../io/paths.ts";
import type { Component } from "../model/index.ts";
import { catalogersFor } from "../catalogers/index.ts";
import { OsContext } from "../catalogers/os/os-context.ts";
import { ImageFs } from "./image-fs.ts";
import { parsePlatform } from "../oci/manifest.ts";
import type { ResolvedImage } from "../oci/types.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./types.ts";
import { imageSourceOf, type ImageTarget } from "./sources/index.ts";

export type { ImageTarget } from "./sources/index.ts";

export interface ImageSourceOptions {
  /** os/arch[/variant] to pick out of a multi-platform index (default linux/amd64). */
  platform?: string;
  /** Registries reached over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries?: readonly string[];
  progress?: (message: string) => void;
  /** Decoder limits (sizes, entries, decompressed bytes); defaults in DEFAULT_IMAGE_LIMITS. */
  limits?: Partial<ImageLimits>;
  /** Environment for DOCKER_CONFIG and credential helpers (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Registry timeouts (config `timeouts:`); unset ones keep DEFAULT_NETWORK_TIMEOUTS. */
  timeouts?: Partial<NetworkTimeouts>;
}

/** An opened image: its squashed filesystem, the image as the SBOM's metadata component, and the catalogers of an image run (`catalogersFor("image")`). */
export interface ImageSource {
  fs: VirtualFs;
  /**
   * The image (name, digests, platform, layers); what the walk finds out about it (its OS, package
   * databases not read) comes back as the collect result's `targetProperties`.
   */
  metadata: Component;
  catalogers: Cataloger[];
  close(): Promise<void>;
}

/**
 * Reads the image a target names, without a daemon, through its image source (src/image/sources/: a
 * registry, an OCI layout or archive, a `docker save` tar).
 */
export async function resolveImage(target: ImageTarget, options: ImageSourceOptions = {}): Promise<ResolvedImage> {
  const source = imageSourceOf(target.kind);
  if (!source) throw new Error(`no image source for ${target.kind}: targets`);
  const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  const platform = parsePlatform(options.platform ?? "linux/amd64");
  return source.open(target.kind === "registry" ? { reference: target.reference } : { path: target.path, ...(target.tag !== undefined ? { tag: target.tag } : {}) }, { platform, limits, options });
}

/** The image as a CycloneDX `container` component: name, tag, digests, platform and layers as properties. */
export function imageComponent(image: ResolvedImage): Component {
  const properties: Record<string, string> = { "tollgate:image:platform": image.platform, "tollgate:image:source": image.description };
  if (image.tag) properties["tollgate:image:tag"] = image.tag;
  if (image.indexDigest) properties["tollgate:image:indexDigest"] = image.indexDigest;
  if (image.manifestDigest) properties["tollgate:image:manifestDigest"] = image.manifestDigest;
  if (image.configDigest) properties["tollgate:image:configDigest"] = image.configDigest;
  properties["tollgate:image:layerCount"] = String(image.layers.length);
  image.layers.forEach((l, i) => {
    properties[`tollgate:image:layer:${i}`] = l.id;
  });
  const digest = image.manifestDigest ?? image.configDigest;
  const shortName = image.name.slice(image.name.lastIndexOf("/") + 1) || image.name;
  const qualifiers: Record<string, string> = {};
  if (image.registry) qualifiers.repository_url = image.name;
  if (image.tag) qualifiers.tag = image.tag;
  qualifiers.platform = image.platform;
  const c: Component = {
    ref: digest ? `image:${digest}` : `image:${image.name}`,
    name: image.name,
    type: "container",
    hashes: digest?.startsWith("sha256:") ? [{ alg: "SHA-256", content: digest.slice(7) }] : [],
    licenses: [],
    locations: [],
    dependencies: [],
    properties,
  };
  const version = image.tag ?? digest;
  if (version) c.version = version;
  if (digest && /^[a-z0-9][a-z0-9._-]*$/.test(shortName.toLowerCase())) {
    c.purl = new PackageURL("oci", null, shortName.toLowerCase(), digest, qualifiers, null).toString();
  }
  return c;
}

/**
 * Opens the image a target names for one collect run: its squashed filesystem and the image catalogers,
 * the OS ones sharing one `OsContext` (completed by the os-release cataloger's `finish`).
 */
export async function openImageSource(target: ImageTarget, options: ImageSourceOptions = {}): Promise<ImageSource> {
  const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  options.progress?.(`reading ${target.input}`);
  const image = await resolveImage(target, options);
  const fs = new ImageFs(image, limits);
  if (options.progress) fs.progress = options.progress;
  let scratchPath: string | undefined;
  // Scratch space (for rpm's SQLite databases) is made on demand and removed by close(); named with this
  // process's id, so that the next run removes what a killed run left behind.
  const scratchDir = (): Promise<string> => Promise.resolve((scratchPath ??= makeScratchDirSync("tollgate-image")));
  return {
    fs,
    metadata: imageComponent(image),
    // The host's Go module cache says nothing about an image's modules.
    catalogers: await catalogersFor("image", { os: new OsContext(), scratchDir, imageLimits: limits, goModCache: false }),
    async close() {
      if (scratchPath) await rm(scratchPath, { recursive: true, force: true });
    },
  };
}

export { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./types.ts";
export type { ResolvedImage, LayerRef } from "../oci/types.ts";
export { ImageFs } from "./image-fs.ts";
export { OsContext, parseOsRelease, type Distro } from "../catalogers/os/os-context.ts";
export { parseRegistryReference, RegistryClient, usesPlainHttp, type RegistryOptions } from "../oci/registry.ts";
export { lookupCredentials, type RegistryCredentials } from "../oci/auth.ts";
