import type { CollectProblem, Component, Finding } from "../model/index.ts";

/** One regular file offered by a virtual filesystem. */
export interface FileEntry {
  /** POSIX path relative to the filesystem's root, without a leading "/" or "./". */
  path: string;
  size: number;
  /** Unix mode bits (permissions and type), when known. */
  mode?: number;
  /** For images: the digest of the layer that last wrote this file. */
  layer?: string;
}

/**
 * A read-only filesystem that the core walks once: a directory, an image's squashed layers, a zip.
 * Catalogers never walk; they are offered files.
 */
export interface VirtualFs {
  /** Human-readable description for messages, e.g. the directory path or image reference. */
  readonly description: string;
  /** Every regular file, once each. */
  walk(): AsyncIterable<FileEntry>;
  /** Reads a file by its relative path; throws LimitExceededError above maxBytes, InputError when missing. */
  readFile(path: string, maxBytes?: number): Promise<Buffer>;
  /** True when the path names a regular file. */
  exists(path: string): Promise<boolean>;
  /**
   * Names of the regular files and folders directly inside a folder (relative path, "" for the root),
   * sorted; empty when the folder is absent. What the walk skips is left out here too; symlinks are
   * never listed or followed out of the root. For catalogers that must find files by pattern (yarn
   * classic's `workspaces` globs). Optional, so that filesystems written before it still type-check; a
   * cataloger given a filesystem without it finds nothing by pattern.
   */
  listDirectory?(path: string): Promise<string[]>;
  /**
   * Opens a file for reads by position (for catalogers with `reads: "range"`: a model's header, never
   * its gigabytes). The caller closes it. Optional: without it, collect reads the file whole within
   * its size limit and serves the ranges from memory.
   */
  openRange?(path: string): Promise<RangeSource>;
  /**
   * The file's real path on the local disk, confined to the filesystem's root, for work done outside
   * this thread (hashing in worker threads). Absent for filesystems that are not plain directories.
   */
  localPath?(path: string): Promise<string>;
}

/** Bytes of one file read by position (the shape of src/mlmodel's ByteSource, with close). */
export interface RangeSource {
  readonly size: number;
  /** The name shown in errors. */
  readonly name: string;
  /** Exactly `length` bytes at `offset`; an InputError when the range is not inside the file. */
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface ExtractInput {
  entry: FileEntry;
  /** The whole file; empty for catalogers with `reads: "range"` (they read through `source`). */
  contents: Buffer;
  /** For catalogers with `reads: "range"`: the file by position (closed by collect after extract). */
  source?: RangeSource;
  /** For companion files (a lockfile's package.json, `-r` includes, go.sum beside go.mod). */
  fs: VirtualFs;
}

export interface CatalogResult {
  components: Component[];
  /** The project the file describes (e.g. package.json's name), when the file says. */
  root?: Component;
  problems?: CollectProblem[];
  /** What a content scanner found in the file (`MatchReason.kind` "content"), e.g. an unsafe pickle global. */
  findings?: Finding[];
}

/**
 * A cataloger reads one kind of file. `fileRequired` decides on the entry alone (cheap, no I/O);
 * `extract` parses the file's bytes. A thrown error is reported as a problem for that file; it never
 * stops the other catalogers.
 */
export interface Cataloger {
  readonly name: string;
  /**
   * "whole" (default): `extract` gets the file's bytes (read within collect's size limit). "range":
   * `extract` gets `source` and reads only what it needs, so files of any size are offered; on a
   * filesystem without `openRange` collect falls back to a whole read within the limit, and a file
   * over it is a CollectProblem, never skipped silently.
   */
  readonly reads?: "whole" | "range";
  fileRequired(entry: FileEntry): boolean;
  extract(input: ExtractInput): Promise<CatalogResult>;
  /**
   * Called once when the walk ends, for catalogers that group the files they were offered (a model
   * directory's weights, config and card make one component). Such a cataloger holds state for one
   * run: make a new one per collect.
   */
  finish?(fs: VirtualFs): Promise<CatalogResult>;
}

export interface CollectResult {
  components: Component[];
  roots: Component[];
  problems: CollectProblem[];
  /** Content findings of every cataloger, in walk order (see `Sbom.contentFindings`). */
  findings: Finding[];
  /** How many files were offered and how many were extracted. */
  stats: { filesSeen: number; filesExtracted: number };
}
