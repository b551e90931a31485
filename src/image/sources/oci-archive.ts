import { defineImageSource, pathLocation } from "./types.ts";

/** An OCI image layout in a tar archive (`oci-layout` member), as `docker buildx --output type=oci` writes it. */
export const ociArchiveSource = defineImageSource({
  scheme: "oci-archive",
  location: "file",
  describes: "a regular file (a tar archive)",
  detect: async (probe) => probe.isFile && ((await probe.tarEntryNames())?.includes("oci-layout") ?? false),
  async open(location, { platform, limits }) {
    const { path, tag } = pathLocation(location);
    const { openOciArchive } = await import("../../oci/layout.ts");
    return openOciArchive(path, tag, platform, limits);
  },
});
