/**
 * Keras model files (lint-and-models.md B6.4):
 * - Keras 3 `.keras`: a zip with `config.json` (the model's serialized config: class names, layers,
 *   Lambda functions as base64 marshal bytecode), `metadata.json` (keras_version, date_saved) and
 *   `model.weights.h5`; config and metadata are read as strict JSON under a size cap.
 * - legacy `.h5` (tf.keras / Keras 2): an HDF5 file whose root group carries the attribute
 *   `model_config`, the model config as JSON. tollgate has no HDF5 reader: the attribute is found by a
 *   bounded byte search, documented here as a heuristic. The file must carry the HDF5 signature at 0 or
 *   at a user-block offset (512, 1024, ...); the first `maxScanBytes` are searched for the attribute
 *   name `model_config` and, within 64 KiB after it, for a JSON object starting `{"class_name"`, which
 *   is cut out by bracket matching (strings and escapes respected) under `maxConfigBytes` and parsed
 *   strictly. h5py stores this attribute as a fixed-length string inside the root group's object
 *   header, so the name and the JSON lie close together. When no JSON follows the name, the whole
 *   scanned range is searched for such an object (an attribute stored in a heap). A file whose
 *   config was not found within the scanned range says so (`searchComplete: false`) so that callers
 *   report it instead of passing it as clean.
 */
import { LimitExceededError } from "../../errors.ts";
import { formatError } from "./binary.ts";
import type { ByteSource } from "../../io/byte-source.ts";
import { isJsonObject, parseStrictJson, type JsonValue } from "./strict-json.ts";
import type { ModelZip } from "./zip.ts";

export const HDF5_MAGIC = Buffer.from("\x89HDF\r\n\x1a\n", "latin1");

export interface KerasArchiveInfo {
  format: "keras";
  /** config.json, parsed. */
  config: JsonValue;
  /** metadata.json, parsed, when present. */
  metadata?: JsonValue;
  kerasVersion?: string;
  members: string[];
  /** True when model.weights.h5 is present. */
  hasWeights: boolean;
}

export interface KerasOptions {
  /** Largest config.json / model_config read (default 64 MiB). */
  maxConfigBytes?: number;
  /** Bytes of an .h5 file searched for model_config (default 512 MiB). */
  maxScanBytes?: number;
}

/** Reads a Keras 3 `.keras` archive's config.json and metadata.json. */
export async function readKerasArchive(zip: ModelZip, options: KerasOptions = {}): Promise<KerasArchiveInfo> {
  const max = options.maxConfigBytes ?? 64 * 1024 * 1024;
  const name = zip.source.name;
  const cfg = zip.get("config.json");
  if (!cfg) throw formatError(name, 0, "not a Keras archive (no config.json)");
  const config = parseStrictJson((await zip.read(cfg, max)).toString("utf8"), `${name}!config.json`);
  const info: KerasArchiveInfo = { format: "keras", config, members: zip.members.map((m) => m.name), hasWeights: zip.get("model.weights.h5") !== undefined };
  const meta = zip.get("metadata.json");
  if (meta) {
    info.metadata = parseStrictJson((await zip.read(meta, max)).toString("utf8"), `${name}!metadata.json`);
    if (isJsonObject(info.metadata) && typeof info.metadata.keras_version === "string") info.kerasVersion = info.metadata.keras_version;
  }
  return info;
}

/** The HDF5 superblock offset (0 or a user-block size 512·2ⁿ), or undefined when there is none. */
export async function findHdf5Superblock(source: ByteSource): Promise<number | undefined> {
  for (let at = 0; at + 8 <= source.size && at <= 64 * 1024 * 1024; at = at === 0 ? 512 : at * 2) {
    if ((await source.read(at, 8)).equals(HDF5_MAGIC)) return at;
  }
  return undefined;
}

export interface KerasH5Info {
  format: "keras-h5";
  superblockOffset: number;
  /** The `model_config` JSON when found. */
  config?: JsonValue;
  /** File offset of the config JSON. */
  configOffset?: number;
  /** False when the file is larger than the scanned range and no config was found in it. */
  searchComplete: boolean;
  /** `keras_version` attribute value when it sits beside the config. */
  kerasVersion?: string;
}

const MODEL_CONFIG = Buffer.from("model_config", "latin1");
const JSON_OPEN = Buffer.from('{"', "latin1");
const CONFIG_STARTS = [Buffer.from('{"class_name"', "latin1"), Buffer.from('{"module"', "latin1")];

/** Finds and parses the `model_config` attribute of a legacy Keras HDF5 file (bounded search, see above). */
export async function readKerasH5(source: ByteSource, options: KerasOptions = {}): Promise<KerasH5Info> {
  const maxConfig = options.maxConfigBytes ?? 64 * 1024 * 1024;
  const maxScan = options.maxScanBytes ?? 512 * 1024 * 1024;
  const superblockOffset = await findHdf5Superblock(source);
  if (superblockOffset === undefined) throw formatError(source.name, 0, "not an HDF5 file (no \\x89HDF signature)");
  const scanEnd = Math.min(source.size, maxScan);
  const info: KerasH5Info = { format: "keras-h5", superblockOffset, searchComplete: scanEnd === source.size };
  const names = await findAll(source, MODEL_CONFIG, scanEnd, 64);
  // After the attribute name, the first `{"` that opens a parseable object is the config (an object
  // opens before the objects nested in it); without the name, objects starting `{"class_name"` or
  // `{"module"` (Keras 3's legacy-h5 writer puts module first) anywhere in the scanned range.
  const candidates: number[] = [];
  for (const at of names) candidates.push(...(await findAll(source, JSON_OPEN, Math.min(scanEnd, at + 64 * 1024), 16, at)));
  if (names.length === 0) {
    for (const start of CONFIG_STARTS) candidates.push(...(await findAll(source, start, scanEnd, 16)));
    candidates.sort((a, b) => a - b);
  }
  let lastError: Error | undefined;
  for (const at of candidates) {
    const text = await cutJsonObject(source, at, maxConfig);
    if (text === undefined) continue;
    let config: JsonValue;
    try {
      config = parseStrictJson(text, source.name, { baseOffset: at });
    } catch (e) {
      lastError = e as Error;
      continue;
    }
    if (isJsonObject(config) && typeof config.class_name === "string" && "config" in config) {
      info.config = config;
      info.configOffset = at;
      info.searchComplete = true;
      break;
    }
  }
  // model_config is there but nothing after it parsed: say why rather than pass the file as clean
  if (info.config === undefined && names.length > 0 && lastError) throw lastError;
  const kv = await findAll(source, Buffer.from("keras_version", "latin1"), scanEnd, 1);
  if (kv[0] !== undefined) {
    // The value follows the name (fixed-length string) or sits in a nearby global heap collection
    // (h5py's variable-length strings): the first NUL-terminated "N.N.N" within 64 KiB.
    const near = (await source.read(kv[0], Math.min(64 * 1024, source.size - kv[0]))).toString("latin1");
    const m = /(?<![\w.])(\d{1,4}\.\d{1,4}\.\d{1,4}(?:[\w.+-]{0,32})?)\0/.exec(near);
    if (m) info.kerasVersion = m[1];
  }
  return info;
}

/** Offsets of `needle` in [from, end), at most `max` of them, read through 1 MiB windows. */
async function findAll(source: ByteSource, needle: Buffer, end: number, max: number, from = 0): Promise<number[]> {
  const out: number[] = [];
  const step = 1024 * 1024;
  for (let at = from; at < end && out.length < max; at += step) {
    const len = Math.min(step + needle.length - 1, end - at);
    if (len < needle.length) break;
    const buf = await source.read(at, len);
    for (let i = buf.indexOf(needle); i >= 0 && out.length < max; i = buf.indexOf(needle, i + 1)) {
      if (i < step) out.push(at + i);
    }
  }
  return out;
}

/** The JSON object text starting at `at` (balanced braces, strings respected), or undefined if it never closes. */
async function cutJsonObject(source: ByteSource, at: number, max: number): Promise<string | undefined> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  const parts: Buffer[] = [];
  for (let pos = at; pos < source.size; ) {
    const len = Math.min(1024 * 1024, source.size - pos);
    const buf = await source.read(pos, len);
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
        else if (c < 0x20) return undefined;
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) {
          parts.push(buf.subarray(0, i + 1));
          return Buffer.concat(parts).toString("utf8");
        }
      } else if (c === 0) return undefined;
      if (pos - at + i + 1 > max) throw new LimitExceededError(`${source.name}: at byte ${at}: model_config JSON is longer than the limit of ${max} bytes`);
    }
    parts.push(buf);
    pos += len;
  }
  return undefined;
}
