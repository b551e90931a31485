/**
 * Which model format a file is: by its first bytes first, by its name second. A file whose first
 * bytes say it is something else (a PNG named `model.pt`) is not a model. Zip archives are told apart
 * by their member names (`classifyZipMembers`), tar archives by theirs (`readPytorchTar`).
 */
import { legacyMagicEnd } from "./pytorch.ts";
import { isTarHead } from "./tar.ts";

/** The formats detectModelFormat tells apart from a file's name and first bytes. */
export type ModelFormat =
  | "safetensors"
  | "gguf"
  /** Legacy GGML/GGMF/GGJT files (pre-GGUF llama.cpp). */
  | "ggml"
  | "onnx"
  /** `saved_model.pb`. */
  | "tf-saved-model"
  /** HDF5: a legacy Keras `.h5` model or weights (see readKerasH5). */
  | "hdf5"
  /** `.npy`. */
  | "numpy"
  /** A zip: PyTorch, TorchScript, Keras 3, `.npz` (see classifyZipMembers). */
  | "zip"
  /** A tar: the torch 0.1.1 format when it holds `pickle` (see readPytorchTar). */
  | "tar"
  /** A bare pickle (`.pkl`, `.pt` saved with pickle, ...). */
  | "pickle"
  /** Legacy PyTorch stacked pickles (magic number pickle first). */
  | "pytorch-legacy"
  /** A joblib dump: a pickle, possibly compressed (see detectJoblibCompression). */
  | "joblib";

/** What a zip archive holds, by its member names. */
export type ZipModelFormat = "pytorch-zip" | "torchscript" | "keras" | "npz" | "zip";

/** How many leading bytes detectModelFormat wants (a tar header is 512). */
export const MODEL_HEAD_BYTES = 512;

const PICKLE_EXT = /\.(pkl|pickle|dill|dat|data)$/i;
const TORCH_EXT = /\.(pt|pth|bin|ckpt|tar|pt2)$/i;
const JOBLIB_EXT = /\.joblib$/i;

/** First bytes of files that are not models whatever their name (images, documents, executables). */
const OTHER_MAGIC: readonly Buffer[] = [
  Buffer.from("\x89PNG\r\n\x1a\n", "latin1"),
  Buffer.from([0xff, 0xd8, 0xff]),
  Buffer.from("GIF8", "latin1"),
  Buffer.from("%PDF-", "latin1"),
  Buffer.from("\x7fELF", "latin1"),
  Buffer.from("RIFF", "latin1"),
  Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]),
];

/** Legacy GGML magics as they appear on disk (u32 LE 'ggml', 'ggmf', 'ggjt', 'ggla'). */
const GGML_MAGIC = ["lmgg", "fmgg", "tjgg", "algg"];

/** Compression of a joblib file from its first bytes (joblib `compressor.py`), or undefined for a plain pickle. */
export function detectJoblibCompression(head: Buffer): "zlib" | "gzip" | "bz2" | "xz" | "lzma" | "lz4" | "legacy-zfile" | undefined {
  const s = head.subarray(0, 6).toString("latin1");
  if (s.startsWith("ZF")) return "legacy-zfile";
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (s.startsWith("BZh")) return "bz2";
  if (s.startsWith("\xfd7zXZ")) return "xz";
  if (head[0] === 0x5d && head[1] === 0x00) return "lzma";
  if (head[0] === 0x04 && head[1] === 0x22 && head[2] === 0x4d && head[3] === 0x18) return "lz4";
  if (head[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(head[1] as number)) return "zlib";
  return undefined;
}

/** Protocol 0/1 pickles have no PROTO opcode: opcodes a real one commonly starts with. */
const OLD_PICKLE_FIRST = new Set("(]})cNILFSVKJMUXTGldti".split("").map((c) => c.charCodeAt(0)));
/** A protocol 0 pickle that imports something first: `cmodule\nname\n` or `(imodule\nname\n`, or `(dp0`/`(lp0`. */
const OLD_PICKLE_STRONG = /^(?:c[A-Za-z_][\w.]*\n[A-Za-z_][\w.]*\n|\(i[A-Za-z_][\w.]*\n|\((?:dp|lp)0\n)/;

/**
 * The model format of a file from its name (a path or base name) and its first bytes (pass at least
 * MODEL_HEAD_BYTES when the file has them), or undefined when it is not a model file tollgate reads.
 */
export function detectModelFormat(name: string, head: Buffer): ModelFormat | undefined {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const lower = base.toLowerCase();
  const ascii4 = head.subarray(0, 4).toString("latin1");
  if (ascii4 === "GGUF") return "gguf";
  if (head.subarray(0, 6).toString("latin1") === "\x93NUMPY") return "numpy";
  if (head.subarray(0, 8).toString("latin1") === "\x89HDF\r\n\x1a\n") return "hdf5";
  if (ascii4 === "PK\x03\x04") return "zip";
  if (GGML_MAGIC.includes(ascii4)) return "ggml";
  if (head[0] === 0x80 && head.length >= 2) {
    const proto = head[1] as number;
    const pickleName = PICKLE_EXT.test(lower) || TORCH_EXT.test(lower) || JOBLIB_EXT.test(lower);
    if (proto >= 2 && proto <= 5 || (proto <= 1 && pickleName)) {
      if (legacyMagicEnd(head) !== undefined) return "pytorch-legacy";
      return JOBLIB_EXT.test(lower) ? "joblib" : "pickle";
    }
  }
  // safetensors has no magic: a u64 LE header length (below 2⁴⁸) followed by '{'.
  if (head.length >= 9 && head[8] === 0x7b && head.readBigUInt64LE(0) >= 2n && head.readBigUInt64LE(0) < 1n << 48n) return "safetensors";
  if (isTarHead(head)) return "tar";
  if (OTHER_MAGIC.some((m) => head.length >= m.length && head.subarray(0, m.length).equals(m))) return undefined;
  if (JOBLIB_EXT.test(lower)) return detectJoblibCompression(head) !== undefined || OLD_PICKLE_FIRST.has(head[0] ?? -1) ? "joblib" : undefined;
  if (OLD_PICKLE_STRONG.test(head.subarray(0, 256).toString("latin1"))) return "pickle";
  // By name: formats without a magic (ONNX, SavedModel protobufs) and files that claim a format
  // their bytes do not show, so the reader says what is wrong with them instead of skipping them.
  if (lower === "saved_model.pb") return "tf-saved-model";
  if (lower.endsWith(".onnx")) return "onnx";
  if (lower.endsWith(".safetensors")) return "safetensors";
  if (lower.endsWith(".gguf")) return "gguf";
  if (lower.endsWith(".npy")) return "numpy";
  // HDF5 allows a user block before the superblock (at 512, 1024, ...): readKerasH5 looks there.
  if (/\.(h5|hdf5)$/.test(lower)) return "hdf5";
  if (PICKLE_EXT.test(lower) && !/\.(dat|data)$/i.test(lower)) return "pickle";
  if (/\.(pkl|pickle|dill|dat|data|pt|pth|ckpt)$/i.test(lower) && OLD_PICKLE_FIRST.has(head[0] ?? -1)) return "pickle";
  return undefined;
}

/** What a zip holds, from its member names. */
export function classifyZipMembers(names: readonly string[]): ZipModelFormat {
  const set = new Set(names);
  if (set.has("config.json") && (set.has("metadata.json") || set.has("model.weights.h5"))) return "keras";
  const top = (n: string): string | undefined => (n.includes("/") ? n.slice(0, n.indexOf("/")) : undefined);
  const dataPkl = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (dataPkl.length > 0) {
    const prefix = top(dataPkl[0] as string);
    const ts = names.some((n) => n === `${prefix}/constants.pkl` || n.startsWith(`${prefix}/code/`));
    return ts ? "torchscript" : "pytorch-zip";
  }
  if (names.some((n) => /^[^/]+\/model\.json$/.test(n)) && names.some((n) => /^[^/]+\/(code|attributes\.pkl)/.test(n))) return "torchscript";
  const files = names.filter((n) => !n.endsWith("/"));
  if (files.length > 0 && files.every((n) => n.toLowerCase().endsWith(".npy"))) return "npz";
  return "zip";
}

/**
 * What a member of a generic zip archive is for the scanners (picklescan's routing, lint-and-models.md
 * B2): a pickle when its name has a pickle extension or it starts with PROTO 0-5, a NumPy array when
 * it is `.npy` or starts with the .npy magic; undefined otherwise.
 */
export function zipMemberKind(name: string, head: Buffer): "pickle" | "numpy" | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith(".npy") || head.subarray(0, 6).toString("latin1") === "\x93NUMPY") return "numpy";
  if (/\.(pkl|pickle|joblib|dat|data|dill)$/.test(lower)) return "pickle";
  if (head[0] === 0x80 && (head[1] ?? 0xff) <= 5) return "pickle";
  return undefined;
}
