import { realpath, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { collect, DEFAULT_MAX_FILE_BYTES, DirectoryFs, type CollectOptions, type CollectResult } from "../collect/index.ts";
import { NotImplementedError } from "../errors.ts";
import type { TollgateConfig } from "../config/index.ts";
import type { ImageLimits } from "../image/index.ts";
import { networkTimeoutsFromConfig, type NetworkTimeouts } from "../io/timeouts.ts";
import type { BuildFile, Component, Sbom, Target } from "../model/index.ts";
import { TOLLGATE_VERSION } from "../version.ts";
import { ComponentSet } from "../catalogers/common/component.ts";
import { catalogersFor, type CatalogerSettings } from "../catalogers/index.ts";

export interface BuildSbomOptions {
  /** Decoder limits for image layers (config `image.limits`); unset keys keep the defaults. */
  imageLimits?: Partial<ImageLimits>;
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
  /** Largest file a cataloger is given (default: collect's DEFAULT_MAX_FILE_BYTES). */
  maxFileBytes?: number;
  /** The environment SOURCE_DATE_EPOCH (and the Go module cache variables) are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Go module cache for the module graph (config `sbom.go.mod_cache`; TOLLGATE_GO_MOD_CACHE wins), false for none. */
  goModCache?: string | false;
  /** Registry timeouts (config `timeouts:`). */
  timeouts?: Partial<NetworkTimeouts>;
}

/** What the command line adds to tollgate.yaml for an SBOM. */
export interface SbomCommandLine {
  exclude?: readonly string[];
  platform?: string | undefined;
  insecureRegistries?: readonly string[] | undefined;
}

/**
 * BuildSbomOptions from tollgate.yaml and the command line, the same way for sbom, scan, check:
 * `--exclude` and `--insecure-registry` add to the config's lists, `--platform` replaces
 * `image.platform`, and `image.limits` become the image decoder limits.
 */
export function sbomOptionsFrom(config: Pick<TollgateConfig, "sbom" | "image"> & Partial<Pick<TollgateConfig, "timeouts">>, cli: SbomCommandLine = {}): BuildSbomOptions {
  const options: BuildSbomOptions = {
    exclude: [...config.sbom.exclude, ...(cli.exclude ?? [])],
    platform: cli.platform ?? config.image.platform,
    insecureRegistries: [...config.image.insecure_registries, ...(cli.insecureRegistries ?? [])],
  };
  if (config.sbom.go?.mod_cache !== undefined) options.goModCache = config.sbom.go.mod_cache;
  if (config.timeouts) options.timeouts = networkTimeoutsFromConfig(config.timeouts);
  const l = config.image.limits;
  if (l) {
    const limits: Partial<ImageLimits> = {};
    if (l.max_decompressed !== undefined) limits.maxDecompressedBytes = l.max_decompressed;
    if (l.max_entry !== undefined) limits.maxEntryBytes = l.max_entry;
    if (l.max_entries !== undefined) limits.maxEntries = l.max_entries;
    if (l.max_layers !== undefined) limits.maxLayers = l.max_layers;
    if (l.max_java_nested !== undefined) limits.maxJavaNestedBytes = l.max_java_nested;
    if (l.max_java_archive_decompressed !== undefined) limits.maxJavaArchiveDecompressedBytes = l.max_java_archive_decompressed;
    if (l.max_java_decompressed !== undefined) limits.maxJavaDecompressedBytes = l.max_java_decompressed;
    if (l.max_java_depth !== undefined) limits.maxJavaDepth = l.max_java_depth;
    if (l.max_rpm_rows !== undefined) limits.maxRpmRows = l.max_rpm_rows;
    options.imageLimits = limits;
  }
  return options;
}

/** What the catalogers of a directory or file run are made with. */
function catalogerSettings(options: BuildSbomOptions, rootPath?: string): CatalogerSettings {
  const settings: CatalogerSettings = {};
  if (options.goModCache !== undefined) settings.goModCache = options.goModCache;
  if (options.env) settings.env = options.env;
  if (rootPath !== undefined) settings.rootPath = rootPath;
  return settings;
}

/**
 * The SBOM's timestamp: SOURCE_DATE_EPOCH (https://reproducible-builds.org/specs/source-date-epoch/)
 * when set, else the epoch itself with `deterministic`, else now. Whole seconds, so that the same
 * input gives the same bytes.
 */
export function sbomTimestamp(options: Pick<BuildSbomOptions, "deterministic" | "env"> = {}): string {
  const epoch = (options.env ?? process.env).SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d{1,12}$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, "Z");
  if (options.deterministic) return "1970-01-01T00:00:00Z";
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** True when output must be reproducible (fixed serial number too). */
export function isDeterministic(options: Pick<BuildSbomOptions, "deterministic" | "env"> = {}): boolean {
  const epoch = (options.env ?? process.env).SOURCE_DATE_EPOCH;
  return options.deterministic === true || (epoch !== undefined && /^\d{1,12}$/.test(epoch));
}

/**
 * One SBOM's components from a collect run: duplicates across files merged by ref, every lockfile's
 * root kept as an application component, and the metadata component depending on those roots.
 * `topRoot` picks the root that describes the whole target (a file target's root, or a directory's
 * top-level lockfile when there is exactly one).
 */
export function assembleComponents(result: CollectResult, metadata: Component): Component[] {
  const set = new ComponentSet();
  const rootRefs = new Set<string>();
  for (const r of result.roots) {
    if (r.ref === metadata.ref) continue;
    set.add({ ...r, dependencies: [...r.dependencies] });
    rootRefs.add(r.ref);
  }
  for (const c of result.components) {
    if (c.ref === metadata.ref) continue;
    set.add(c);
  }
  const deps = new Set(metadata.dependencies);
  for (const r of rootRefs) deps.add(r);
  // Direct dependencies no lockfile root claims (requirements files, Pipfile.lock, gradle.lockfile) hang off the metadata component.
  const claimed = new Set([...result.roots.flatMap((r) => r.dependencies), ...metadata.dependencies]);
  for (const c of result.components) if (c.direct && !claimed.has(c.ref)) deps.add(c.ref);
  // ML models found in the tree are parts of the project too.
  for (const c of result.components) if (c.type === "machine-learning-model") deps.add(c.ref);
  const components = set.list();
  const known = new Set(components.map((c) => c.ref));
  metadata.dependencies = [...deps].filter((d) => known.has(d)).sort();
  return components;
}

function chooseMetadata(target: Target & { path: string }, result: CollectResult): Component {
  const topLevel = result.roots.filter((r) => r.locations.some((l) => !l.path.includes("/")));
  if (topLevel.length === 1) {
    const only = topLevel[0] as Component;
    result.roots = result.roots.filter((r) => r !== only);
    result.components = result.components.filter((c) => c.ref !== only.ref);
    return { ...only, dependencies: [...only.dependencies], type: "application" };
  }
  const name = basename(resolve(target.path)) || target.path;
  return { ref: `root:${name}`, name, type: "application", hashes: [], licenses: [], locations: [{ path: "." }], dependencies: [] };
}

function collectOptions(options: BuildSbomOptions): CollectOptions {
  return options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {};
}

/**
 * Collects a directory or one file with the language catalogers; a directory's Dockerfiles go to
 * `buildFiles` when it is given.
 */
async function collectPath(target: Extract<Target, { kind: "dir" | "file" }>, options: BuildSbomOptions, buildFiles?: BuildFile[]): Promise<CollectResult> {
  if (target.kind === "dir") {
    // ML models found in a source tree too (fileRequired is by name: a tree without models pays nothing).
    const settings = catalogerSettings(options, await realpath(target.path));
    if (buildFiles) settings.buildFiles = buildFiles;
    const catalogers = await catalogersFor("directory", settings);
    return collect(new DirectoryFs(target.path, { exclude: options.exclude ?? [], installedMetadata: true }), catalogers, collectOptions(options));
  }
  // One file: a DirectoryFs over its folder, offering only that file (companions stay readable).
  const dir = dirname(target.path);
  const name = basename(target.path);
  const fs = new DirectoryFs(dir, { exclude: options.exclude ?? [] });
  // The walk reads the file (within the size limit) for its size; collect's read of it right after
  // gets those bytes.
  let read: Buffer | undefined;
  const single = {
    description: target.path,
    async *walk() {
      read = await fs.readFile(name, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
      yield { path: name, size: read.length };
    },
    readFile: (p: string, max?: number) => {
      const bytes = read;
      read = undefined;
      if (p === name && bytes !== undefined && (max === undefined || bytes.length <= max)) return Promise.resolve(bytes);
      return fs.readFile(p, max);
    },
    exists: (p: string) => fs.exists(p),
    listDirectory: (p: string) => fs.listDirectory(p),
  };
  const result = await collect(single, await catalogersFor("file", catalogerSettings(options)), collectOptions(options));
  if (result.stats.filesExtracted === 0) {
    result.problems.push({ source: "sbom", file: name, message: "no cataloger reads this kind of file" });
  }
  return result;
}

/**
 * Collects a model target: a folder (symlinks to files followed inside it, or inside the hub cache
 * repository folder that holds it, as huggingface_hub's snapshots link into `blobs/`) or one file.
 * Only the model cataloger runs.
 */
async function collectModel(target: Extract<Target, { kind: "model" }>, options: BuildSbomOptions): Promise<CollectResult> {
  const { hubCacheOrigin } = await import("../mlmodel/huggingface.ts");
  const info = await stat(target.path);
  const dir = info.isDirectory() ? target.path : dirname(target.path);
  const realDir = await realpath(dir);
  const hub = hubCacheOrigin(`${realDir}/`) ?? hubCacheOrigin(`${resolve(dir)}/`);
  const fsOptions = { exclude: options.exclude ?? [], followFileSymlinks: true, ...(hub ? { confineTo: hub.repoDir } : {}) };
  const fs = new DirectoryFs(dir, fsOptions);
  const catalogers = await catalogersFor("model", { rootPath: realDir });
  if (info.isDirectory()) return collect(fs, catalogers, collectOptions(options));
  // One file: a DirectoryFs over its folder, offering only that file (config.json and README.md beside it stay readable).
  const name = basename(target.path);
  const single = {
    description: target.path,
    async *walk() {
      const s = await stat(await fs.localPath(name));
      yield { path: name, size: s.size, mode: s.mode };
    },
    readFile: (p: string, max?: number) => fs.readFile(p, max),
    exists: (p: string) => fs.exists(p),
    listDirectory: (p: string) => fs.listDirectory(p),
    openRange: (p: string) => fs.openRange(p),
    localPath: (p: string) => fs.localPath(p),
  };
  return collect(single, catalogers, collectOptions(options));
}

/**
 * The SBOM of a target: the one entry point that `sbom`, `scan` and `check` use.
 * Directories and files are walked with DirectoryFs, images through their squashed layers; the same
 * language catalogers serve both.
 */
export async function buildSbom(target: Target, options: BuildSbomOptions = {}): Promise<Sbom> {
  const timestamp = sbomTimestamp(options);
  const tool = { name: "tollgate", version: TOLLGATE_VERSION };
  switch (target.kind) {
    case "dir":
    case "file": {
      options.progress?.(`cataloging ${target.path}`);
      // A directory's walk lists its Dockerfiles for check's lint (what `sbom.exclude` leaves out is not linted either).
      const buildFiles = target.kind === "dir" ? [] : undefined;
      const result = await collectPath(target, options, buildFiles);
      const metadata = chooseMetadata(target, result);
      const components = assembleComponents(result, metadata);
      const sbom: Sbom = { metadata: { timestamp, tool, target, component: metadata }, components, problems: result.problems, contentFindings: result.findings };
      if (buildFiles) sbom.buildFiles = buildFiles;
      return sbom;
    }
    case "model": {
      options.progress?.(`cataloging the model ${target.path}`);
      const result = await collectModel(target, options);
      const models = result.components.filter((c) => c.type === "machine-learning-model");
      // The ML-BOM describes the model itself when there is one; several share a root.
      let metadata: Component;
      if (models.length === 1) {
        metadata = models[0] as Component;
        result.components = result.components.filter((c) => c !== metadata);
      } else {
        const name = basename(resolve(target.path)) || target.path;
        metadata = { ref: `root:${name}`, name, type: "application", hashes: [], licenses: [], locations: [{ path: "." }], dependencies: models.map((m) => m.ref) };
      }
      if (result.stats.filesExtracted === 0) result.problems.push({ source: "sbom", file: target.path, message: "no model file found (safetensors, GGUF, ONNX, PyTorch, pickle, NumPy, Keras, SavedModel)" });
      return { metadata: { timestamp, tool, target, component: metadata }, components: result.components, problems: result.problems, contentFindings: result.findings };
    }
    case "sbom": {
      const { readSbomFile } = await import("./read.ts");
      return readSbomFile(target);
    }
    case "registry":
    case "oci-dir":
    case "oci-archive":
    case "docker-archive": {
      // Loaded here, so that directory and file SBOMs do not pay for the image reader's start-up.
      const { openImageSource } = await import("../image/index.ts");
      const source = await openImageSource(target, options.imageLimits ? { ...options, limits: options.imageLimits } : options);
      try {
        const result = await collect(source.fs, source.catalogers);
        // What the walk found out about the image (its OS, package databases not read) goes on its component.
        const component = result.targetProperties ? { ...source.metadata, properties: { ...source.metadata.properties, ...result.targetProperties } } : source.metadata;
        return { metadata: { timestamp, tool, target, component }, components: result.components, problems: result.problems, contentFindings: result.findings };
      } finally {
        await source.close();
      }
    }
    default:
      throw new NotImplementedError(`SBOMs of ${(target as Target).kind}: targets`);
  }
}
