import { defineImageSource, pathLocation } from "./types.ts";

/** An OCI image layout directory (`oci-layout` + `index.json`), as skopeo and umoci write it. */
export const ociDirSource = defineImageSource({
  scheme: "oci-dir",
  location: "directory",
  describes: "a directory (an OCI image layout)",
  detect: async (probe) => probe.isDirectory && (await probe.hasFile("oci-layout")) && (await probe.hasFile("index.json")),
  async open(location, { platform, limits }) {
    const { path, tag } = pathLocation(location);
    const { openOciDirectory } = await import("../../oci/layout.ts");
    return openOciDirectory(path, tag, platform, limits);
  },
});
