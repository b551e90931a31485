/**
 * A model as OpenSSF model signing (sigstore/model-transparency, `model_signing` ≥ 1.0) serializes it:
 * the file walk with its ignore rules, one SHA-256 per file (or per shard), the resources sorted as
 * Python sorts `PurePosixPath` keys (component by component), the `serialization` block, the root
 * digest (SHA-256 over the raw resource digests, in resource order) and the in-toto statement with
 * predicate type `https://model_signing/signature/v1.0`, printed as protobuf's `MessageToJson` prints
 * it (two-space indent), so that tollgate's payloads are the goldens of model_signing's own tests.
 *
 * The walk (model_signing `_serialization/file.py`): the model path itself (a single-file model's one
 * resource is named `.`) and everything under it; a path is ignored when it is, or is under, an ignore
 * path (relative to the model root); a symbolic link is an error unless symlinks are allowed (then a
 * link to a file is hashed as that file, a link to a directory is not followed); a FIFO, socket or
 * device is an error; only regular files become resources.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, stat } from "node:fs/promises";
import { basename, join, posix, resolve, sep } from "node:path";
import { InputError, LimitExceededError, UnsafeInputError, UsageError } from "../../errors.ts";
import { checkPathLimits, openRegularFile } from "../../io/files.ts";
import { hashFiles } from "../../io/hash-files.ts";

/** The predicate type model_signing ≥ 1.0 signs. */
export const MODEL_SIGNATURE_PREDICATE_TYPE = "https://model_signing/signature/v1.0";
/** The predicate type of model_signing 0.2 (each file its own subject); read, never written. */
export const MODEL_DIGESTS_COMPAT_PREDICATE_TYPE = "https://model_signing/Digests/v0.1";
export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

/** The signature's default file name (in the model directory, which then leaves it out of hashing). */
export const DEFAULT_SIGNATURE_NAME = "model.sig";
/** Ignored unless `ignoreGitPaths: false` (model_signing's `--ignore-git-paths`, on by default). */
export const GIT_IGNORE_PATHS: readonly string[] = [".git", ".gitattributes", ".github", ".gitignore"];
/** model_signing's default shard size (1 GB) for the `shards` method. */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;
/** The most files a model may have (a bound on memory; real models have at most thousands). */
export const MAX_MODEL_FILES = 1_000_000;
/** Below this many bytes in all, files are hashed on the calling thread (worker start-up would cost more). */
export const SMALL_MODEL_BYTES = 8 * 1024 * 1024;
/** The deepest directory nesting walked. */
export const MAX_MODEL_DEPTH = 256;

/** Content hashes: model_signing's `sha256` (default) and `blake2b` (BLAKE2b-512); `blake3` is refused. */
export type ModelHashType = "sha256" | "blake2b";

const NODE_HASH: Record<ModelHashType, string> = { sha256: "sha256", blake2b: "blake2b512" };

/** The `serialization` block: how the manifest was made, which the verifier repeats. */
export interface ModelSerialization {
  method: "files" | "shards";
  hashType: ModelHashType;
  /** `shards` only: the shard size in bytes. */
  shardSize?: number;
  allowSymlinks: boolean;
  /** Relative POSIX paths, as recorded (model_signing ≥ 1.1). */
  ignorePaths: string[];
}

/** One resource: a file (or a shard `path:start:end`) and its digest. */
export interface ModelResource {
  /** The resource name as in the statement: the POSIX path relative to the model root (`.` for a file model), `path:start:end` for shards. */
  name: string;
  path: string;
  start?: number;
  end?: number;
  /** `sha256`, `blake2b`, or `<hash>-sharded-<size>` for shards. */
  algorithm: string;
  /** Lowercase hex. */
  digest: string;
}

export interface ModelManifest {
  /** The last component of the model path (informative only). */
  modelName: string;
  /** Sorted as model_signing sorts them (see compareResources). */
  resources: ModelResource[];
  serialization: ModelSerialization;
}

export interface SerializeOptions {
  method?: "files" | "shards";
  hashType?: ModelHashType;
  shardSize?: number;
  allowSymlinks?: boolean;
  /** Paths to leave out, relative to the model root (a directory leaves out all below it). */
  ignorePaths?: readonly string[];
  /** Leave out `.git`, `.gitattributes`, `.github`, `.gitignore` (default true). */
  ignoreGitPaths?: boolean;
  /** Hash only these (relative POSIX paths; model_signing's `--ignore-unsigned-files`): others are not listed. */
  onlyPaths?: readonly string[];
  /** Worker threads for SHA-256 (default: the cores). */
  concurrency?: number;
}

/** Compares two relative POSIX paths as Python compares `PurePosixPath`s: component by component. */
export function comparePaths(a: string, b: string): number {
  const pa = a === "." ? [] : a.split("/");
  const pb = b === "." ? [] : b.split("/");
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x !== y) return compareCodePoints(x, y);
  }
  return pa.length - pb.length;
}

/** Python's str ordering: by code point (JS `<` compares UTF-16 units, which differs above U+FFFF). */
function compareCodePoints(x: string, y: string): number {
  const a = [...x];
  const b = [...y];
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]!.codePointAt(0)! - b[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** model_signing's resource order: by path (component-wise), then shard start and end as numbers. */
export function compareResources(a: Pick<ModelResource, "path" | "start" | "end">, b: Pick<ModelResource, "path" | "start" | "end">): number {
  return comparePaths(a.path, b.path) || (a.start ?? 0) - (b.start ?? 0) || (a.end ?? 0) - (b.end ?? 0);
}

/**
 * Normalizes an ignore path given relative to the model root: POSIX separators, no `.` segments;
 * undefined when it leaves the model (`..`, absolute) or names the root itself.
 */
export function normalizeIgnorePath(p: string): string | undefined {
  if (p === "" || p.startsWith("/")) return undefined;
  const n = posix.normalize(p.split(sep).join("/")).replace(/\/+$/, "");
  if (n === "." || n === "" || n === ".." || n.startsWith("../")) return undefined;
  return n;
}

function isIgnored(rel: string, ignore: readonly string[]): boolean {
  return ignore.some((i) => rel === i || rel.startsWith(`${i}/`));
}

/** A file of the model: its resource path and where to read it. */
export interface ModelFile {
  path: string;
  absolute: string;
  size: number;
}

/**
 * Lists the model's regular files (see the module comment), refusing symlinks unless allowed and
 * anything that is neither a file nor a directory. Errors: InputError (missing model),
 * UnsafeInputError (a symlink or special file), LimitExceededError (too many files, too deep).
 */
export async function listModelFiles(modelPath: string, options: { allowSymlinks?: boolean; ignorePaths?: readonly string[] } = {}): Promise<ModelFile[]> {
  const allowSymlinks = options.allowSymlinks === true;
  const ignore = options.ignorePaths ?? [];
  const root = resolve(modelPath);
  let rootStat;
  try {
    rootStat = await lstat(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new InputError("no such model file or directory", { file: modelPath, code: "NOT_FOUND" });
    throw e;
  }
  if (rootStat.isSymbolicLink()) {
    if (!allowSymlinks) throw new UnsafeInputError(`${modelPath}: the model path is a symbolic link (allowed only with --allow-symlinks)`);
    rootStat = await stat(root);
  }
  if (rootStat.isFile()) return [{ path: ".", absolute: root, size: rootStat.size }];
  if (!rootStat.isDirectory()) throw new UnsafeInputError(`${modelPath}: neither a regular file nor a directory`);

  const files: ModelFile[] = [];
  const addFile = (path: string, absolute: string, size: number): void => {
    if (files.length >= MAX_MODEL_FILES) throw new LimitExceededError(`${modelPath}: more than ${MAX_MODEL_FILES} files; refused`);
    files.push({ path, absolute, size });
  };
  const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
    if (depth > MAX_MODEL_DEPTH) throw new LimitExceededError(`${modelPath}: directories nested deeper than ${MAX_MODEL_DEPTH} levels; refused`);
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (isIgnored(rel, ignore)) continue;
      checkPathLimits(rel, modelPath);
      const abs = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        if (!allowSymlinks) throw new UnsafeInputError(`${modelPath}: ${rel} is a symbolic link (allowed only with --allow-symlinks)`);
        let target;
        try {
          target = await stat(abs);
        } catch {
          throw new UnsafeInputError(`${modelPath}: ${rel} is a broken symbolic link`);
        }
        if (target.isDirectory()) continue; // links to directories are not followed
        if (!target.isFile()) throw new UnsafeInputError(`${modelPath}: ${rel} links to something that is neither a regular file nor a directory`);
        addFile(rel, abs, target.size);
      } else if (entry.isDirectory()) {
        await walk(abs, rel, depth + 1);
      } else if (entry.isFile()) {
        addFile(rel, abs, (await lstat(abs)).size);
      } else {
        throw new UnsafeInputError(`${modelPath}: ${rel} is neither a regular file nor a directory (FIFO, socket or device)`);
      }
    }
  };
  await walk(root, "", 0);
  return files;
}

/** The ignore paths actually applied: the given ones and (by default) git's, normalized and unique. */
export function effectiveIgnorePaths(ignorePaths: readonly string[] = [], ignoreGitPaths = true): string[] {
  const all = [...(ignoreGitPaths ? GIT_IGNORE_PATHS : []), ...ignorePaths].map(normalizeIgnorePath).filter((p): p is string => p !== undefined);
  return [...new Set(all)].sort(comparePaths);
}

/** Hashes a byte range of a file (streamed, 1 MiB reads). */
async function hashRange(path: string, start: number, end: number, algorithm: string): Promise<string> {
  // Regular files only, opened without blocking (a file swapped for a FIFO since the walk would hang).
  const { handle } = await openRegularFile(path);
  try {
    const hash = createHash(algorithm);
    const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(1, end - start)));
    let pos = start;
    while (pos < end) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, end - pos), pos);
      if (bytesRead === 0) throw new InputError(`the file shrank while it was hashed (at byte ${pos})`, { file: path });
      hash.update(chunk.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return hash.digest("hex");
  } finally {
    await handle.close();
  }
}

/** Serializes the model at `modelPath` into a manifest (see the module comment). */
export async function serializeModel(modelPath: string, options: SerializeOptions = {}): Promise<ModelManifest> {
  const method = options.method ?? "files";
  const hashType = options.hashType ?? "sha256";
  if (!(hashType in NODE_HASH)) throw new UsageError(`hash type ${String(hashType)} is not supported (sha256 or blake2b)`);
  const shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
  if (method === "shards" && (!Number.isSafeInteger(shardSize) || shardSize < 1 || shardSize >= 1e16)) throw new UsageError(`shard size ${shardSize}: expected a whole number of bytes`);
  const allowSymlinks = options.allowSymlinks === true;
  const ignorePaths = effectiveIgnorePaths(options.ignorePaths, options.ignoreGitPaths ?? true);
  let files = await listModelFiles(modelPath, { allowSymlinks, ignorePaths });
  if (options.onlyPaths !== undefined) {
    const only = new Set(options.onlyPaths);
    files = files.filter((f) => only.has(f.path));
  }

  const resources: ModelResource[] = [];
  if (method === "files") {
    // Worker threads pay off for large models; a small one is hashed here (starting workers costs more).
    const total = files.reduce((n, f) => n + f.size, 0);
    if (hashType === "sha256" && total > SMALL_MODEL_BYTES) {
      const digests = await hashFiles(
        files.map((f) => f.absolute),
        options.concurrency !== undefined ? { concurrency: options.concurrency } : {},
      );
      for (const f of files) resources.push({ name: f.path, path: f.path, algorithm: "sha256", digest: digests.get(f.absolute)! });
    } else {
      for (const f of files) {
        const size = (await stat(f.absolute)).size;
        resources.push({ name: f.path, path: f.path, algorithm: hashType, digest: await hashRange(f.absolute, 0, size, NODE_HASH[hashType]) });
      }
    }
  } else {
    const algorithm = `${hashType}-sharded-${shardSize}`;
    for (const f of files) {
      const size = (await stat(f.absolute)).size;
      for (let start = 0; start < size; start += shardSize) {
        const end = Math.min(size, start + shardSize);
        resources.push({ name: `${f.path}:${start}:${end}`, path: f.path, start, end, algorithm, digest: await hashRange(f.absolute, start, end, NODE_HASH[hashType]) });
      }
    }
  }
  resources.sort(compareResources);
  return {
    modelName: basename(resolve(modelPath)),
    resources,
    serialization: { method, hashType, ...(method === "shards" ? { shardSize } : {}), allowSymlinks, ignorePaths },
  };
}

/** The root digest: SHA-256 over the raw bytes of every resource digest, in resource order (lowercase hex). */
export function rootDigest(resources: readonly Pick<ModelResource, "digest">[]): string {
  const hash = createHash("sha256");
  for (const r of resources) hash.update(Buffer.from(r.digest, "hex"));
  return hash.digest("hex");
}

const SHARD_SIZE_MARK = "\u0000tollgate-shard-size\u0000";

/**
 * The in-toto statement bytes tollgate signs: the fields in the order of model_signing's goldens,
 * printed as protobuf's `MessageToJson` prints them (two-space indent; a Struct's numbers as floats,
 * so a shard size is `8.0`). `ignore_paths` is recorded when there are any (model_signing ≥ 1.1).
 */
export function statementBytes(manifest: ModelManifest): Buffer {
  const s = manifest.serialization;
  const serialization: Record<string, unknown> = { method: s.method, hash_type: s.hashType, allow_symlinks: s.allowSymlinks };
  if (s.method === "shards") serialization.shard_size = SHARD_SIZE_MARK;
  if (s.ignorePaths.length > 0) serialization.ignore_paths = s.ignorePaths;
  const statement = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: manifest.modelName, digest: { sha256: rootDigest(manifest.resources) } }],
    predicateType: MODEL_SIGNATURE_PREDICATE_TYPE,
    predicate: {
      serialization,
      resources: manifest.resources.map((r) => ({ algorithm: r.algorithm, digest: r.digest, name: r.name })),
    },
  };
  let text = JSON.stringify(statement, null, 2);
  if (s.method === "shards") text = text.replace(JSON.stringify(SHARD_SIZE_MARK), `${s.shardSize}.0`);
  return Buffer.from(text, "utf8");
}
