/**
 * Content checks of model files that are not pickles (issue 14, item 2): what a model file asks its
 * loader to do beyond holding weights. Each check turns a reader's description (src/mlmodel/formats)
 * into content findings (`Finding` with `matchedBy[].kind = "content"`), which the gate judges with the
 * database's findings. Rules are listed in MODEL_RULES with their severity and why.
 */
import type { Component, Finding, Severity } from "../model/index.ts";
import type { GgufHeader } from "./formats/gguf.ts";
import type { ModelDescription } from "./formats/index.ts";
import type { KerasArchiveInfo, KerasH5Info } from "./formats/keras.ts";
import type { OnnxModel } from "./formats/onnx.ts";
import type { SavedModelInfo } from "./formats/savedmodel.ts";
import { isJsonObject, type JsonValue } from "./formats/strict-json.ts";

export type ModelRuleId = "TG-ML-KERAS-001" | "TG-ML-TF-001" | "TG-ML-ONNX-001" | "TG-ML-GGUF-001";

export interface ModelRule {
  id: ModelRuleId;
  title: string;
  /** The usual severity; a finding may be raised above it (said in the rule's `why`). */
  severity: Severity;
  why: string;
}

/** The content rules of this module. */
export const MODEL_RULES: Readonly<Record<ModelRuleId, ModelRule>> = {
  "TG-ML-KERAS-001": {
    id: "TG-ML-KERAS-001",
    title: "Keras model carries a Lambda layer (serialized Python bytecode)",
    severity: "HIGH",
    why:
      "A Lambda layer stores its function as marshalled Python bytecode that Keras runs when the model is loaded: " +
      "a legacy .h5 model runs it on load (CRITICAL), a Keras 3 .keras archive when loaded with safe_mode=False or " +
      "through a safe_mode bypass (CVE-2025-1550) (HIGH). A config that calls enable_unsafe_deserialization turns " +
      "safe mode off from inside the file (CVE-2025-9906) (CRITICAL). Lambda layers nested in functional or " +
      "sequential sub-models and in compile_config are found too (the whole config tree is walked). An object whose " +
      "`module` is outside Keras makes the loader import that module (MEDIUM, as modelscan rates unknown operators).",
  },
  "TG-ML-TF-001": {
    id: "TG-ML-TF-001",
    title: "TensorFlow SavedModel graph uses ops that touch files or the system",
    severity: "HIGH",
    why:
      "A SavedModel's graph runs when the model is called: ops such as ReadFile, WriteFile, MatchingFiles, file " +
      "readers, summary writers, ImmutableConst (memory-maps a file) or PrintV2 to a file:// stream read or write the " +
      "host's files, and PyFunc/EagerPyFunc call back into Python. Model graphs have no need for them " +
      "(modelscan rates ReadFile/WriteFile HIGH). Debug ops with debug_urls can send tensors out (MEDIUM).",
  },
  "TG-ML-ONNX-001": {
    id: "TG-ML-ONNX-001",
    title: "ONNX external data location leaves the model directory",
    severity: "CRITICAL",
    why:
      "ONNX external data `location` is a path relative to the model's directory and must not go up (onnx " +
      "docs/ExternalData.md). An absolute path or `..` makes the loader read any file on the host into a tensor " +
      "(arbitrary file read into the model's weights).",
  },
  "TG-ML-GGUF-001": {
    id: "TG-ML-GGUF-001",
    title: "GGUF chat template reaches for Python internals (Jinja template injection)",
    severity: "HIGH",
    why:
      "tokenizer.chat_template is a Jinja template rendered by the inference server. A template that reaches for " +
      "attributes a chat template never needs (__class__, __globals__, __subclasses__, __builtins__, __import__, " +
      "os., popen, cycler/joiner/namespace/lipsum.__init__ chains, |attr() with dunder names, \\x5f-escaped " +
      "underscores) escapes an unsandboxed renderer (CVE-2024-34359 in llama-cpp-python). Direct routes to " +
      "globals, builtins, imports or OS commands are CRITICAL; other dunder attribute access is HIGH.",
  },
};

/** Where the file is and which component it belongs to. */
export interface CheckContext {
  component: Component;
  /** The model file's path as shown in reports. */
  path: string;
  /** The archive member the content came from (e.g. `config.json` of a .keras archive). */
  member?: string;
}

/** Findings per rule and file beyond this are counted in the last one, not listed. */
export const MAX_FINDINGS_PER_RULE = 50;

function finding(ctx: CheckContext, id: ModelRuleId, level: Severity, comparison: string, offset?: number): Finding {
  const location: { path: string; offset?: number; member?: string } = { path: ctx.path };
  if (offset !== undefined) location.offset = offset;
  if (ctx.member !== undefined) location.member = ctx.member;
  return {
    id,
    aliases: [id],
    component: ctx.component,
    severity: { level, source: "tollgate:model-scan" },
    fixedVersions: [],
    matchedBy: [{ advisoryId: id, kind: "content", comparison, location }],
    summary: `${MODEL_RULES[id].title}: ${comparison}`,
  };
}

/** Keeps MAX_FINDINGS_PER_RULE findings and notes how many more there were. */
function capped(list: Finding[]): Finding[] {
  if (list.length <= MAX_FINDINGS_PER_RULE) return list;
  const kept = list.slice(0, MAX_FINDINGS_PER_RULE);
  const last = kept[kept.length - 1] as Finding;
  const reason = last.matchedBy[0];
  if (reason) reason.comparison += ` (and ${list.length - MAX_FINDINGS_PER_RULE} more not listed)`;
  return kept;
}

// ---------------------------------------------------------------- Keras

/**
 * Lambda layers anywhere in a Keras config tree (a `class_name: "Lambda"` object, also inside nested
 * models and compile_config; Keras 3's `__lambda__` function objects) and references to
 * `enable_unsafe_deserialization`. `legacyH5`: the config comes from a legacy .h5 file (Lambda runs on
 * load there: CRITICAL).
 */
export function checkKerasConfig(config: JsonValue, ctx: CheckContext, options: { legacyH5: boolean; offset?: number }): Finding[] {
  const out: Finding[] = [];
  const lambdaLevel: Severity = options.legacyH5 ? "CRITICAL" : "HIGH";
  const seen = new Set<unknown>();
  const walk = (v: JsonValue, path: string, depth: number): void => {
    if (depth > 256 || (typeof v === "object" && v !== null && seen.has(v))) return;
    if (Array.isArray(v)) {
      seen.add(v);
      v.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
      return;
    }
    if (isJsonObject(v)) {
      seen.add(v);
      const cls = v.class_name;
      if (cls === "Lambda") {
        const cfg = v.config;
        const layer = isJsonObject(cfg) && typeof cfg.name === "string" ? cfg.name : typeof v.name === "string" ? v.name : "(unnamed)";
        out.push(finding(ctx, "TG-ML-KERAS-001", lambdaLevel, `Lambda layer "${layer}" at ${path || "$"}`, options.offset));
      } else if (cls === "__lambda__") {
        out.push(finding(ctx, "TG-ML-KERAS-001", lambdaLevel, `serialized Python lambda (__lambda__) at ${path || "$"}`, options.offset));
      } else if (typeof cls === "string" && typeof v.module === "string" && !KERAS_MODULE.test(v.module)) {
        out.push(finding(ctx, "TG-ML-KERAS-001", "MEDIUM", `${cls} from module "${v.module}" at ${path || "$"} (the loader imports code outside Keras)`, options.offset));
      }
      for (const [k, child] of Object.entries(v)) walk(child, `${path}.${k}`, depth + 1);
      return;
    }
    if (typeof v === "string" && v.includes("enable_unsafe_deserialization")) {
      out.push(finding(ctx, "TG-ML-KERAS-001", "CRITICAL", `reference to enable_unsafe_deserialization at ${path || "$"} (turns Keras safe mode off)`, options.offset));
    }
  };
  walk(config, "", 0);
  return capped(out);
}

/** Modules a Keras config may name without importing code from outside Keras. */
const KERAS_MODULE = /^(?:keras|tf_keras|tensorflow\.keras|tensorflow\.python\.keras)(?:\.|$)/;

/** checkKerasConfig for a `.keras` archive (member config.json) or a legacy `.h5` file. */
export function checkKeras(info: KerasArchiveInfo | KerasH5Info, ctx: CheckContext): Finding[] {
  if (info.format === "keras") return checkKerasConfig(info.config, { ...ctx, member: ctx.member ?? "config.json" }, { legacyH5: false });
  if (info.config === undefined) return [];
  const opts: { legacyH5: boolean; offset?: number } = { legacyH5: true };
  if (info.configOffset !== undefined) opts.offset = info.configOffset;
  return checkKerasConfig(info.config, ctx, opts);
}

// ---------------------------------------------------------------- TensorFlow

/** SavedModel ops that touch files or the system, with their severity and what they do. */
export const TF_UNSAFE_OPS: Readonly<Record<string, { level: Severity; does: string }>> = {
  ReadFile: { level: "HIGH", does: "reads a file" },
  WriteFile: { level: "HIGH", does: "writes a file" },
  MatchingFiles: { level: "HIGH", does: "lists files by glob" },
  ImmutableConst: { level: "HIGH", does: "memory-maps a file" },
  WholeFileReader: { level: "HIGH", does: "reads whole files" },
  WholeFileReaderV2: { level: "HIGH", does: "reads whole files" },
  TextLineReader: { level: "HIGH", does: "reads text files" },
  TextLineReaderV2: { level: "HIGH", does: "reads text files" },
  FixedLengthRecordReader: { level: "HIGH", does: "reads files" },
  FixedLengthRecordReaderV2: { level: "HIGH", does: "reads files" },
  TFRecordReader: { level: "HIGH", does: "reads files" },
  TFRecordReaderV2: { level: "HIGH", does: "reads files" },
  LMDBReader: { level: "HIGH", does: "reads LMDB files" },
  CreateSummaryFileWriter: { level: "HIGH", does: "writes event files" },
  DatasetToTFRecord: { level: "HIGH", does: "writes a TFRecord file" },
  ExperimentalDatasetToTFRecord: { level: "HIGH", does: "writes a TFRecord file" },
  PyFunc: { level: "HIGH", does: "calls a Python function of the loading process" },
  PyFuncStateless: { level: "HIGH", does: "calls a Python function of the loading process" },
  EagerPyFunc: { level: "HIGH", does: "calls a Python function of the loading process" },
  DebugIdentity: { level: "MEDIUM", does: "sends tensors to debug URLs" },
  DebugIdentityV2: { level: "MEDIUM", does: "sends tensors to debug URLs" },
  DebugNanCount: { level: "MEDIUM", does: "sends tensors to debug URLs" },
  DebugNumericSummary: { level: "MEDIUM", does: "sends tensors to debug URLs" },
};

/** TG-ML-TF-001 over a SavedModel's op inventory (graphs and function library). */
export function checkSavedModel(info: SavedModelInfo, ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const [op, use] of info.ops) {
    const bad = TF_UNSAFE_OPS[op];
    if (!bad) continue;
    const where = use.function !== undefined ? ` in function "${use.function}"` : "";
    out.push(finding(ctx, "TG-ML-TF-001", bad.level, `op ${op} (${bad.does}) used ${use.count} time(s), first by node "${use.node}"${where}`, use.offset));
  }
  for (const t of info.targets) {
    if (t.op === "PrintV2" && t.attr === "output_stream" && t.value.startsWith("file://")) {
      out.push(finding(ctx, "TG-ML-TF-001", "HIGH", `op PrintV2 node "${t.node}" prints to ${t.value}`, t.offset));
    } else if (!(t.op in TF_UNSAFE_OPS) && t.value.startsWith("file://")) {
      out.push(finding(ctx, "TG-ML-TF-001", "MEDIUM", `op ${t.op} node "${t.node}" attribute ${t.attr} names ${t.value}`, t.offset));
    }
  }
  return capped(out);
}

// ---------------------------------------------------------------- ONNX

/**
 * Why an ONNX external data location leaves the model directory, or undefined when it stays inside:
 * absolute (POSIX `/`, Windows drive or UNC), any `..` component (either slash), or a NUL byte.
 * Symlinks are the caller's business (it knows the directory).
 */
export function onnxLocationEscape(location: string): string | undefined {
  if (location.includes("\0")) return "contains a NUL byte";
  const p = location.replace(/\\/g, "/");
  if (p.startsWith("/")) return "is an absolute path";
  if (/^[A-Za-z]:/.test(p)) return "is a Windows drive path";
  if (p.split("/").includes("..")) return "goes up with ..";
  return undefined;
}

/** TG-ML-ONNX-001 over every external data reference of an ONNX model. */
export function checkOnnxExternalData(model: OnnxModel, ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const ref of model.externalData) {
    if (ref.location === undefined) continue;
    const why = onnxLocationEscape(ref.location);
    if (why) {
      out.push(finding(ctx, "TG-ML-ONNX-001", "CRITICAL", `tensor "${ref.tensor}" (${ref.where}) external data location ${JSON.stringify(ref.location)} ${why}`, ref.fileOffset));
    }
  }
  return capped(out);
}

// ---------------------------------------------------------------- GGUF / Jinja chat templates

/** Signatures of template injection in a Jinja chat template's code, most severe first. */
const TEMPLATE_SIGNS: readonly { re: RegExp; level: Severity; what: string }[] = [
  { re: /__(?:globals|builtins|import|subclasses|mro|bases?|code|getattribute|reduce(?:_ex)?|loader|spec)__/, level: "CRITICAL", what: "reaches Python internals" },
  { re: /\b(?:func_globals|f_globals|gi_frame|tb_frame|f_back|co_code)\b/, level: "CRITICAL", what: "reaches interpreter frames or globals" },
  { re: /\bos\s*\.\s*\w+|\b(?:popen|subprocess|system|spawn[lv]?p?e?|execl?p?e?|eval|exec|compile|importlib|import_module)\s*\(/, level: "CRITICAL", what: "calls OS or code-execution functions" },
  { re: /\b(?:cycler|joiner|namespace|lipsum|range|dict|self|config|request|url_for|get_flashed_messages)\s*\.\s*_/, level: "CRITICAL", what: "walks from a Jinja global to its internals" },
  { re: /_TemplateReference__context|\._(?:TemplateReference|Undefined)/, level: "CRITICAL", what: "reaches the template's context" },
  { re: /\\x5f|\\u005f|\\137|\\U0000005f/i, level: "HIGH", what: "spells underscores with escapes (obfuscated attribute names)" },
  { re: /\|\s*attr\s*\(/, level: "HIGH", what: "uses the attr() filter (attribute access by computed name)" },
  { re: /__\w+__/, level: "HIGH", what: "accesses a dunder attribute" },
  { re: /\.\s*mro\s*\(|\bfrom_pyfile\b|\bfrom_object\b/, level: "HIGH", what: "reaches class or config internals" },
];

/** The Jinja code of a template ({{ … }}, {% … %}) with each segment's start index; literal text is left out. */
function jinjaCode(template: string): { code: string; at: number }[] {
  const out: { code: string; at: number }[] = [];
  const re = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    out.push({ code: m[1] ?? m[2] ?? "", at: m.index + 2 });
  }
  return out;
}

/**
 * TG-ML-GGUF-001 over one chat template text (from GGUF metadata, or a tokenizer_config.json's
 * chat_template that a caller passes): one finding per signature found in the template's Jinja code,
 * with the byte offset of the first match (`baseOffset` = file offset of the template's first byte).
 */
export function checkChatTemplate(template: string, ctx: CheckContext, baseOffset?: number, label = "chat template"): Finding[] {
  const out: Finding[] = [];
  const segments = jinjaCode(template);
  for (const sign of TEMPLATE_SIGNS) {
    for (const seg of segments) {
      const m = sign.re.exec(seg.code);
      if (!m) continue;
      const index = seg.at + m.index;
      const offset = baseOffset !== undefined ? baseOffset + Buffer.byteLength(template.slice(0, index)) : undefined;
      const snippet = seg.code.trim().replace(/\s+/g, " ").slice(0, 120);
      out.push(finding(ctx, "TG-ML-GGUF-001", sign.level, `${label} ${sign.what}: "${m[0]}" in {${snippet}}`, offset));
      break;
    }
  }
  return capped(out);
}

/** checkChatTemplate over a GGUF header's tokenizer.chat_template (and named templates tokenizer.chat_template.*). */
export function checkGguf(header: GgufHeader, ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  if (header.chatTemplate !== undefined) out.push(...checkChatTemplate(header.chatTemplate, ctx, header.chatTemplateOffset));
  for (const [key, value] of header.metadata) {
    if (key.startsWith("tokenizer.chat_template.") && typeof value === "string") {
      out.push(...checkChatTemplate(value, ctx, undefined, key));
    }
  }
  return out;
}

// ---------------------------------------------------------------- dispatch

/**
 * The content findings of one model file's description (from readModel): Keras Lambda layers,
 * SavedModel ops, ONNX external data paths, GGUF chat templates. Pickles are the pickle scanner's.
 */
export function checkModelContent(description: ModelDescription, ctx: CheckContext): Finding[] {
  switch (description.format) {
    case "keras":
    case "keras-h5":
      return checkKeras(description, ctx);
    case "tf-saved-model":
      return checkSavedModel(description, ctx);
    case "onnx":
      return checkOnnxExternalData(description, ctx);
    case "gguf":
      return checkGguf(description, ctx);
    default:
      return [];
  }
}
