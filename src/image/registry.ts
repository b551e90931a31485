import type { Readable } from "node:stream";
import { InputError, LimitExceededError, NetworkError, UsageError, VerificationFailedError } from "../errors.ts";
import { httpRequest, isLoopbackHost, NetworkTimeoutError, readAll, redactSecrets, type HttpResponse, type NetworkTimeouts } from "../io/http.ts";
import { parseImageReference } from "../target/index.ts";
import { lookupCredentials, type RegistryCredentials } from "./auth.ts";
import { isDigest, resolveManifest, sha256Digest, verifyDigest, type BlobSource } from "./manifest.ts";
import { isIndexMediaType, MEDIA_TYPES, type Descriptor, type ImageLimits, type Platform, type ResolvedImage } from "./types.ts";

const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest].join(", ");

export interface RegistryOptions {
  /** Hosts (host or host:port) reached over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Attempts per request on network errors, 429 and 5xx (default 3); a timeout is not retried. */
  attempts?: number;
  /** Connect, response, idle and per-blob timeouts (default DEFAULT_NETWORK_TIMEOUTS). */
  timeouts?: Partial<NetworkTimeouts>;
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

/**
 * An OCI distribution client for one repository: manifest and blob GETs, the `WWW-Authenticate`
 * Bearer token flow (anonymous, basic credentials or an identity token from docker's config), basic
 * auth, retries, timeouts (connect, response, idle, and a total per blob scaled by its size), and
 * digest verification of everything it reads. Credentials go over plain HTTP only to loopback hosts
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

  private request(url: string, init: { method?: string; headers: Record<string, string>; body?: string; expectedBytes?: number }): Promise<HttpResponse> {
    return httpRequest(url, {
      ...init,
      ...(this.options.timeouts ? { timeouts: this.options.timeouts } : {}),
    });
  }

  private async send(url: string, accept: string | undefined, expectedBytes?: number): Promise<HttpResponse> {
    const attempts = this.options.attempts ?? 3;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(250 * 2 ** (i - 1));
      const headers: Record<string, string> = { "user-agent": "tollgate" };
      if (accept) headers.accept = accept;
      if (this.authorization) headers.authorization = this.authorization;
      let res: HttpResponse;
      try {
        res = await this.request(url, { headers, ...(expectedBytes !== undefined ? { expectedBytes } : {}) });
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

  /** A GET with the auth dance: on 401, answer the challenge once and retry. */
  private async get(path: string, accept?: string, expectedBytes?: number): Promise<HttpResponse> {
    const url = `${this.base}${path}`;
    let res = await this.send(url, accept, expectedBytes);
    if (res.status === 401) {
      const challenge = res.headers.get("www-authenticate");
      res.body.destroy();
      if (!challenge) throw this.error(`${url}: HTTP 401 without a WWW-Authenticate challenge`);
      this.authorization = await this.authorize(challenge);
      res = await this.send(url, accept, expectedBytes);
      if (res.status === 401 || res.status === 403) {
        res.body.destroy();
        throw this.error(`${this.description}: access denied (HTTP ${res.status}); check the credentials in ${this.options.env?.DOCKER_CONFIG ?? "~/.docker"}/config.json`);
      }
    }
    return res;
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
    const scope = params.scope ?? `repository:${this.ref.repository}:pull`;
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
}

export async function openRegistryImage(reference: string, platform: Platform, limits: ImageLimits, options: RegistryOptions): Promise<ResolvedImage> {
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
