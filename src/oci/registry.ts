import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { InputError, LimitExceededError, NetworkError, UsageError, VerificationFailedError } from "../errors.ts";
import { httpRequest, isLoopbackHost, NetworkTimeoutError, readAll, redactSecrets, type HttpResponse, type NetworkTimeouts, type ResponseHeaders } from "../io/http.ts";
import { parseImageReference } from "../target/index.ts";
import { lookupCredentials, type RegistryCredentials } from "./auth.ts";
import { digestAlgorithm, isDigest, parseJsonDocument, resolveManifest, sha256Digest, verifyDigest, type BlobSource } from "./manifest.ts";
import { isIndexMediaType, MEDIA_TYPES, type Descriptor, type OciLimits, type Platform, type ResolvedImage } from "./types.ts";

const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest].join(", ");

export interface RegistryOptions {
  /** Hosts (host or host:port) reached over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Attempts per request on network errors, 429 and 5xx (default 3); a timeout is not retried. */
  attempts?: number;
  /** Connect, response, idle and per-blob timeouts (default DEFAULT_NETWORK_TIMEOUTS). */
  timeouts?: Partial<NetworkTimeouts>;
  /** Blob pushes: larger blobs go in PATCH chunks of this many bytes (default DEFAULT_UPLOAD_CHUNK_BYTES). */
  uploadChunkBytes?: number;
}

export { NetworkError };

/** A parsed image reference with docker's defaults applied (Docker Hub, `library/`, tag `latest`). */
export interface RegistryReference {
  registry: string;
  /** The host requests go to (Docker Hub's API host for docker.io). */
  apiHost: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseRegistryReference(ref: string): RegistryReference {
  const parts = parseImageReference(ref);
  if (!parts) throw new UsageError(`${ref}: not a valid image reference`);
  const registry = parts.domain === undefined || parts.domain === "index.docker.io" ? "docker.io" : parts.domain;
  const repository = registry === "docker.io" && !parts.repository.includes("/") ? `library/${parts.repository}` : parts.repository;
  const r: RegistryReference = { registry, apiHost: registry === "docker.io" ? "registry-1.docker.io" : registry, repository };
  if (parts.digest) r.digest = parts.digest;
  if (parts.tag) r.tag = parts.tag;
  else if (!parts.digest) r.tag = "latest";
  return r;
}

/**
 * Plain HTTP for loopback hosts (`isLoopbackHost`), as docker does, and for hosts the user names as
 * insecure. The same test decides where credentials may go over plain HTTP.
 */
export function usesPlainHttp(host: string, insecure: readonly string[] = []): boolean {
  if (isLoopbackHost(host)) return true;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
  return insecure.some((h) => h === host || h === name);
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  const params: Record<string, string> = {};
  if (!m) return { scheme: "", params };
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let p = re.exec(m[2] ?? ""); p; p = re.exec(m[2] ?? "")) params[(p[1] as string).toLowerCase()] = p[2] ?? p[3] ?? "";
  return { scheme: (m[1] as string).toLowerCase(), params };
}

async function readBody(res: HttpResponse, maxBytes: number, where: string): Promise<Buffer> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.body.destroy();
    throw new LimitExceededError(`${where}: response of ${declared} bytes is over the limit of ${maxBytes}`);
  }
  return readAll(res.body, maxBytes, () => new LimitExceededError(`${where}: response over the limit of ${maxBytes} bytes`));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RequestInit {
  method?: string;
  accept?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  expectedBytes?: number;
  /** Retry on network errors, 429 and 5xx (default); off for requests that must not be repeated (upload steps). */
  retry?: boolean;
  /** The request writes: from then on tokens are asked for with push. */
  push?: boolean;
}

/** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
export const DEFAULT_UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024;
/** Most tags or referrers read from one repository (over all pages). */
const MAX_LISTED = 100_000;
const MAX_PAGES = 1000;

/** The `rel="next"` target of an RFC 8288 Link header, if any. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/s.exec(part);
    if (m && /(^|;)\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(m[2] as string)) return m[1];
  }
  return undefined;
}

/** A tag as the distribution spec allows it. */
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** `location` with `digest=<digest>` added to its query. */
function withDigest(location: string, digest: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
}

/** The digest of bytes in the algorithm of `like` (sha256 when not given). */
function digestIn(data: Uint8Array, like?: string): string {
  const alg = like?.startsWith("sha512:") ? "sha512" : "sha256";
  return `${alg}:${createHash(alg).update(data).digest("hex")}`;
}

/** What a blob push did: the blob's descriptor, and whether bytes were sent (false: the registry had it). */
export interface PushedBlob {
  digest: string;
  size: number;
  uploaded: boolean;
}

/** What a manifest push did: its digest, and the `OCI-Subject` the registry answered (referrers API registries only). */
export interface PushedManifest {
  digest: string;
  size: number;
  ociSubject?: string;
}

/**
 * An OCI distribution client for one repository: manifest and blob GETs and HEADs, blob and manifest
 * pushes, tag lists, the `WWW-Authenticate` Bearer token flow (anonymous, basic credentials or an
 * identity token from docker's config; `pull,push` scope once the client writes), basic auth,
 * retries (not of upload steps), timeouts (connect, response, idle, and a total per blob scaled by its
 * size), and digest verification of everything it reads and of every digest the registry answers for
 * what it was sent. Credentials go over plain HTTP only to loopback hosts
 * and `--insecure-registry` hosts, and never appear in its error messages.
 */
export class RegistryClient implements BlobSource {
  readonly description: string;
  readonly ref: RegistryReference;
  private readonly base: string;
  private readonly options: RegistryOptions;
  private authorization: string | undefined;
  /** The registry answered without asking for credentials. */
  private anonymousOk = false;
  /** A write was made: tokens are asked for with push scope. */
  private pushing = false;
  private credentials: Promise<RegistryCredentials | undefined> | undefined;
  /** Secret values to keep out of messages: the configured credentials and the tokens obtained. */
  private readonly secrets = new Set<string>();

  constructor(ref: RegistryReference, options: RegistryOptions = {}) {
    this.ref = ref;
    this.options = options;
    this.description = `${ref.registry}/${ref.repository}`;
    this.base = `${usesPlainHttp(ref.apiHost, options.insecureRegistries) ? "http" : "https"}://${ref.apiHost}`;
  }

  private async creds(): Promise<RegistryCredentials | undefined> {
    this.credentials ??= lookupCredentials(this.ref.registry, this.options.env ?? process.env);
    const c = await this.credentials;
    for (const v of [c?.password, c?.identityToken, c?.registryToken]) if (v) this.secrets.add(v);
    if (c?.username !== undefined && c.password !== undefined) this.secrets.add(Buffer.from(`${c.username}:${c.password}`).toString("base64"));
    return c;
  }

  /** A NetworkError whose message has no credential in it. */
  private error(message: string, cause?: unknown): NetworkError {
    return new NetworkError(redactSecrets(message, this.secrets), cause === undefined ? undefined : { cause });
  }

  private request(url: string, init: { method?: string; headers: Record<string, string>; body?: string | Uint8Array; expectedBytes?: number }): Promise<HttpResponse> {
    return httpRequest(url, {
      ...init,
      ...(this.options.timeouts ? { timeouts: this.options.timeouts } : {}),
    });
  }

  /** An absolute URL for a path on the registry, or for an upload location it gave (resolved against it). */
  private resolveUrl(pathOrLocation: string): string {
    const url = new URL(pathOrLocation, this.base);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw this.error(`${this.description}: the registry gave a location with scheme ${url.protocol}`);
    if (this.base.startsWith("https:") && url.protocol === "http:") throw this.error(`${this.description}: the registry gave a plain-HTTP location (${url.origin}); refused`);
    return url.href;
  }

  private async send(url: string, init: RequestInit): Promise<HttpResponse> {
    const attempts = init.retry === false ? 1 : (this.options.attempts ?? 3);
    // The Authorization header goes only to the registry's own origin, never to an upload location elsewhere.
    const sameOrigin = new URL(url).origin === new URL(this.base).origin;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(250 * 2 ** (i - 1));
      const headers: Record<string, string> = { "user-agent": "tollgate", ...init.headers };
      if (init.accept) headers.accept = init.accept;
      if (this.authorization && sameOrigin) headers.authorization = this.authorization;
      let res: HttpResponse;
      try {
        res = await this.request(url, {
          headers,
          ...(init.method ? { method: init.method } : {}),
          ...(init.body !== undefined ? { body: init.body } : {}),
          ...(init.expectedBytes !== undefined ? { expectedBytes: init.expectedBytes } : {}),
        });
      } catch (e) {
        // Not retried: a host that let a timeout run out is not waited for three times over.
        if (e instanceof NetworkTimeoutError) throw e;
        lastError = e;
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        res.body.destroy();
        lastError = this.error(`${url}: HTTP ${res.status}`);
        continue;
      }
      return res;
    }
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    if (message.startsWith(url)) throw this.error(message);
    const host = new URL(url).host;
    throw this.error(`${url}: ${message.startsWith(`${host}: `) ? message.slice(host.length + 2) : message}`, lastError);
  }

  /**
   * A request with the auth dance: on 401, answer the challenge once and retry. Writes (`push`) ask
   * the token endpoint for `repository:<name>:pull,push`; the token then serves the reads too.
   */
  private async call(pathOrLocation: string, init: RequestInit = {}): Promise<HttpResponse> {
    const url = this.resolveUrl(pathOrLocation);
    if (init.push) this.pushing = true;
    let res = await this.send(url, init);
    if (res.status === 401) {
      const challenge = res.headers.get("www-authenticate");
      res.body.destroy();
      if (!challenge) throw this.error(`${url}: HTTP 401 without a WWW-Authenticate challenge`);
      this.authorization = await this.authorize(challenge);
      res = await this.send(url, init);
      if (res.status === 401 || res.status === 403) {
        res.body.destroy();
        throw this.error(
          `${this.description}: access denied (HTTP ${res.status})${this.pushing ? " for push" : ""}; check the credentials in ${this.options.env?.DOCKER_CONFIG ?? "~/.docker"}/config.json`,
        );
      }
    }
    return res;
  }

  /** A GET with the auth dance. */
  private get(path: string, accept?: string, expectedBytes?: number): Promise<HttpResponse> {
    return this.call(path, { ...(accept ? { accept } : {}), ...(expectedBytes !== undefined ? { expectedBytes } : {}) });
  }

  private async authorize(challenge: string): Promise<string> {
    const { scheme, params } = parseChallenge(challenge);
    const creds = await this.creds();
    if (scheme === "basic") {
      if (!creds?.username || creds.password === undefined) throw this.error(`${this.description}: the registry asks for basic credentials and none are configured`);
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    if (scheme !== "bearer") throw this.error(`${this.description}: unsupported authentication scheme "${scheme.slice(0, 40)}"`);
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const realm = params.realm;
    if (!realm || !/^https?:\/\//.test(realm)) throw this.error(`${this.description}: Bearer challenge without a usable realm`);
    const scope = this.pushing ? `repository:${this.ref.repository}:pull,push` : (params.scope ?? `repository:${this.ref.repository}:pull`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw this.error(`${this.description}: Bearer challenge without a usable realm`);
    }
    const where = `${url.origin}${url.pathname}`;
    const sendsSecret = creds?.identityToken !== undefined || (creds?.username !== undefined && creds.password !== undefined);
    // A refresh token or a password goes over plain HTTP only to this machine or a host the user
    // named as insecure: anyone on the path could read it.
    if (sendsSecret && url.protocol === "http:" && !usesPlainHttp(url.host, this.options.insecureRegistries)) {
      throw this.error(`${this.description}: the token endpoint ${url.origin} is plain HTTP; credentials are sent there only for localhost, 127.0.0.0/8 or --insecure-registry hosts`);
    }
    let res: HttpResponse;
    try {
      if (creds?.identityToken) {
        // OAuth2 refresh-token grant, as docker does with an identity token.
        const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: "tollgate", scope });
        if (params.service) form.set("service", params.service);
        res = await this.request(url.href, {
          method: "POST",
          body: form.toString(),
          headers: { "user-agent": "tollgate", "content-type": "application/x-www-form-urlencoded;charset=UTF-8" },
        });
      } else {
        if (params.service) url.searchParams.set("service", params.service);
        url.searchParams.set("scope", scope);
        const headers: Record<string, string> = { "user-agent": "tollgate" };
        if (creds?.username && creds.password !== undefined) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
        res = await this.request(url.href, { headers });
      }
    } catch (e) {
      if (e instanceof NetworkTimeoutError) throw e;
      throw this.error(`${url.origin}: token request failed: ${(e as Error).message}`, e);
    }
    if (res.status < 200 || res.status > 299) {
      res.body.destroy();
      throw this.error(`${this.description}: token endpoint ${where} answered HTTP ${res.status}`);
    }
    const body = await readBody(res, 1024 * 1024, where);
    let token: unknown;
    try {
      const j = JSON.parse(body.toString("utf8")) as { token?: unknown; access_token?: unknown };
      token = j.token ?? j.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string" || token === "") throw this.error(`${this.description}: the token endpoint returned no token`);
    this.secrets.add(token);
    return `Bearer ${token}`;
  }

  private async expectOk(res: HttpResponse, what: string): Promise<void> {
    if (res.status >= 200 && res.status <= 299) return;
    res.body.destroy();
    if (res.status === 404) throw new InputError(`${what} not found (HTTP 404)`, { file: this.description, code: "NOT_FOUND" });
    throw this.error(`${this.description}: ${what}: HTTP ${res.status}`);
  }

  /** GET a manifest by tag or digest; returns its bytes, media type and (computed, checked) digest. */
  async getManifest(reference: string, maxBytes: number): Promise<{ body: Buffer; mediaType?: string; digest: string }> {
    const res = await this.get(`/v2/${this.ref.repository}/manifests/${reference}`, MANIFEST_ACCEPT);
    await this.expectOk(res, `manifest ${reference}`);
    if (this.authorization === undefined) this.anonymousOk = true;
    const body = await readBody(res, maxBytes, `${this.description}: manifest ${reference}`);
    const digest = sha256Digest(body);
    if (isDigest(reference)) verifyDigest(body, reference, `${this.description}: manifest`);
    else {
      const header = res.headers.get("docker-content-digest");
      if (header && header.startsWith("sha256:") && header !== digest) {
        throw new VerificationFailedError(`${this.description}:${reference}: manifest digest ${digest} does not match Docker-Content-Digest ${header}`);
      }
    }
    const mediaType = res.headers.get("content-type")?.split(";")[0]?.trim();
    return mediaType ? { body, mediaType, digest } : { body, digest };
  }

  async fetch(desc: Descriptor, maxBytes: number): Promise<Buffer> {
    if (desc.size > maxBytes) throw new LimitExceededError(`${this.description}@${desc.digest}: ${desc.size} bytes is over the limit of ${maxBytes}`);
    const isManifest = isIndexMediaType(desc.mediaType) || desc.mediaType === MEDIA_TYPES.ociManifest || desc.mediaType === MEDIA_TYPES.dockerManifest;
    if (isManifest) return (await this.getManifest(desc.digest, maxBytes)).body;
    const res = await this.get(`/v2/${this.ref.repository}/blobs/${desc.digest}`, undefined, desc.size);
    await this.expectOk(res, `blob ${desc.digest}`);
    const body = await readBody(res, maxBytes, `${this.description}@${desc.digest}`);
    verifyDigest(body, desc.digest, `${this.description}@${desc.digest}`);
    return body;
  }

  /**
   * A blob as a stream, with the idle timeout and a total timeout scaled by its size. Once the
   * manifest GET has settled the auth, one direct request (redirects followed, the Authorization
   * header only to the registry's own origin); anything unusual (401, a failure before the headers)
   * falls back to the GET with its auth dance and retries.
   */
  async open(desc: Descriptor): Promise<Readable> {
    const path = `/v2/${this.ref.repository}/blobs/${desc.digest}`;
    if (this.authorization !== undefined || this.anonymousOk) {
      const headers: Record<string, string> = { "user-agent": "tollgate" };
      if (this.authorization) headers.authorization = this.authorization;
      const direct = await this.request(`${this.base}${path}`, { headers, expectedBytes: desc.size }).catch(() => undefined);
      if (direct?.status === 200) return direct.body;
      direct?.body.destroy();
    }
    const res = await this.get(path, undefined, desc.size);
    await this.expectOk(res, `blob ${desc.digest}`);
    return res.body;
  }

  /** The registry's error codes and messages from an error body (`{"errors":[{code,message}]}`), for a message. */
  private async failure(res: HttpResponse, what: string): Promise<never> {
    let detail = "";
    try {
      const body = await readAll(res.body, 64 * 1024, () => new Error("long"));
      const j = JSON.parse(body.toString("utf8")) as { errors?: { code?: unknown; message?: unknown }[] };
      if (Array.isArray(j.errors)) {
        detail = j.errors
          .slice(0, 3)
          .map((e) => [e.code, e.message].filter((x) => typeof x === "string").join(" "))
          .filter(Boolean)
          .join("; ")
          .slice(0, 300);
      }
    } catch {
      res.body.destroy();
    }
    if (res.status === 404) throw new InputError(`${what} not found (HTTP 404)${detail ? `: ${detail}` : ""}`, { file: this.description, code: "NOT_FOUND" });
    throw this.error(`${this.description}: ${what}: HTTP ${res.status}${detail ? ` (${detail})` : ""}`);
  }

  /** HEAD a blob: whether the repository holds it. */
  async blobExists(digest: string): Promise<boolean> {
    digestAlgorithm(digest, this.description);
    const res = await this.call(`/v2/${this.ref.repository}/blobs/${digest}`, { method: "HEAD" });
    res.body.destroy();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.failure(res, `blob ${digest}`);
  }

  /**
   * Pushes a blob: skipped when a HEAD finds it; otherwise POST an upload session, then one PUT with
   * `?digest=` (up to `uploadChunkBytes`) or PATCH chunks and a closing PUT. The digest is computed
   * here and must equal `expectedDigest` when one is given; a registry answering another
   * Docker-Content-Digest fails the push (DIGEST_MISMATCH).
   */
  async pushBlob(data: Uint8Array, expectedDigest?: string): Promise<PushedBlob> {
    const digest = digestIn(data, expectedDigest);
    if (expectedDigest !== undefined && digest !== expectedDigest) {
      throw new VerificationFailedError(`${this.description}: blob content digest ${digest} does not match ${expectedDigest}`, { reason: "DIGEST_MISMATCH" });
    }
    if (await this.blobExists(digest)) return { digest, size: data.length, uploaded: false };
    const repo = this.ref.repository;
    const chunk = this.options.uploadChunkBytes ?? DEFAULT_UPLOAD_CHUNK_BYTES;
    const start = await this.call(`/v2/${repo}/blobs/uploads/${digest.startsWith("sha512:") ? "?digest-algorithm=sha512" : ""}`, {
      method: "POST",
      body: new Uint8Array(0),
      push: true,
      retry: false,
    });
    if (start.status !== 202) return this.failure(start, `blob upload ${digest}`);
    start.body.destroy();
    let location = this.uploadLocation(start, "upload start");
    let closing: HttpResponse;
    try {
      if (data.length <= chunk) {
        closing = await this.call(withDigest(location, digest), {
          method: "PUT",
          headers: { "content-type": "application/octet-stream" },
          body: data,
          retry: false,
          push: true,
        });
      } else {
        for (let offset = 0; offset < data.length; offset += chunk) {
          const part = data.subarray(offset, Math.min(offset + chunk, data.length));
          const res = await this.call(location, {
            method: "PATCH",
            headers: { "content-type": "application/octet-stream", "content-range": `${offset}-${offset + part.length - 1}` },
            body: part,
            retry: false,
            push: true,
          });
          if (res.status !== 202) return await this.failure(res, `blob upload ${digest} (chunk at ${offset})`);
          res.body.destroy();
          location = this.uploadLocation(res, "chunk upload");
        }
        closing = await this.call(withDigest(location, digest), { method: "PUT", body: new Uint8Array(0), retry: false, push: true });
      }
    } catch (e) {
      await this.cancelUpload(location);
      throw e;
    }
    if (closing.status !== 201) {
      await this.cancelUpload(location);
      return this.failure(closing, `blob upload ${digest}`);
    }
    closing.body.destroy();
    this.checkAnsweredDigest(closing, digest, "blob");
    return { digest, size: data.length, uploaded: true };
  }

  private uploadLocation(res: HttpResponse, step: string): string {
    const location = res.headers.get("location");
    if (!location) throw this.error(`${this.description}: ${step}: the registry gave no Location`);
    return location;
  }

  /** Best effort: a failed upload session is cancelled so the registry frees it. */
  private async cancelUpload(location: string): Promise<void> {
    try {
      const res = await this.call(location, { method: "DELETE", retry: false, push: true });
      res.body.destroy();
    } catch {
      // the registry times unfinished uploads out
    }
  }

  /** A Docker-Content-Digest answer that names other content than what was sent: fails closed. */
  private checkAnsweredDigest(res: HttpResponse, digest: string, what: string): void {
    const answered = res.headers.get("docker-content-digest")?.trim();
    if (answered && answered !== digest) {
      throw new VerificationFailedError(`${this.description}: the registry answered ${what} digest ${answered.slice(0, 140)} for content with digest ${digest}`, {
        reason: "DIGEST_MISMATCH",
      });
    }
  }

  /**
   * Pushes a manifest or index by tag or by digest, with its media type as Content-Type (it must
   * equal the document's `mediaType` when it has one). By digest, the digest must be the content's.
   * The registry's Docker-Content-Digest must be the content's; when it gives none, the manifest is
   * read back and hashed.
   */
  async putManifest(body: Uint8Array, mediaType: string, reference: string): Promise<PushedManifest> {
    const doc = parseJsonDocument(Buffer.from(body), `${this.description}: manifest to push`);
    const declared: unknown = doc.mediaType;
    if (typeof declared === "string" && declared !== mediaType) {
      throw new InputError(`manifest mediaType ${declared.slice(0, 100)} is not the Content-Type given (${mediaType})`, { file: this.description });
    }
    const byDigest = isDigest(reference);
    if (!byDigest && !TAG_RE.test(reference)) throw new UsageError(`${String(reference).slice(0, 140)}: not a valid tag`);
    const digest = digestIn(body, byDigest ? reference : undefined);
    if (byDigest && digest !== reference) {
      throw new VerificationFailedError(`${this.description}: manifest content digest ${digest} does not match ${reference}`, { reason: "DIGEST_MISMATCH" });
    }
    const res = await this.call(`/v2/${this.ref.repository}/manifests/${reference}`, {
      method: "PUT",
      headers: { "content-type": mediaType },
      body,
      push: true,
    });
    if (res.status !== 201 && res.status !== 200) return this.failure(res, `manifest push ${reference}`);
    res.body.destroy();
    const answered = res.headers.get("docker-content-digest")?.trim();
    if (answered && isDigest(answered) && !answered.startsWith(digest.slice(0, digest.indexOf(":") + 1))) {
      // Another algorithm than ours: compared in its own.
      this.checkAnsweredDigest(res, digestIn(body, answered), "manifest");
    } else if (answered) {
      this.checkAnsweredDigest(res, digest, "manifest");
    } else {
      const back = await this.getManifest(reference, Math.max(body.length, 1) * 2 + 1024);
      if (back.digest !== digestIn(body)) {
        throw new VerificationFailedError(`${this.description}:${reference}: the registry serves ${back.digest} after a push of ${digestIn(body)}`, { reason: "DIGEST_MISMATCH" });
      }
    }
    const pushed: PushedManifest = { digest, size: body.length };
    const subject = res.headers.get("oci-subject")?.trim();
    if (subject) pushed.ociSubject = subject;
    return pushed;
  }

  /**
   * Deletes a manifest by digest (DELETE /v2/<name>/manifests/<digest>). A registry with deletes
   * disabled answers 400 or 405: a NetworkError naming it.
   */
  async deleteManifest(digest: string): Promise<void> {
    digestAlgorithm(digest, this.description);
    const res = await this.call(`/v2/${this.ref.repository}/manifests/${digest}`, { method: "DELETE", push: true });
    if (res.status !== 202 && res.status !== 200 && res.status !== 204) return this.failure(res, `manifest delete ${digest}`);
    res.body.destroy();
  }

  /**
   * HEAD a manifest: undefined when the registry has none by that reference. The digest is the
   * registry's claim (Docker-Content-Digest), unverified: `getManifest` hashes what it reads.
   */
  async headManifest(reference: string): Promise<{ digest?: string; mediaType?: string; size?: number } | undefined> {
    const res = await this.call(`/v2/${this.ref.repository}/manifests/${reference}`, { method: "HEAD", accept: MANIFEST_ACCEPT });
    res.body.destroy();
    if (res.status === 404) return undefined;
    if (res.status !== 200) return this.failure(res, `manifest ${reference}`);
    const out: { digest?: string; mediaType?: string; size?: number } = {};
    const d = isDigest(reference) ? reference : res.headers.get("docker-content-digest")?.trim();
    if (d && isDigest(d)) out.digest = d;
    const mt = res.headers.get("content-type")?.split(";")[0]?.trim();
    if (mt) out.mediaType = mt;
    const size = Number(res.headers.get("content-length") ?? "NaN");
    if (Number.isSafeInteger(size) && size >= 0) out.size = size;
    return out;
  }

  /**
   * GETs every page of a paginated list (tags, referrers): the `Link: <…>; rel="next"` targets,
   * followed on the registry's own origin only, each page bounded by `maxPageBytes`.
   */
  async *pages(path: string, accept: string | undefined, maxPageBytes: number, what: string): AsyncGenerator<{ body: Buffer; headers: ResponseHeaders } | undefined> {
    let next: string | undefined = path;
    const origin = new URL(this.base).origin;
    for (let page = 0; next !== undefined; page++) {
      if (page >= MAX_PAGES) throw new LimitExceededError(`${this.description}: ${what}: more than ${MAX_PAGES} pages`);
      const res = await this.call(next, accept ? { accept } : {});
      if (res.status === 404 && page === 0) {
        res.body.destroy();
        yield undefined;
        return;
      }
      if (res.status !== 200) return await this.failure(res, what);
      const body = await readBody(res, maxPageBytes, `${this.description}: ${what}`);
      yield { body, headers: res.headers };
      const link = nextLink(res.headers.get("link"));
      if (link === undefined) return;
      const url = new URL(link, this.base);
      if (url.origin !== origin) throw this.error(`${this.description}: ${what}: the next page is on another host (${url.origin}); refused`);
      next = `${url.pathname}${url.search}`;
    }
  }

  /** Every tag of the repository (GET /v2/<name>/tags/list, `n` per page, following the Link header). */
  async listTags(pageSize = 1000): Promise<string[]> {
    const tags: string[] = [];
    for await (const page of this.pages(`/v2/${this.ref.repository}/tags/list?n=${pageSize}`, "application/json", 4 * 1024 * 1024, "tag list")) {
      if (!page) throw new InputError(`repository not found (HTTP 404)`, { file: this.description, code: "NOT_FOUND" });
      const doc = parseJsonDocument(page.body, `${this.description}: tag list`);
      if (doc.tags === null || doc.tags === undefined) continue;
      if (!Array.isArray(doc.tags) || doc.tags.some((t) => typeof t !== "string")) throw new InputError("tag list: tags is not a list of strings", { file: this.description });
      tags.push(...(doc.tags as string[]));
      if (tags.length > MAX_LISTED) throw new LimitExceededError(`${this.description}: more than ${MAX_LISTED} tags`);
    }
    return tags;
  }
}

export async function openRegistryImage(reference: string, platform: Platform, limits: OciLimits, options: RegistryOptions): Promise<ResolvedImage> {
  const ref = parseRegistryReference(reference);
  const client = new RegistryClient(ref, options);
  const m = await client.getManifest(ref.digest ?? ref.tag ?? "latest", limits.maxManifestBytes);
  const root: Descriptor = { digest: m.digest, size: m.body.length };
  if (m.mediaType) root.mediaType = m.mediaType;
  const r = await resolveManifest(client, root, platform, limits, m.body);
  const image: ResolvedImage = {
    description: reference,
    name: `${ref.registry}/${ref.repository}`,
    registry: ref.registry,
    manifestDigest: r.manifestDigest,
    configDigest: r.configDigest,
    config: r.config,
    platform: r.platform,
    layers: r.layers,
  };
  if (r.indexDigest) image.indexDigest = r.indexDigest;
  if (ref.tag) image.tag = ref.tag;
  return image;
}
