/**
 * OCI images and registries without a daemon: the distribution client (pull and push, tags,
 * token/basic auth), the OCI 1.1 referrers (API and tag-schema fallback), manifests and digests,
 * OCI layouts and archives, layers.
 */
export { RegistryClient, parseRegistryReference, usesPlainHttp, nextLink, DEFAULT_UPLOAD_CHUNK_BYTES, type RegistryOptions, type RegistryReference, type PushedBlob, type PushedManifest } from "./registry.ts";
export { lookupCredentials, type RegistryCredentials } from "./auth.ts";
export { listReferrers, pushReferrer, deleteReferrer, referrersTag, referrerDescriptor, type ReferrersList, type ReferrersSource, type PushedReferrer } from "./referrers.ts";
export { digestAlgorithm, isDigest, sha256Digest, verifyDigest, parseDescriptor, parseJsonDocument, resolveManifest, type BlobSource } from "./manifest.ts";
export { DEFAULT_OCI_LIMITS, EMPTY_JSON_DESCRIPTOR, MEDIA_TYPES, isIndexMediaType, type Descriptor, type OciLimits, type Platform, type ImageConfig, type LayerRef, type ResolvedImage } from "./types.ts";
