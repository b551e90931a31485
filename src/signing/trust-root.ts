/**
 * Sigstore trust roots (`trusted_root.json`, the `dev.sigstore.trustroot.v1.TrustedRoot` message): the
 * Fulcio certificate authorities, the Rekor transparency logs, the certificate transparency logs and
 * the timestamp authorities a bundle is verified against, each with the time window it is trusted for.
 *
 * Loaded from a file (`--trusted-root`) or, by default, the public-good root shipped with tollgate
 * (`public-good-trusted-root.ts`). A trust root is checked strictly when loaded: a malformed one is a
 * `VerificationFailedError` with reason `TRUST_ROOT` (a verification that cannot know what to trust
 * fails closed), never read with a guessed default (a missing `validFor.start` is not "since forever").
 */
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { InputError, isTollgateError, VerificationFailedError } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from "./public-good-trusted-root.ts";

/** A trusted root file is a few kilobytes; anything past this is not one. */
export const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;

export const TRUSTED_ROOT_MEDIA_TYPE_PREFIX = "application/vnd.dev.sigstore.trustedroot";

export interface LoadedTrustRoot {
  readonly root: TrustedRoot;
  /** Where it came from: the file path, or "public-good (shipped)". */
  readonly source: string;
}

function malformed(source: string, problem: string): VerificationFailedError {
  return new VerificationFailedError(`trusted root ${source}: ${problem}`, { reason: "TRUST_ROOT" });
}

/**
 * Parses and checks a trusted root given as JSON text. Every transparency log, CT log, certificate
 * authority and timestamp authority must have key material (or a certificate chain) and the start of
 * its validity window; the end may be open (a current key).
 */
export function parseTrustedRoot(text: string, source: string): TrustedRoot {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw malformed(source, `not JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw malformed(source, "not a JSON object");
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== "string" || !mediaType.startsWith(TRUSTED_ROOT_MEDIA_TYPE_PREFIX)) {
    throw malformed(source, `mediaType ${JSON.stringify(mediaType)} is not a Sigstore trusted root`);
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
  } catch (e) {
    throw malformed(source, (e as Error).message);
  }
  for (const [field, logs] of [
    ["tlogs", root.tlogs],
    ["ctlogs", root.ctlogs],
  ] as const) {
    logs.forEach((log, i) => {
      const where = `${field}[${i}] (${log.baseUrl || "no baseUrl"})`;
      if (!log.publicKey?.rawBytes || log.publicKey.rawBytes.length === 0) throw malformed(source, `${where} has no public key`);
      if (!log.logId?.keyId || log.logId.keyId.length === 0) throw malformed(source, `${where} has no log id`);
      if (!log.publicKey.validFor?.start) throw malformed(source, `${where}: publicKey.validFor.start is missing (a key's validity must have a start)`);
    });
  }
  for (const [field, authorities] of [
    ["certificateAuthorities", root.certificateAuthorities],
    ["timestampAuthorities", root.timestampAuthorities],
  ] as const) {
    authorities.forEach((ca, i) => {
      const where = `${field}[${i}] (${ca.uri || "no uri"})`;
      if (!ca.certChain || ca.certChain.certificates.length === 0) throw malformed(source, `${where} has no certificate chain`);
      if (!ca.validFor?.start) throw malformed(source, `${where}: validFor.start is missing (an authority's validity must have a start)`);
    });
  }
  if (root.certificateAuthorities.length === 0 && root.tlogs.length === 0 && root.timestampAuthorities.length === 0) {
    throw malformed(source, "trusts nothing (no certificate authority, transparency log or timestamp authority)");
  }
  return root;
}

/** The public-good Sigstore trust root shipped with tollgate. */
export function publicGoodTrustedRoot(): LoadedTrustRoot {
  return { root: parseTrustedRoot(PUBLIC_GOOD_TRUSTED_ROOT_JSON, "public-good (shipped)"), source: "public-good (shipped)" };
}

/**
 * The trust root in `path`, or the shipped public-good root when `path` is undefined. An unreadable
 * file is an `InputError` (exit 2); a readable file that is not a valid trust root fails verification
 * (reason `TRUST_ROOT`, exit 1).
 */
export async function loadTrustedRoot(path?: string): Promise<LoadedTrustRoot> {
  if (path === undefined) return publicGoodTrustedRoot();
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, MAX_TRUSTED_ROOT_BYTES);
  } catch (e) {
    if (isTollgateError(e) || !(e instanceof Error)) throw e;
    throw new InputError(`cannot read the trusted root: ${e.message}`, { file: path, cause: e });
  }
  return { root: parseTrustedRoot(bytes.toString("utf8"), path), source: path };
}
