/**
 * One model file read for the ML-BOM: its format (magic bytes first, the name second), the facts its
 * header gives (tensor count, parameter count, dtypes, GGUF metadata, ONNX opset and producer) as
 * component properties, and what the content scanners find in it. Only headers are read, through a
 * ByteSource, so a file of any size costs a few reads.
 */
import type { CollectProblem, Finding } from "../model/index.ts";
import { detectModelFormat, MODEL_HEAD_BYTES, readModel, type GgufHeader, type GgufValue, type ModelDescription } from "./formats/index.ts";
import type { ByteSource } from "../io/byte-source.ts";

/** What one model file says about itself. */
export interface FileFacts {
  /** `tollgate:model:format`: the reader's name for it (safetensors, gguf, onnx, pytorch-zip, pickle, keras, ...). */
  format: string;
  /** Component properties (`tollgate:model:*`). */
  properties: Record<string, string>;
  parameterCount?: bigint;
  /** The reader's description (absent when the header could not be read). */
  description?: ModelDescription;
  /** GGUF header (metadata for the model card). */
  gguf?: GgufHeader;
  /** Content findings (their component is set by the cataloger). */
  findings: Finding[];
  problems: CollectProblem[];
}

/**
 * The format of a file from its first bytes and its name (src/mlmodel/formats' detectModelFormat, plus
 * SavedModel variable shards by name); undefined when it is not a model file (a `.bin` that is
 * firmware, a PNG named `.pt`).
 */
export async function sniffFormat(path: string, source: ByteSource): Promise<string | undefined> {
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (/^variables\.(index|data-\d+-of-\d+)$/.test(base)) return "tf-variables";
  const head = await source.read(0, Math.min(MODEL_HEAD_BYTES, source.size));
  return detectModelFormat(path, head);
}

function bigintProp(v: bigint): string {
  return v.toString();
}

function dtypeList(counts: Record<string, bigint>): string {
  return Object.keys(counts).sort().join(",");
}

/** A GGUF metadata value as a string (scalars) or undefined (arrays, binary). */
export function ggufString(v: GgufValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  return undefined;
}

/** A GGUF string array's values (undefined when the key is absent or not an array of strings). */
export function ggufStrings(v: GgufValue | undefined): string[] {
  if (v === undefined) return [];
  if (typeof v === "string") return [v];
  if (typeof v === "object" && v.type === "array" && v.elementType === "STRING") return v.values.filter((x): x is string => typeof x === "string");
  return [];
}

/** GGUF `general.file_type` (llama_ftype) names, for the quantization property. */
const GGUF_FILE_TYPES: Readonly<Record<number, string>> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L",
  14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
  23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
};

/** Reads the header of one model file; errors (truncated, hostile) propagate to the caller. */
export async function probeFile(format: string, source: ByteSource): Promise<FileFacts> {
  const facts: FileFacts = { format, properties: { "tollgate:model:format": format }, findings: [], problems: [] };
  if (format === "tf-variables") return facts;
  const d = await readModel(source);
  if (!d) return facts;
  facts.description = d;
  facts.format = d.format;
  const p = facts.properties;
  p["tollgate:model:format"] = d.format;
  switch (d.format) {
    case "safetensors": {
      facts.parameterCount = d.parameterCount;
      p["tollgate:model:tensorCount"] = String(d.tensors.length);
      p["tollgate:model:parameterCount"] = bigintProp(d.parameterCount);
      p["tollgate:model:dtypes"] = dtypeList(d.dtypes);
      // __metadata__ (e.g. {"format": "pt"}): kept, bounded (a header may carry anything).
      for (const [k, v] of Object.entries(d.metadata).slice(0, 32)) p[`tollgate:model:safetensors:metadata:${k.slice(0, 128)}`] = v.slice(0, 1024);
      break;
    }
    case "gguf": {
      facts.gguf = d;
      facts.parameterCount = d.parameterCount;
      p["tollgate:model:gguf:version"] = String(d.version);
      p["tollgate:model:tensorCount"] = String(d.tensorCount);
      p["tollgate:model:parameterCount"] = bigintProp(d.parameterCount);
      if (d.architecture) p["tollgate:model:gguf:architecture"] = d.architecture;
      const ft = d.metadata.get("general.file_type");
      if (typeof ft === "number" || typeof ft === "bigint") p["tollgate:model:quantization"] = GGUF_FILE_TYPES[Number(ft)] ?? `file_type ${ft}`;
      const types = new Set(d.tensors.map((t) => t.typeName ?? `type${t.type}`));
      if (types.size > 0) p["tollgate:model:dtypes"] = [...types].sort().join(",");
      const qv = ggufString(d.metadata.get("general.quantization_version"));
      if (qv !== undefined) p["tollgate:model:gguf:quantizationVersion"] = qv;
      if (d.chatTemplate !== undefined) p["tollgate:model:gguf:chatTemplate"] = "present";
      break;
    }
    case "onnx": {
      if (d.irVersion !== undefined) p["tollgate:model:onnx:irVersion"] = d.irVersion.toString();
      const opset = d.opsetImports.map((o) => `${o.domain || "ai.onnx"}:${o.version}`).join(",");
      if (opset) p["tollgate:model:onnx:opset"] = opset;
      if (d.producerName) p["tollgate:model:onnx:producer"] = d.producerVersion ? `${d.producerName} ${d.producerVersion}` : d.producerName;
      if (d.domain) p["tollgate:model:onnx:domain"] = d.domain;
      if (d.modelVersion !== undefined) p["tollgate:model:onnx:modelVersion"] = d.modelVersion.toString();
      p["tollgate:model:onnx:nodeCount"] = String(d.nodeCount);
      p["tollgate:model:onnx:initializerCount"] = String(d.initializerCount);
      if (d.customDomains.length > 0) p["tollgate:model:onnx:customDomains"] = d.customDomains.join(",");
      if (d.externalData.length > 0) p["tollgate:model:onnx:externalData"] = [...new Set(d.externalData.map((e) => e.location ?? ""))].sort().join(",").slice(0, 4096);
      break;
    }
    case "numpy":
      p["tollgate:model:numpy:descr"] = typeof d.descr === "string" ? d.descr : "structured";
      p["tollgate:model:numpy:shape"] = `(${d.shape.join(",")})`;
      if (d.hasObject) p["tollgate:model:numpy:objectDtype"] = "true";
      break;
    case "npz":
      p["tollgate:model:npz:members"] = String(d.members.length);
      break;
    case "pytorch-zip":
      p["tollgate:model:pytorch:pickles"] = d.pickles.map((x) => x.member ?? "").join(",").slice(0, 4096);
      p["tollgate:model:pytorch:storages"] = String(d.storageCount);
      if (d.version) p["tollgate:model:pytorch:version"] = d.version;
      if (d.torchscript) p["tollgate:model:pytorch:torchscript"] = d.codeFiles.length > 0 ? `code: ${d.codeFiles.slice(0, 20).join(",")}` : "true";
      break;
    case "keras":
      if (d.kerasVersion) p["tollgate:model:keras:version"] = d.kerasVersion;
      break;
    case "keras-h5":
      if (d.kerasVersion) p["tollgate:model:keras:version"] = d.kerasVersion;
      p["tollgate:model:keras:config"] = d.config !== undefined ? "found" : d.searchComplete ? "none" : "not found in the range searched";
      break;
    case "tf-saved-model": {
      p["tollgate:model:tf:metaGraphs"] = String(d.metaGraphs.length);
      const tfv = d.metaGraphs.find((m) => m.tensorflowVersion)?.tensorflowVersion;
      if (tfv) p["tollgate:model:tf:version"] = tfv;
      p["tollgate:model:tf:ops"] = String(d.ops.size);
      break;
    }
    case "joblib":
      if (d.compression) p["tollgate:model:joblib:compression"] = d.compression;
      break;
    default:
      break;
  }
  return facts;
}
