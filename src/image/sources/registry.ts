import { defineImageSource } from "./types.ts";

/** An image in an OCI distribution registry, by reference (`ghcr.io/org/app:1`, `…@sha256:…`). */
export const registrySource = defineImageSource({
  scheme: "registry",
  location: "reference",
  describes: "an image reference",
  async open(location, { platform, limits, options }) {
    if (!("reference" in location)) throw new Error("registry: reads an image reference");
    const { openRegistryImage } = await import("../../oci/registry.ts");
    return openRegistryImage(location.reference, platform, limits, {
      insecureRegistries: options.insecureRegistries ?? [],
      env: options.env ?? process.env,
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    });
  },
});
