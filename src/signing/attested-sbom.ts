/**
 * The SBOM of an image taken from a verified attestation instead of cataloging the image
 * (`tollgate check registry:REF --sbom-sources attestation --key cosign.pub`). The attestation is
 * verified by `verifyImageAttestations`, exactly as `verify image --attestation-type` verifies it
 * (signature, key or certificate identity, transparency-log evidence the policy demands, the in-toto
 * subject naming the image's digest, the predicate type); its predicate is then read as a CycloneDX
 * or SPDX JSON document by src/sbom/read.ts. Nothing unverified is ever read as the SBOM: when no
 * attestation verifies, VerificationFailedError (exit 1) says why.
 */
import type { Sbom, Target } from "../model/index.ts";
import type { RegistryOptions } from "../oci/registry.ts";
import { InputError } from "../errors.ts";
import type { TrustedRoot } from "@sigstore/protobuf-specs";
import { predicateTypeOf } from "./attest-image.ts";
import { verifyImageAttestations, type VerifiedAttestation } from "./verify-image.ts";
import type { VerificationPolicy } from "./verify/policy.ts";

/** The SBOM attestation types check reads: cosign's `cyclonedx` and `spdx` (`spdxjson`). */
export const SBOM_ATTESTATION_TYPES = ["cyclonedx", "spdx", "spdxjson"] as const;

export interface AttestedSbomOptions {
  /** `cyclonedx` (default) or `spdx`/`spdxjson`. */
  type?: string;
  policies: readonly VerificationPolicy[];
  trustRoot: TrustedRoot;
  registry?: RegistryOptions;
  /** Legacy `.att` attestations in another repository (COSIGN_REPOSITORY). */
  signatureRepository?: string;
}

export interface AttestedSbom {
  sbom: Sbom;
  imageDigest: string;
  /** The attestation read: where it is (`registry/repo:sha256-….att layer N` or the referrer), its format. */
  attestation: Pick<VerifiedAttestation, "format" | "source" | "predicateType">;
  /** Who signed it: the key id (hex SHA-256 of the SPKI) or the certificate's identity. */
  signer: string;
  /** How many attestations of the type verified (the last one written is read). */
  verifiedCount: number;
  /** One line for the report: where the SBOM came from. */
  description: string;
}

function signerOf(v: VerifiedAttestation): string {
  const s = v.result.signer;
  return s.kind === "certificate" ? `${s.subject} (issuer ${s.issuer})` : `key ${s.keyId}`;
}

/** Verifies the image's SBOM attestation and reads its predicate as the SBOM (see the module comment). */
export async function sbomFromAttestation(target: Extract<Target, { kind: "registry" }>, options: AttestedSbomOptions): Promise<AttestedSbom> {
  const type = (options.type ?? "cyclonedx").toLowerCase();
  if (!(SBOM_ATTESTATION_TYPES as readonly string[]).includes(type)) {
    throw new InputError(`--attestation-type ${JSON.stringify(type.slice(0, 100))}: an SBOM is read from a cyclonedx or spdx attestation`);
  }
  const predicateType = predicateTypeOf(type);
  const result = await verifyImageAttestations(target.reference, predicateType, {
    policies: options.policies,
    trustRoot: options.trustRoot,
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.signatureRepository !== undefined ? { signatureRepository: options.signatureRepository } : {}),
  });
  // The `.att` layers are appended, referrers listed after them: the last verified one is the newest written.
  const chosen = result.verified[result.verified.length - 1];
  if (chosen === undefined) throw new InputError(`${target.reference}: no verified attestation`); // verifyImageAttestations throws first
  const predicate = chosen.statement.predicate;
  const { readSbomDocument } = await import("../sbom/read.ts");
  const where = `${chosen.source} (predicate of the ${type} attestation)`;
  const sbom = readSbomDocument(predicate, where, target);
  sbom.metadata.target = target;
  const signer = signerOf(chosen);
  const description = `SBOM from the verified ${type} attestation ${chosen.source} of ${result.imageDigest}, signed by ${signer} (${chosen.format} format; not re-cataloged)`;
  return { sbom, imageDigest: result.imageDigest, attestation: { format: chosen.format, source: chosen.source, predicateType: chosen.predicateType }, signer, verifiedCount: result.verified.length, description };
}
