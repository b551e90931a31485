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
import type { BuildFile } from "../model/index.ts";
import { goBinaryCataloger } from "./binary/go-binary.ts";
import { javaArchiveCataloger } from "./binary/java-archive.ts";
import { dockerfileCataloger } from "./build/dockerfile.ts";
import { bunLockCataloger } from "./language/bun-lock.ts";
import { cargoLockCataloger } from "./language/cargo-lock.ts";
import { composerLockCataloger } from "./language/composer-lock.ts";
import { gemfileLockCataloger } from "./language/gemfile-lock.ts";
import { createGoModCataloger, goModCataloger } from "./language/go-mod.ts";
import { gradleLockfileCataloger } from "./language/gradle-lockfile.ts";
import { npmInstalledCataloger, pythonInstalledCataloger } from "./language/installed.ts";
import { mavenPomCataloger } from "./language/maven-pom.ts";
import { npmLockCataloger } from "./language/npm-lock.ts";
import { nugetLockCataloger } from "./language/nuget-lock.ts";
import { pdmLockCataloger } from "./language/pdm-lock.ts";
import { pipfileLockCataloger } from "./language/pipfile-lock.ts";
import { pnpmLockCataloger } from "./language/pnpm-lock.ts";
import { poetryLockCataloger } from "./language/poetry-lock.ts";
import { requirementsCataloger } from "./language/requirements.ts";
import { uvLockCataloger } from "./language/uv-lock.ts";
import { yarnLockCataloger } from "./language/yarn-lock.ts";
import { createModelCataloger } from "./model/ml-model.ts";
import { apkCataloger } from "./os/apk.ts";
import { dpkgCopyrightCataloger } from "./os/dpkg-copyright.ts";
import { dpkgCataloger } from "./os/dpkg.ts";
import type { OsContext } from "./os/os-context.ts";
import { osReleaseCataloger } from "./os/os-release.ts";
import { rpmCataloger } from "./os/rpm.ts";

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
  create(settings: CatalogerSettings): Cataloger;
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
  { name: "os-release", scopes: IMAGE, create: (s) => osReleaseCataloger(osContext(s)) },
  { name: "dpkg", scopes: IMAGE, create: (s) => dpkgCataloger(osContext(s)) },
  { name: "dpkg-copyright", scopes: IMAGE, create: (s) => dpkgCopyrightCataloger(osContext(s)) },
  { name: "apk", scopes: IMAGE, create: (s) => apkCataloger(osContext(s)) },
  { name: "rpm", scopes: IMAGE, create: (s) => rpmCataloger(osContext(s), scratchDir(s), s.imageLimits ? { maxRows: s.imageLimits.maxRpmRows } : {}) },
  { name: "go-binary", scopes: IMAGE, create: () => goBinaryCataloger() },
  {
    name: "java-archive",
    scopes: IMAGE,
    create: ({ imageLimits: l }) =>
      javaArchiveCataloger(
        l
          ? { maxNestedBytes: l.maxJavaNestedBytes, maxArchiveDecompressedBytes: l.maxJavaArchiveDecompressedBytes, maxImageDecompressedBytes: l.maxJavaDecompressedBytes, maxDepth: l.maxJavaDepth }
          : {},
      ),
  },
  { name: npmLockCataloger.name, scopes: LANGUAGE, create: () => npmLockCataloger },
  { name: yarnLockCataloger.name, scopes: LANGUAGE, create: () => yarnLockCataloger },
  { name: pnpmLockCataloger.name, scopes: LANGUAGE, create: () => pnpmLockCataloger },
  { name: bunLockCataloger.name, scopes: LANGUAGE, create: () => bunLockCataloger },
  { name: requirementsCataloger.name, scopes: LANGUAGE, create: () => requirementsCataloger },
  { name: poetryLockCataloger.name, scopes: LANGUAGE, create: () => poetryLockCataloger },
  { name: pipfileLockCataloger.name, scopes: LANGUAGE, create: () => pipfileLockCataloger },
  { name: uvLockCataloger.name, scopes: LANGUAGE, create: () => uvLockCataloger },
  { name: pdmLockCataloger.name, scopes: LANGUAGE, create: () => pdmLockCataloger },
  // An image's modules are not the host's: image runs pass goModCache false.
  { name: goModCataloger.name, scopes: LANGUAGE, create: (s) => createGoModCataloger(s) },
  { name: cargoLockCataloger.name, scopes: LANGUAGE, create: () => cargoLockCataloger },
  { name: mavenPomCataloger.name, scopes: LANGUAGE, create: () => mavenPomCataloger },
  { name: gradleLockfileCataloger.name, scopes: LANGUAGE, create: () => gradleLockfileCataloger },
  { name: composerLockCataloger.name, scopes: LANGUAGE, create: () => composerLockCataloger },
  { name: gemfileLockCataloger.name, scopes: LANGUAGE, create: () => gemfileLockCataloger },
  { name: nugetLockCataloger.name, scopes: LANGUAGE, create: () => nugetLockCataloger },
  { name: npmInstalledCataloger.name, scopes: LANGUAGE, create: () => npmInstalledCataloger },
  { name: pythonInstalledCataloger.name, scopes: LANGUAGE, create: () => pythonInstalledCataloger },
  // fileRequired is by name: a tree without models pays nothing.
  { name: "ml-model", scopes: MODELS, create: (s) => createModelCataloger(s.rootPath !== undefined ? { rootPath: s.rootPath } : {}) },
  { name: "dockerfile", scopes: SOURCE_TREES, create: (s) => dockerfileCataloger(s.buildFiles) },
];

/** The catalogers for one collect run over a filesystem of kind `scope`, in `CATALOGERS` order. */
export function catalogersFor(scope: CatalogerScope, settings: CatalogerSettings = {}): Cataloger[] {
  return CATALOGERS.filter((e) => e.scopes.includes(scope)).map((e) => e.create(settings));
}
