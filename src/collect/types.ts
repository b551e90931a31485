import type { CollectProblem, Component, Finding } from "../model/index.ts";

/** One regular file offered by a virtual filesystem. */
export interface FileEntry {
  /** POSIX path relative to the filesystem's root, without a leading "/" or "./". */
  path: string;
  size: number;
  /** Unix mode bits (permissions and type), when known. */
  mode?: number;
  /** For images: the digest of the layer that last wrote this file (for a hidden copy: that wrote this copy). */
  layer?: string;
  /** For images: the index of that layer in the image (0 = bottom). */
  layerIndex?: number;
  /**
   * True for a hidden copy: an older copy of the path that a later layer of an image overwrote or
   * deleted, absent from the final view. Offered only to catalogers' `history` (see `WalkOptions`).
   */
  hidden?: boolean;
}

/** What a walk offers besides the files of the final view. */
export interface WalkOptions {
  /**
   * Also offer the hidden copies (`FileEntry.hidden`; regular files only), each where the walk passes
   * it, so that no layer is read twice. While a hidden copy is offered, `readFile(entry.path)` reads
   * that copy. Filesystems without layers (directories, archives) have none and ignore this.
   */
  hidden?: boolean;
}

/**
 * A read-only filesystem that the core walks once: a directory, an image's squashed layers, a zip.
 * Catalogers never walk; they are offered files.
 */
export interface VirtualFs {
  /** Human-readable description for messages, e.g. the directory path or image reference. */
  readonly description: string;
  /** Every regular file of the final view, once each (with `hidden`, the hidden copies too). */
  walk(options?: WalkOptions): AsyncIterable<FileEntry>;
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
  /**
   * Facts about the walked target as a whole (an image's distro), for the SBOM's metadata component:
   * usually returned by `finish`.
   */
  targetProperties?: Record<string, string>;
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
  /**
   * For catalogers that learn from a file's history: the hidden copies of an image's files (older
   * copies a later layer overwrote or deleted, e.g. a package database each layer rewrote, which says
   * the layer that introduced each package). Hidden copies are offered, up to collect's
   * HISTORY_FILE_MAX bytes, only to catalogers that have this; filesystems without layers never offer any.
   */
  readonly history?: HistoryReader;
}

/** How a cataloger reads hidden copies (`Cataloger.history`): what it learns goes to its `finish`. */
export interface HistoryReader {
  /** Decides on the entry alone (cheap, no I/O), as `fileRequired` does. */
  required(entry: FileEntry): boolean;
  /** Reads one hidden copy (`input.entry.hidden`); it makes no components. A thrown error is a problem for that file. */
  extract(input: ExtractInput): Promise<void>;
}

export interface CollectResult {
  components: Component[];
  roots: Component[];
  problems: CollectProblem[];
  /** Content findings of every cataloger, in walk order (see `Sbom.contentFindings`). */
  findings: Finding[];
  /** The catalogers' `targetProperties`, in the order they were returned; absent when none returned any. */
  targetProperties?: Record<string, string>;
  /** How many files were offered and how many were extracted. */
  stats: { filesSeen: number; filesExtracted: number };
}
