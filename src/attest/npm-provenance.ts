/**
 * npm provenance: the attestations the npm registry serves for a package version
 * (`GET /-/npm/v1/attestations/<name>@<version>`, saved as `<package>.tgz.json`): `{attestations: [
 * {predicateType, bundle}]}` with a SLSA provenance attestation (v0.2 or v1, signed keyless by the
 * publishing workflow) and a publish attestation (`https://github.com/npm/attestation/tree/main/specs/publish/v0.1`,
 * signed by the registry's own key). As slsa-verifier's `verify-npm-package` (verifiers/internal/gha/npm.go):
 * both signatures are verified, the tarball's sha512 must be a subject of both, and the package name
 * and version must match the provenance subject (`pkg:npm/<name>@<version>`) and the publish predicate.
 *
 * The registry's attestation keys are shipped here, as the Sigstore TUF repository publishes them
 * (`registry.npmjs.org/keys.json`, read from @sigstore/tuf's seeds.json), each with its validity window:
 * a publish attestation must be logged while its key was valid.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { verificationFailure } from "../signing/verify/errors.ts";

export const NPM_PUBLISH_PREDICATE_PREFIX = "https://github.com/npm/attestation/tree/main/specs/publish/";
export const PROVENANCE_PREDICATES: ReadonlySet<string> = new Set(["https://slsa.dev/provenance/v0.2", "https://slsa.dev/provenance/v1"]);

/** npm's `npm:attestations` keys (registry.npmjs.org/keys.json in the Sigstore TUF repository). */
const NPM_ATTESTATION_KEYS: readonly { keyId: string; spki: string; start: string; end?: string }[] = [
  {
    keyId: "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
    spki: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg==",
    start: "2022-12-01T00:00:00.000Z",
    end: "2025-01-29T00:00:00.000Z",
  },
  {
    keyId: "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U",
    spki: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEY6Ya7W++7aUPzvMTrezH6Ycx3c+HOKYCcNGybJZSCJq/fd7Qa8uuAKtdIkUQtQiEKERhAmE5lMMJhP8OkDOa2g==",
    start: "2025-01-13T00:00:00.000Z",
  },
];

export interface NpmAttestationKey {
  readonly key: KeyObject;
  readonly start: Date;
  readonly end?: Date;
}

/** The registry key a publish attestation names by its hint (`SHA256:…`), or a KEY failure. */
export function npmAttestationKey(hint: string): NpmAttestationKey {
  const entry = NPM_ATTESTATION_KEYS.find((k) => k.keyId === hint);
  if (entry === undefined) throw verificationFailure("KEY", `the publish attestation is signed with ${JSON.stringify(hint)}, not a key of the npm registry`);
  return {
    key: createPublicKey({ key: Buffer.from(entry.spki, "base64"), format: "der", type: "spki" }),
    start: new Date(entry.start),
    ...(entry.end !== undefined ? { end: new Date(entry.end) } : {}),
  };
}

export interface NpmAttestations {
  /** The provenance attestation's bundle (JSON). */
  readonly provenance: unknown;
  /** The publish attestation's bundle (JSON). */
  readonly publish: unknown;
}

/** True when a parsed `.tgz.json` document is npm's attestation set (it has a publish attestation). */
export function isNpmAttestationSet(doc: unknown): boolean {
  const list = (doc as { attestations?: unknown } | null)?.attestations;
  return Array.isArray(list) && list.some((a) => typeof (a as { predicateType?: unknown } | null)?.predicateType === "string" && (a as { predicateType: string }).predicateType.startsWith(NPM_PUBLISH_PREDICATE_PREFIX));
}

/** The provenance and publish attestations of an npm attestation set (at least two, one of each; the last of each kind wins, as slsa-verifier). */
export function npmAttestations(doc: unknown, source: string): NpmAttestations {
  const list = (doc as { attestations?: unknown } | null)?.attestations;
  if (!Array.isArray(list) || list.length < 2) throw verificationFailure("BUNDLE", `${source}: invalid npm attestations: expected a provenance and a publish attestation`);
  let provenance: unknown;
  let publish: unknown;
  for (const a of list) {
    const type = (a as { predicateType?: unknown } | null)?.predicateType;
    if (typeof type !== "string") continue;
    if (PROVENANCE_PREDICATES.has(type)) provenance = (a as { bundle?: unknown }).bundle;
    if (type.startsWith(NPM_PUBLISH_PREDICATE_PREFIX)) publish = (a as { bundle?: unknown }).bundle;
  }
  if (provenance === undefined || publish === undefined) throw verificationFailure("BUNDLE", `${source}: invalid npm attestations: missing the provenance or the publish attestation`);
  return { provenance, publish };
}

/** `name@version` of an npm package spec (a scope's leading `@` kept). */
export function packageNameAndVersion(spec: string): { name: string; version: string } {
  const scoped = spec.startsWith("@");
  const parts = (scoped ? spec.slice(1) : spec).split("@");
  if (parts.length > 2) throw verificationFailure("POLICY", `invalid package name ${JSON.stringify(spec)}`);
  return { name: (scoped ? "@" : "") + parts[0], version: parts[1] ?? "" };
}

/** The package a provenance subject names (`pkg:npm/%40scope/name@1.0.0`). */
export function subjectPackage(subjects: readonly { name?: unknown }[]): { name: string; version: string } {
  if (subjects.length !== 1) throw verificationFailure("POLICY", `invalid subject: expected 1 subject, got ${subjects.length}`);
  const name = subjects[0]!.name;
  if (typeof name !== "string" || !name.startsWith("pkg:npm/")) throw verificationFailure("POLICY", `invalid package name ${JSON.stringify(name)}`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(name.slice("pkg:npm/".length).replace(/\+/g, " "));
  } catch {
    throw verificationFailure("POLICY", `invalid encoding in ${JSON.stringify(name)}`);
  }
  return packageNameAndVersion(decoded);
}
