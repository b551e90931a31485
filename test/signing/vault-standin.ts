/**
 * A STAND-IN FOR HASHICORP VAULT (no Vault or OpenBao server can run here), on 127.0.0.1, and a
 * stand-in for GitHub Actions' OIDC token endpoint. They implement the documented APIs with real
 * cryptography, so that the client is tested against what the real services check:
 *
 * Vault (https://developer.hashicorp.com/vault/api-docs/secret/transit, …/auth/jwt, …/auth/token):
 * - `POST /v1/<mount>/keys/:name` `{type}` creates a key (ecdsa-p256/-p384/-p521, real keys from
 *   node:crypto); `POST /v1/<mount>/keys/:name/rotate` adds a version;
 * - `GET  /v1/<mount>/keys/:name`: `{data: {type, latest_version, supports_signing, keys: {"N": {public_key PEM, name, creation_time}}}}`;
 * - `POST /v1/<mount>/sign/:name(/:hash_algorithm)`: `input` base64, `prehashed` honoured (the given
 *   digest is signed as it is, with @noble/curves: node:crypto cannot sign a prehashed ECDSA digest),
 *   `hash_algorithm`, `marshaling_algorithm` asn1|jws, `key_version` → `vault:vN:<base64>`;
 * - `POST /v1/<mount>/verify/:name(/:hash_algorithm)` → `{data: {valid}}`;
 * - `POST /v1/auth/<jwt mount>/login` `{role, jwt}`: the JWT's ES256/RS256 signature is verified
 *   against the configured keys (as `jwt_validation_pubkeys`), then `exp`/`nbf` (with a leeway),
 *   `iss` (bound_issuer), `aud` (the role's bound_audiences), `sub` (bound_subject) and bound_claims;
 *   a random token with the role's policies is issued;
 * - `POST /v1/auth/token/revoke-self` revokes the token in X-Vault-Token;
 * - every Transit call needs a live token in X-Vault-Token (403 `permission denied` otherwise); the
 *   namespace, when configured, must be in X-Vault-Namespace.
 * Every request is recorded with its headers and body, for the tests to check what the client sent.
 *
 * GitHub (https://docs.github.com/en/actions/reference/security/oidc): `GET /token?audience=AUD` with
 * `Authorization: bearer <request token>` → `{"value": JWT}`, the JWT ES256-signed with the issuer
 * `https://token.actions.githubusercontent.com` and the claims a workflow run has.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { p256, p384, p521 } from "@noble/curves/nist.js";

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> | undefined;
}

export interface JwtRole {
  bound_audiences: string[];
  bound_subject?: string;
  bound_claims?: Record<string, string>;
  token_policies?: string[];
  token_ttl?: number;
}

export interface VaultStandInOptions {
  transitMount?: string;
  jwtMount?: string;
  /** `jwt_validation_pubkeys`: the keys a login JWT must be signed with. */
  jwtValidationKeys?: KeyObject[];
  boundIssuer?: string;
  roles?: Record<string, JwtRole>;
  defaultRole?: string;
  /** Tokens that exist from the start (a root token given to the test). */
  tokens?: string[];
  /** When set, every request must carry this X-Vault-Namespace. */
  namespace?: string;
  /** Seconds of clock skew allowed on exp/nbf (Vault's default expiration_leeway is 150). */
  leewaySeconds?: number;
}

const CURVES = {
  "ecdsa-p256": { curve: p256, name: "P-256", nodeCurve: "prime256v1" },
  "ecdsa-p384": { curve: p384, name: "P-384", nodeCurve: "secp384r1" },
  "ecdsa-p521": { curve: p521, name: "P-521", nodeCurve: "secp521r1" },
} as const;
type KeyType = keyof typeof CURVES;

const HASHES: Record<string, { node: string; bytes: number }> = {
  "sha2-256": { node: "sha256", bytes: 32 },
  "sha2-384": { node: "sha384", bytes: 48 },
  "sha2-512": { node: "sha512", bytes: 64 },
};

interface KeyVersion {
  privateScalar: Uint8Array;
  publicPem: string;
  created: string;
}

interface TransitKey {
  type: KeyType;
  versions: KeyVersion[];
}

export class StandInError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function newVersion(type: KeyType): KeyVersion {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: CURVES[type].nodeCurve });
  const d = privateKey.export({ format: "jwk" }).d!;
  return { privateScalar: new Uint8Array(Buffer.from(d, "base64url")), publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(), created: new Date().toISOString() };
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Signs a JWT (ES256 or RS256) with node:crypto: what an OIDC provider does. */
export function signJwt(claims: Record<string, unknown>, key: KeyObject, options: { alg?: "ES256" | "RS256"; kid?: string } = {}): string {
  const alg = options.alg ?? (key.asymmetricKeyType === "rsa" ? "RS256" : "ES256");
  const header = { alg, typ: "JWT", ...(options.kid ? { kid: options.kid } : {}) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = alg === "ES256" ? cryptoSign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }) : cryptoSign("sha256", Buffer.from(input), key);
  return `${input}.${b64url(signature)}`;
}

/** Verifies a JWT's signature against any of `keys` and returns its claims; throws when none verifies. */
export function verifyJwtSignature(jwt: string, keys: KeyObject[]): Record<string, unknown> {
  const parts = jwt.split(".");
  if (parts.length !== 3) throw new Error("not a compact JWS");
  const [h, p, s] = parts as [string, string, string];
  const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as { alg?: string };
  const input = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, "base64url");
  let ok = false;
  for (const key of keys) {
    if (header.alg === "ES256" && key.asymmetricKeyType === "ec") ok = cryptoVerify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, signature);
    else if (header.alg === "RS256" && key.asymmetricKeyType === "rsa") ok = cryptoVerify("sha256", input, key, signature);
    if (ok) break;
  }
  if (!ok) throw new Error(`failed to verify id token signature (alg ${String(header.alg)})`);
  return JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return undefined;
  return JSON.parse(text) as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

async function listen(server: Server, sockets: Set<Socket>): Promise<string> {
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function shut(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
}

/** The stand-in for Vault. */
export class VaultStandIn {
  readonly requests: RecordedRequest[] = [];
  /** Tokens issued by JWT login, in order. */
  readonly issuedTokens: string[] = [];
  readonly revokedTokens: string[] = [];
  url = "";
  /** Misbehave: return signatures made over another digest (for the client's own check). */
  signOtherDigest = false;
  private readonly live = new Set<string>();
  private readonly keys = new Map<string, TransitKey>();
  private readonly options: Required<Pick<VaultStandInOptions, "transitMount" | "jwtMount" | "leewaySeconds">> & VaultStandInOptions;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(options: VaultStandInOptions = {}) {
    this.options = { transitMount: "transit", jwtMount: "jwt", leewaySeconds: 0, ...options };
    for (const t of options.tokens ?? []) this.live.add(t);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (e instanceof StandInError) send(res, e.status, { errors: [e.message] });
        else send(res, 500, { errors: [e instanceof Error ? e.message : String(e)] });
      });
    });
  }

  static async start(options: VaultStandInOptions = {}): Promise<VaultStandIn> {
    const s = new VaultStandIn(options);
    s.url = await listen(s.server, s.sockets);
    return s;
  }

  close(): Promise<void> {
    return shut(this.server, this.sockets);
  }

  createKey(name: string, type: KeyType = "ecdsa-p256"): void {
    this.keys.set(name, { type, versions: [newVersion(type)] });
  }

  rotateKey(name: string): void {
    const k = this.keys.get(name)!;
    k.versions.push(newVersion(k.type));
  }

  /** The PEM public key of a key version, straight from the stand-in's store. */
  publicKeyPem(name: string, version: number): string {
    return this.key(name).versions[version - 1]!.publicPem;
  }

  isLive(token: string): boolean {
    return this.live.has(token);
  }

  private requireToken(req: IncomingMessage): string {
    const token = req.headers["x-vault-token"];
    if (typeof token !== "string" || !this.live.has(token)) throw new StandInError(403, "permission denied");
    return token;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const body = req.method === "POST" || req.method === "PUT" ? await readBody(req) : undefined;
    this.requests.push({ method: req.method ?? "", path: url.pathname, headers: { ...req.headers }, body });
    if (this.options.namespace !== undefined && req.headers["x-vault-namespace"] !== this.options.namespace) throw new StandInError(403, "permission denied (namespace)");
    const path = url.pathname;
    const transit = `/v1/${this.options.transitMount}/`;
    if (req.method === "POST" && path === `/v1/auth/${this.options.jwtMount}/login`) return send(res, 200, this.login(body ?? {}));
    if (req.method === "POST" && path === "/v1/auth/token/revoke-self") {
      const token = this.requireToken(req);
      this.live.delete(token);
      this.revokedTokens.push(token);
      return send(res, 204);
    }
    if (path.startsWith(transit)) {
      this.requireToken(req);
      const [op, name, extra, more] = path.slice(transit.length).split("/");
      if (!op || !name || more !== undefined) throw new StandInError(404, "unsupported path");
      if (op === "keys" && req.method === "GET" && extra === undefined) return send(res, 200, this.readKey(name));
      if (op === "keys" && req.method === "POST" && extra === undefined) {
        const type = (body?.type ?? "aes256-gcm96") as string;
        if (!(type in CURVES)) throw new StandInError(400, `the stand-in creates only ecdsa keys, not ${type}`);
        this.createKey(name, type as KeyType);
        return send(res, 200, this.readKey(name));
      }
      if (op === "keys" && req.method === "POST" && extra === "rotate") {
        this.key(name);
        this.rotateKey(name);
        return send(res, 200, this.readKey(name));
      }
      if (op === "sign" && req.method === "POST") return send(res, 200, { data: { signature: this.sign(name, extra, body ?? {}) } });
      if (op === "verify" && req.method === "POST") return send(res, 200, { data: { valid: this.verify(name, extra, body ?? {}) } });
    }
    throw new StandInError(404, `no handler for ${req.method} ${path}`);
  }

  private key(name: string): TransitKey {
    const k = this.keys.get(name);
    if (!k) throw new StandInError(400, "signing key not found");
    return k;
  }

  private readKey(name: string): unknown {
    const k = this.keys.get(name);
    if (!k) throw new StandInError(404, "");
    const keys: Record<string, unknown> = {};
    k.versions.forEach((v, i) => (keys[String(i + 1)] = { public_key: v.publicPem, name: CURVES[k.type].name, creation_time: v.created }));
    return { data: { name, type: k.type, latest_version: k.versions.length, min_decryption_version: 1, supports_signing: true, exportable: false, keys } };
  }

  /** The digest Vault signs: the input itself when prehashed, else its hash. */
  private digestOf(pathHash: string | undefined, body: Record<string, unknown>): Uint8Array {
    const hashName = pathHash ?? (typeof body.hash_algorithm === "string" ? body.hash_algorithm : "sha2-256");
    const hash = HASHES[hashName];
    if (!hash) throw new StandInError(400, `unsupported hash algorithm ${hashName}`);
    if (typeof body.input !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(body.input)) throw new StandInError(400, "unable to decode input as base64");
    const input = Buffer.from(body.input, "base64");
    if (body.prehashed === true) {
      if (input.length !== hash.bytes) throw new StandInError(400, `prehashed input is ${input.length} bytes, ${hashName} is ${hash.bytes}`);
      return new Uint8Array(input);
    }
    return new Uint8Array(createHash(hash.node).update(input).digest());
  }

  private version(k: TransitKey, requested: unknown): number {
    if (requested === undefined || requested === 0 || requested === "") return k.versions.length;
    const n = Number(requested);
    if (!Number.isInteger(n) || n < 1 || n > k.versions.length) throw new StandInError(400, "invalid key version");
    return n;
  }

  private sign(name: string, pathHash: string | undefined, body: Record<string, unknown>): string {
    const k = this.key(name);
    const version = this.version(k, body.key_version);
    let digest = this.digestOf(pathHash, body);
    if (this.signOtherDigest) digest = new Uint8Array(createHash("sha256").update(digest).digest()).subarray(0, digest.length);
    const marshaling = body.marshaling_algorithm ?? "asn1";
    if (marshaling !== "asn1" && marshaling !== "jws") throw new StandInError(400, `unsupported marshaling algorithm ${String(marshaling)}`);
    const { curve } = CURVES[k.type];
    const sig = curve.sign(digest, k.versions[version - 1]!.privateScalar, { prehash: false, lowS: false, format: marshaling === "jws" ? "compact" : "der" });
    return `vault:v${version}:${Buffer.from(sig).toString(marshaling === "jws" ? "base64url" : "base64")}`;
  }

  private verify(name: string, pathHash: string | undefined, body: Record<string, unknown>): boolean {
    const k = this.key(name);
    const m = typeof body.signature === "string" ? /^vault:v(\d+):(.+)$/.exec(body.signature) : null;
    if (!m) throw new StandInError(400, "invalid signature format");
    const version = this.version(k, Number(m[1]));
    const marshaling = body.marshaling_algorithm ?? "asn1";
    const sig = Buffer.from(m[2]!, marshaling === "jws" ? "base64url" : "base64");
    const digest = this.digestOf(pathHash, body);
    const pub = createPublicKey(k.versions[version - 1]!.publicPem).export({ format: "jwk" });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(pub.x!, "base64url"), Buffer.from(pub.y!, "base64url")]);
    try {
      return CURVES[k.type].curve.verify(new Uint8Array(sig), digest, new Uint8Array(point), { prehash: false, lowS: false, format: marshaling === "jws" ? "compact" : "der" });
    } catch {
      return false;
    }
  }

  /** JWT login, checking what Vault's JWT auth method checks for a `jwt` role. */
  private login(body: Record<string, unknown>): unknown {
    const roleName = typeof body.role === "string" && body.role ? body.role : this.options.defaultRole;
    if (!roleName) throw new StandInError(400, "missing role");
    const role = this.options.roles?.[roleName];
    if (!role) throw new StandInError(400, `role "${roleName}" could not be found`);
    if (typeof body.jwt !== "string" || !body.jwt) throw new StandInError(400, "missing token");
    let claims: Record<string, unknown>;
    try {
      claims = verifyJwtSignature(body.jwt, this.options.jwtValidationKeys ?? []);
    } catch (e) {
      throw new StandInError(400, `error validating token: ${e instanceof Error ? e.message : String(e)}`);
    }
    const now = Math.floor(Date.now() / 1000);
    const leeway = this.options.leewaySeconds;
    if (typeof claims.exp !== "number") throw new StandInError(400, "error validating token: no exp claim");
    if (claims.exp + leeway < now) throw new StandInError(400, "error validating claims: token is expired (exp)");
    if (typeof claims.nbf === "number" && claims.nbf - leeway > now) throw new StandInError(400, "error validating claims: token not valid yet (nbf)");
    if (this.options.boundIssuer !== undefined && claims.iss !== this.options.boundIssuer) throw new StandInError(400, "error validating claims: validation failed, invalid issuer claim (iss)");
    const aud = typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    if (!aud.some((a) => role.bound_audiences.includes(a as string))) throw new StandInError(400, "error validating claims: invalid audience (aud) claim: audience claim does not match any expected audience");
    if (role.bound_subject !== undefined && claims.sub !== role.bound_subject) throw new StandInError(400, "sub claim does not match bound subject");
    for (const [claim, expected] of Object.entries(role.bound_claims ?? {})) {
      if (claims[claim] !== expected) throw new StandInError(400, `claim "${claim}" does not match any associated bound claim values`);
    }
    const token = `hvs.${randomBytes(24).toString("base64url")}`;
    this.live.add(token);
    this.issuedTokens.push(token);
    return {
      auth: {
        client_token: token,
        accessor: randomBytes(12).toString("base64url"),
        policies: role.token_policies ?? ["default"],
        token_policies: role.token_policies ?? ["default"],
        lease_duration: role.token_ttl ?? 300,
        renewable: true,
        metadata: { role: roleName },
      },
    };
  }
}

/** The stand-in for GitHub Actions' OIDC token endpoint. */
export class GitHubOidcStandIn {
  readonly requests: RecordedRequest[] = [];
  /** The key the tokens are signed with (its public half is what Vault is configured with). */
  readonly signingKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The bearer credential the job gets as ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  readonly requestToken = `gh-request-${randomBytes(16).toString("hex")}`;
  url = "";
  /** Claims of the run (repository, ref…), and overrides for the tests (exp in the past, another iss). */
  claims: Record<string, unknown> = {
    sub: "repo:acme/app:ref:refs/heads/main",
    repository: "acme/app",
    repository_owner: "acme",
    ref: "refs/heads/main",
    workflow: "release",
    job_workflow_ref: "acme/app/.github/workflows/release.yml@refs/heads/main",
    run_id: "1234",
    run_attempt: "1",
  };
  lifetimeSeconds = 300;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    this.signingKey = createPrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }));
    this.publicKey = publicKey;
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      this.requests.push({ method: req.method ?? "", path: `${url.pathname}${url.search}`, headers: { ...req.headers }, body: undefined });
      if (req.method !== "GET" || url.pathname !== "/token") return send(res, 404, { message: "Not Found" });
      if (req.headers.authorization !== `bearer ${this.requestToken}`) return send(res, 401, { message: "Unauthorized" });
      const now = Math.floor(Date.now() / 1000);
      const jwt = signJwt(
        {
          jti: randomBytes(8).toString("hex"),
          iss: GITHUB_ISSUER,
          aud: url.searchParams.get("audience") ?? "https://github.com/acme",
          iat: now,
          nbf: now - 5,
          exp: now + this.lifetimeSeconds,
          ...this.claims,
        },
        this.signingKey,
      );
      send(res, 200, { count: 1, value: jwt });
    });
  }

  static async start(): Promise<GitHubOidcStandIn> {
    const s = new GitHubOidcStandIn();
    s.url = await listen(s.server, s.sockets);
    return s;
  }

  /** The environment GitHub gives a job with `permissions: id-token: write`. */
  env(): NodeJS.ProcessEnv {
    return { ACTIONS_ID_TOKEN_REQUEST_URL: `${this.url}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.requestToken };
  }

  close(): Promise<void> {
    return shut(this.server, this.sockets);
  }
}
