import { defineImageSource, pathLocation } from "./types.ts";

/** A `docker save` tar (`manifest.json` member); one platform, so `--platform` does not apply. */
export const dockerArchiveSource = defineImageSource({
  scheme: "docker-archive",
  location: "file",
  describes: "a regular file (a tar archive)",
  detect: async (probe) => probe.isFile && ((await probe.tarEntryNames())?.includes("manifest.json") ?? false),
  async open(location, { limits }) {
    const { path, tag } = pathLocation(location);
    const { openDockerArchive } = await import("../../oci/layout.ts");
    return openDockerArchive(path, tag, limits);
  },
});
