/**
 * Keyless signing as cosign does it: an OIDC identity token, an ephemeral ECDSA P-256 key, a
 * short-lived Fulcio certificate binding that key to the token's identity, a Rekor entry, and
 * optionally an RFC 3161 timestamp. The work is done by @sigstore/sign (`FulcioSigner` holds the
 * ephemeral key in memory only, `RekorWitness`, `TSAWitness`); this module picks the token, checks
 * the service URLs, and turns the library's errors into tollgate's one-line errors with the token
 * removed (sigstore-js puts the whole token in some of its messages).
 */
import { X509Certificate } from "@sigstore/core";
import { FulcioSigner, RekorWitness, TSAWitness, type Witness } from "@sigstore/sign";
import { InputError, NetworkError, UsageError } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import { isLoopbackHost } from "../io/http.ts";
import { redactSecrets } from "../io/text.ts";
import { githubActionsIdToken, githubActionsOidcAvailable } from "./keys/github-oidc.ts";

/** The public-good Sigstore services (cosign's defaults). */
export const PUBLIC_GOOD_FULCIO_URL = "https://fulcio.sigstore.dev";
export const PUBLIC_GOOD_REKOR_URL = "https://rekor.sigstore.dev";

/** The audience Fulcio accepts (cosign requests its GitHub token with it). */
export const SIGSTORE_AUDIENCE = "sigstore";

/** A timeout for each request to Fulcio, Rekor and the TSA (@sigstore/sign's fetch: whole request). */
export const SIGSTORE_REQUEST_TIMEOUT_MS = 30_000;

/** The largest identity-token file read (`--identity-token FILE`). */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Where an identity token came from: what the audit log records, never the token. */
export type IdentityTokenSource = "--identity-token" | "SIGSTORE_ID_TOKEN" | "github-actions";

export interface IdentityToken {
  token: string;
  source: IdentityTokenSource;
}

/**
 * The OIDC token for keyless signing, in cosign's order: `--identity-token` (the token, or a file
 * holding it, as cosign accepts both), then `SIGSTORE_ID_TOKEN`, then the GitHub Actions job's token
 * for the audience `sigstore`. A UsageError when none is available (no interactive browser flow).
 */
export async function identityToken(explicit: string | undefined, env: NodeJS.ProcessEnv): Promise<IdentityToken> {
  if (explicit !== undefined && explicit !== "") {
    const token = JWT_SHAPE.test(explicit.trim()) ? explicit.trim() : await tokenFromFile(explicit);
    return { token, source: "--identity-token" };
  }
  const fromEnv = env.SIGSTORE_ID_TOKEN?.trim();
  if (fromEnv) {
    if (!JWT_SHAPE.test(fromEnv)) throw new UsageError("SIGSTORE_ID_TOKEN is not a JWT");
    return { token: fromEnv, source: "SIGSTORE_ID_TOKEN" };
  }
  if (githubActionsOidcAvailable(env)) {
    return { token: await githubActionsIdToken(SIGSTORE_AUDIENCE, env), source: "github-actions" };
  }
  throw new UsageError(
    "keyless signing needs an OIDC identity token: --identity-token TOKEN, SIGSTORE_ID_TOKEN, or a GitHub Actions job with `permissions: id-token: write` (or sign with --key)",
  );
}

async function tokenFromFile(path: string): Promise<string> {
  // Never echo the value: if it is not a path, it may still be a malformed token.
  let text: string;
  try {
    text = (await readRegularFile(path, MAX_TOKEN_FILE_BYTES, "--identity-token")).toString("utf8").trim();
  } catch (e) {
    if (e instanceof InputError) throw new UsageError("--identity-token: neither a JWT nor a readable file holding one");
    throw e;
  }
  if (!JWT_SHAPE.test(text)) throw new UsageError("--identity-token: the file does not hold a JWT");
  return text;
}

/**
 * A Sigstore service URL: https, or plain http only to this machine (the identity token goes to
 * Fulcio; Rekor and the TSA answer with what the bundle will be trusted for).
 */
export function serviceUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: not a URL`);
  }
  if (url.protocol === "https:") return url.href.replace(/\/$/, "");
  if (url.protocol === "http:" && isLoopbackHost(url.host)) return url.href.replace(/\/$/, "");
  throw new UsageError(`${flag} ${url.protocol}//${url.host}: only https (or http to this machine) is allowed`);
}

/** The claims tollgate reads from an identity token (never checked here: Fulcio checks the token). */
export function tokenClaims(token: string): { iss?: string; sub?: string; email?: string } {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
    const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
    return { iss: str(payload.iss), sub: str(payload.sub), email: str(payload.email) };
  } catch {
    return {};
  }
}

/** Fulcio's signer: an ephemeral P-256 key in memory, certified for the token's identity. */
export function fulcioSigner(token: string, fulcioUrl: string): FulcioSigner {
  return new FulcioSigner({
    fulcioBaseURL: fulcioUrl,
    identityProvider: { getToken: () => Promise.resolve(token) },
    timeout: SIGSTORE_REQUEST_TIMEOUT_MS,
    retry: 2,
  });
}

/** The witnesses of a bundle: a Rekor entry (dsse entries for DSSE, hashedrekord otherwise) and a TSA timestamp. */
export function witnesses(options: { rekorUrl?: string; tsaUrl?: string; dsse: boolean }): Witness[] {
  const list: Witness[] = [];
  if (options.rekorUrl !== undefined) {
    list.push(
      new RekorWitness({
        rekorBaseURL: options.rekorUrl,
        ...(options.dsse ? { entryType: "dsse" as const } : {}),
        fetchOnConflict: true,
        timeout: SIGSTORE_REQUEST_TIMEOUT_MS,
        retry: 2,
      }),
    );
  }
  if (options.tsaUrl !== undefined) {
    list.push(new TSAWitness({ tsaBaseURL: options.tsaUrl, timeout: SIGSTORE_REQUEST_TIMEOUT_MS, retry: 2 }));
  }
  return list;
}

/** The identity a Fulcio certificate was issued for: its SAN (`email:…`, `URI:…`) and the token's issuer. */
export function certificateIdentity(certificateDer: Uint8Array, issuer: string | undefined): Record<string, string> {
  const cert = X509Certificate.parse(Buffer.from(certificateDer));
  const identity: Record<string, string> = {};
  const san = cert.subjectAltName;
  if (san !== undefined) identity.subjectAlternativeName = san;
  if (issuer !== undefined) identity.issuer = issuer;
  return identity;
}

/**
 * An error of @sigstore/sign (InternalError with a code, HTTPError with a status) as one line,
 * secrets removed, typed as a NetworkError (exit 2): the service refused or could not be reached.
 */
export function sigstoreServiceError(e: unknown, secrets: Iterable<string | undefined>): Error {
  if (e instanceof UsageError || e instanceof NetworkError || e instanceof InputError) return e;
  const parts: string[] = [];
  let current: unknown = e;
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    const line = `${current.message}${typeof code === "string" && !current.message.includes(code) ? ` (${code})` : ""}`;
    if (!parts.includes(line)) parts.push(line);
    current = current.cause;
  }
  const message = redactSecrets(parts.join(": ").replace(/\s+/g, " ").slice(0, 500), secrets);
  // No `cause`: sigstore-js messages may hold the token, and --debug prints causes.
  return new NetworkError(`sigstore: ${message || "signing failed"}`);
}
