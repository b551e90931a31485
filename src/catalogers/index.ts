/**
 * Every cataloger tollgate has, in one named list, with the kinds of filesystem each serves. The
 * collect core walks a filesystem once and offers each file to the catalogers of its kind
 * (`fileRequired`, then `extract`, then `finish` when the walk ends); catalogers never walk.
 *
 * Adding a cataloger: write it in the folder of its kind (`language/` lockfiles and installed
 * metadata, `os/` distro package databases, `binary/` build info in binaries and archives, `model/`
 * ML model files, `build/` build files such as Dockerfiles) and add one entry here.
 */
import type { Cataloger } from "../collect/types.ts";
import type { ImageLimits } from "../image/types.ts";
import type { OsContext } from "./os/os-context.ts";
import type { BuildFile } from "../model/index.ts";

/**
 * What a collect run walks: a source tree (`dir:`), one file (`file:`), an image's squashed
 * filesystem, or a model target (`model:`).
 */
export type CatalogerScope = "directory" | "file" | "image" | "model";

/** What the catalogers of one collect run are made with. */
export interface CatalogerSettings {
  /** Go module cache for the module graph; false for none (an image's modules are not the host's). */
  goModCache?: string | false;
  /** The environment the Go module cache variables are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** The real path of the walked root (model targets and directories: hub cache origins). */
  rootPath?: string;
  /** Image runs: the distro and OS packages the OS catalogers share. */
  os?: OsContext;
  /** Image runs: scratch space (rpm's SQLite databases). */
  scratchDir?: () => Promise<string>;
  /** Image runs: the decoder limits. */
  imageLimits?: ImageLimits;
  /** Directory runs: the list the Dockerfiles found go to (`Sbom.buildFiles`); without it none are looked for. */
  buildFiles?: BuildFile[];
}

export interface CatalogerEntry {
  /** The cataloger's name (`Cataloger.name`): problems and `foundBy` say it. */
  name: string;
  /** The kinds of filesystem it is offered. */
  scopes: readonly CatalogerScope[];
  /** Makes the cataloger for one run; its module is imported then, so a run loads only the catalogers of its kind. */
  load(settings: CatalogerSettings): Promise<Cataloger>;
}

/** Lockfiles and installed metadata: source trees, single files and images alike. */
const LANGUAGE: readonly CatalogerScope[] = ["directory", "file", "image"];
const IMAGE: readonly CatalogerScope[] = ["image"];
const MODELS: readonly CatalogerScope[] = ["directory", "image", "model"];
/** Only source trees get `check`'s Dockerfile lint. */
const SOURCE_TREES: readonly CatalogerScope[] = ["directory"];

function osContext(settings: CatalogerSettings): OsContext {
  if (!settings.os) throw new Error("image catalogers need the image's OsContext");
  return settings.os;
}

function scratchDir(settings: CatalogerSettings): () => Promise<string> {
  if (!settings.scratchDir) throw new Error("the rpm cataloger needs a scratch directory");
  return settings.scratchDir;
}

/** Every cataloger, in the order collect offers files to them. */
export const CATALOGERS: readonly CatalogerEntry[] = [
  // The distro first; its `finish` completes the packages every OS cataloger read during the walk.
  { name: "os-release", scopes: IMAGE, load: async (s) => (await import("./os/os-release.ts")).osReleaseCataloger(osContext(s)) },
  { name: "dpkg", scopes: IMAGE, load: async (s) => (await import("./os/dpkg.ts")).dpkgCataloger(osContext(s)) },
  { name: "dpkg-copyright", scopes: IMAGE, load: async (s) => (await import("./os/dpkg-copyright.ts")).dpkgCopyrightCataloger(osContext(s)) },
  { name: "apk", scopes: IMAGE, load: async (s) => (await import("./os/apk.ts")).apkCataloger(osContext(s)) },
  {
    name: "rpm",
    scopes: IMAGE,
    load: async (s) => (await import("./os/rpm.ts")).rpmCataloger(osContext(s), scratchDir(s), s.imageLimits ? { maxRows: s.imageLimits.maxRpmRows } : {}),
  },
  { name: "go-binary", scopes: IMAGE, load: async () => (await import("./binary/go-binary.ts")).goBinaryCataloger() },
  {
    name: "java-archive",
    scopes: IMAGE,
    load: async ({ imageLimits: l }) =>
      (await import("./binary/java-archive.ts")).javaArchiveCataloger(
        l
          ? { maxNestedBytes: l.maxJavaNestedBytes, maxArchiveDecompressedBytes: l.maxJavaArchiveDecompressedBytes, maxImageDecompressedBytes: l.maxJavaDecompressedBytes, maxDepth: l.maxJavaDepth }
          : {},
      ),
  },
  { name: "npm-lock", scopes: LANGUAGE, load: async () => (await import("./language/npm-lock.ts")).npmLockCataloger },
  { name: "yarn-lock", scopes: LANGUAGE, load: async () => (await import("./language/yarn-lock.ts")).yarnLockCataloger },
  { name: "pnpm-lock", scopes: LANGUAGE, load: async () => (await import("./language/pnpm-lock.ts")).pnpmLockCataloger },
  { name: "bun-lock", scopes: LANGUAGE, load: async () => (await import("./language/bun-lock.ts")).bunLockCataloger },
  { name: "python-requirements", scopes: LANGUAGE, load: async () => (await import("./language/requirements.ts")).requirementsCataloger },
  { name: "poetry-lock", scopes: LANGUAGE, load: async () => (await import("./language/poetry-lock.ts")).poetryLockCataloger },
  { name: "pipfile-lock", scopes: LANGUAGE, load: async () => (await import("./language/pipfile-lock.ts")).pipfileLockCataloger },
  { name: "uv-lock", scopes: LANGUAGE, load: async () => (await import("./language/uv-lock.ts")).uvLockCataloger },
  { name: "pdm-lock", scopes: LANGUAGE, load: async () => (await import("./language/pdm-lock.ts")).pdmLockCataloger },
  // An image's modules are not the host's: image runs pass goModCache false.
  { name: "go-mod", scopes: LANGUAGE, load: async (s) => (await import("./language/go-mod.ts")).createGoModCataloger(s) },
  { name: "cargo-lock", scopes: LANGUAGE, load: async () => (await import("./language/cargo-lock.ts")).cargoLockCataloger },
  { name: "maven-pom", scopes: LANGUAGE, load: async () => (await import("./language/maven-pom.ts")).mavenPomCataloger },
  { name: "gradle-lockfile", scopes: LANGUAGE, load: async () => (await import("./language/gradle-lockfile.ts")).gradleLockfileCataloger },
  { name: "composer-lock", scopes: LANGUAGE, load: async () => (await import("./language/composer-lock.ts")).composerLockCataloger },
  { name: "gemfile-lock", scopes: LANGUAGE, load: async () => (await import("./language/gemfile-lock.ts")).gemfileLockCataloger },
  { name: "nuget-lock", scopes: LANGUAGE, load: async () => (await import("./language/nuget-lock.ts")).nugetLockCataloger },
  { name: "npm-installed", scopes: LANGUAGE, load: async () => (await import("./language/installed.ts")).npmInstalledCataloger },
  { name: "python-installed", scopes: LANGUAGE, load: async () => (await import("./language/installed.ts")).pythonInstalledCataloger },
  // fileRequired is by name: a tree without models pays nothing.
  { name: "ml-model", scopes: MODELS, load: async (s) => (await import("./model/ml-model.ts")).createModelCataloger(s.rootPath !== undefined ? { rootPath: s.rootPath } : {}) },
  { name: "dockerfile", scopes: SOURCE_TREES, load: async (s) => (await import("./build/dockerfile.ts")).dockerfileCataloger(s.buildFiles) },
];

/** The catalogers for one collect run over a filesystem of kind `scope`, in `CATALOGERS` order (their modules loaded now). */
export function catalogersFor(scope: CatalogerScope, settings: CatalogerSettings = {}): Promise<Cataloger[]> {
  return Promise.all(CATALOGERS.filter((e) => e.scopes.includes(scope)).map((e) => e.load(settings)));
}
