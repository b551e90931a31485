import { open, stat } from "node:fs/promises";
import { basename, extname } from "node:path";
import { InputError, UsageError } from "../errors.ts";
import { IMAGE_SOURCES, imageSchemesText, imageSourceOf, type ImagePathScheme, type PathProbe } from "../image/sources/index.ts";
import type { Target, TargetKind } from "../model/index.ts";

/** The explicit target schemes, as syft spells them: the source-tree and model ones, then the image sources'. */
export const TARGET_SCHEMES: readonly TargetKind[] = ["dir", "file", "sbom", "model", ...IMAGE_SOURCES.map((s) => s.scheme)];

/** File endings that mark an ML model artifact. */
const MODEL_EXTENSIONS = new Set([
  ".safetensors",
  ".gguf",
  ".onnx",
  ".pt",
  ".pth",
  ".pkl",
  ".pickle",
  ".ckpt",
  ".h5",
  ".keras",
  ".npy",
  ".npz",
  ".joblib",
  ".tflite",
  ".mlmodel",
]);

/*
 * Image references as the distribution project defines them (distribution/reference, grammar in
 * reference.go): [domain[:port]/]path-component(/path-component)*[:tag][@algorithm:hex].
 */
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE_RE = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);

export interface ImageReferenceParts {
  /** Registry host, with port; undefined means Docker Hub. */
  domain?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits an image reference; returns undefined when the string is not one. */
export function parseImageReference(ref: string): ImageReferenceParts | undefined {
  if (ref.length > 4096) return undefined;
  const m = REFERENCE_RE.exec(ref);
  if (!m) return undefined;
  let domain = m[1];
  let repository = m[2] ?? "";
  // The first component is a domain only if it has a dot or a port, or is localhost (docker's rule);
  // otherwise it is part of the repository path (docker.io/library/... defaults).
  if (domain !== undefined && !/[.:]/.test(domain) && domain !== "localhost" && !domain.startsWith("[")) {
    if (domain !== domain.toLowerCase()) return undefined;
    repository = `${domain}/${repository}`;
    domain = undefined;
  }
  const parts: ImageReferenceParts = { repository };
  if (domain !== undefined) parts.domain = domain;
  if (m[3] !== undefined) parts.tag = m[3];
  if (m[4] !== undefined) parts.digest = m[4];
  return parts;
}

interface PathInfo {
  isDirectory: boolean;
  isFile: boolean;
}

async function pathInfo(path: string): Promise<PathInfo | undefined> {
  try {
    const s = await stat(path);
    return { isDirectory: s.isDirectory(), isFile: s.isFile() };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new InputError(`cannot read: ${(e as Error).message}`, { file: path });
  }
}

function notFound(path: string): InputError {
  return new InputError("no such file or directory", { file: path, code: "NOT_FOUND" });
}

/** Reads up to `max` bytes from the start of a file. */
async function readHead(path: string, max: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.alloc(max);
    const { bytesRead } = await handle.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Lists the first entry names of a plain tar archive by walking its 512-byte headers (bounded), or
 * returns undefined when the file is not a tar.
 */
async function tarEntryNames(path: string, maxEntries = 4096): Promise<string[] | undefined> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    const names: string[] = [];
    const header = Buffer.alloc(512);
    let offset = 0;
    while (names.length < maxEntries && offset + 512 <= size) {
      const { bytesRead } = await handle.read(header, 0, 512, offset);
      if (bytesRead < 512) break;
      if (header.every((b) => b === 0)) break;
      const magic = header.toString("latin1", 257, 262);
      if (magic !== "ustar") return names.length === 0 ? undefined : names;
      const name = header.toString("utf8", 0, 100).replace(/\0.*$/s, "");
      const prefix = header.toString("utf8", 345, 500).replace(/\0.*$/s, "");
      const sizeField = header.toString("latin1", 124, 136).replace(/\0.*$/s, "").trim();
      const entrySize = sizeField ? parseInt(sizeField, 8) : 0;
      if (!Number.isFinite(entrySize) || entrySize < 0) break;
      names.push((prefix ? `${prefix}/${name}` : name).replace(/^\.\//, ""));
      offset += 512 + Math.ceil(entrySize / 512) * 512;
    }
    return names;
  } finally {
    await handle.close();
  }
}

/** The image source (by list order) that recognises a plain path as one of its images. */
async function detectImage(input: string, info: PathInfo, head?: Buffer): Promise<Target | undefined> {
  let names: Promise<string[] | undefined> | undefined;
  const probe: PathProbe = {
    path: input,
    isDirectory: info.isDirectory,
    isFile: info.isFile,
    hasFile: async (relative) => (await pathInfo(`${input}/${relative}`))?.isFile === true,
    tarEntryNames: () => (names ??= head !== undefined && head.length >= 512 && head.toString("latin1", 257, 262) === "ustar" ? tarEntryNames(input) : Promise.resolve(undefined)),
  };
  for (const source of IMAGE_SOURCES) {
    if (source.location === "reference" || !source.detect) continue;
    if (await source.detect(probe)) return { kind: source.scheme as ImagePathScheme, input, path: input };
  }
  return undefined;
}

/** Decides what an existing plain path is: directory, OCI layout, SBOM, model, image archive or file. */
async function detectPath(input: string, info: PathInfo): Promise<Target> {
  if (info.isDirectory) return (await detectImage(input, info)) ?? { kind: "dir", input, path: input };
  const ext = extname(input).toLowerCase();
  const name = basename(input).toLowerCase();
  if (MODEL_EXTENSIONS.has(ext) || (ext === ".bin" && name.includes("model"))) {
    return { kind: "model", input, path: input };
  }
  const head = await readHead(input, 64 * 1024);
  const text = head.toString("utf8").trimStart();
  if (text.startsWith("{")) {
    if (/"bomFormat"\s*:\s*"CycloneDX"/.test(text) || /"spdxVersion"\s*:\s*"SPDX-/.test(text)) {
      return { kind: "sbom", input, path: input };
    }
    return { kind: "file", input, path: input };
  }
  return (await detectImage(input, info, head)) ?? { kind: "file", input, path: input };
}

/** Splits `PATH[:TAG]` for the image-layout schemes, preferring an existing path that contains a colon. */
async function splitPathTag(rest: string): Promise<{ path: string; tag?: string; info: PathInfo }> {
  const whole = await pathInfo(rest);
  if (whole) return { path: rest, info: whole };
  const colon = rest.lastIndexOf(":");
  if (colon > 0) {
    const path = rest.slice(0, colon);
    const tag = rest.slice(colon + 1);
    const info = await pathInfo(path);
    if (info && tag.length > 0) return { path, tag, info };
  }
  throw notFound(rest);
}

/**
 * Parses what a command points at, as syft does: an explicit `scheme:` prefix, or a plain path whose
 * kind is detected, or (when no such path exists) a bare image reference meaning `registry:`.
 */
export async function parseTarget(input: string): Promise<Target> {
  if (input.length === 0) throw new UsageError("empty target");
  const schemeMatch = /^([a-z][a-z-]*):(.*)$/s.exec(input);
  const scheme = schemeMatch?.[1];
  if (scheme && (TARGET_SCHEMES as readonly string[]).includes(scheme)) {
    const rest = schemeMatch[2] ?? "";
    if (rest.length === 0) throw new UsageError(`target ${input}: nothing after "${scheme}:"`);
    switch (scheme as TargetKind) {
      case "registry": {
        if (!parseImageReference(rest)) throw new UsageError(`target ${input}: not a valid image reference`);
        return { kind: "registry", input, reference: rest };
      }
      case "dir": {
        const info = await pathInfo(rest);
        if (!info) throw notFound(rest);
        if (!info.isDirectory) throw new InputError("not a directory", { file: rest });
        return { kind: "dir", input, path: rest };
      }
      case "file":
      case "sbom":
      case "model": {
        const info = await pathInfo(rest);
        if (!info) throw notFound(rest);
        if (scheme !== "model" && !info.isFile) throw new InputError("not a regular file", { file: rest });
        return { kind: scheme as "file" | "sbom" | "model", input, path: rest };
      }
      default: {
        // An image source that reads a path (src/image/sources/).
        const source = imageSourceOf(scheme);
        if (!source || source.location === "reference") throw new UsageError(`target ${input}: unknown scheme "${scheme}:"`);
        const { path, tag, info } = await splitPathTag(rest);
        if (source.location === "directory" ? !info.isDirectory : !info.isFile) throw new InputError(`not ${source.describes}`, { file: path });
        const kind = scheme as ImagePathScheme;
        return tag === undefined ? { kind, input, path } : { kind, input, path, tag };
      }
    }
  }
  if (scheme === "docker" || scheme === "podman" || scheme === "containerd") {
    throw new UsageError(`target ${input}: tollgate reads images without a daemon; use ${imageSchemesText()}`);
  }
  const info = await pathInfo(input);
  if (info) return detectPath(input, info);
  const looksLikePath = input.startsWith("/") || input.startsWith(".") || input.includes("\\");
  if (!looksLikePath && parseImageReference(input)) {
    return { kind: "registry", input, reference: input };
  }
  throw notFound(input);
}
