/**
 * Reading files from places an attacker may have shaped (a scanned tree, an OCI layout, a config in a
 * cloned repository): only regular files, opened without blocking (a FIFO would hang the run), never
 * more than a limit; and the path limits every walk and archive reader applies.
 */
import { constants, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { InputError, LimitExceededError } from "../errors.ts";

/**
 * The longest path (in characters) and file name (in UTF-8 bytes) tollgate accepts from a tree, a
 * layer or an archive: Linux's PATH_MAX and NAME_MAX. No real filesystem holds longer ones, and V8
 * hashes a string of more than 16,383 characters by its length alone, so many equal-length long names
 * would make every Map and Set of paths quadratic.
 */
export const MAX_PATH_CHARS = 4096;
export const MAX_NAME_BYTES = 255;

/** Refuses a path longer than MAX_PATH_CHARS or with a name longer than MAX_NAME_BYTES (LimitExceededError). */
export function checkPathLimits(path: string, where: string, what = "path"): void {
  const preview = (s: string): string => (s.length > 80 ? `${s.slice(0, 80)}…` : s);
  if (path.length > MAX_PATH_CHARS) {
    throw new LimitExceededError(`${where}: ${what} "${preview(path)}" (${path.length} characters) is longer than ${MAX_PATH_CHARS} characters, more than any filesystem holds; refused`);
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so only names over 85 units can be over 255 bytes.
  if (path.length <= MAX_NAME_BYTES / 3) return;
  for (const name of path.split("/")) {
    if (name.length > MAX_NAME_BYTES / 3 && Buffer.byteLength(name) > MAX_NAME_BYTES) {
      throw new LimitExceededError(`${where}: ${what} "${preview(path)}" has a name longer than ${MAX_NAME_BYTES} bytes, more than any filesystem holds; refused`);
    }
  }
}

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer (the type
// check then refuses it); O_NOCTTY: a terminal is never made the controlling one.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Opens a file for reading only if it is a regular file: a FIFO, socket, device or directory is
 * refused with an InputError (`shown: not a regular file`) without blocking. ENOENT is NOT_FOUND.
 */
export async function openRegularFile(path: string, shown = path): Promise<{ handle: FileHandle; stat: Stats }> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError("no such file", { file: shown, code: "NOT_FOUND" });
    if (code === "ENXIO" || code === "EISDIR") throw new InputError("not a regular file", { file: shown });
    throw e;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new InputError("not a regular file", { file: shown });
    return { handle, stat };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/**
 * Reads a regular file whole, refusing other file types (see openRegularFile) and files over maxBytes
 * (LimitExceededError); never reads more than the size it had when opened.
 */
export async function readRegularFile(path: string, maxBytes: number, shown = path): Promise<Buffer> {
  const { handle, stat } = await openRegularFile(path, shown);
  const size = stat.size;
  try {
    if (size > maxBytes) throw new LimitExceededError(`${shown}: ${size} bytes is over the limit of ${maxBytes}`);
    const buf = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buf, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === size ? buf : buf.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** Directory names skipped by default during discovery (dependencies installed or vendored, VCS data). */
