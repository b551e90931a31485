import type { Cataloger, VirtualFs } from "../collect/index.ts";
import { NotImplementedError } from "../errors.ts";
import type { Component, Target } from "../model/index.ts";

export type ImageTarget = Extract<Target, { kind: "registry" | "oci-dir" | "oci-archive" | "docker-archive" }>;

export interface ImageSourceOptions {
  platform?: string;
  insecureRegistries?: readonly string[];
  progress?: (message: string) => void;
}

/** An opened image: its squashed filesystem, the image as the SBOM's metadata component, and the OS catalogers. */
export interface ImageSource {
  fs: VirtualFs;
  metadata: Component;
  catalogers: Cataloger[];
  close(): Promise<void>;
}

export async function openImageSource(target: ImageTarget, _options: ImageSourceOptions = {}): Promise<ImageSource> {
  throw new NotImplementedError(`reading images (${target.kind}:)`);
}
