/**
 * `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]` (cosign's scheme,
 * sigstore `pkg/signature/kms/gcp`): an asymmetric Cloud KMS key through the official client
 * (@google-cloud/kms, loaded when a key is opened), over its HTTP/JSON (REST) transport. Without a
 * version, the key must be an ASYMMETRIC_SIGN key and its highest ENABLED version signs, as cosign
 * picks it. `getPublicKey` gives the PEM; `asymmetricSign` gets the digest only, with the CRC32C
 * integrity fields checked as Google's data-integrity guidelines say (request digest CRC verified by
 * the server, response signature and PEM CRCs recomputed here, resource names compared).
 *
 * Endpoint: `signing.gcp.endpoint`, else gcloud's `CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS`, else
 * cloudkms.googleapis.com. Credentials: `GOOGLE_OAUTH_ACCESS_TOKEN` (an access token, as Terraform's
 * provider reads it; e.g. from google-github-actions/auth) when set, else Application Default Credentials.
 */
import { createPublicKey } from "node:crypto";
import type { AuthClient } from "google-auth-library";
import { InputError, NetworkError } from "../../errors.ts";
import { networkTimeouts } from "../../io/timeouts.ts";
import { configSection, configString, endpointUrl, KmsSigner, sdkErrorText } from "./kms.ts";
import type { DigestAlgorithm, KeySource, Signer, SignerOptions, SigningAlgorithm } from "./types.ts";

const SCHEME = "gcpkms://";
const FORMAT = "gcpkms://projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY[/cryptoKeyVersions/VERSION]";
const REFERENCE = /^gcpkms:\/\/projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)\/cryptoKeys\/([^/]+)(?:\/(?:cryptoKeyVersions|versions)\/([^/]+))?$/;

export interface GcpKmsReference {
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K */
  keyName: string;
  /** The version asked for, or undefined for the highest enabled one. */
  version: string | undefined;
}

export function parseGcpKmsReference(ref: string): GcpKmsReference {
  const m = REFERENCE.exec(ref);
  if (!m) throw new InputError(`${ref}: expected ${FORMAT}`);
  const [, project, location, ring, key, version] = m;
  return { keyName: `projects/${project}/locations/${location}/keyRings/${ring}/cryptoKeys/${key}`, version };
}

/** Cloud KMS algorithms tollgate signs with, and the digest field each takes. */
const ALGORITHMS: Record<string, { algorithm: SigningAlgorithm; digest: DigestAlgorithm }> = {
  EC_SIGN_P256_SHA256: { algorithm: "ecdsa-p256-sha256", digest: "sha256" },
  EC_SIGN_P384_SHA384: { algorithm: "ecdsa-p384-sha384", digest: "sha384" },
  RSA_SIGN_PKCS1_2048_SHA256: { algorithm: "rsa-pkcs1v15-sha256", digest: "sha256" },
  RSA_SIGN_PKCS1_3072_SHA256: { algorithm: "rsa-pkcs1v15-sha256", digest: "sha256" },
  RSA_SIGN_PKCS1_4096_SHA256: { algorithm: "rsa-pkcs1v15-sha256", digest: "sha256" },
};

/** CRC32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum Cloud KMS uses for integrity. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** An Int64Value wrapper as the client decodes it ({ value: "123" }), as a number. */
function int64Value(wrapper: unknown): number | undefined {
  const value = (wrapper as { value?: unknown } | null | undefined)?.value;
  if (value === undefined || value === null) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

function bytesOf(value: unknown): Buffer | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === "string") return Buffer.from(value, "base64");
  return undefined;
}

/** The version number at the end of a CryptoKeyVersion name, for picking the highest. */
function versionNumber(name: string | null | undefined): number {
  const n = Number(/\/cryptoKeyVersions\/(\d+)$/.exec(name ?? "")?.[1]);
  return Number.isSafeInteger(n) ? n : -1;
}

async function openGcpKms(ref: string, options: SignerOptions): Promise<Signer> {
  const parsed = parseGcpKmsReference(ref);
  const env = options.env ?? process.env;
  const gcp = configSection(options.config, "gcp");
  const configured = configString(gcp, "endpoint");
  const override = configured ?? (env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS || undefined);
  const endpoint = override ? endpointUrl(override, configured ? "signing.gcp.endpoint" : "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS") : undefined;
  if (endpoint && endpoint.pathname !== "/" && endpoint.pathname !== "") {
    throw new InputError(`${configured ? "signing.gcp.endpoint" : "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS"}: the Cloud KMS endpoint must be a scheme, host and port without a path, not ${endpoint.href}`);
  }
  const accessToken = env.GOOGLE_OAUTH_ACCESS_TOKEN || undefined;
  const secrets = [accessToken];

  const { KeyManagementServiceClient } = await import("@google-cloud/kms");
  const { GoogleAuth, OAuth2Client } = await import("google-auth-library");
  // Credentials are resolved here rather than by the client, which leaves a failed lookup as an
  // unhandled rejection: a missing credential must be one clear line, not a crash.
  let authClient: AuthClient;
  if (accessToken) {
    const oauth = new OAuth2Client();
    oauth.setCredentials({ access_token: accessToken });
    authClient = oauth;
  } else {
    try {
      authClient = await new GoogleAuth({ scopes: KeyManagementServiceClient.scopes }).getClient();
    } catch (e) {
      throw new InputError(`${ref}: no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS (or run where Application Default Credentials exist), or GOOGLE_OAUTH_ACCESS_TOKEN (${sdkErrorText(e, secrets)})`);
    }
  }
  const client = new KeyManagementServiceClient({
    // The HTTP/JSON transport: no gRPC channel to load, and the same path whatever the endpoint.
    fallback: true,
    ...(endpoint
      ? {
          apiEndpoint: endpoint.hostname,
          port: endpoint.port ? Number(endpoint.port) : endpoint.protocol === "http:" ? 80 : 443,
          protocol: endpoint.protocol.slice(0, -1),
        }
      : {}),
    authClient,
  });
  // Each attempt bounded (connect + response), and two retries of what the client deems transient.
  const timeouts = networkTimeouts(options.timeouts);
  const call = { timeout: timeouts.connectMs + timeouts.responseMs, maxRetries: 2 };

  const failure = (operation: string, e: unknown): Error => {
    const code = (e as { code?: unknown })?.code;
    const text = sdkErrorText(e, secrets);
    if (code === 5) return new InputError(`${ref}: no such key in Cloud KMS (${text})`, { code: "NOT_FOUND" });
    return new NetworkError(`${ref}: Cloud KMS ${operation} failed: ${text}`, { cause: e });
  };

  try {
    let versionName: string;
    if (parsed.version !== undefined) {
      versionName = `${parsed.keyName}/cryptoKeyVersions/${parsed.version}`;
    } else {
      let key;
      try {
        [key] = await client.getCryptoKey({ name: parsed.keyName }, call);
      } catch (e) {
        throw failure("GetCryptoKey", e);
      }
      if (key.purpose !== "ASYMMETRIC_SIGN") throw new InputError(`${ref}: the Cloud KMS key's purpose is ${String(key.purpose)}, not ASYMMETRIC_SIGN: it cannot sign`);
      let versions;
      try {
        [versions] = await client.listCryptoKeyVersions({ parent: parsed.keyName, filter: "state=ENABLED", orderBy: "name desc", pageSize: 1000 }, { ...call, autoPaginate: false });
      } catch (e) {
        throw failure("ListCryptoKeyVersions", e);
      }
      const enabled = versions.filter((v) => v.state === "ENABLED" && v.name?.startsWith(`${parsed.keyName}/cryptoKeyVersions/`));
      enabled.sort((a, b) => versionNumber(b.name) - versionNumber(a.name));
      const newest = enabled[0]?.name;
      if (!newest) throw new InputError(`${ref}: the Cloud KMS key has no enabled version`);
      versionName = newest;
    }

    let publicKey;
    try {
      [publicKey] = await client.getPublicKey({ name: versionName }, call);
    } catch (e) {
      throw failure("GetPublicKey", e);
    }
    if (publicKey.name !== versionName) throw new NetworkError(`${ref}: Cloud KMS GetPublicKey answered for ${String(publicKey.name)}, not ${versionName}`);
    const pem = publicKey.pem ?? "";
    if (int64Value(publicKey.pemCrc32c) !== crc32c(Buffer.from(pem, "utf8"))) {
      throw new NetworkError(`${ref}: Cloud KMS GetPublicKey response corrupted in transit (pemCrc32c does not match)`);
    }
    const choice = ALGORITHMS[String(publicKey.algorithm)];
    if (!choice) {
      throw new InputError(`${ref}: Cloud KMS algorithm ${String(publicKey.algorithm)} is not supported (EC_SIGN_P256_SHA256, EC_SIGN_P384_SHA384, RSA_SIGN_PKCS1_*_SHA256)`);
    }
    let publicKeyDer: Buffer;
    try {
      publicKeyDer = createPublicKey(pem).export({ type: "spki", format: "der" });
    } catch (e) {
      throw new NetworkError(`${ref}: Cloud KMS returned a public key that is not a PEM public key: ${sdkErrorText(e)}`);
    }

    return new KmsSigner({
      backend: "gcpkms",
      ref,
      algorithm: choice.algorithm,
      publicKeyDer,
      release: () => void client.close().catch(() => undefined),
      remoteSign: async (digest, algorithm) => {
        const digestCrc32c = crc32c(digest);
        let signed;
        try {
          [signed] = await client.asymmetricSign(
            { name: versionName, digest: { [algorithm]: digest }, digestCrc32c: { value: digestCrc32c } },
            call,
          );
        } catch (e) {
          throw failure("AsymmetricSign", e);
        }
        if (signed.name !== versionName) throw new NetworkError(`${ref}: Cloud KMS AsymmetricSign answered for ${String(signed.name)}, not ${versionName}`);
        if (signed.verifiedDigestCrc32c !== true) throw new NetworkError(`${ref}: Cloud KMS AsymmetricSign request corrupted in transit (digest CRC32C not verified by the server)`);
        const signature = bytesOf(signed.signature);
        if (!signature || signature.length === 0) throw new NetworkError(`${ref}: Cloud KMS AsymmetricSign returned no signature`);
        if (int64Value(signed.signatureCrc32c) !== crc32c(signature)) {
          throw new NetworkError(`${ref}: Cloud KMS AsymmetricSign response corrupted in transit (signatureCrc32c does not match)`);
        }
        return signature;
      },
    });
  } catch (e) {
    await client.close().catch(() => undefined);
    throw e;
  }
}

export const gcpkmsSource: KeySource = {
  backend: "gcpkms",
  handles: (ref) => ref.startsWith(SCHEME),
  open: openGcpKms,
};
