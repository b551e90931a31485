import { rm } from "node:fs/promises";
import { PackageURL } from "packageurl-js";
import type { Cataloger, VirtualFs } from "../collect/index.ts";
import type { NetworkTimeouts } from "../io/timeouts.ts";
import { makeScratchDirSync } from "../io/paths.ts";
import type { Component, Target } from "../model/index.ts";
import { apkCataloger, apkInstalledKeys } from "./catalogers/apk.ts";
import { dpkgCataloger, dpkgInstalledKeys } from "./catalogers/dpkg.ts";
import { dpkgCopyrightCataloger } from "./catalogers/dpkg-copyright.ts";
import { goBinaryCataloger } from "./catalogers/go-binary.ts";
import { javaArchiveCataloger } from "./catalogers/java-archive.ts";
import { RPM_SQLITE_DBS, rpmCataloger, rpmInstalledKeys } from "./catalogers/rpm.ts";
import { OsContext } from "./catalogers/os-context.ts";
import { osReleaseCataloger } from "./catalogers/os-release.ts";
import { ImageFs } from "./image-fs.ts";
import { openDockerArchive, openOciArchive, openOciDirectory } from "../oci/layout.ts";
import { parsePlatform } from "../oci/manifest.ts";
import { openRegistryImage } from "../oci/registry.ts";
import type { ResolvedImage } from "../oci/types.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./types.ts";

const DPKG_STATUS = "var/lib/dpkg/status";
const APK_INSTALLED = "lib/apk/db/installed";

export type ImageTarget = Extract<Target, { kind: "registry" | "oci-dir" | "oci-archive" | "docker-archive" }>;

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

/** An opened image: its squashed filesystem, the image as the SBOM's metadata component, and the OS catalogers. */
export interface ImageSource {
  fs: VirtualFs;
  metadata: Component;
  catalogers: Cataloger[];
  close(): Promise<void>;
}

/** Reads the image a target names, without a daemon: a registry, an OCI layout or archive, or a `docker save` tar. */
export async function resolveImage(target: ImageTarget, options: ImageSourceOptions = {}): Promise<ResolvedImage> {
  const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  const platform = parsePlatform(options.platform ?? "linux/amd64");
  switch (target.kind) {
    case "registry":
      return openRegistryImage(target.reference, platform, limits, {
        insecureRegistries: options.insecureRegistries ?? [],
        env: options.env ?? process.env,
        ...(options.timeouts ? { timeouts: options.timeouts } : {}),
      });
    case "oci-dir":
      return openOciDirectory(target.path, target.tag, platform, limits);
    case "oci-archive":
      return openOciArchive(target.path, target.tag, platform, limits);
    case "docker-archive":
      return openDockerArchive(target.path, target.tag, limits);
  }
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
 * The catalogers that read an image: distro, dpkg (with copyright licenses), apk and rpm, sharing one
 * context for the distro; Go binaries' build info; Java archives' Maven coordinates. Language lockfiles
 * and installed metadata come from the SBOM domain's catalogers, which serve directories and images alike.
 */
export function imageCatalogers(ctx: OsContext, scratchDir: () => Promise<string>, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Cataloger[] {
  const java = javaArchiveCataloger({
    maxNestedBytes: limits.maxJavaNestedBytes,
    maxArchiveDecompressedBytes: limits.maxJavaArchiveDecompressedBytes,
    maxImageDecompressedBytes: limits.maxJavaDecompressedBytes,
    maxDepth: limits.maxJavaDepth,
  });
  return [osReleaseCataloger(ctx), dpkgCataloger(ctx), dpkgCopyrightCataloger(ctx), apkCataloger(ctx), rpmCataloger(ctx, scratchDir, { maxRows: limits.maxRpmRows }), goBinaryCataloger(), java];
}

export async function openImageSource(target: ImageTarget, options: ImageSourceOptions = {}): Promise<ImageSource> {
  const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  options.progress?.(`reading ${target.input}`);
  const image = await resolveImage(target, options);
  const metadata = imageComponent(image);
  const ctx = new OsContext();
  let scratchPath: string | undefined;
  const fs = new ImageFs(image, limits, () => {
    ctx.finalize();
    if (ctx.distro) {
      metadata.properties ??= {};
      metadata.properties["tollgate:image:os"] = ctx.distro.versionId ? `${ctx.distro.id}-${ctx.distro.versionId}` : ctx.distro.id;
    }
    for (const db of ctx.unreadDatabases) {
      metadata.properties ??= {};
      metadata.properties[`tollgate:image:unreadDatabase:${db}`] = "not read";
    }
  });
  if (options.progress) fs.progress = options.progress;
  ctx.layerIds = image.layers.map((l) => l.id);
  fs.historyPaths = new Set([DPKG_STATUS, APK_INSTALLED, ...RPM_SQLITE_DBS]);
  fs.onHistory = (path, layer, contents) => {
    if (RPM_SQLITE_DBS.has(path)) {
      // An older copy that is not a readable SQLite rpmdb only loses its layer's attribution.
      try {
        ctx.addHistory(path, layer, rpmInstalledKeys(contents, scratchDirSync(), { maxRows: limits.maxRpmRows }));
      } catch {
        /* the packages stay attributed to the database's own layer */
      }
      return;
    }
    const text = contents.toString("utf8");
    ctx.addHistory(path, layer, path === DPKG_STATUS ? dpkgInstalledKeys(text) : apkInstalledKeys(text));
  };
  return {
    fs,
    metadata,
    catalogers: imageCatalogers(ctx, scratchDir, limits),
    async close() {
      if (scratchPath) await rm(scratchPath, { recursive: true, force: true });
    },
  };
  // Scratch space (for rpm's SQLite databases) is made on demand and removed by close().
  function scratchDirSync(): string {
    // Named with this process's id, so that the next run removes what a killed run left behind.
    scratchPath ??= makeScratchDirSync("tollgate-image");
    return scratchPath;
  }
  function scratchDir(): Promise<string> {
    return Promise.resolve(scratchDirSync());
  }
}

export { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./types.ts";
export type { ResolvedImage, LayerRef } from "../oci/types.ts";
export { ImageFs } from "./image-fs.ts";
export { OsContext, parseOsRelease, type Distro } from "./catalogers/os-context.ts";
export { parseRegistryReference, RegistryClient, usesPlainHttp, type RegistryOptions } from "../oci/registry.ts";
export { lookupCredentials, type RegistryCredentials } from "../oci/auth.ts";
