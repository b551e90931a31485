/**
 * Stand-ins for AWS KMS and Google Cloud KMS on 127.0.0.1. Neither service can run here, so these
 * implement the documented wire protocol of the calls tollgate makes, with real ECDSA P-256 keys
 * (@noble/curves) and real request authentication, and record every request:
 *
 * - AWS KMS (JSON 1.1 protocol): `POST /` with `X-Amz-Target: TrentService.GetPublicKey` or
 *   `TrentService.Sign`, base64 blobs in JSON bodies, errors as `{"__type": "NotFoundException", …}`;
 *   every request's Signature Version 4 is recomputed here from the secret key (an independent
 *   implementation of the AWS algorithm, not the SDK's).
 * - Cloud KMS (REST v1): `GET /v1/{key}`, `GET /v1/{key}/cryptoKeyVersions`,
 *   `GET /v1/{version}/publicKey`, `POST /v1/{version}:asymmetricSign`, with a bearer token, CRC32C
 *   integrity fields, and errors as `{"error": {"code": 404, "status": "NOT_FOUND", …}}`.
 */
import { constants, createHash, createHmac, createPublicKey, generateKeyPairSync, privateEncrypt, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { p256 } from "@noble/curves/nist.js";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface StandInKey {
  /** The P-256 secret scalar (empty for an RSA key). */
  secretKey: Uint8Array;
  /** An RSA key's private key (AWS stand-in only: KeySpec RSA_2048). */
  rsaPrivateKey?: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  pem: string;
}

/** A fresh P-256 key pair, its public key as DER SPKI and PEM (through node:crypto, from the raw point). */
export function newP256Key(): StandInKey {
  const secretKey = p256.utils.randomSecretKey();
  const point = p256.getPublicKey(secretKey, false);
  const jwk = { kty: "EC", crv: "P-256", x: Buffer.from(point.subarray(1, 33)).toString("base64url"), y: Buffer.from(point.subarray(33, 65)).toString("base64url") };
  const key = createPublicKey({ key: jwk, format: "jwk" });
  return { secretKey, spki: key.export({ type: "spki", format: "der" }), pem: key.export({ type: "spki", format: "pem" }).toString() };
}

/** A fresh RSA-2048 key pair (node:crypto). */
export function newRsaKey(): StandInKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { secretKey: new Uint8Array(0), rsaPrivateKey: privateKey, spki: publicKey.export({ type: "spki", format: "der" }), pem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

/** RSASSA-PKCS1-v1_5 over a SHA-256 digest the caller gives: EMSA-PKCS1-v1_5 DigestInfo, then the RSA private operation. */
function signDigestRsaPkcs1(key: KeyObject, digest: Uint8Array): Buffer {
  const digestInfo = Buffer.concat([Buffer.from("3031300d060960864801650304020105000420", "hex"), digest]);
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
}

/** ECDSA P-256 over a digest the caller gives, DER-encoded (what both KMSs return). */
function signDigestDer(key: StandInKey, digest: Uint8Array): Buffer {
  return Buffer.from(p256.sign(digest, key.secretKey, { prehash: false, format: "der" }));
}

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** A TCP server on 127.0.0.1 that accepts connections and never answers (for timeout tests). */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------- AWS KMS

export interface AwsStandInKey {
  keyId: string;
  region: string;
  account: string;
  aliases: string[];
  key: StandInKey;
  /** For tests of a misbehaving KMS: the key that actually signs (default: `key`). */
  signsWith?: StandInKey;
}

export interface AwsKmsStandIn {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** The regions of the credential scopes of accepted requests. */
  regions: string[];
  close(): Promise<void>;
}

const hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

/** Recomputes an AWS Signature Version 4 of a `POST /` request (no query string); returns the scope's region or an error. */
function checkSigV4(req: IncomingMessage, body: string, credentials: { accessKeyId: string; secretAccessKey: string }): { region: string } | { error: string } {
  const auth = req.headers.authorization ?? "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { error: "missing or malformed SigV4 Authorization header" };
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId) return { error: "The security token included in the request is invalid." };
  if (service !== "kms") return { error: `credential scope service ${service} is not kms` };
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  if (!amzDate.startsWith(date!)) return { error: "x-amz-date does not match the credential scope" };
  if (req.headers["x-amz-content-sha256"] !== undefined && req.headers["x-amz-content-sha256"] !== hex(body)) return { error: "x-amz-content-sha256 does not match the body" };
  const names = signedHeaders!.split(";");
  if (!names.includes("host") || !names.includes("x-amz-target")) return { error: "host and x-amz-target must be signed" };
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [req.method, req.url?.split("?")[0] ?? "/", "", canonicalHeaders, signedHeaders, hex(body)].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date!), region!), service!), "aws4_request");
  const expected = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  return expected === signature ? { region: region! } : { error: "The request signature we calculated does not match the signature you provided." };
}

export async function startAwsKmsStandIn(keys: AwsStandInKey[], credentials: { accessKeyId: string; secretAccessKey: string }): Promise<AwsKmsStandIn> {
  const requests: RecordedRequest[] = [];
  const regions: string[] = [];
  const arnOf = (k: AwsStandInKey) => `arn:aws:kms:${k.region}:${k.account}:key/${k.keyId}`;
  const find = (id: string): AwsStandInKey | undefined =>
    keys.find(
      (k) =>
        id === k.keyId ||
        id === arnOf(k) ||
        k.aliases.some((a) => id === a || id === `arn:aws:kms:${k.region}:${k.account}:${a}`),
    );
  const fail = (res: ServerResponse, status: number, type: string, message: string) =>
    json(res, status, { __type: type, message }, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": type });

  const { server, port } = await listen((req, body, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
    if (req.method !== "POST" || req.url !== "/") return fail(res, 404, "UnknownOperationException", "not found");
    const auth = checkSigV4(req, body, credentials);
    if ("error" in auth) return fail(res, auth.error.includes("security token") ? 400 : 403, auth.error.includes("security token") ? "UnrecognizedClientException" : "InvalidSignatureException", auth.error);
    regions.push(auth.region);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return fail(res, 400, "SerializationException", "body is not JSON");
    }
    const target = req.headers["x-amz-target"];
    const key = find(String(input.KeyId ?? ""));
    if (!key) return fail(res, 400, "NotFoundException", `Key '${String(input.KeyId)}' does not exist`);
    const rsa = key.key.rsaPrivateKey;
    // The algorithms AWS lists for these key specs, in its order.
    const algorithms = rsa
      ? ["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"]
      : ["ECDSA_SHA_256"];
    if (target === "TrentService.GetPublicKey") {
      return json(res, 200, {
        KeyId: arnOf(key),
        PublicKey: key.key.spki.toString("base64"),
        KeySpec: rsa ? "RSA_2048" : "ECC_NIST_P256",
        KeyUsage: "SIGN_VERIFY",
        SigningAlgorithms: algorithms,
      });
    }
    if (target === "TrentService.Sign") {
      const supported = rsa ? "RSASSA_PKCS1_V1_5_SHA_256" : "ECDSA_SHA_256";
      if (input.SigningAlgorithm !== supported) return fail(res, 400, "InvalidKeyUsageException", `algorithm ${String(input.SigningAlgorithm)} is not implemented by this stand-in for this key`);
      const message = Buffer.from(String(input.Message ?? ""), "base64");
      let digest: Buffer;
      if (input.MessageType === "DIGEST") {
        if (message.length !== 32) return fail(res, 400, "ValidationException", `Digest is invalid length for algorithm ${supported}.`);
        digest = message;
      } else {
        digest = createHash("sha256").update(message).digest();
      }
      const signature = rsa ? signDigestRsaPkcs1(rsa, digest) : signDigestDer(key.signsWith ?? key.key, digest);
      return json(res, 200, { KeyId: arnOf(key), Signature: signature.toString("base64"), SigningAlgorithm: supported });
    }
    return fail(res, 400, "UnknownOperationException", `unknown operation ${String(target)}`);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    regions,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------- Cloud KMS

/** CRC32C computed bit by bit (an implementation independent of the one under test). */
export function crc32cBitwise(data: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

export interface GcpStandInVersion {
  state: "ENABLED" | "DISABLED";
  key: StandInKey;
}

export interface GcpStandInKey {
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K */
  name: string;
  purpose: "ASYMMETRIC_SIGN" | "ENCRYPT_DECRYPT";
  versions: Record<string, GcpStandInVersion>;
}

export interface GcpKmsStandIn {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Misbehaviours to test integrity checks: a wrong signature CRC, an unverified digest CRC. */
  tamper: { signatureCrc?: boolean; unverifiedDigest?: boolean };
  close(): Promise<void>;
}

const PURPOSES = { ENCRYPT_DECRYPT: 1, ASYMMETRIC_SIGN: 5 } as const;
const STATES = { ENABLED: 1, DISABLED: 2 } as const;
const EC_SIGN_P256_SHA256 = 12;

export async function startGcpKmsStandIn(keys: GcpStandInKey[], accessToken: string): Promise<GcpKmsStandIn> {
  const requests: RecordedRequest[] = [];
  const tamper: GcpKmsStandIn["tamper"] = {};
  const notFound = (res: ServerResponse, what: string) => json(res, 404, { error: { code: 404, message: `${what} not found.`, status: "NOT_FOUND" } });

  const { server, port } = await listen((req, body, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
    if (req.headers.authorization !== `Bearer ${accessToken}`) {
      return json(res, 401, { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" } });
    }
    const url = new URL(req.url ?? "/", "http://stand-in");
    // The client asks for enums as numbers (`$alt=json;enum-encoding=int`), as Google honours.
    const intEnums = (url.searchParams.get("$alt") ?? "").includes("enum-encoding=int");
    const purpose = (p: GcpStandInKey["purpose"]) => (intEnums ? PURPOSES[p] : p);
    const state = (s: GcpStandInVersion["state"]) => (intEnums ? STATES[s] : s);
    const algorithm = intEnums ? EC_SIGN_P256_SHA256 : "EC_SIGN_P256_SHA256";
    const path = decodeURIComponent(url.pathname);
    const m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/:]+)(?:\/cryptoKeyVersions(?:\/([^/:]+)(\/publicKey|:asymmetricSign)?)?)?$/.exec(path);
    if (!m) return notFound(res, `Resource ${path}`);
    const [, keyName, version, action] = m;
    const key = keys.find((k) => k.name === keyName);
    if (!key) return notFound(res, `CryptoKey ${keyName}`);
    const listing = path.endsWith("/cryptoKeyVersions");

    if (req.method === "GET" && version === undefined && !listing) {
      return json(res, 200, { name: key.name, purpose: purpose(key.purpose) });
    }
    if (req.method === "GET" && listing) {
      const onlyEnabled = url.searchParams.get("filter") === "state=ENABLED";
      const versions = Object.entries(key.versions)
        .filter(([, v]) => !onlyEnabled || v.state === "ENABLED")
        .map(([id, v]) => ({ name: `${key.name}/cryptoKeyVersions/${id}`, state: state(v.state), algorithm }));
      return json(res, 200, { cryptoKeyVersions: versions, totalSize: versions.length });
    }
    const v = version !== undefined ? key.versions[version] : undefined;
    const versionName = `${key.name}/cryptoKeyVersions/${version}`;
    if (!v) return notFound(res, `CryptoKeyVersion ${versionName}`);
    if (req.method === "GET" && action === "/publicKey") {
      return json(res, 200, {
        pem: v.key.pem,
        algorithm,
        pemCrc32c: String(crc32cBitwise(Buffer.from(v.key.pem, "utf8"))),
        name: versionName,
        protectionLevel: intEnums ? 1 : "SOFTWARE",
      });
    }
    if (req.method === "POST" && action === ":asymmetricSign") {
      if (v.state !== "ENABLED") return json(res, 400, { error: { code: 400, message: `${versionName} is not enabled.`, status: "FAILED_PRECONDITION" } });
      const input = JSON.parse(body) as { digest?: { sha256?: string }; data?: string; digestCrc32c?: string };
      if (input.data !== undefined || input.digest?.sha256 === undefined) {
        return json(res, 400, { error: { code: 400, message: "EC_SIGN_P256_SHA256 keys sign a SHA-256 digest.", status: "INVALID_ARGUMENT" } });
      }
      const digest = Buffer.from(input.digest.sha256, "base64");
      if (digest.length !== 32) return json(res, 400, { error: { code: 400, message: "The digest length is not 32 bytes.", status: "INVALID_ARGUMENT" } });
      if (input.digestCrc32c !== undefined && Number(input.digestCrc32c) !== crc32cBitwise(digest)) {
        return json(res, 400, { error: { code: 400, message: "The checksum in field digest_crc32c did not match the data in field digest.", status: "INVALID_ARGUMENT" } });
      }
      const signature = signDigestDer(v.key, digest);
      const signatureCrc = crc32cBitwise(signature);
      return json(res, 200, {
        signature: signature.toString("base64"),
        signatureCrc32c: String(tamper.signatureCrc ? (signatureCrc ^ 1) >>> 0 : signatureCrc),
        verifiedDigestCrc32c: input.digestCrc32c !== undefined && !tamper.unverifiedDigest,
        name: versionName,
        protectionLevel: intEnums ? 1 : "SOFTWARE",
      });
    }
    return notFound(res, `Method ${req.method} ${path}`);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    tamper,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
