/**
 * Random-access bytes for readers that need only part of a file (model headers, archive directories): a buffer already in memory or a file read by position, so a
 * 40 GB safetensors file is read header-only. Every read is bounds-checked against the size the source
 * had when it was opened; a read past the end is an InputError naming the source and the offset.
 */
import type { FileHandle } from "node:fs/promises";
import { InputError, LimitExceededError } from "../errors.ts";
import { openRegularFile } from "./files.ts";

/** Random-access bytes of one file or buffer. */
export interface ByteSource {
  /** Total size in bytes (fixed when the source was opened). */
  readonly size: number;
  /** The name shown in errors (a path, or `archive.zip!member`). */
  readonly name: string;
  /**
   * Exactly `length` bytes from `offset`. Throws InputError (`name: truncated ...`) when the range is
   * not inside the source, and LimitExceededError above MAX_SOURCE_READ bytes per call.
   */
  read(offset: number, length: number): Promise<Buffer>;
}

/** A ByteSource over an open file: close it when done (or use withFileSource). */
export interface FileByteSource extends ByteSource {
  close(): Promise<void>;
}

/**
 * The most one read() call returns (256 MiB). Readers cap their own structures far below this; the
 * cap only keeps a bug or a forgotten check from allocating the size of a hostile length field.
 */
export const MAX_SOURCE_READ = 256 * 1024 * 1024;

/** Checks that [offset, offset+length) lies inside a source of `size` bytes; throws otherwise. */
export function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new InputError(`invalid read of ${length} bytes at offset ${offset}`, { file: name });
  }
  if (length > MAX_SOURCE_READ) {
    throw new LimitExceededError(`${name}: a read of ${length} bytes at offset ${offset} is over the limit of ${MAX_SOURCE_READ}`);
  }
  if (offset > size || length > size - offset) {
    throw new InputError(`truncated: ${length} bytes needed at offset ${offset}, the file has ${size}`, { file: name });
  }
}

/** A ByteSource over a buffer (no copy: read() returns views of it). */
export function bufferSource(buf: Buffer, name = "<buffer>"): ByteSource {
  return {
    size: buf.length,
    name,
    read(offset: number, length: number): Promise<Buffer> {
      try {
        checkRange(name, buf.length, offset, length);
      } catch (e) {
        return Promise.reject(e as Error);
      }
      return Promise.resolve(buf.subarray(offset, offset + length));
    },
  };
}

/** A ByteSource over a range of another source (for a stored zip member, a tar entry, an .npy payload). */
export function sliceSource(source: ByteSource, start: number, length: number, name = source.name): ByteSource {
  checkRange(source.name, source.size, start, length);
  return {
    size: length,
    name,
    async read(offset: number, len: number): Promise<Buffer> {
      checkRange(name, length, offset, len);
      return source.read(start + offset, len);
    },
  };
}

/**
 * A ByteSource of `size` bytes of which only the first `head.length` are at hand (the inflated start
 * of a compressed zip member): a read past them is a LimitExceededError, never a silent short read.
 */
export function headSource(head: Buffer, size: number, name: string): ByteSource {
  return {
    size,
    name,
    read(offset: number, length: number): Promise<Buffer> {
      try {
        checkRange(name, size, offset, length);
        if (offset + length > head.length) {
          throw new LimitExceededError(`${name}: a read at offset ${offset} goes past the first ${head.length} bytes read of this compressed member`);
        }
      } catch (e) {
        return Promise.reject(e as Error);
      }
      return Promise.resolve(head.subarray(offset, offset + length));
    },
  };
}

/**
 * Opens a regular file (src/io/files.ts rules: FIFOs, devices and directories are refused without
 * blocking) as a ByteSource read by position. The size is the one the file had when opened; a file
 * that shrinks underneath makes reads fail as truncated.
 */
export async function fileSource(path: string, shown = path): Promise<FileByteSource> {
  const { handle, stat } = await openRegularFile(path, shown);
  return fileHandleSource(handle, stat.size, shown);
}

function fileHandleSource(handle: FileHandle, size: number, name: string): FileByteSource {
  let closed = false;
  return {
    size,
    name,
    async read(offset: number, length: number): Promise<Buffer> {
      if (closed) throw new InputError("read after close", { file: name });
      checkRange(name, size, offset, length);
      const buf = Buffer.alloc(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buf, filled, length - filled, offset + filled);
        if (bytesRead === 0) {
          throw new InputError(`truncated: the file shrank while being read (offset ${offset + filled})`, { file: name });
        }
        filled += bytesRead;
      }
      return buf;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

/** Opens `path` as a FileByteSource, runs `fn` on it and closes it whatever happens. */
export async function withFileSource<T>(path: string, fn: (source: ByteSource) => Promise<T>, shown = path): Promise<T> {
  const source = await fileSource(path, shown);
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}

/** The first `n` bytes of a source (fewer if it is smaller), for format detection. */
export function readHead(source: ByteSource, n = 64): Promise<Buffer> {
  return source.read(0, Math.min(n, source.size));
}
