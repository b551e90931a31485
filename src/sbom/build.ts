import { collect, DirectoryFs, type Cataloger } from "../collect/index.ts";
import { NotImplementedError } from "../errors.ts";
import { openImageSource } from "../image/index.ts";
import type { Sbom, Target } from "../model/index.ts";
import { TOLLGATE_VERSION } from "../version.ts";

export interface BuildSbomOptions {
  /** Globs left out of directory scans (config `sbom.exclude`, `--exclude`). */
  exclude?: readonly string[];
  /** Image platform, os/arch[/variant] (config `image.platform`, `--platform`). */
  platform?: string;
  /** Registries reached over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries?: readonly string[];
  /** Fixed timestamp (SOURCE_DATE_EPOCH or --deterministic). */
  deterministic?: boolean;
  /** Progress lines (the CLI shows them only on a TTY). */
  progress?: (message: string) => void;
}

/** The catalogers for language packages (lockfiles, installed metadata): shared by directories and images. */
export function languageCatalogers(): Cataloger[] {
  return [];
}

/**
 * The SBOM of a target: the one entry point that `sbom`, `scan` and `check` use.
 * Directories and files are walked with DirectoryFs, images through their squashed layers; the same
 * language catalogers serve both.
 */
export async function buildSbom(target: Target, options: BuildSbomOptions = {}): Promise<Sbom> {
  const timestamp = new Date().toISOString();
  const tool = { name: "tollgate", version: TOLLGATE_VERSION };
  switch (target.kind) {
    case "dir": {
      const result = await collect(new DirectoryFs(target.path, { exclude: options.exclude ?? [] }), languageCatalogers());
      return { metadata: { timestamp, tool, target }, components: result.components, problems: result.problems };
    }
    case "registry":
    case "oci-dir":
    case "oci-archive":
    case "docker-archive": {
      const source = await openImageSource(target, options);
      try {
        const result = await collect(source.fs, [...source.catalogers, ...languageCatalogers()]);
        return { metadata: { timestamp, tool, target, component: source.metadata }, components: result.components, problems: result.problems };
      } finally {
        await source.close();
      }
    }
    default:
      throw new NotImplementedError(`SBOMs of ${target.kind}: targets`);
  }
}
