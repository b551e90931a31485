/**
 * `tollgate trust-root update`: fetches the Sigstore `trusted_root.json` through TUF (@sigstore/tuf,
 * on tuf-js), as `cosign initialize` does, and writes it into the cache (`<cacheDir>/trust-root/`),
 * where `loadTrustedRoot` prefers it to the shipped root while its TUF targets metadata is unexpired.
 *
 * The TUF chain is verified from a root: the public-good TUF root that @sigstore/tuf ships for
 * tuf-repo-cdn.sigstore.dev (the default), or `--root FILE` (with `--mirror URL` for a private
 * mirror), which resets that mirror's TUF metadata cache to it. Every request has a timeout (from
 * tollgate's `timeouts:`); a plain-HTTP mirror is refused unless it is this machine. The target is
 * checked strictly (`parseTrustedRoot`) before it is written atomically. A failed update leaves the
 * previous cached root as it was: exit 2 for a network or input problem, exit 1 (reason TRUST_ROOT)
 * when the TUF metadata or the target does not verify.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { InputError, isTollgateError, NetworkError, UsageError, VerificationFailedError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic-write.ts";
import { readRegularFile } from "../io/files.ts";
import { isLoopbackHost } from "../io/http.ts";
import { type NetworkTimeouts, networkTimeouts, totalTimeoutMs } from "../io/timeouts.ts";
import { redactSecrets } from "../io/text.ts";
import { type CachedTrustRootRecord, MAX_TRUSTED_ROOT_BYTES, parseTrustedRoot, trustRootCachePaths } from "./trust-root.ts";

/** The public-good Sigstore TUF repository; @sigstore/tuf ships its TUF root (seeds.json). */
export const PUBLIC_GOOD_TUF_MIRROR = "https://tuf-repo-cdn.sigstore.dev";
export const TRUSTED_ROOT_TARGET = "trusted_root.json";
/** A TUF root.json is a few kilobytes. */
const MAX_TUF_ROOT_BYTES = 1024 * 1024;

export interface TrustRootUpdateOptions {
  /** The TUF repository's base URL (default: the public-good one). */
  mirror?: string;
  /** A TUF root.json to start the chain from (required for a mirror with no shipped or cached root). */
  rootFile?: string;
  env?: NodeJS.ProcessEnv;
  timeouts?: Partial<NetworkTimeouts>;
  /** Retries of a failed request (connection error or 5xx), default 1. */
  retries?: number;
}

export interface TrustRootUpdateResult extends CachedTrustRootRecord {
  /** Where the verified trusted_root.json was written. */
  path: string;
}

/** The mirror URL, normalised (no trailing slash); plain HTTP only to this machine; no credentials. */
export function checkMirrorUrl(mirror: string): string {
  let url: URL;
  try {
    url = new URL(mirror);
  } catch {
    throw new UsageError(`--mirror: not a URL: ${redactSecrets(mirror)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`--mirror: ${url.protocol} is not http(s)`);
  if (url.username !== "" || url.password !== "") throw new UsageError("--mirror: credentials in the URL are not supported");
  if (url.search !== "" || url.hash !== "") throw new UsageError("--mirror: a TUF mirror URL has no query or fragment");
  if (url.protocol === "http:" && !isLoopbackHost(url.host)) {
    throw new UsageError(`--mirror: plain HTTP to ${url.host} refused (TUF metadata is signed, but use https:// for anything but this machine)`);
  }
  return url.href.replace(/\/+$/, "");
}

/** The directory @sigstore/tuf's TUFClient keeps a mirror's metadata in (it names it after host and path). */
function tufRepoDir(tufCache: string, mirror: string): string {
  const url = new URL(mirror);
  return join(tufCache, encodeURIComponent(url.host + url.pathname.replace(/\/$/, "")));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The causes of an error, outermost first. */
function causes(e: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let c: unknown = e; c !== undefined && c !== null && chain.length < 10; c = (c as { cause?: unknown }).cause) chain.push(c);
  return chain;
}

/**
 * A failed TUF update as tollgate's errors: the network (a refused connection, a timeout, an HTTP
 * error status) is a NetworkError (exit 2); anything else — a bad signature, expired or rolled-back
 * metadata, a target whose length or hash does not match — fails verification (TRUST_ROOT, exit 1).
 */
function tufFailure(e: unknown, mirror: string): Error {
  const chain = causes(e);
  const detail = chain
    .map((c) => (c instanceof Error ? c.message : String(c)))
    .filter((m, i, all) => m !== "" && all.indexOf(m) === i)
    .join(": ");
  const network = chain.some((c) => {
    if (!(c instanceof Error)) return false;
    const name = c.constructor.name;
    if (name === "DownloadHTTPError") return true; // an HTTP error status (tuf-js)
    if (c.name === "TimeoutError" || c.name === "AbortError") return true; // AbortSignal.timeout
    return c instanceof TypeError && c.message === "fetch failed"; // undici: refused, reset, DNS
  });
  if (network) return new NetworkError(`trust-root update from ${mirror}: ${redactSecrets(detail)}`, { cause: e });
  return new VerificationFailedError(`trust-root update from ${mirror}: TUF verification failed [TRUST_ROOT]: ${redactSecrets(detail)}`, { reason: "TRUST_ROOT", cause: e });
}

/**
 * Fetches `trusted_root.json` through TUF from `mirror` and writes it, with its record, into the cache.
 * Nothing is written unless the TUF chain and the trusted root both verify.
 */
export async function updateTrustedRoot(options: TrustRootUpdateOptions = {}): Promise<TrustRootUpdateResult> {
  const mirror = checkMirrorUrl(options.mirror ?? PUBLIC_GOOD_TUF_MIRROR);
  const paths = trustRootCachePaths(options.env);
  const repoDir = tufRepoDir(paths.tuf, mirror);

  let tufRoot: Buffer | undefined;
  if (options.rootFile !== undefined) {
    try {
      tufRoot = await readRegularFile(options.rootFile, MAX_TUF_ROOT_BYTES);
    } catch (e) {
      if (isTollgateError(e) || !(e instanceof Error)) throw e;
      throw new InputError(`cannot read the TUF root: ${e.message}`, { file: options.rootFile, cause: e });
    }
    let json: unknown;
    try {
      json = JSON.parse(tufRoot.toString("utf8"));
    } catch (e) {
      throw new InputError(`not JSON (${(e as Error).message})`, { file: options.rootFile });
    }
    if ((json as { signed?: { _type?: unknown } } | null)?.signed?._type !== "root") {
      throw new InputError("not a TUF root.json (signed._type is not \"root\")", { file: options.rootFile });
    }
  } else if (mirror !== PUBLIC_GOOD_TUF_MIRROR && !(await exists(join(repoDir, "root.json")))) {
    throw new UsageError(`trust-root update: --mirror ${mirror} needs --root FILE (the TUF root.json to trust for it) the first time`);
  }

  const { initTUF } = await import("@sigstore/tuf");
  if (tufRoot !== undefined) {
    // As `cosign initialize --root`: this mirror's TUF metadata starts again from the given root.
    await mkdir(join(repoDir, "targets"), { recursive: true });
    await writeFileAtomic(join(repoDir, "root.json"), tufRoot);
  }
  const t = networkTimeouts(options.timeouts);
  let text: string;
  try {
    const tuf = await initTUF({
      mirrorURL: mirror,
      cachePath: paths.tuf,
      // tuf-js aborts each request (headers and body) after this many ms.
      timeout: totalTimeoutMs(MAX_TRUSTED_ROOT_BYTES, t),
      retry: { retries: options.retries ?? 1, minTimeout: 500, maxTimeout: 2000 },
      forceCache: false,
      forceInit: false,
    });
    text = await tuf.getTarget(TRUSTED_ROOT_TARGET);
  } catch (e) {
    throw tufFailure(e, mirror);
  }
  // The TUF targets metadata vouching for the target: the cached root is used until it expires.
  let expires: string;
  try {
    const targets = JSON.parse(await readFile(join(repoDir, "targets.json"), "utf8")) as { signed?: { expires?: unknown } };
    expires = String(targets.signed?.expires);
    if (Number.isNaN(Date.parse(expires))) throw new Error(`expires ${expires} is not a time`);
  } catch (e) {
    throw new VerificationFailedError(`trust-root update from ${mirror}: verification failed [TRUST_ROOT]: the verified targets metadata cannot be read (${(e as Error).message})`, { reason: "TRUST_ROOT", cause: e });
  }
  try {
    parseTrustedRoot(text, `${TRUSTED_ROOT_TARGET} from ${mirror}`);
  } catch (e) {
    if (e instanceof VerificationFailedError) throw new VerificationFailedError(`trust-root update: verification failed [TRUST_ROOT]: ${e.message}`, { reason: "TRUST_ROOT", cause: e });
    throw e;
  }
  const record: CachedTrustRootRecord = {
    mirror,
    updatedAt: new Date().toISOString(),
    expires: new Date(expires).toISOString(),
    sha256: createHash("sha256").update(text, "utf8").digest("hex"),
  };
  // The root first, then its record: a root without a matching record is not used (sha256).
  await writeFileAtomic(paths.trustedRoot, text);
  await writeFileAtomic(paths.record, `${JSON.stringify(record, null, 2)}\n`);
  return { ...record, path: paths.trustedRoot };
}
