/**
 * `hashivault://KEY` (cosign's scheme; `vault://KEY` too): a key in HashiCorp Vault's (or OpenBao's)
 * Transit secrets engine. The digest is computed here and Vault signs it (`prehashed: true`), so the
 * artifact never leaves this machine:
 *
 * - `GET  /v1/<mount>/keys/<KEY>`: the key's type, latest version and public key (PEM);
 * - `POST /v1/<mount>/sign/<KEY>`: `{input: base64(digest), prehashed: true, hash_algorithm,
 *   marshaling_algorithm: "asn1", key_version}` → `{data: {signature: "vault:vN:<base64 DER>"}}`.
 *
 * Each signature is checked here against the public key of the version it names before it is
 * returned, so a signature that would not verify is never handed on.
 *
 * Address: `signing.vault.address`, else VAULT_ADDR (BAO_ADDR). Mount: `signing.vault.transit_mount`,
 * else TRANSIT_SECRET_ENGINE_PATH, else `transit`. Namespace: VAULT_NAMESPACE (BAO_NAMESPACE), sent
 * as `X-Vault-Namespace`.
 *
 * Credentials, most preferred first (no long-lived token needs to be stored anywhere):
 * 1. an explicit JWT (VAULT_JWT; the CLI's `--identity-token` can pass it so), exchanged at
 *    `POST /v1/auth/<jwt_mount|jwt>/login` `{role, jwt}` for a short-lived token;
 * 2. in GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL set), the job's OIDC token for audience
 *    `signing.vault.jwt_audience` (default: the Vault address), exchanged the same way — used when
 *    `signing.vault.jwt_role` (or VAULT_JWT_ROLE) is set, or when there is no VAULT_TOKEN;
 * 3. VAULT_TOKEN (BAO_TOKEN).
 * A token obtained by login is held in memory only and revoked (`auth/token/revoke-self`) at close;
 * a token that was given is not revoked. Tokens and JWTs are sent only to the Vault address, never
 * over plain HTTP to a host other than this machine (refused before any connection), never along a
 * redirect, and never appear in an error message.
 */
import { createHash, createPublicKey } from "node:crypto";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { NetworkError, UsageError, VerificationFailedError } from "../../errors.ts";
import { httpRequest, isLoopbackHost, readAll, redactSecrets } from "../../io/http.ts";
import { githubActionsIdToken, githubActionsOidcAvailable } from "./github-oidc.ts";
import type { DigestAlgorithm, KeySource, Signer, SignerOptions, SigningAlgorithm } from "./types.ts";

const SCHEMES = ["hashivault://", "vault://"];

/** Vault names: keys, mounts and roles as path segments (a mount may have inner slashes). */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MOUNT_PATH = /^[A-Za-z0-9][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9][A-Za-z0-9_.-]*)*$/;

/** The Transit key types tollgate signs with, and what they mean here. */
const KEY_TYPES: Record<string, { algorithm: SigningAlgorithm; hash: DigestAlgorithm; curve: typeof p256 }> = {
  "ecdsa-p256": { algorithm: "ecdsa-p256-sha256", hash: "sha256", curve: p256 },
  "ecdsa-p384": { algorithm: "ecdsa-p384-sha384", hash: "sha384", curve: p384 },
  "ecdsa-p521": { algorithm: "ecdsa-p521-sha512", hash: "sha512", curve: p521 },
};

const VAULT_HASH: Record<DigestAlgorithm, { name: string; bytes: number }> = {
  sha256: { name: "sha2-256", bytes: 32 },
  sha384: { name: "sha2-384", bytes: 48 },
  sha512: { name: "sha2-512", bytes: 64 },
};

/** The largest Vault response read (a key with many versions stays far below). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

interface VaultSettings {
  address: URL;
  transitMount: string;
  jwtMount: string;
  jwtRole: string | undefined;
  jwtAudience: string;
  namespace: string | undefined;
}

function stringSetting(section: Record<string, unknown>, key: string): string | undefined {
  const v = section[key];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function settingsFrom(options: SignerOptions): VaultSettings {
  const env = options.env ?? process.env;
  const raw = options.config?.vault;
  const section = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  const addressText = stringSetting(section, "address") ?? env.VAULT_ADDR ?? env.BAO_ADDR;
  if (!addressText) throw new UsageError("hashivault: no Vault address (set signing.vault.address in tollgate.yaml or VAULT_ADDR)");
  let address: URL;
  try {
    address = new URL(addressText);
  } catch {
    throw new UsageError("hashivault: the Vault address is not a URL");
  }
  if (address.protocol !== "https:" && address.protocol !== "http:") throw new UsageError(`hashivault: the Vault address has an unsupported scheme ${address.protocol}`);
  if (address.username || address.password) throw new UsageError("hashivault: the Vault address must not carry credentials");
  if (address.search || address.hash) throw new UsageError("hashivault: the Vault address must not have a query or fragment");
  if (address.protocol === "http:" && !isLoopbackHost(address.host)) {
    // Every request carries a token or a JWT: refused before any connection is made.
    throw new UsageError(`hashivault: refusing to send Vault credentials over plain HTTP to ${address.host} (use https, or a loopback address)`);
  }
  const transitMount = trimSlashes(stringSetting(section, "transit_mount") ?? env.TRANSIT_SECRET_ENGINE_PATH ?? "transit");
  const jwtMount = trimSlashes(stringSetting(section, "jwt_mount") ?? "jwt");
  for (const [what, mount] of [["transit mount", transitMount], ["JWT auth mount", jwtMount]] as const) {
    if (!MOUNT_PATH.test(mount) || mount.split("/").some((s) => s === "." || s === "..")) throw new UsageError(`hashivault: invalid ${what} ${JSON.stringify(mount)}`);
  }
  const addressForAudience = address.href.replace(/\/+$/, "");
  return {
    address,
    transitMount,
    jwtMount,
    jwtRole: stringSetting(section, "jwt_role") ?? (env.VAULT_JWT_ROLE || undefined),
    jwtAudience: stringSetting(section, "jwt_audience") ?? addressForAudience,
    namespace: env.VAULT_NAMESPACE || env.BAO_NAMESPACE || undefined,
  };
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, "");
}

/** The key name in `hashivault://KEY` or `vault://KEY`. */
export function parseHashivaultRef(ref: string): string {
  const scheme = SCHEMES.find((s) => ref.startsWith(s));
  if (!scheme) throw new UsageError(`hashivault: not a Vault key reference: ${ref}`);
  const name = ref.slice(scheme.length);
  if (!KEY_NAME.test(name)) throw new UsageError(`hashivault: invalid key name in ${JSON.stringify(ref)} (expected hashivault://KEY, KEY of letters, digits, '_', '-', '.')`);
  return name;
}

/** A Vault HTTP client bound to one address, namespace and token; the token is never logged. */
class VaultClient {
  readonly settings: VaultSettings;
  private token: string | undefined;
  /** The token came from a login here: revoked at close. */
  private ownsToken = false;
  /** Secrets to keep out of error messages. */
  private readonly secrets: string[] = [];

  constructor(settings: VaultSettings) {
    this.settings = settings;
  }

  private url(path: string): URL {
    const base = this.settings.address.href.endsWith("/") ? this.settings.address.href : `${this.settings.address.href}/`;
    return new URL(`v1/${path}`, base);
  }

  /** One JSON request. `auth`: send the token (every call but the login). */
  async request(method: "GET" | "POST", path: string, body: unknown, auth: boolean): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
    const url = this.url(path);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.settings.namespace) headers["x-vault-namespace"] = this.settings.namespace;
    if (auth) {
      if (!this.token) throw new UsageError("hashivault: no Vault token (the signer is closed)");
      headers["x-vault-token"] = this.token;
    }
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    const res = await httpRequest(url, { method, headers, redirect: "manual", ...(payload !== undefined ? { body: payload } : {}) });
    const bytes = await readAll(res.body, MAX_RESPONSE_BYTES, () => new NetworkError(`${url.host}: Vault response over ${MAX_RESPONSE_BYTES} bytes`));
    if (res.status >= 300 && res.status < 400) {
      // Vault standbys redirect to the active node; the token is not sent along (it may be another host).
      throw new NetworkError(`${url.host}: Vault answered ${method} /v1/${path} with a redirect (HTTP ${res.status}); set the address of the active node`);
    }
    let json: Record<string, unknown> | undefined;
    if (bytes.length > 0) {
      try {
        const parsed: unknown = JSON.parse(bytes.toString("utf8"));
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        json = undefined;
      }
    }
    if (res.status >= 400) {
      const errors = Array.isArray(json?.errors) ? (json.errors as unknown[]).filter((e): e is string => typeof e === "string").join("; ") : "";
      const detail = redactSecrets(errors.slice(0, 300).replace(/\s+/g, " "), this.secrets);
      throw new NetworkError(`${url.host}: Vault ${method} /v1/${path}: HTTP ${res.status}${detail ? `: ${detail}` : ""}`);
    }
    return { status: res.status, json };
  }

  useGivenToken(token: string): void {
    this.token = token;
    this.ownsToken = false;
    this.secrets.push(token);
  }

  /** `POST /v1/auth/<mount>/login {role, jwt}`: the short-lived token Vault issues for the JWT. */
  async loginWithJwt(jwt: string, role: string | undefined): Promise<void> {
    this.secrets.push(jwt);
    const path = `auth/${this.settings.jwtMount}/login`;
    const { json } = await this.request("POST", path, role ? { role, jwt } : { jwt }, false);
    const auth = json?.auth as { client_token?: unknown } | undefined;
    const token = auth?.client_token;
    if (typeof token !== "string" || token.length === 0) throw new NetworkError(`${this.settings.address.host}: Vault JWT login answered without auth.client_token`);
    this.token = token;
    this.ownsToken = true;
    this.secrets.push(token);
  }

  /** Revokes a token obtained by login (best effort: the login token is short-lived anyway) and forgets it. */
  async close(): Promise<void> {
    const owned = this.ownsToken && this.token !== undefined;
    try {
      if (owned) await this.request("POST", "auth/token/revoke-self", undefined, true);
    } catch {
      // a failed revocation leaves a token that expires on its own TTL; nothing secret to report
    } finally {
      this.token = undefined;
      this.ownsToken = false;
      this.secrets.length = 0;
    }
  }
}

interface TransitKey {
  type: string;
  version: number;
  publicKeyPem: string;
  spkiDer: Buffer;
}

function readTransitKey(name: string, json: Record<string, unknown> | undefined, host: string): TransitKey {
  const data = json?.data as Record<string, unknown> | undefined;
  const type = data?.type;
  if (typeof type !== "string") throw new NetworkError(`${host}: Vault key ${name}: the response has no key type`);
  if (!KEY_TYPES[type]) throw new UsageError(`hashivault: Vault key ${name} has type ${type}; tollgate signs with ecdsa-p256, ecdsa-p384 or ecdsa-p521 Transit keys`);
  if (data?.supports_signing === false) throw new UsageError(`hashivault: Vault key ${name} does not support signing`);
  const version = data?.latest_version;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) throw new NetworkError(`${host}: Vault key ${name}: the response has no latest_version`);
  const keys = data?.keys as Record<string, { public_key?: unknown } | undefined> | undefined;
  const pem = keys?.[String(version)]?.public_key;
  if (typeof pem !== "string" || !pem.includes("-----BEGIN PUBLIC KEY-----")) throw new NetworkError(`${host}: Vault key ${name}: no PEM public key for version ${version}`);
  let key;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new NetworkError(`${host}: Vault key ${name}: the public key does not parse`, { cause: e });
  }
  const expectedCurve = { "ecdsa-p256": "prime256v1", "ecdsa-p384": "secp384r1", "ecdsa-p521": "secp521r1" }[type];
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== expectedCurve) {
    throw new NetworkError(`${host}: Vault key ${name}: the public key is not on the curve of a ${type} key`);
  }
  const spkiDer = key.export({ type: "spki", format: "der" });
  return { type, version, publicKeyPem: key.export({ type: "spki", format: "pem" }).toString(), spkiDer };
}

/** `vault:vN:<base64>` → the version and the signature bytes. */
function parseVaultSignature(text: unknown, host: string): { version: number; bytes: Uint8Array } {
  const m = typeof text === "string" ? /^vault:v(\d+):([A-Za-z0-9+/]+={0,2})$/.exec(text) : null;
  if (!m) throw new NetworkError(`${host}: Vault sign answered without a vault:vN:<base64> signature`);
  return { version: Number(m[1]), bytes: new Uint8Array(Buffer.from(m[2]!, "base64")) };
}

class HashivaultSigner implements Signer {
  readonly backend = "hashivault";
  readonly ref: string;
  readonly algorithm: SigningAlgorithm;
  private readonly keyName: string;
  private readonly key: TransitKey;
  private readonly client: VaultClient;

  constructor(ref: string, keyName: string, key: TransitKey, client: VaultClient) {
    this.ref = ref;
    this.keyName = keyName;
    this.key = key;
    this.client = client;
    this.algorithm = KEY_TYPES[key.type]!.algorithm;
  }

  async publicKeyPem(): Promise<string> {
    return this.key.publicKeyPem;
  }

  async keyId(): Promise<string> {
    return createHash("sha256").update(this.key.spkiDer).digest("hex");
  }

  async signDigest(digest: Uint8Array, algorithm: DigestAlgorithm): Promise<Uint8Array> {
    const hash = VAULT_HASH[algorithm];
    if (!hash) throw new UsageError(`hashivault: unsupported digest algorithm ${String(algorithm)}`);
    if (digest.length !== hash.bytes) throw new UsageError(`hashivault: a ${algorithm} digest is ${hash.bytes} bytes, got ${digest.length}`);
    const host = this.client.settings.address.host;
    const path = `${this.client.settings.transitMount}/sign/${this.keyName}`;
    const { json } = await this.client.request(
      "POST",
      path,
      {
        input: Buffer.from(digest).toString("base64"),
        prehashed: true,
        hash_algorithm: hash.name,
        marshaling_algorithm: "asn1",
        key_version: this.key.version,
      },
      true,
    );
    const signature = parseVaultSignature((json?.data as { signature?: unknown } | undefined)?.signature, host);
    if (signature.version !== this.key.version) {
      throw new VerificationFailedError(`hashivault: Vault signed with version ${signature.version} of key ${this.keyName}, not the requested version ${this.key.version}`, { reason: "KEY" });
    }
    const curve = KEY_TYPES[this.key.type]!.curve;
    const publicPoint = curveDerPoint(this.key.spkiDer);
    let valid: boolean;
    try {
      valid = curve.verify(signature.bytes, digest, publicPoint, { prehash: false, format: "der", lowS: false });
    } catch {
      valid = false;
    }
    if (!valid) throw new VerificationFailedError(`hashivault: the signature Vault returned does not verify against version ${this.key.version} of key ${this.keyName}`, { reason: "SIGNATURE" });
    return signature.bytes;
  }

  async signMessage(message: Uint8Array): Promise<Uint8Array> {
    const hash = KEY_TYPES[this.key.type]!.hash;
    return this.signDigest(createHash(hash).update(message).digest(), hash);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** The uncompressed EC point of a SubjectPublicKeyInfo (its BIT STRING's content). */
function curveDerPoint(spkiDer: Buffer): Uint8Array {
  const jwk = createPublicKey({ key: spkiDer, format: "der", type: "spki" }).export({ format: "jwk" });
  const x = Buffer.from(jwk.x!, "base64url");
  const y = Buffer.from(jwk.y!, "base64url");
  return new Uint8Array(Buffer.concat([Buffer.from([4]), x, y]));
}

async function authenticate(client: VaultClient, options: SignerOptions): Promise<void> {
  const env = options.env ?? process.env;
  const { jwtRole, jwtAudience } = client.settings;
  const givenToken = env.VAULT_TOKEN || env.BAO_TOKEN || undefined;
  if (env.VAULT_JWT) {
    await client.loginWithJwt(env.VAULT_JWT, jwtRole);
    return;
  }
  if (githubActionsOidcAvailable(env) && (jwtRole !== undefined || givenToken === undefined)) {
    const jwt = await githubActionsIdToken(jwtAudience, env);
    await client.loginWithJwt(jwt, jwtRole);
    return;
  }
  if (givenToken) {
    client.useGivenToken(givenToken);
    return;
  }
  throw new UsageError(
    "hashivault: no Vault credentials: in GitHub Actions give the job `permissions: id-token: write` and set signing.vault.jwt_role; else set VAULT_JWT (a JWT for Vault's JWT login) or VAULT_TOKEN",
  );
}

export async function openHashivaultSigner(ref: string, options: SignerOptions = {}): Promise<Signer> {
  const keyName = parseHashivaultRef(ref);
  const client = new VaultClient(settingsFrom(options));
  try {
    await authenticate(client, options);
    const { json } = await client.request("GET", `${client.settings.transitMount}/keys/${keyName}`, undefined, true);
    const key = readTransitKey(keyName, json, client.settings.address.host);
    return new HashivaultSigner(ref, keyName, key, client);
  } catch (e) {
    await client.close();
    throw e;
  }
}

export const hashivaultSource: KeySource = {
  backend: "hashivault",
  handles: (ref: string) => SCHEMES.some((s) => ref.startsWith(s)),
  open: openHashivaultSigner,
};

/** A Transit key opened for verification through Vault's own `/verify` endpoint (model load-time checks). */
export interface HashivaultVerifier {
  readonly ref: string;
  /** The hash the key's type signs with (ecdsa-p256: sha256, p384: sha384, p521: sha512). */
  readonly hash: DigestAlgorithm;
  /** Each key version's PEM public key, by version number. */
  readonly versions: ReadonlyMap<number, string>;
  /** `POST /v1/<mount>/verify/<key>` with the digest (`prehashed`) and `vault:v<version>:<base64 DER>`: Vault's verdict. */
  verifyDigest(digest: Uint8Array, signatureDer: Uint8Array, version: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Opens `hashivault://KEY` for verification: the key's versions are read (`GET /keys/KEY`), and
 * signatures are checked by Vault (`POST /verify/KEY`), so a service that trusts Vault's key never
 * holds a copy of it. Credentials as for signing.
 */
export async function openHashivaultVerifier(ref: string, options: SignerOptions = {}): Promise<HashivaultVerifier> {
  const keyName = parseHashivaultRef(ref);
  const client = new VaultClient(settingsFrom(options));
  try {
    await authenticate(client, options);
    const host = client.settings.address.host;
    const { json } = await client.request("GET", `${client.settings.transitMount}/keys/${keyName}`, undefined, true);
    const latest = readTransitKey(keyName, json, host);
    const keys = ((json?.data as Record<string, unknown> | undefined)?.keys ?? {}) as Record<string, { public_key?: unknown } | undefined>;
    const versions = new Map<number, string>();
    for (const [v, entry] of Object.entries(keys)) {
      if (/^[1-9][0-9]*$/.test(v) && typeof entry?.public_key === "string") versions.set(Number(v), entry.public_key);
    }
    const hash = KEY_TYPES[latest.type]!.hash;
    const vaultHash = VAULT_HASH[hash];
    return {
      ref,
      hash,
      versions,
      async verifyDigest(digest: Uint8Array, signatureDer: Uint8Array, version: number): Promise<boolean> {
        if (digest.length !== vaultHash.bytes) throw new UsageError(`hashivault: a ${hash} digest is ${vaultHash.bytes} bytes, got ${digest.length}`);
        const { json: answer } = await client.request(
          "POST",
          `${client.settings.transitMount}/verify/${keyName}`,
          {
            input: Buffer.from(digest).toString("base64"),
            prehashed: true,
            hash_algorithm: vaultHash.name,
            marshaling_algorithm: "asn1",
            signature: `vault:v${version}:${Buffer.from(signatureDer).toString("base64")}`,
          },
          true,
        );
        const valid = (answer?.data as { valid?: unknown } | undefined)?.valid;
        if (typeof valid !== "boolean") throw new NetworkError(`${host}: Vault verify answered without data.valid`);
        return valid;
      },
      close: () => client.close(),
    };
  } catch (e) {
    await client.close();
    throw e;
  }
}
