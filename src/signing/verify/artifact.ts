/**
 * The artifact a bundle is checked against: a file's bytes, or only its SHA-256 digest
 * (`sha256:<64 hex>`, as the sigstore-conformance client contract allows). A digest argument is taken
 * as a digest only when it has exactly that form and is not the path of an existing file; anything
 * else is a path.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readVerificationInput } from "./bundle.ts";

/** Artifacts are read whole (the signature is verified over the bytes): 4 GiB at most. */
export const MAX_ARTIFACT_BYTES = 4 * 1024 * 1024 * 1024 - 1;

export type ArtifactInput =
  | { readonly kind: "file"; readonly path: string; readonly bytes: Buffer }
  | { readonly kind: "digest"; readonly algorithm: "sha256"; readonly digest: Buffer };

const DIGEST_ARGUMENT = /^sha256:([0-9a-fA-F]{64})$/;

/** True when `arg` is to be read as a digest rather than a path (see the module comment). */
export function isDigestArgument(arg: string): boolean {
  return DIGEST_ARGUMENT.test(arg) && !existsSync(arg);
}

/** Reads the artifact argument: a `sha256:` digest, or a file read whole. */
export async function readArtifactArgument(arg: string): Promise<ArtifactInput> {
  const m = DIGEST_ARGUMENT.exec(arg);
  if (m?.[1] !== undefined && !existsSync(arg)) return { kind: "digest", algorithm: "sha256", digest: Buffer.from(m[1], "hex") };
  return { kind: "file", path: arg, bytes: await readVerificationInput(arg, MAX_ARTIFACT_BYTES, "artifact") };
}

/** An artifact given as bytes (library callers). */
export function artifactFromBytes(bytes: Buffer, path = "(bytes)"): ArtifactInput {
  return { kind: "file", path, bytes };
}

/** The artifact's digest with `algorithm` (node:crypto name), or undefined when only another digest is known. */
export function artifactDigest(artifact: ArtifactInput, algorithm: string): Buffer | undefined {
  if (artifact.kind === "file") return createHash(algorithm).update(artifact.bytes).digest();
  return algorithm === artifact.algorithm ? artifact.digest : undefined;
}

/** How the artifact is named in messages. */
export function describeArtifact(artifact: ArtifactInput): string {
  return artifact.kind === "file" ? artifact.path : `sha256:${artifact.digest.toString("hex")}`;
}
