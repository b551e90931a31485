/**
 * ONNX ModelProto reader (onnx/onnx `onnx/onnx.proto`, `docs/ExternalData.md`) over the bounded
 * protobuf walker: IR version, opset imports, producer, domain, model version, doc string, metadata
 * properties, the main graph's name, inputs and outputs, node operator types and domains, and every
 * tensor stored as external data (initializers, sparse initializers, attribute tensors, in subgraphs,
 * functions and training graphs): its `location`, `offset`, `length` and `checksum` entries as
 * written. Tensor bytes (`raw_data`) are skipped, never read.
 */
import { limitError } from "./binary.ts";
import { ProtoReader, int64, type ProtoField, type ProtoLimits } from "./protobuf.ts";
import type { ByteSource } from "../../io/byte-source.ts";

export interface OnnxOptions extends Partial<ProtoLimits> {
  /** Longest name or path string (default 64 KiB). */
  maxStringBytes?: number;
  /** Longest doc string kept (default 64 KiB; longer ones are shortened). */
  maxDocStringBytes?: number;
  /** Most external-data references listed (default 1,000,000). */
  maxExternalData?: number;
}

export interface OnnxExternalData {
  /** The tensor's name. */
  tensor: string;
  /** `location` as written (relative to the model's directory by the spec; checked by checks.ts). */
  location?: string;
  offset?: string;
  length?: string;
  checksum?: string;
  /** Other keys, as written. */
  extra: Record<string, string>;
  /** Where the tensor was found: "graph", "graph/node:If_0/then_branch", "function:f", ... */
  where: string;
  /** File offset of the TensorProto. */
  fileOffset: number;
}

export interface OnnxModel {
  format: "onnx";
  irVersion?: bigint;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: bigint;
  docString?: string;
  opsetImports: { domain: string; version: bigint }[];
  metadataProps: Record<string, string>;
  graphName?: string;
  inputs: string[];
  outputs: string[];
  /** Initializers of the main graph (dense and sparse). */
  initializerCount: number;
  nodeCount: number;
  /** Operator use count by `domain:op_type` ("" domain = ai.onnx), over all graphs and functions. */
  operators: Record<string, number>;
  /** Node domains other than "", "ai.onnx" and "ai.onnx.ml" (custom operators need custom kernels). */
  customDomains: string[];
  externalData: OnnxExternalData[];
  functionNames: string[];
}

interface Ctx {
  model: OnnxModel;
  maxString: number;
  maxExternal: number;
}

/** Reads an ONNX model's structure (not its weights). */
export async function readOnnxModel(source: ByteSource, options: OnnxOptions = {}): Promise<OnnxModel> {
  const model: OnnxModel = {
    format: "onnx",
    opsetImports: [],
    metadataProps: {},
    inputs: [],
    outputs: [],
    initializerCount: 0,
    nodeCount: 0,
    operators: {},
    customDomains: [],
    externalData: [],
    functionNames: [],
  };
  const ctx: Ctx = { model, maxString: options.maxStringBytes ?? 64 * 1024, maxExternal: options.maxExternalData ?? 1_000_000 };
  const limits: Partial<ProtoLimits> = {};
  if (options.maxDepth !== undefined) limits.maxDepth = options.maxDepth;
  if (options.maxFields !== undefined) limits.maxFields = options.maxFields;
  const r = ProtoReader.open(source, limits);
  const maxDoc = options.maxDocStringBytes ?? 64 * 1024;
  for await (const f of r.fields()) {
    switch (f.number) {
      case 1: if (f.wireType === 0) model.irVersion = int64(f.value); break;
      case 2: if (f.wireType === 2) model.producerName = await r.string(f, ctx.maxString); break;
      case 3: if (f.wireType === 2) model.producerVersion = await r.string(f, ctx.maxString); break;
      case 4: if (f.wireType === 2) model.domain = await r.string(f, ctx.maxString); break;
      case 5: if (f.wireType === 0) model.modelVersion = int64(f.value); break;
      case 6: if (f.wireType === 2) model.docString = await r.string(f, maxDoc, true); break;
      case 7: if (f.wireType === 2) await readGraph(r.sub(f), "graph", ctx, true); break;
      case 8: if (f.wireType === 2) model.opsetImports.push(await readOpset(r.sub(f), ctx)); break;
      case 14: if (f.wireType === 2) {
        const [k, v] = await readEntry(r.sub(f), ctx);
        Object.defineProperty(model.metadataProps, k, { value: v, enumerable: true, writable: true, configurable: true });
      } break;
      case 20: if (f.wireType === 2) await readTrainingInfo(r.sub(f), ctx); break;
      case 25: if (f.wireType === 2) await readFunction(r.sub(f), ctx); break;
      default: break;
    }
  }
  model.customDomains.sort();
  return model;
}

async function readOpset(r: ProtoReader, ctx: Ctx): Promise<{ domain: string; version: bigint }> {
  let domain = "";
  let version = 0n;
  for await (const f of r.fields()) {
    if (f.number === 1 && f.wireType === 2) domain = await r.string(f, ctx.maxString);
    else if (f.number === 2 && f.wireType === 0) version = int64(f.value);
  }
  return { domain, version };
}

async function readEntry(r: ProtoReader, ctx: Ctx): Promise<[string, string]> {
  let key = "";
  let value = "";
  for await (const f of r.fields()) {
    if (f.number === 1 && f.wireType === 2) key = await r.string(f, ctx.maxString);
    else if (f.number === 2 && f.wireType === 2) value = await r.string(f, ctx.maxString);
  }
  return [key, value];
}

async function readName(r: ProtoReader, ctx: Ctx, field: number): Promise<string> {
  let name = "";
  for await (const f of r.fields()) if (f.number === field && f.wireType === 2) name = await r.string(f, ctx.maxString);
  return name;
}

/** GraphProto: node=1, name=2, initializer=5, input=11, output=12, sparse_initializer=15. */
async function readGraph(r: ProtoReader, where: string, ctx: Ctx, main: boolean): Promise<void> {
  for await (const f of r.fields()) {
    if (f.wireType !== 2) continue;
    switch (f.number) {
      case 1: await readNode(r.sub(f), where, ctx); if (main) ctx.model.nodeCount++; break;
      case 2: if (main) ctx.model.graphName = await r.string(f, ctx.maxString); break;
      case 5: await readTensor(r.sub(f), f, where, ctx); if (main) ctx.model.initializerCount++; break;
      case 11: if (main) ctx.model.inputs.push(await readName(r.sub(f), ctx, 1)); break;
      case 12: if (main) ctx.model.outputs.push(await readName(r.sub(f), ctx, 1)); break;
      case 15: await readSparseTensor(r.sub(f), where, ctx); if (main) ctx.model.initializerCount++; break;
      default: break;
    }
  }
}

/** NodeProto: name=3, op_type=4, attribute=5, domain=7. */
async function readNode(r: ProtoReader, where: string, ctx: Ctx): Promise<void> {
  let name = "";
  let op = "";
  let domain = "";
  const attributes: ProtoField[] = [];
  for await (const f of r.fields()) {
    if (f.wireType !== 2) continue;
    if (f.number === 3) name = await r.string(f, ctx.maxString);
    else if (f.number === 4) op = await r.string(f, ctx.maxString);
    else if (f.number === 7) domain = await r.string(f, ctx.maxString);
    else if (f.number === 5) attributes.push(f);
  }
  const key = `${domain}:${op}`;
  ctx.model.operators[key] = (ctx.model.operators[key] ?? 0) + 1;
  if (domain !== "" && domain !== "ai.onnx" && domain !== "ai.onnx.ml" && !ctx.model.customDomains.includes(domain)) ctx.model.customDomains.push(domain);
  for (const a of attributes) await readAttribute(r.sub(a), `${where}/node:${name || op}`, ctx);
}

/** AttributeProto: name=1, t=5, g=6, tensors=10, graphs=11, sparse_tensor=22, sparse_tensors=23. */
async function readAttribute(r: ProtoReader, where: string, ctx: Ctx): Promise<void> {
  let name = "";
  const nested: ProtoField[] = [];
  for await (const f of r.fields()) {
    if (f.wireType !== 2) continue;
    if (f.number === 1) name = await r.string(f, ctx.maxString);
    else if ([5, 6, 10, 11, 22, 23].includes(f.number)) nested.push(f);
  }
  const here = `${where}/${name}`;
  for (const f of nested) {
    if (f.number === 5 || f.number === 10) await readTensor(r.sub(f), f, here, ctx);
    else if (f.number === 6 || f.number === 11) await readGraph(r.sub(f), here, ctx, false);
    else await readSparseTensor(r.sub(f), here, ctx);
  }
}

/** SparseTensorProto: values=1, indices=2 (both TensorProto). */
async function readSparseTensor(r: ProtoReader, where: string, ctx: Ctx): Promise<void> {
  for await (const f of r.fields()) if ((f.number === 1 || f.number === 2) && f.wireType === 2) await readTensor(r.sub(f), f, where, ctx);
}

/** TrainingInfoProto: initialization=1, algorithm=2 (GraphProto). */
async function readTrainingInfo(r: ProtoReader, ctx: Ctx): Promise<void> {
  for await (const f of r.fields()) {
    if ((f.number === 1 || f.number === 2) && f.wireType === 2) await readGraph(r.sub(f), f.number === 1 ? "training/initialization" : "training/algorithm", ctx, false);
  }
}

/** FunctionProto: name=1, node=7. */
async function readFunction(r: ProtoReader, ctx: Ctx): Promise<void> {
  let name = "";
  const nodes: ProtoField[] = [];
  for await (const f of r.fields()) {
    if (f.wireType !== 2) continue;
    if (f.number === 1) name = await r.string(f, ctx.maxString);
    else if (f.number === 7) nodes.push(f);
  }
  ctx.model.functionNames.push(name);
  for (const n of nodes) await readNode(r.sub(n), `function:${name}`, ctx);
}

/** TensorProto: name=8, external_data=13, data_location=14 (EXTERNAL=1). */
async function readTensor(r: ProtoReader, at: ProtoField, where: string, ctx: Ctx): Promise<void> {
  let name = "";
  let location = 0n;
  const entries: [string, string][] = [];
  for await (const f of r.fields()) {
    if (f.number === 8 && f.wireType === 2) name = await r.string(f, ctx.maxString);
    else if (f.number === 13 && f.wireType === 2) entries.push(await readEntry(r.sub(f), ctx));
    else if (f.number === 14 && f.wireType === 0) location = f.value;
  }
  if (location !== 1n && entries.length === 0) return;
  if (ctx.model.externalData.length >= ctx.maxExternal) throw limitError(r.name, at.offset, "external data references", ctx.model.externalData.length + 1, ctx.maxExternal);
  const ref: OnnxExternalData = { tensor: name, extra: {}, where, fileOffset: at.offset };
  for (const [k, v] of entries) {
    if (k === "location") ref.location = v;
    else if (k === "offset") ref.offset = v;
    else if (k === "length") ref.length = v;
    else if (k === "checksum") ref.checksum = v;
    else Object.defineProperty(ref.extra, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  ctx.model.externalData.push(ref);
}
