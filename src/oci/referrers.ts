/**
 * The OCI 1.1 referrers: manifests whose `subject` names another manifest (signatures, attestations,
 * SBOMs attached to an image). Listed with the referrers API (GET /v2/<name>/referrers/<digest>) and,
 * where a registry answers that with 404 (distribution 2.8, many others), with the referrers tag
 * schema: an image index under the tag `<alg>-<encoded>` that pushing clients keep up to date
 * (distribution-spec "Pushing Manifests with Subject", "Unavailable Referrers API").
 */
import { InputError, UsageError, VerificationFailedError } from "../errors.ts";
import { digestAlgorithm, parseDescriptor, parseJsonDocument, sha256Digest } from "./manifest.ts";
import type { RegistryClient } from "./registry.ts";
import { DEFAULT_OCI_LIMITS, MEDIA_TYPES, type Descriptor } from "./types.ts";

/** Where a referrers list came from. */
export type ReferrersSource = "referrers-api" | "tag-schema";

export interface ReferrersList {
  /**
   * The referrers' descriptors (with `artifactType` and annotations), as the registry or the tag's
   * index lists them. Anyone with push access writes the tag's index: a reader that relies on a
   * referrer fetches it by digest (verified) and checks its `subject`.
   */
  manifests: Descriptor[];
  source: ReferrersSource;
}

/**
 * The referrers tag schema's tag for a digest: the algorithm truncated to 32 characters, `-`, the
 * encoded part truncated to 64, characters a tag may not hold replaced with `-`.
 */
export function referrersTag(digest: string): string {
  const colon = digest.indexOf(":");
  if (colon <= 0 || colon === digest.length - 1) throw new UsageError(`${digest.slice(0, 140)}: not a digest`);
  return `${digest.slice(0, colon).slice(0, 32)}-${digest.slice(colon + 1).slice(0, 64)}`.replace(/[^a-zA-Z0-9_.-]/g, "-");
}

function indexDescriptors(doc: Record<string, unknown>, where: string): Descriptor[] {
  if (!Array.isArray(doc.manifests)) throw new InputError("image index without manifests", { file: where });
  return doc.manifests.map((m, i) => parseDescriptor(m, `${where}: manifests[${i}]`));
}

function isImageIndex(doc: Record<string, unknown>, contentType: string | undefined): boolean {
  const mediaType = typeof doc.mediaType === "string" ? doc.mediaType : contentType;
  return mediaType === MEDIA_TYPES.ociIndex && Array.isArray(doc.manifests);
}

/** The tag schema's index for a subject: undefined when the tag does not exist. */
async function readTagIndex(client: RegistryClient, subject: string, maxBytes: number): Promise<{ doc: Record<string, unknown>; contentType?: string } | undefined> {
  const tag = referrersTag(subject);
  let m: Awaited<ReturnType<RegistryClient["getManifest"]>>;
  try {
    m = await client.getManifest(tag, maxBytes);
  } catch (e) {
    if (e instanceof InputError && e.code === "NOT_FOUND") return undefined;
    throw e;
  }
  const doc = parseJsonDocument(m.body, `${client.description}:${tag}`);
  return m.mediaType ? { doc, contentType: m.mediaType } : { doc };
}

function dedupe(list: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return list.filter((d) => !seen.has(d.digest) && (seen.add(d.digest), true));
}

/**
 * The referrers of a manifest, optionally only those of one artifact type: the referrers API, else
 * (on 404) the tag schema's index. The artifactType filter is sent to the registry and applied
 * here too (a registry may ignore it); a tag that holds something other than an image index means no
 * referrers, as the spec says.
 */
export async function listReferrers(client: RegistryClient, subject: string, options: { artifactType?: string; maxBytes?: number } = {}): Promise<ReferrersList> {
  digestAlgorithm(subject, client.description);
  const maxBytes = options.maxBytes ?? DEFAULT_OCI_LIMITS.maxManifestBytes;
  const query = options.artifactType !== undefined ? `?artifactType=${encodeURIComponent(options.artifactType)}` : "";
  const where = `${client.description}: referrers of ${subject}`;
  const found: Descriptor[] = [];
  let source: ReferrersSource = "referrers-api";
  for await (const page of client.pages(`/v2/${client.ref.repository}/referrers/${subject}${query}`, MEDIA_TYPES.ociIndex, maxBytes, `referrers of ${subject}`)) {
    if (!page) {
      source = "tag-schema";
      break;
    }
    found.push(...indexDescriptors(parseJsonDocument(page.body, where), where));
  }
  if (source === "tag-schema") {
    const tagged = await readTagIndex(client, subject, maxBytes);
    if (tagged && isImageIndex(tagged.doc, tagged.contentType)) found.push(...indexDescriptors(tagged.doc, `${client.description}:${referrersTag(subject)}`));
  }
  // Filtered here whether or not the registry says it applied the filter (OCI-Filters-Applied): its answer is not trusted to.
  const wanted = options.artifactType === undefined ? found : found.filter((d) => d.artifactType === options.artifactType);
  return { manifests: dedupe(wanted), source };
}

/**
 * The descriptor a referrers list holds for a manifest: its media type, digest and size, its
 * `artifactType` (else, for an image manifest, its config's media type) and its annotations.
 */
export function referrerDescriptor(doc: Record<string, unknown>, mediaType: string, digest: string, size: number): Descriptor {
  const d: Descriptor = { mediaType, digest, size };
  const config = doc.config as { mediaType?: unknown } | undefined;
  if (typeof doc.artifactType === "string" && doc.artifactType !== "") d.artifactType = doc.artifactType;
  else if (mediaType !== MEDIA_TYPES.ociIndex && typeof config?.mediaType === "string") d.artifactType = config.mediaType;
  if (doc.annotations && typeof doc.annotations === "object" && !Array.isArray(doc.annotations)) {
    const annotations = Object.entries(doc.annotations as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string");
    if (annotations.length > 0) d.annotations = Object.fromEntries(annotations);
  }
  return d;
}

export interface PushedReferrer {
  digest: string;
  size: number;
  subject: string;
  /** The descriptor listed for it. */
  descriptor: Descriptor;
  /** The registry took the subject itself (`OCI-Subject`), or the tag schema's index was updated. */
  via: ReferrersSource;
}

/**
 * Pushes a manifest that has a `subject`, by digest. When the registry does not answer
 * `OCI-Subject` (no referrers API), the tag schema's index is read, the manifest's descriptor is
 * appended unless it is there already (every other entry kept as it was), and the index is pushed
 * back under the same tag. The read-modify-write is not atomic: two clients adding referrers to one
 * subject at the same moment can lose one entry (the spec leaves this to clients and registries with
 * the API).
 */
export async function pushReferrer(client: RegistryClient, manifest: Uint8Array, mediaType: string, options: { maxBytes?: number } = {}): Promise<PushedReferrer> {
  const maxBytes = options.maxBytes ?? DEFAULT_OCI_LIMITS.maxManifestBytes;
  const doc = parseJsonDocument(Buffer.from(manifest), `${client.description}: referrer to push`);
  if (doc.subject === undefined) throw new UsageError(`${client.description}: the manifest to push as a referrer has no subject`);
  const subject = parseDescriptor(doc.subject, `${client.description}: referrer subject`).digest;
  const pushed = await client.putManifest(manifest, mediaType, sha256Digest(manifest));
  const descriptor = referrerDescriptor(doc, mediaType, pushed.digest, pushed.size);
  const result = { digest: pushed.digest, size: pushed.size, subject, descriptor };
  if (pushed.ociSubject !== undefined) {
    if (pushed.ociSubject !== subject) {
      throw new VerificationFailedError(`${client.description}: the registry answered OCI-Subject ${pushed.ociSubject.slice(0, 140)} for a referrer of ${subject}`, {
        reason: "DIGEST_MISMATCH",
      });
    }
    return { ...result, via: "referrers-api" };
  }
  await addToTagIndex(client, subject, descriptor, maxBytes);
  return { ...result, via: "tag-schema" };
}

/** Adds a descriptor to the tag schema's index of a subject (an empty index when there is none). */
async function addToTagIndex(client: RegistryClient, subject: string, descriptor: Descriptor, maxBytes: number): Promise<void> {
  const tag = referrersTag(subject);
  const where = `${client.description}:${tag}`;
  const existing = await readTagIndex(client, subject, maxBytes);
  let index: Record<string, unknown>;
  if (existing === undefined) index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  else if (!isImageIndex(existing.doc, existing.contentType)) {
    throw new InputError(`the referrers tag ${tag} holds something other than an image index; not overwritten`, { file: client.description });
  } else index = existing.doc;
  const entries = index.manifests as unknown[];
  // Parsed to check them; the stored objects are written back as they were.
  const listed = indexDescriptors(index, where);
  if (listed.some((d) => d.digest === descriptor.digest)) return;
  index.manifests = [...entries, descriptor];
  if (index.mediaType === undefined) index.mediaType = MEDIA_TYPES.ociIndex;
  await client.putManifest(Buffer.from(JSON.stringify(index)), MEDIA_TYPES.ociIndex, tag);
}

/**
 * Deletes a referrer by digest and, on a registry without the referrers API, removes it from its
 * subject's tag-schema index (every other entry kept). The manifest is read first (verified by its
 * digest) to learn its subject; it is deleted before the index is rewritten, so a failure in between
 * leaves an entry that names a missing manifest, which readers skip.
 */
export async function deleteReferrer(client: RegistryClient, digest: string, options: { maxBytes?: number } = {}): Promise<{ subject: string; via: ReferrersSource }> {
  const maxBytes = options.maxBytes ?? DEFAULT_OCI_LIMITS.maxManifestBytes;
  const m = await client.getManifest(digest, maxBytes);
  const doc = parseJsonDocument(m.body, `${client.description}@${digest}`);
  if (doc.subject === undefined) throw new UsageError(`${client.description}@${digest}: not a referrer (the manifest has no subject)`);
  const subject = parseDescriptor(doc.subject, `${client.description}@${digest}: subject`).digest;
  await client.deleteManifest(digest);
  let api = false;
  for await (const page of client.pages(`/v2/${client.ref.repository}/referrers/${subject}`, MEDIA_TYPES.ociIndex, maxBytes, `referrers of ${subject}`)) {
    api = page !== undefined;
    break;
  }
  if (api) return { subject, via: "referrers-api" };
  const tag = referrersTag(subject);
  const existing = await readTagIndex(client, subject, maxBytes);
  if (!existing || !isImageIndex(existing.doc, existing.contentType)) return { subject, via: "tag-schema" };
  const entries = existing.doc.manifests as unknown[];
  const listed = indexDescriptors(existing.doc, `${client.description}:${tag}`);
  const kept = entries.filter((_, i) => listed[i]?.digest !== digest);
  if (kept.length !== entries.length) {
    existing.doc.manifests = kept;
    await client.putManifest(Buffer.from(JSON.stringify(existing.doc)), MEDIA_TYPES.ociIndex, tag);
  }
  return { subject, via: "tag-schema" };
}
