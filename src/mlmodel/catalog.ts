/**
 * The ML-BOM cataloger: model files offered by the one walk (by name: weights, pickles, ONNX, GGUF,
 * SavedModel) are read header-only through ranges; when the walk ends they are grouped into models
 * (a directory with weights and a config or card, else each file alone), hashed with SHA-256 in
 * worker threads, and described as CycloneDX components: one `machine-learning-model` per model with
 * its model card, purl and pedigree, one `file` per weight file, one `data` per dataset named.
 */
import { createHash } from "node:crypto";
import { basename, join, posix } from "node:path";
import type { CatalogResult, ExtractInput, FileEntry, VirtualFs } from "../collect/types.ts";
import type { ModelCatalogerOptions } from "../catalogers/model/ml-model.ts";
import { formatErrorLine } from "../errors.ts";
import { hashFilesWithSize } from "../io/hash-files.ts";
import type { CollectProblem, Component, Finding, ModelCard, PedigreeAncestor } from "../model/index.ts";
import { cycloneDxLibrary } from "../sbom/cyclonedx.ts";
import { scanContent } from "./content-scan.ts";
import type { ByteSource } from "../io/byte-source.ts";
import { isJsonObject, parseStrictJson, type JsonValue } from "./formats/strict-json.ts";
import { frontMatterText, hubCacheOrigin, huggingFacePurl, parseFrontMatter, parseRepoId, stringList, taskFormats, type HubRepo } from "./huggingface.ts";
import { ggufString, ggufStrings, probeFile, sniffFormat, type FileFacts } from "./probe.ts";

/** The cataloger's name (`foundBy`, problem sources). */
export const MODEL_CATALOGER = "ml-model";

/** The most a companion file (config.json, README.md) may weigh. */
const MAX_COMPANION_BYTES = 4 * 1024 * 1024;

/** One model file as read during the walk. */
export interface ModelFile {
  entry: FileEntry;
  facts: FileFacts;
  sha256?: string;
}

/**
 * Reads one offered file: format, header facts, content scan, and (on filesystems without local
 * paths) its hash. Undefined when the file is not a model (a `.bin` that is firmware).
 */
export async function readModelFile(input: ExtractInput, problems: CollectProblem[]): Promise<ModelFile | undefined> {
  const { entry, fs } = input;
  const source = input.source as ByteSource | undefined;
  if (!source) throw new Error("the model cataloger reads ranges: collect gave it no source");
  const format = await sniffFormat(entry.path, source);
  if (!format) return undefined;
  let facts: FileFacts;
  try {
    facts = await probeFile(format, source);
  } catch (e) {
    // Unreadable header: the file stays in the inventory, the problem fails the gate (unreadable: fail).
    facts = { format, properties: { "tollgate:model:format": format }, findings: [], problems: [] };
    problems.push({ source: MODEL_CATALOGER, file: entry.path, message: formatErrorLine(e) });
  }
  const scan = await scanContent(entry.path, facts, source);
  for (const f of scan.findings) facts.findings.push(f);
  for (const p of [...facts.problems, ...scan.problems]) problems.push(p);
  const file: ModelFile = { entry, facts };
  // Without local paths (image layers) the bytes are here already: hash them now.
  if (!fs.localPath) file.sha256 = await hashSource(source);
  return file;
}

/** SHA-256 of a source read in 8 MiB ranges (memory sources hand out views: no copy). */
async function hashSource(source: ByteSource): Promise<string> {
  const h = createHash("sha256");
  const step = 8 * 1024 * 1024;
  for (let off = 0; off < source.size; off += step) h.update(await source.read(off, Math.min(step, source.size - off)));
  return h.digest("hex");
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** The folder a file's model lives in: a SavedModel's `variables/` files belong to the folder above. */
function modelDirOf(f: ModelFile): string {
  const d = dirOf(f.entry.path);
  if (f.facts.format === "tf-variables" && posix.basename(d) === "variables") return dirOf(d);
  return d;
}

interface Companions {
  config?: { [key: string]: JsonValue };
  card?: Record<string, unknown>;
  configFile?: string;
  readmeFile?: string;
  grouped: boolean;
}

async function readCompanion(fs: VirtualFs, path: string, problems: CollectProblem[]): Promise<string | undefined> {
  if (!(await fs.exists(path))) return undefined;
  try {
    return (await fs.readFile(path, MAX_COMPANION_BYTES)).toString("utf8");
  } catch (e) {
    problems.push({ source: MODEL_CATALOGER, file: path, message: formatErrorLine(e) });
    return undefined;
  }
}

/** config.json and README.md front matter of a model folder (each optional; a bad one is a problem). */
async function companions(fs: VirtualFs, dir: string, problems: CollectProblem[]): Promise<Companions> {
  const at = (n: string): string => (dir ? `${dir}/${n}` : n);
  const out: Companions = { grouped: false };
  const configText = await readCompanion(fs, at("config.json"), problems);
  if (configText !== undefined) {
    out.grouped = true;
    try {
      const v = parseStrictJson(configText, at("config.json"));
      if (isJsonObject(v)) {
        out.config = v;
        out.configFile = at("config.json");
      }
    } catch (e) {
      problems.push({ source: MODEL_CATALOGER, file: at("config.json"), message: formatErrorLine(e) });
    }
  }
  for (const marker of ["model_index.json", "adapter_config.json", "saved_model.pb"]) if (!out.grouped && (await fs.exists(at(marker)))) out.grouped = true;
  const readme = await readCompanion(fs, at("README.md"), problems);
  if (readme !== undefined && frontMatterText(readme) !== undefined) {
    try {
      out.card = await parseFrontMatter(readme, at("README.md"));
      out.readmeFile = at("README.md");
      out.grouped = true;
    } catch (e) {
      problems.push({ source: MODEL_CATALOGER, file: at("README.md"), message: formatErrorLine(e) });
    }
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

function addLicense(list: string[], raw: string | undefined, card?: Record<string, unknown>): void {
  if (!raw) return;
  let l = raw;
  if (l.toLowerCase() === "other") l = str(card?.license_name) ?? "other";
  // Hugging Face writes SPDX ids lowercased (apache-2.0); the SPDX list's spelling when it is one.
  const fixed = spdxFix(l);
  const v = fixed ?? l;
  if (!list.includes(v)) list.push(v);
}

/** The SPDX list's spelling of an id (the CycloneDX library's list, loaded on first use), or undefined. */
function spdxFix(id: string): string | undefined {
  return cycloneDxLibrary().Spdx.fixupSpdxId(id);
}

function ancestor(id: string): PedigreeAncestor {
  const repo = parseRepoId(id);
  return repo ? { name: id, purl: huggingFacePurl(repo), type: "machine-learning-model" } : { name: id, type: "machine-learning-model" };
}

function datasetComponent(id: string, foundAt: string): Component {
  const repo = parseRepoId(id);
  const purl = repo ? huggingFacePurl(repo, "dataset") : undefined;
  return {
    ref: purl ?? `dataset:${id}`,
    name: id,
    ...(purl ? { purl } : {}),
    type: "data",
    hashes: [],
    licenses: [],
    locations: [{ path: foundAt }],
    dependencies: [],
    foundBy: MODEL_CATALOGER,
  };
}

/** The model components of the files offered, grouped, hashed and described. */
export async function describeModels(files: readonly ModelFile[], fs: VirtualFs, options: ModelCatalogerOptions): Promise<CatalogResult> {
  const problems: CollectProblem[] = [];
  const components: Component[] = [];
  const findings: Finding[] = [];
  if (files.length === 0) return { components, problems, findings };

  // Hash what was not hashed during the walk: in worker threads, in parallel, memory flat.
  const toHash = files.filter((f) => f.sha256 === undefined);
  if (toHash.length > 0 && fs.localPath) {
    const local = new Map<string, ModelFile[]>();
    for (const f of toHash) {
      try {
        const p = await fs.localPath(f.entry.path);
        local.set(p, [...(local.get(p) ?? []), f]);
      } catch (e) {
        problems.push({ source: MODEL_CATALOGER, file: f.entry.path, message: formatErrorLine(e) });
      }
    }
    const digests = await hashFilesWithSize([...local.keys()], options.hashConcurrency !== undefined ? { concurrency: options.hashConcurrency } : {});
    for (const [p, list] of local) for (const f of list) f.sha256 = digests.get(p)?.sha256;
  }

  // Group by folder: a folder with a config, card or SavedModel is one model; otherwise each file is one.
  const byDir = new Map<string, ModelFile[]>();
  // Path order, whatever order the filesystem offered them in (image layers come top-down).
  for (const f of [...files].sort((a, b) => (a.entry.path < b.entry.path ? -1 : a.entry.path > b.entry.path ? 1 : 0))) {
    const d = modelDirOf(f);
    byDir.set(d, [...(byDir.get(d) ?? []), f]);
  }
  const datasets = new Map<string, Component>();
  for (const [dir, list] of byDir) {
    const comp = await companions(fs, dir, problems);
    const full = options.rootPath ? join(options.rootPath, dir) : dir;
    const hub = hubCacheOrigin(`${full}/`);
    if (comp.grouped || hub) {
      describeModel(dir, list, comp, hub, components, findings, datasets);
    } else {
      for (const f of list) describeModel(f.entry.path, [f], { grouped: false }, undefined, components, findings, datasets);
    }
  }
  for (const d of datasets.values()) components.push(d);
  return { components, problems, findings };
}

/** One model: its files, card, purl, pedigree; pushes its components and its files' findings. */
function describeModel(
  where: string,
  list: readonly ModelFile[],
  comp: Companions,
  hub: HubRepo | undefined,
  components: Component[],
  findings: Finding[],
  datasets: Map<string, Component>,
): void {
  const single = list.length === 1 && !comp.grouped && !hub ? list[0] : undefined;
  const config = comp.config;
  const card = comp.card;
  const gguf = list.find((f) => f.facts.gguf)?.facts.gguf;

  // Origin: the hub cache path, else config.json's `_name_or_path` when it is an org/name id.
  let repo: HubRepo | undefined = hub ? { ...(hub.namespace ? { namespace: hub.namespace } : {}), name: hub.name, ...(hub.revision ? { revision: hub.revision } : {}) } : undefined;
  const nameOrPath = str(config?._name_or_path);
  if (!repo && nameOrPath) {
    const r = parseRepoId(nameOrPath);
    if (r?.namespace) repo = r;
  }
  const purl = repo ? huggingFacePurl(repo) : undefined;
  const repoName = repo ? (repo.namespace ? `${repo.namespace}/${repo.name}` : repo.name) : undefined;
  const name = repoName ?? ggufString(gguf?.metadata.get("general.name")) ?? (single ? basename(single.entry.path) : basename(where) || basename(list[0]!.entry.path));
  const version = repo?.revision ?? ggufString(gguf?.metadata.get("general.version"));

  // The files.
  const fileRefs: string[] = [];
  for (const f of list) {
    const ref = `file:${f.entry.path}`;
    const fc: Component = {
      ref,
      name: f.entry.path,
      type: "file",
      hashes: f.sha256 ? [{ alg: "SHA-256", content: f.sha256 }] : [],
      licenses: [],
      locations: [{ path: f.entry.path, ...(f.entry.layer ? { layer: f.entry.layer } : {}) }],
      dependencies: [],
      foundBy: MODEL_CATALOGER,
      properties: { ...f.facts.properties },
    };
    components.push(fc);
    fileRefs.push(ref);
    for (const finding of f.facts.findings) findings.push({ ...finding, component: fc });
  }

  // The model card.
  const modelCard: ModelCard = { datasets: [], inputs: [], outputs: [] };
  const task = str(card?.pipeline_tag);
  if (task) {
    modelCard.task = task;
    const io = taskFormats(task);
    if (io) {
      modelCard.inputs = io.inputs.map((format) => ({ format }));
      modelCard.outputs = io.outputs.map((format) => ({ format }));
    }
  }
  const family = str(config?.model_type) ?? (gguf?.architecture || undefined) ?? str(card?.library_name);
  if (family) modelCard.architectureFamily = family;
  const architectures = Array.isArray(config?.architectures) ? config.architectures.filter((a): a is string => typeof a === "string") : [];
  if (architectures[0]) modelCard.modelArchitecture = architectures[0];
  const cardProps: Record<string, string> = {};
  const langs = stringList(card?.language);
  if (langs.length > 0) cardProps["tollgate:model:language"] = langs.join(",");
  const library = str(card?.library_name);
  if (library) cardProps["tollgate:model:libraryName"] = library;
  const relation = str(card?.base_model_relation);
  if (relation) cardProps["tollgate:model:baseModelRelation"] = relation;
  const tags = stringList(card?.tags).slice(0, 64);
  if (tags.length > 0) cardProps["tollgate:model:tags"] = tags.join(",");
  if (Object.keys(cardProps).length > 0) modelCard.properties = cardProps;
  const foundAt = comp.readmeFile ?? (gguf ? list.find((f) => f.facts.gguf)!.entry.path : where);
  for (const id of [...stringList(card?.datasets), ...ggufStrings(gguf?.metadata.get("general.datasets"))]) {
    let d = datasets.get(id);
    if (!d) datasets.set(id, (d = datasetComponent(id, foundAt)));
    if (!modelCard.datasets.some((x) => x.ref === d.ref)) modelCard.datasets.push({ ref: d.ref, name: id });
  }

  // Licenses: the card's, else GGUF general.license.
  const licenses: string[] = [];
  addLicense(licenses, str(card?.license), card);
  if (licenses.length === 0) addLicense(licenses, ggufString(gguf?.metadata.get("general.license")));

  // Pedigree: base_model (a string or a list), GGUF general.base_model.N.*.
  const ancestors: PedigreeAncestor[] = stringList(card?.base_model).map(ancestor);
  const baseCount = Number(gguf?.metadata.get("general.base_model.count") ?? 0);
  for (let i = 0; i < Math.min(baseCount, 16); i++) {
    const m = gguf!.metadata;
    const url = ggufString(m.get(`general.base_model.${i}.repo_url`));
    const hf = url ? /^https:\/\/huggingface\.co\/([^/?#]+\/[^/?#]+)\/?$/.exec(url) : null;
    const org = ggufString(m.get(`general.base_model.${i}.organization`));
    const bname = ggufString(m.get(`general.base_model.${i}.name`));
    const a: PedigreeAncestor = hf ? ancestor(hf[1]!) : { name: org && bname ? `${org}/${bname}` : (bname ?? `base model ${i}`), type: "machine-learning-model" };
    const bver = ggufString(m.get(`general.base_model.${i}.version`));
    if (bver) a.version = bver;
    if (!ancestors.some((x) => x.name === a.name)) ancestors.push(a);
  }

  // Model properties: what the files say together.
  const props: Record<string, string> = {};
  props["tollgate:model:format"] = [...new Set(list.map((f) => f.facts.format))].sort().join(",");
  props["tollgate:model:fileCount"] = String(list.length);
  const counted = list.filter((f) => f.facts.parameterCount !== undefined);
  if (counted.length > 0) props["tollgate:model:parameterCount"] = counted.reduce((s, f) => s + f.facts.parameterCount!, 0n).toString();
  const dtypeSet = new Set(list.flatMap((f) => (f.facts.properties["tollgate:model:dtypes"] ?? "").split(",").filter(Boolean)));
  if (dtypeSet.size > 0) props["tollgate:model:dtypes"] = [...dtypeSet].sort().join(",");
  for (const f of list) if (f.facts.properties["tollgate:model:quantization"]) props["tollgate:model:quantization"] = f.facts.properties["tollgate:model:quantization"];
  const torchDtype = str(config?.torch_dtype);
  if (torchDtype) props["tollgate:model:hf:torchDtype"] = torchDtype;
  const tfVersion = str(config?.transformers_version);
  if (tfVersion) props["tollgate:model:hf:transformersVersion"] = tfVersion;
  const qc = config?.quantization_config;
  if (isJsonObject(qc ?? undefined) && typeof (qc as Record<string, JsonValue>).quant_method === "string") props["tollgate:model:quantization"] = String((qc as Record<string, JsonValue>).quant_method);
  if (isJsonObject(config?.auto_map ?? undefined)) props["tollgate:model:hf:customCode"] = "auto_map (loading needs trust_remote_code)";
  if (comp.configFile) props["tollgate:model:hf:config"] = comp.configFile;
  if (comp.readmeFile) props["tollgate:model:hf:modelCard"] = comp.readmeFile;
  const ggufUrl = ggufString(gguf?.metadata.get("general.repo_url")) ?? ggufString(gguf?.metadata.get("general.url"));
  if (ggufUrl) props["tollgate:model:url"] = ggufUrl;

  const model: Component = {
    ref: purl ?? `model:${where || "."}`,
    name,
    ...(version ? { version } : {}),
    ...(purl ? { purl } : {}),
    type: "machine-learning-model",
    hashes: single?.sha256 ? [{ alg: "SHA-256", content: single.sha256 }] : [],
    licenses,
    locations: [{ path: where || ".", ...(list[0]!.entry.layer ? { layer: list[0]!.entry.layer } : {}) }],
    dependencies: fileRefs,
    foundBy: MODEL_CATALOGER,
    properties: props,
    modelCard,
    ...(ancestors.length > 0 ? { pedigree: { ancestors } } : {}),
  };
  components.push(model);
}
