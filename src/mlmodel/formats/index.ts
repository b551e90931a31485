/**
 * Model file format readers: pure and bounded (no execution, no unbounded allocation), each returning
 * a typed description and throwing InputError / LimitExceededError / UnsafeInputError with the file
 * and byte offset on truncated or hostile input. `readModel` detects a file's format and runs the
 * matching reader; the readers are exported for callers that already know the format.
 */
import { classifyZipMembers, detectJoblibCompression, detectModelFormat, MODEL_HEAD_BYTES, type ModelFormat } from "./detect.ts";
import { readGgufHeader, type GgufHeader, type GgufOptions } from "./gguf.ts";
import { readKerasArchive, readKerasH5, type KerasArchiveInfo, type KerasH5Info, type KerasOptions } from "./keras.ts";
import { readNpyHeader, readNpz, type NpyHeader, type NpyOptions, type NpzMember } from "./numpy.ts";
import { readOnnxModel, type OnnxModel, type OnnxOptions } from "./onnx.ts";
import { readPytorchLegacy, readPytorchTar, readPytorchZip, type PickleLocation, type PytorchLegacyInfo, type PytorchTarInfo, type PytorchZipInfo } from "./pytorch.ts";
import { readSafetensorsHeader, type SafetensorsHeader, type SafetensorsOptions } from "./safetensors.ts";
import { readSavedModel, type SavedModelInfo, type SavedModelOptions } from "./savedmodel.ts";
import type { ByteSource } from "../../io/byte-source.ts";
import { withZip, type ZipLimits } from "./zip.ts";

export * from "./detect.ts";
export * from "./gguf.ts";
export * from "./keras.ts";
export * from "./numpy.ts";
export * from "./onnx.ts";
export * from "./protobuf.ts";
export * from "./pytorch.ts";
export * from "./safetensors.ts";
export * from "./savedmodel.ts";
export * from "../../io/byte-source.ts";
export * from "./strict-json.ts";
export * from "./tar.ts";
export * from "./zip.ts";
export { formatError } from "./binary.ts";

/** A bare pickle or joblib file: where its pickle is (the whole file, unless compressed). */
export interface PickleFileInfo {
  format: "pickle" | "joblib";
  pickles: PickleLocation[];
  /** joblib compression, when compressed (the pickle must be decompressed before it is scanned). */
  compression?: string;
}

export interface NpzInfo {
  format: "npz";
  members: NpzMember[];
}

/** A zip that is none of the known model archives: its member names. */
export interface OtherZipInfo {
  format: "zip";
  members: string[];
}

/** A legacy GGML file: recognised, not parsed. */
export interface GgmlInfo {
  format: "ggml";
  magic: string;
}

export type ModelDescription =
  | SafetensorsHeader
  | GgufHeader
  | OnnxModel
  | NpyHeader
  | NpzInfo
  | PytorchZipInfo
  | PytorchLegacyInfo
  | PytorchTarInfo
  | KerasArchiveInfo
  | KerasH5Info
  | SavedModelInfo
  | PickleFileInfo
  | GgmlInfo
  | OtherZipInfo;

export interface ReadModelOptions {
  safetensors?: SafetensorsOptions;
  gguf?: GgufOptions;
  onnx?: OnnxOptions;
  numpy?: NpyOptions;
  keras?: KerasOptions;
  savedModel?: SavedModelOptions;
  zip?: Partial<ZipLimits>;
}

/**
 * Detects the format of `source` (by its first bytes, then its name) and reads it. Undefined when it is
 * not a model file (including a tar that is not a PyTorch checkpoint).
 */
export async function readModel(source: ByteSource, options: ReadModelOptions = {}): Promise<ModelDescription | undefined> {
  const head = await source.read(0, Math.min(MODEL_HEAD_BYTES, source.size));
  const format: ModelFormat | undefined = detectModelFormat(source.name, head);
  switch (format) {
    case undefined: return undefined;
    case "safetensors": return readSafetensorsHeader(source, options.safetensors);
    case "gguf": return readGgufHeader(source, options.gguf);
    case "onnx": return readOnnxModel(source, options.onnx);
    case "tf-saved-model": return readSavedModel(source, options.savedModel);
    case "numpy": return readNpyHeader(source, options.numpy);
    case "hdf5": return readKerasH5(source, options.keras);
    case "pytorch-legacy": return readPytorchLegacy(source);
    case "ggml": return { format: "ggml", magic: head.subarray(0, 4).toString("latin1") };
    case "pickle": return { format: "pickle", pickles: [{ offset: 0, length: source.size, role: "pickle", stacked: true }] };
    case "joblib": {
      const compression = detectJoblibCompression(head);
      const info: PickleFileInfo = { format: "joblib", pickles: [{ offset: 0, length: source.size, role: "joblib", stacked: true }] };
      if (compression) info.compression = compression;
      return info;
    }
    case "tar": {
      try {
        return await readPytorchTar(source);
      } catch (e) {
        if (/no `pickle` member/.test((e as Error).message)) return undefined;
        throw e;
      }
    }
    case "zip":
      return withZip(
        source,
        async (zip): Promise<ModelDescription> => {
          const kind = classifyZipMembers(zip.members.map((m) => m.name));
          switch (kind) {
            case "keras": return readKerasArchive(zip, options.keras);
            case "pytorch-zip":
            case "torchscript": return readPytorchZip(zip);
            case "npz": return { format: "npz", members: await readNpz(zip, options.numpy) };
            default: return { format: "zip", members: zip.members.map((m) => m.name) };
          }
        },
        options.zip,
      );
  }
}
