import type { Platform, ResolvedImage } from "../../oci/types.ts";
import type { ImageLimits } from "../types.ts";
import type { ImageSourceOptions } from "../index.ts";

/** What a plain path is, for the sources that recognise their format without a scheme. */
export interface PathProbe {
  readonly path: string;
  readonly isDirectory: boolean;
  readonly isFile: boolean;
  /** Whether the directory holds a regular file at `relative`. */
  hasFile(relative: string): Promise<boolean>;
  /** The first entry names of a plain tar archive (read once, bounded), undefined when the file is not one. */
  tarEntryNames(): Promise<string[] | undefined>;
}

/** A target of an image source: an image reference (`registry:`), or a path with an optional tag. */
export type ImageLocation = { reference: string } | { path: string; tag?: string };

/** How a source is opened: the platform asked for, the decoder limits, and the caller's options (registries, timeouts, environment). */
export interface ImageOpenContext {
  platform: Platform;
  limits: ImageLimits;
  options: ImageSourceOptions;
}

/**
 * One place images are read from without a daemon (a registry, an OCI layout, a `docker save` tar):
 * its target scheme, what follows the scheme, how a plain path is recognised as one, and how it is
 * opened into a `ResolvedImage` (manifest, config, layers) for `ImageFs`. The readers themselves live
 * in src/oci and are loaded by `open`, so that parsing a target stays cheap.
 */
export interface ImageSourceDefinition<S extends string = string> {
  /** The target scheme, as syft spells it (`oci-dir`). */
  readonly scheme: S;
  /** What follows `scheme:`: an image reference, or `PATH[:TAG]` naming a directory or a file. */
  readonly location: "reference" | "directory" | "file";
  /** What the location must be, for usage errors (`an OCI image layout`). */
  readonly describes: string;
  /** Whether a plain path (given without a scheme) is an image of this kind. */
  detect?(probe: PathProbe): Promise<boolean>;
  open(location: ImageLocation, context: ImageOpenContext): Promise<ResolvedImage>;
}

/** A descriptor with its scheme kept as a literal type, so that the list can type the target kinds. */
export function defineImageSource<const S extends string>(source: ImageSourceDefinition<S>): ImageSourceDefinition<S> {
  return source;
}

/** The path and tag of a path-based location (a reference-based one is a programming error). */
export function pathLocation(location: ImageLocation): { path: string; tag?: string } {
  if (!("path" in location)) throw new Error("this image source reads a path, not a reference");
  return location;
}
