/**
 * Sigstore trust roots (`trusted_root.json`, the `dev.sigstore.trustroot.v1.TrustedRoot` message): the
 * Fulcio certificate authorities, the Rekor transparency logs, the certificate transparency logs and
 * the timestamp authorities a bundle is verified against, each with the time window it is trusted for.
 *
 * Loaded from a file (`--trusted-root`) or, by default, the root `tollgate trust-root update` fetched
 * through TUF into the cache (`<cacheDir>/trust-root/`) while its TUF targets metadata has not expired,
 * else the public-good root shipped with tollgate (`public-good-trusted-root.ts`). A trust root is
 * checked strictly when loaded: a malformed one is a `VerificationFailedError` with reason
 * `TRUST_ROOT` (a verification that cannot know what to trust fails closed), never read with a
 * guessed default (a missing `validFor.start` is not "since forever").
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { InputError, isTollgateError, VerificationFailedError } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import { cacheDir } from "../io/paths.ts";
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from "./public-good-trusted-root.ts";

/** A trusted root file is a few kilobytes; anything past this is not one. */
export const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;

export const TRUSTED_ROOT_MEDIA_TYPE_PREFIX = "application/vnd.dev.sigstore.trustedroot";

export interface LoadedTrustRoot {
  readonly root: TrustedRoot;
  /** Where it came from: the file path, "public-good (shipped)", or "TUF cache: <path> (from <mirror>, …)". */
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

/** Where `tollgate trust-root update` keeps the TUF-verified root, its record, and the TUF metadata. */
export function trustRootCachePaths(env: NodeJS.ProcessEnv = process.env): { dir: string; trustedRoot: string; record: string; tuf: string } {
  const dir = join(cacheDir(env), "trust-root");
  return { dir, trustedRoot: join(dir, "trusted_root.json"), record: join(dir, "trusted_root.record.json"), tuf: join(dir, "tuf") };
}

/**
 * What `trust-root update` records next to the root it wrote: the mirror, when, the sha256 of the
 * file, and when the TUF targets metadata that vouched for it expires (after which it is not used).
 */
export interface CachedTrustRootRecord {
  mirror: string;
  updatedAt: string;
  expires: string;
  sha256: string;
}

/**
 * The TUF-verified root in the cache, when there is one, its record matches it (sha256) and its TUF
 * targets metadata has not expired at `now`; else undefined (the caller falls back to the shipped root).
 * A cached root that matches its record but does not parse fails (TRUST_ROOT).
 */
export async function cachedTrustedRoot(options: { env?: NodeJS.ProcessEnv; now?: Date } = {}): Promise<LoadedTrustRoot | undefined> {
  const paths = trustRootCachePaths(options.env);
  let record: CachedTrustRootRecord;
  let bytes: Buffer;
  try {
    record = JSON.parse((await readRegularFile(paths.record, 64 * 1024)).toString("utf8")) as CachedTrustRootRecord;
    bytes = await readRegularFile(paths.trustedRoot, MAX_TRUSTED_ROOT_BYTES);
  } catch {
    return undefined; // no update yet (or an unreadable leftover): the shipped root
  }
  const expires = typeof record.expires === "string" ? Date.parse(record.expires) : NaN;
  if (!(expires > (options.now ?? new Date()).getTime())) return undefined;
  if (typeof record.sha256 !== "string" || createHash("sha256").update(bytes).digest("hex") !== record.sha256) return undefined;
  const source = `TUF cache: ${paths.trustedRoot} (from ${String(record.mirror)}, updated ${String(record.updatedAt)})`;
  return { root: parseTrustedRoot(bytes.toString("utf8"), source), source };
}

/**
 * The trust root in `path`; when `path` is undefined, the fresh TUF-verified root in the cache
 * (`cachedTrustedRoot`), else the shipped public-good root. An unreadable file is an `InputError`
 * (exit 2); a readable file that is not a valid trust root fails verification (reason `TRUST_ROOT`, exit 1).
 */
export async function loadTrustedRoot(path?: string, options: { env?: NodeJS.ProcessEnv; now?: Date } = {}): Promise<LoadedTrustRoot> {
  if (path === undefined) return (await cachedTrustedRoot(options)) ?? publicGoodTrustedRoot();
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, MAX_TRUSTED_ROOT_BYTES);
  } catch (e) {
    if (isTollgateError(e) || !(e instanceof Error)) throw e;
    throw new InputError(`cannot read the trusted root: ${e.message}`, { file: path, cause: e });
  }
  return { root: parseTrustedRoot(bytes.toString("utf8"), path), source: path };
}
