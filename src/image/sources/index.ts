/**
 * Every place tollgate reads images from, one file each. Adding one (a new archive or layout format)
 * is a file here with an `ImageSourceDefinition` and one line in `IMAGE_SOURCES`: target parsing,
 * plain-path detection, `describeTarget` and the image reader all go through this list.
 */
import type { Target } from "../../model/index.ts";
import { dockerArchiveSource } from "./docker-archive.ts";
import { ociArchiveSource } from "./oci-archive.ts";
import { ociDirSource } from "./oci-dir.ts";
import { registrySource } from "./registry.ts";
import type { ImageSourceDefinition } from "./types.ts";

/** In the order a plain path is tried against them. */
export const IMAGE_SOURCES = [ociDirSource, ociArchiveSource, dockerArchiveSource, registrySource] as const;

/** The schemes of the image sources that read a path (`oci-dir`, `oci-archive`, `docker-archive`). */
export type ImagePathScheme = Exclude<(typeof IMAGE_SOURCES)[number]["scheme"], "registry">;

/** A target that names an image. */
export type ImageTarget = Extract<Target, { kind: (typeof IMAGE_SOURCES)[number]["scheme"] }>;

const BY_SCHEME: ReadonlyMap<string, ImageSourceDefinition> = new Map(IMAGE_SOURCES.map((s) => [s.scheme, s]));

/** The source of an image scheme; undefined for the other target kinds. */
export function imageSourceOf(scheme: string): ImageSourceDefinition | undefined {
  return BY_SCHEME.get(scheme);
}

/** True when the target names an image (any image source's scheme). */
export function isImageTarget(target: Target): target is ImageTarget {
  return BY_SCHEME.has(target.kind);
}

/** `registry:, oci-dir:, oci-archive: or docker-archive:`, for usage errors: the reference scheme first, as users reach for it first. */
export function imageSchemesText(): string {
  const schemes = [...IMAGE_SOURCES.filter((s) => s.location === "reference"), ...IMAGE_SOURCES.filter((s) => s.location !== "reference")].map((s) => `${s.scheme}:`);
  return `${schemes.slice(0, -1).join(", ")} or ${schemes.at(-1) ?? ""}`;
}

export { defineImageSource, type ImageSourceDefinition, type ImageLocation, type ImageOpenContext, type PathProbe } from "./types.ts";
