/**
 * Dockerfiles of a source tree, for `check`'s Dockerfile lint: the walk that builds the SBOM lists
 * them, so that the lint never walks the tree again. Nothing goes into the SBOM's output: the paths
 * go to the run's list (`Sbom.buildFiles`), and the lint reads the files itself, within its own limit.
 */
import type { Cataloger, CatalogResult } from "../../collect/index.ts";
import type { BuildFile } from "../../model/index.ts";

const NAME = "dockerfile";

/** Dockerfile names: `Dockerfile`, `Containerfile`, `Dockerfile.<variant>`, `<name>.Dockerfile`. */
export function isDockerfileName(name: string): boolean {
  if (/\.dockerignore$/i.test(name)) return false;
  return /^(?:Dockerfile|Containerfile)(?:\.[\w.-]+)?$/.test(name) || /^[\w.-]+\.(?:Dockerfile|dockerfile|Containerfile)$/.test(name);
}

/**
 * Adds each Dockerfile it is offered to `found` (paths relative to the walked root, in walk order).
 * It reads no byte (`reads: "range"`: collect opens the file, nothing is read); without a list to
 * fill it asks for no file.
 */
export function dockerfileCataloger(found: BuildFile[] | undefined): Cataloger {
  return {
    name: NAME,
    reads: "range",
    fileRequired: (entry) => found !== undefined && isDockerfileName(entry.path.slice(entry.path.lastIndexOf("/") + 1)),
    extract({ entry }): Promise<CatalogResult> {
      found?.push({ kind: "dockerfile", path: entry.path });
      return Promise.resolve({ components: [] });
    },
  };
}
