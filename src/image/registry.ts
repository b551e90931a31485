import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { InputError, LimitExceededError, TollgateError, UsageError, VerificationFailedError } from "../errors.ts";
import { parseImageReference } from "../target/index.ts";
import { lookupCredentials, type RegistryCredentials } from "./auth.ts";
import { isDigest, resolveManifest, sha256Digest, verifyDigest, type BlobSource } from "./manifest.ts";
import { isIndexMediaType, MEDIA_TYPES, type Descriptor, type ImageLimits, type Platform, type ResolvedImage } from "./types.ts";

const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest].join(", ");

export interface RegistryOptions {
  /** Hosts (host or host:port) reached over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Attempts per request on network errors, 429 and 5xx (default 3). */
  attempts?: number;
}

export class NetworkError extends TollgateError {
  constructor(message: string) {
    super("NETWORK", message, 2);
    this.name = "NetworkError";
  }
}

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

/** Plain HTTP for loopback hosts, as docker does, and for hosts the user names as insecure. */
export function usesPlainHttp(host: string, insecure: readonly string[] = []): boolean {
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
  if (name === "localhost" || name === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return true;
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

async function readBody(res: Response, maxBytes: number, where: string): Promise<Buffer> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new LimitExceededError(`${where}: response of ${declared} bytes is over the limit of ${maxBytes}`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > maxBytes) throw new LimitExceededError(`${where}: response over the limit of ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, total);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An OCI distribution client for one repository: manifest and blob GETs, the `WWW-Authenticate`
 * Bearer token flow (anonymous, basic credentials or an identity token from docker's config), basic
 * auth, retries, and digest verification of everything it reads.
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

  constructor(ref: RegistryReference, options: RegistryOptions = {}) {
    this.ref = ref;
    this.options = options;
    this.description = `${ref.registry}/${ref.repository}`;
    this.base = `${usesPlainHttp(ref.apiHost, options.insecureRegistries) ? "http" : "https"}://${ref.apiHost}`;
  }

  private creds(): Promise<RegistryCredentials | undefined> {
    this.credentials ??= lookupCredentials(this.ref.registry, this.options.env ?? process.env);
    return this.credentials;
  }

  private async send(url: string, accept: string | undefined): Promise<Response> {
    const attempts = this.options.attempts ?? 3;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(250 * 2 ** (i - 1));
      const headers: Record<string, string> = { "user-agent": "tollgate" };
      if (accept) headers.accept = accept;
      if (this.authorization) headers.authorization = this.authorization;
      let res: Response;
      try {
        res = await fetch(url, { headers, redirect: "follow" });
      } catch (e) {
        lastError = e;
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        await res.body?.cancel();
        lastError = new NetworkError(`${url}: HTTP ${res.status}`);
        continue;
      }
      return res;
    }
    const cause = lastError instanceof Error ? ((lastError.cause as Error | undefined)?.message ?? lastError.message) : String(lastError);
    throw lastError instanceof NetworkError ? lastError : new NetworkError(`${url}: ${cause}`);
  }

  /** A GET with the auth dance: on 401, answer the challenge once and retry. */
  private async get(path: string, accept?: string): Promise<Response> {
    const url = `${this.base}${path}`;
    let res = await this.send(url, accept);
    if (res.status === 401) {
      const challenge = res.headers.get("www-authenticate");
      await res.body?.cancel();
      if (!challenge) throw new NetworkError(`${url}: HTTP 401 without a WWW-Authenticate challenge`);
      this.authorization = await this.authorize(challenge);
      res = await this.send(url, accept);
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw new NetworkError(`${this.description}: access denied (HTTP ${res.status}); check the credentials in ${this.options.env?.DOCKER_CONFIG ?? "~/.docker"}/config.json`);
      }
    }
    return res;
  }

  private async authorize(challenge: string): Promise<string> {
    const { scheme, params } = parseChallenge(challenge);
    const creds = await this.creds();
    if (scheme === "basic") {
      if (!creds?.username || creds.password === undefined) throw new NetworkError(`${this.description}: the registry asks for basic credentials and none are configured`);
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    if (scheme !== "bearer") throw new NetworkError(`${this.description}: unsupported authentication scheme "${scheme}"`);
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const realm = params.realm;
    if (!realm || !/^https?:\/\//.test(realm)) throw new NetworkError(`${this.description}: Bearer challenge without a usable realm`);
    const scope = params.scope ?? `repository:${this.ref.repository}:pull`;
    const url = new URL(realm);
    let res: Response;
    try {
      if (creds?.identityToken) {
        const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: "tollgate", scope });
        if (params.service) form.set("service", params.service);
        res = await fetch(url, { method: "POST", body: form, headers: { "user-agent": "tollgate" } });
      } else {
        if (params.service) url.searchParams.set("service", params.service);
        url.searchParams.set("scope", scope);
        const headers: Record<string, string> = { "user-agent": "tollgate" };
        if (creds?.username && creds.password !== undefined && url.protocol === "http:" && !usesPlainHttp(url.host, this.options.insecureRegistries)) {
          throw new NetworkError(`${this.description}: the token endpoint ${url.origin} is plain HTTP; credentials are sent there only for localhost, 127.0.0.0/8 or --insecure-registry hosts`);
        }
        if (creds?.username && creds.password !== undefined) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
        res = await fetch(url, { headers });
      }
    } catch (e) {
      throw new NetworkError(`${url.origin}: token request failed: ${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new NetworkError(`${this.description}: token endpoint ${url.origin}${url.pathname} answered HTTP ${res.status}`);
    }
    const body = await readBody(res, 1024 * 1024, `${url.origin}${url.pathname}`);
    let token: unknown;
    try {
      const j = JSON.parse(body.toString("utf8")) as { token?: unknown; access_token?: unknown };
      token = j.token ?? j.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string" || token === "") throw new NetworkError(`${this.description}: the token endpoint returned no token`);
    return `Bearer ${token}`;
  }

  /** GET with node:http(s), following up to 5 redirects (the Authorization header only to the same origin). */
  private streamDirect(url: string, redirects = 5): Promise<Readable | undefined> {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      const headers: Record<string, string> = { "user-agent": "tollgate" };
      if (this.authorization && u.origin === new URL(this.base).origin) headers.authorization = this.authorization;
      const req = (u.protocol === "https:" ? httpsGet : httpGet)(u, { headers }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
          res.resume();
          const next = new URL(res.headers.location, u);
          // No downgrade from HTTPS to plain HTTP.
          if (u.protocol === "https:" && next.protocol !== "https:") return resolve(undefined);
          this.streamDirect(next.href, redirects - 1).then(resolve, reject);
          return;
        }
        if (status !== 200) {
          res.resume();
          resolve(undefined);
          return;
        }
        resolve(res);
      });
      req.on("error", reject);
    });
  }

  private async expectOk(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    await res.body?.cancel();
    if (res.status === 404) throw new InputError(`${what} not found (HTTP 404)`, { file: this.description, code: "NOT_FOUND" });
    throw new NetworkError(`${this.description}: ${what}: HTTP ${res.status}`);
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
    const res = await this.get(`/v2/${this.ref.repository}/blobs/${desc.digest}`);
    await this.expectOk(res, `blob ${desc.digest}`);
    const body = await readBody(res, maxBytes, `${this.description}@${desc.digest}`);
    verifyDigest(body, desc.digest, `${this.description}@${desc.digest}`);
    return body;
  }

  async open(desc: Descriptor): Promise<Readable> {
    const path = `/v2/${this.ref.repository}/blobs/${desc.digest}`;
    // Layers go through node:http(s) streams, which cost less CPU per byte than fetch's web streams.
    // Once the manifest GET has settled the auth, this path needs no challenge; anything unusual
    // (401, errors) falls back to the fetch path with its auth dance and retries.
    if (this.authorization !== undefined || this.anonymousOk) {
      const direct = await this.streamDirect(`${this.base}${path}`).catch(() => undefined);
      if (direct) return direct;
    }
    const res = await this.get(path);
    await this.expectOk(res, `blob ${desc.digest}`);
    if (!res.body) throw new NetworkError(`${this.description}@${desc.digest}: empty response`);
    return Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>, { highWaterMark: 1024 * 1024 });
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
