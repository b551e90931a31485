/**
 * The GitHub Actions job's OIDC token (an ID token for a workflow run), as a job with
 * `permissions: id-token: write` gets it: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD` with
 * `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered by `{"value": "<JWT>"}`.
 *
 * Vault's JWT login (hashivault.ts) exchanges it for a short-lived Vault token; keyless Sigstore
 * signing sends it to Fulcio. The token is returned to the caller and kept nowhere else.
 */
import { NetworkError, UsageError } from "../../errors.ts";
import { httpRequest, isLoopbackHost, readAll, redactSecrets } from "../../io/http.ts";
import type { NetworkTimeouts } from "../../io/timeouts.ts";

/** True when the job can request an OIDC token (GitHub sets both variables with `id-token: write`). */
export function githubActionsOidcAvailable(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL) && Boolean(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
}

/** A compact JWS: three base64url parts, the first two non-empty. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The largest token response read (GitHub's are a few kB). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Requests the job's OIDC token for `audience` (GitHub's default audience when undefined). Throws a
 * UsageError when the job has no token endpoint (no `id-token: write` permission) and refuses to send
 * the request token over plain HTTP to a host other than this machine, before any connection.
 */
export async function githubActionsIdToken(audience: string | undefined, env: NodeJS.ProcessEnv, options: { timeouts?: Partial<NetworkTimeouts> } = {}): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new UsageError("GitHub Actions OIDC: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set (the job needs `permissions: id-token: write`)");
  }
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new UsageError("GitHub Actions OIDC: ACTIONS_ID_TOKEN_REQUEST_URL is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`GitHub Actions OIDC: ACTIONS_ID_TOKEN_REQUEST_URL has an unsupported scheme ${url.protocol}`);
  if (url.protocol === "http:" && !isLoopbackHost(url.host)) {
    throw new UsageError(`GitHub Actions OIDC: refusing to send the token request credential over plain HTTP to ${url.host} (use https)`);
  }
  if (audience !== undefined) url.searchParams.set("audience", audience);
  const res = await httpRequest(url, {
    headers: { authorization: `bearer ${requestToken}`, accept: "application/json" },
    redirect: "manual",
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
  });
  const body = await readAll(res.body, MAX_RESPONSE_BYTES, () => new NetworkError(`${url.host}: OIDC token response over ${MAX_RESPONSE_BYTES} bytes`));
  if (res.status !== 200) {
    const detail = redactSecrets(body.toString("utf8").slice(0, 200).replace(/\s+/g, " ").trim(), [requestToken]);
    throw new NetworkError(`${url.host}: GitHub Actions OIDC token request failed: HTTP ${res.status}${detail ? `: ${detail}` : ""}`);
  }
  let value: unknown;
  try {
    value = (JSON.parse(body.toString("utf8")) as { value?: unknown }).value;
  } catch {
    throw new NetworkError(`${url.host}: GitHub Actions OIDC token response is not JSON`);
  }
  if (typeof value !== "string" || !JWT_SHAPE.test(value)) throw new NetworkError(`${url.host}: GitHub Actions OIDC token response has no JWT in "value"`);
  return value;
}
