import { lstat, open, opendir, realpath } from "node:fs/promises";
import { join, matchesGlob, relative, sep } from "node:path";
import { InputError, LimitExceededError, UnsafeInputError } from "../errors.ts";
import type { FileEntry, VirtualFs } from "./types.ts";

/** Directory names skipped by default during discovery (dependencies installed or vendored, VCS data). */
export const DEFAULT_SKIPPED_DIRS: readonly string[] = [".git", ".hg", ".svn", "node_modules", "vendor", "third_party", ".venv", "__pycache__"];

export interface DirectoryFsOptions {
  /** Glob patterns (relative to the root, POSIX) of files and directories to leave out. */
  exclude?: readonly string[];
  /** Directory names never entered. */
  skipDirs?: readonly string[];
  /** Stop after this many files (a guard against pathological trees). */
  maxFiles?: number;
}

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

  constructor(root: string, options: DirectoryFsOptions = {}) {
    this.root = root;
    this.description = root;
    this.exclude = options.exclude ?? [];
    this.skipDirs = new Set(options.skipDirs ?? DEFAULT_SKIPPED_DIRS);
    this.maxFiles = options.maxFiles ?? 1_000_000;
  }

  private excluded(rel: string): boolean {
    return this.exclude.some((g) => matchesGlob(rel, g) || matchesGlob(rel, `**/${g}`));
  }

  async *walk(): AsyncIterable<FileEntry> {
    let count = 0;
    const stack: string[] = [""];
    while (stack.length > 0) {
      const relDir = stack.pop() as string;
      const dir = await opendir(join(this.root, relDir));
      const names: { name: string; isDir: boolean; isFile: boolean }[] = [];
      for await (const d of dir) names.push({ name: d.name, isDir: d.isDirectory(), isFile: d.isFile() });
      // Sorted, so that output order never depends on the filesystem.
      names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const subdirs: string[] = [];
      for (const d of names) {
        const rel = relDir ? `${relDir}/${d.name}` : d.name;
        if (d.isDir) {
          if (!this.skipDirs.has(d.name) && !this.excluded(rel)) subdirs.push(rel);
        } else if (d.isFile && !this.excluded(rel)) {
          if (++count > this.maxFiles) throw new LimitExceededError(`${this.root}: more than ${this.maxFiles} files`);
          const s = await lstat(join(this.root, rel));
          yield { path: rel, size: s.size, mode: s.mode };
        }
      }
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i] as string);
    }
  }

  private async resolveInside(rel: string): Promise<string> {
    this.realRoot ??= await realpath(this.root);
    let real: string;
    try {
      real = await realpath(join(this.root, rel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new InputError("no such file", { file: join(this.root, rel), code: "NOT_FOUND" });
      throw e;
    }
    const r = relative(this.realRoot, real);
    if (r.startsWith(`..${sep}`) || r === ".." || r.startsWith(sep)) {
      throw new UnsafeInputError(`${join(this.root, rel)}: resolves outside ${this.root}`);
    }
    return real;
  }

  async readFile(rel: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
    const real = await this.resolveInside(rel);
    const handle = await open(real, "r");
    try {
      const s = await handle.stat();
      if (!s.isFile()) throw new InputError("not a regular file", { file: join(this.root, rel) });
      if (s.size > maxBytes) throw new LimitExceededError(`${join(this.root, rel)}: ${s.size} bytes is over the limit of ${maxBytes}`);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
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
