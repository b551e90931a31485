import { lstat, opendir, realpath, stat } from "node:fs/promises";
import { join, matchesGlob, relative, sep } from "node:path";
import { InputError, LimitExceededError, UnsafeInputError } from "../errors.ts";
import { checkPathLimits, readRegularFile } from "../io/files.ts";
import { fileSource } from "../io/byte-source.ts";
import type { FileEntry, RangeSource, VirtualFs } from "./types.ts";

export const DEFAULT_SKIPPED_DIRS: readonly string[] = [".git", ".hg", ".svn", "node_modules", "vendor", "third_party", ".venv", "__pycache__"];

export interface DirectoryFsOptions {
  /** Glob patterns (relative to the root, POSIX) of files and directories to leave out. */
  exclude?: readonly string[];
  /** Directory names never entered. */
  skipDirs?: readonly string[];
  /** Stop after this many files (a guard against pathological trees). */
  maxFiles?: number;
  /**
   * Offer installed package metadata from the skipped dependency folders: each package's
   * `package.json` under `node_modules` (nested `node_modules` too, nothing else in the package) and
   * `*.dist-info/METADATA` under a virtualenv's `site-packages`. Lockfile discovery is unchanged:
   * nothing else under those folders is offered.
   */
  installedMetadata?: boolean;
  /**
   * Offer symbolic links to regular files whose real location is inside `confineTo` (default: the
   * root), as the files they name; links to directories are still never followed. For model targets:
   * a Hugging Face hub cache's `snapshots/<rev>/` holds links into the repository's `blobs/`.
   */
  followFileSymlinks?: boolean;
  /** The folder symlinks and reads may resolve into (an ancestor of the root); default: the root. */
  confineTo?: string;
}

/** Skipped directories that are still searched for installed metadata when `installedMetadata` is on. */
const INSTALLED_ROOTS: ReadonlySet<string> = new Set(["node_modules", ".venv"]);

/**
 * A real directory as a VirtualFs. Symbolic links are never followed while walking, and reads refuse a
 * path whose real location is outside the root.
 */
export class DirectoryFs implements VirtualFs {
  readonly description: string;
  private readonly root: string;
  private realRoot: string | undefined;
  private readonly exclude: readonly string[];
  private readonly skipDirs: ReadonlySet<string>;
  private readonly maxFiles: number;
  private readonly installedMetadata: boolean;
  private readonly followFileSymlinks: boolean;
  private readonly confineTo: string;
  private count = 0;

  constructor(root: string, options: DirectoryFsOptions = {}) {
    this.root = root;
    this.description = root;
    this.exclude = options.exclude ?? [];
    this.skipDirs = new Set(options.skipDirs ?? DEFAULT_SKIPPED_DIRS);
    this.maxFiles = options.maxFiles ?? 1_000_000;
    this.installedMetadata = options.installedMetadata === true;
    this.followFileSymlinks = options.followFileSymlinks === true;
    this.confineTo = options.confineTo ?? root;
  }

  private excluded(rel: string): boolean {
    return this.exclude.some((g) => matchesGlob(rel, g) || matchesGlob(rel, `**/${g}`));
  }

  private async entry(rel: string): Promise<FileEntry> {
    if (++this.count > this.maxFiles) throw new LimitExceededError(`${this.root}: more than ${this.maxFiles} files`);
    checkPathLimits(rel, this.root);
    const s = await lstat(join(this.root, rel));
    return { path: rel, size: s.size, mode: s.mode };
  }

  /** A symlink offered as the regular file it names, when that lies inside the confinement folder; else undefined. */
  private async linkedEntry(rel: string): Promise<FileEntry | undefined> {
    checkPathLimits(rel, this.root);
    let real: string;
    try {
      real = await this.resolveInside(rel);
    } catch (e) {
      if (e instanceof UnsafeInputError) throw e;
      return undefined; // dangling, or a loop: nothing to offer
    }
    const s = await stat(real);
    if (!s.isFile()) return undefined;
    if (++this.count > this.maxFiles) throw new LimitExceededError(`${this.root}: more than ${this.maxFiles} files`);
    return { path: rel, size: s.size, mode: s.mode };
  }

  /** Sorted subdirectory and file names of a directory (never following symlinks). */
  private async list(relDir: string): Promise<{ name: string; isDir: boolean; isFile: boolean }[]> {
    const names: { name: string; isDir: boolean; isFile: boolean }[] = [];
    checkPathLimits(relDir, this.root);
    let dir;
    try {
      dir = await opendir(join(this.root, relDir));
    } catch {
      return names;
    }
    for await (const d of dir) names.push({ name: d.name, isDir: d.isDirectory(), isFile: d.isFile() });
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return names;
  }

  /** node_modules: each package's package.json, then its own node_modules; scopes (@x) hold packages. */
  private async *walkNodeModules(relDir: string, depth: number): AsyncIterable<FileEntry> {
    if (depth > 64) return;
    for (const d of await this.list(relDir)) {
      if (!d.isDir || d.name.startsWith(".")) continue;
      const rel = `${relDir}/${d.name}`;
      if (this.excluded(rel)) continue;
      const packages = d.name.startsWith("@") ? (await this.list(rel)).filter((x) => x.isDir).map((x) => `${rel}/${x.name}`) : [rel];
      for (const pkg of packages) {
        const files = await this.list(pkg);
        if (files.some((f) => f.isFile && f.name === "package.json")) yield await this.entry(`${pkg}/package.json`);
        if (files.some((f) => f.isDir && f.name === "node_modules")) yield* this.walkNodeModules(`${pkg}/node_modules`, depth + 1);
      }
    }
  }

  /** A virtualenv: lib/python*\/site-packages/*.dist-info/METADATA. */
  private async *walkVenv(relDir: string): AsyncIterable<FileEntry> {
    for (const lib of ["lib", "lib64", "Lib"]) {
      for (const py of await this.list(`${relDir}/${lib}`)) {
        if (!py.isDir) continue;
        const sitePackages = py.name === "site-packages" ? `${relDir}/${lib}/site-packages` : `${relDir}/${lib}/${py.name}/site-packages`;
        for (const d of await this.list(sitePackages)) {
          if (!d.isDir || !d.name.endsWith(".dist-info")) continue;
          const rel = `${sitePackages}/${d.name}`;
          if ((await this.list(rel)).some((f) => f.isFile && f.name === "METADATA")) yield await this.entry(`${rel}/METADATA`);
        }
      }
    }
  }

  async *walk(): AsyncIterable<FileEntry> {
    this.count = 0;
    const stack: string[] = [""];
    while (stack.length > 0) {
      const relDir = stack.pop() as string;
      checkPathLimits(relDir, this.root);
      const dir = await opendir(join(this.root, relDir));
      const names: { name: string; isDir: boolean; isFile: boolean; isLink: boolean }[] = [];
      for await (const d of dir) names.push({ name: d.name, isDir: d.isDirectory(), isFile: d.isFile(), isLink: d.isSymbolicLink() });
      // Sorted, so that output order never depends on the filesystem.
      names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const subdirs: string[] = [];
      for (const d of names) {
        const rel = relDir ? `${relDir}/${d.name}` : d.name;
        if (d.isDir) {
          if (!this.skipDirs.has(d.name) && !this.excluded(rel)) subdirs.push(rel);
          else if (this.installedMetadata && INSTALLED_ROOTS.has(d.name) && !this.excluded(rel)) {
            if (d.name === "node_modules") yield* this.walkNodeModules(rel, 0);
            else yield* this.walkVenv(rel);
          }
        } else if (d.isFile && !this.excluded(rel)) {
          yield await this.entry(rel);
        } else if (d.isLink && this.followFileSymlinks && !this.excluded(rel)) {
          const linked = await this.linkedEntry(rel);
          if (linked) yield linked;
        }
      }
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i] as string);
    }
  }

  private async resolveInside(rel: string): Promise<string> {
    this.realRoot ??= await realpath(this.confineTo);
    let real: string;
    try {
      real = await realpath(join(this.root, rel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new InputError("no such file", { file: join(this.root, rel), code: "NOT_FOUND" });
      throw e;
    }
    const r = relative(this.realRoot, real);
    if (r.startsWith(`..${sep}`) || r === ".." || r.startsWith(sep)) {
      throw new UnsafeInputError(`${join(this.root, rel)}: resolves outside ${this.confineTo}`);
    }
    return real;
  }

  /** Reads a regular file inside the root; a FIFO, device or socket is refused at once (InputError), never waited on. */
  async readFile(rel: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
    checkPathLimits(rel, this.root);
    const real = await this.resolveInside(rel);
    return readRegularFile(real, maxBytes, join(this.root, rel));
  }

  /**
   * Regular files and folders directly inside a folder, sorted; empty when it is absent, not a folder,
   * or one the walk never enters (a skipped or excluded folder). Symlinks are not listed, and a path
   * whose real location is outside the root is refused (UnsafeInputError).
   */
  async listDirectory(relDir: string): Promise<string[]> {
    const parts = relDir.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.includes("..")) throw new UnsafeInputError(`${join(this.root, relDir)}: ".." is not allowed in a listed path`);
    for (let i = 0; i < parts.length; i++) {
      if (this.skipDirs.has(parts[i] as string) || this.excluded(parts.slice(0, i + 1).join("/"))) return [];
    }
    const rel = parts.join("/");
    let real: string;
    try {
      real = await this.resolveInside(rel);
    } catch (e) {
      // Absent, or a path through a file or a symlink loop: nothing to list. Outside the root: refused.
      if (e instanceof UnsafeInputError) throw e;
      return [];
    }
    let dir;
    try {
      dir = await opendir(real);
    } catch {
      return [];
    }
    const names: string[] = [];
    for await (const d of dir) {
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory() ? this.skipDirs.has(d.name) || this.excluded(childRel) : !d.isFile() || this.excluded(childRel)) continue;
      names.push(d.name);
    }
    return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Opens a regular file inside the root for reads by position (regular files only, never blocking). */
  async openRange(rel: string): Promise<RangeSource> {
    checkPathLimits(rel, this.root);
    const real = await this.resolveInside(rel);
    return fileSource(real, join(this.root, rel));
  }

  /** The real path of a file inside the root (refused, UnsafeInputError, when it resolves outside). */
  async localPath(rel: string): Promise<string> {
    checkPathLimits(rel, this.root);
    return this.resolveInside(rel);
  }

  async exists(rel: string): Promise<boolean> {
    try {
      const real = await this.resolveInside(rel);
      return (await lstat(real)).isFile();
    } catch {
      return false;
    }
  }
}
