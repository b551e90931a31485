/**
 * What a Hugging Face layout says about a model: the repository and revision from the hub cache path
 * (`models--<org>--<name>/snapshots/<revision>/`, huggingface_hub's cache layout) or from config.json's
 * `_name_or_path`; the model card's YAML front matter (huggingface/hub-docs `modelcard.md`); config.json
 * (`model_type`, `architectures`); and `pkg:huggingface` purls (package-url/purl-spec, type huggingface:
 * namespace = user or organisation, version = the commit hash, lowercased).
 */
import { createRequire } from "node:module";
import type { PackageURL as PackageUrlClass } from "packageurl-js";
import { InputError } from "../errors.ts";

/** A Hugging Face repository id: `org/name`, or a legacy name without namespace (`gpt2`). */
export interface HubRepo {
  namespace?: string;
  name: string;
  /** The commit (hub cache snapshot) when known. */
  revision?: string;
}

// Hub repo ids: letters, digits, "-", "_", "."; no "--" or ".." (huggingface_hub validate_repo_id); ≤ 96 characters.
const REPO_PART = /^(?!.*(?:--|\.\.))[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** Parses `org/name` (or a legacy `name`); undefined when the text is not a hub repository id (a local path, a URL). */
export function parseRepoId(id: string): HubRepo | undefined {
  const parts = id.split("/");
  if (parts.length === 1 && REPO_PART.test(parts[0]!) && !parts[0]!.endsWith(".")) return { name: parts[0]! };
  if (parts.length === 2 && REPO_PART.test(parts[0]!) && REPO_PART.test(parts[1]!)) return { namespace: parts[0]!, name: parts[1]! };
  return undefined;
}

/**
 * The repository and revision of a path inside a hub cache (`…/models--org--name/snapshots/<rev>/…`),
 * and the repository folder (`…/models--org--name`) that the snapshot's symlinks point into.
 */
export function hubCacheOrigin(path: string): (HubRepo & { repoDir: string; snapshotDir: string }) | undefined {
  const m = /^(.*?(?:^|\/)models--([^/]+))\/snapshots\/([^/]+)(?:\/|$)/.exec(path);
  if (!m) return undefined;
  const repoDir = m[1]!;
  const folder = m[2]!.split("--");
  const revision = m[3]!;
  const repo = folder.length === 1 ? parseRepoId(folder[0]!) : folder.length === 2 ? parseRepoId(`${folder[0]}/${folder[1]}`) : undefined;
  if (!repo) return undefined;
  return { ...repo, ...(revision ? { revision: /^[0-9a-f]{40}$/i.test(revision) ? revision.toLowerCase() : revision } : {}), repoDir, snapshotDir: `${repoDir}/snapshots/${revision}` };
}

let packageUrlClass: typeof PackageUrlClass | undefined;

/** `pkg:huggingface/<org>/<name>@<revision>` (the revision lowercased, as the purl type says). */
export function huggingFacePurl(repo: HubRepo, kind: "model" | "dataset" = "model"): string {
  packageUrlClass ??= (createRequire(import.meta.url)("packageurl-js") as { PackageURL: typeof PackageUrlClass }).PackageURL;
  // Datasets as cdxgen writes them: the datasets hub as the repository_url qualifier.
  const qualifiers = kind === "dataset" ? { repository_url: "https://huggingface.co/datasets" } : undefined;
  return new packageUrlClass("huggingface", repo.namespace, repo.name, repo.revision?.toLowerCase(), qualifiers).toString();
}

/** A model card's YAML front matter (the block between the leading `---` lines), or undefined when there is none. */
export function frontMatterText(readme: string): string | undefined {
  const text = readme.startsWith("\uFEFF") ? readme.slice(1) : readme;
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  return m ? m[1] : undefined;
}

/** The largest front matter read (a card's metadata is a few KB; model-index results can be long). */
export const MAX_FRONT_MATTER_CHARS = 1024 * 1024;

/** Parses a model card's front matter strictly (unique keys, no alias bombs); undefined without one. */
export async function parseFrontMatter(readme: string, file: string): Promise<Record<string, unknown> | undefined> {
  const text = frontMatterText(readme);
  if (text === undefined) return undefined;
  if (text.length > MAX_FRONT_MATTER_CHARS) throw new InputError(`model card front matter of ${text.length} characters is over the limit of ${MAX_FRONT_MATTER_CHARS}`, { file });
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  const err = doc.errors[0];
  if (err) throw new InputError(`model card front matter: ${err.message.split("\n")[0]}`, { file, line: (err.linePos?.[0]?.line ?? 0) + 1 });
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new InputError("model card front matter is not a mapping", { file, line: 2 });
  return value as Record<string, unknown>;
}

/** A string or a list of strings from card metadata, as a list (other values dropped). */
export function stringList(v: unknown): string[] {
  if (typeof v === "string") return v.trim() ? [v.trim()] : [];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string" && x.trim() !== "").map((x) => x.trim());
  return [];
}

/**
 * The input and output formats of a Hugging Face pipeline task (cdxgen's table, B8.1 of the reference);
 * undefined for a task not listed (never guessed).
 */
export function taskFormats(task: string): { inputs: string[]; outputs: string[] } | undefined {
  const io = TASK_FORMATS[task];
  return io ? { inputs: [io[0]], outputs: [io[1]] } : undefined;
}

const TASK_FORMATS: Readonly<Record<string, readonly [string, string]>> = {
  "text-generation": ["text", "text"],
  "text2text-generation": ["text", "text"],
  "text-classification": ["text", "text"],
  "token-classification": ["text", "text"],
  "fill-mask": ["text", "text"],
  "question-answering": ["text", "text"],
  "table-question-answering": ["table", "text"],
  summarization: ["text", "text"],
  translation: ["text", "text"],
  "zero-shot-classification": ["text", "text"],
  "sentence-similarity": ["text", "vector"],
  "feature-extraction": ["text", "vector"],
  "text-to-image": ["text", "image"],
  "image-to-text": ["image", "text"],
  "image-classification": ["image", "text"],
  "image-segmentation": ["image", "image"],
  "object-detection": ["image", "text"],
  "image-to-image": ["image", "image"],
  "depth-estimation": ["image", "image"],
  "text-to-speech": ["text", "audio"],
  "text-to-audio": ["text", "audio"],
  "automatic-speech-recognition": ["audio", "text"],
  "audio-classification": ["audio", "text"],
  "visual-question-answering": ["image", "text"],
  "image-text-to-text": ["image", "text"],
  "video-classification": ["video", "text"],
  "text-to-video": ["text", "video"],
};
