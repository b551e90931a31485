/**
 * `awskms://[ENDPOINT]/[ID/ALIAS/ARN]` (cosign's scheme, sigstore `pkg/signature/kms/aws`): an
 * asymmetric AWS KMS key, through the official SDK (@aws-sdk/client-kms v3, loaded when a key is
 * opened). `GetPublicKey` gives the DER public key, its KeySpec and signing algorithms; `Sign` gets the
 * digest with `MessageType: DIGEST`, never the artifact.
 *
 * Endpoint: the reference's host (`awskms://localhost:4566/alias/x`; https, or http to this machine),
 * else `signing.aws.endpoint`, else `AWS_ENDPOINT_URL_KMS`, else `AWS_ENDPOINT_URL`, else AWS's.
 * Region: the ARN's, else `signing.aws.region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the
 * SDK's profile. Credentials: the SDK's default chain (environment, profile, SSO, web identity, IMDS).
 */
import { InputError, NetworkError } from "../../errors.ts";
import { isLoopbackHost } from "../../io/http.ts";
import { networkTimeouts } from "../../io/timeouts.ts";
import { configSection, configString, endpointUrl, KmsSigner, sdkErrorText } from "./kms.ts";
import type { SigningAlgorithmSpec } from "@aws-sdk/client-kms";
import type { KeySource, Signer, SignerOptions, SigningAlgorithm } from "./types.ts";

const SCHEME = "awskms://";
/** Attempts per call (the SDK retries throttling, timeouts and 5xx). */
const MAX_ATTEMPTS = 3;

const FORMAT = "awskms://[ENDPOINT]/[ID|ALIAS|ARN], e.g. awskms:///alias/release or awskms:///arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

// Key ids, key ARNs, alias names and alias ARNs as sigstore's aws client accepts them.
const UUID = String.raw`m?r?k?-?[A-Fa-f0-9]{8}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{12}`;
const ARN = String.raw`arn:(?:aws|aws-us-gov|aws-cn):kms:([a-z0-9-]+):\d{12}:`;
const KEY_ID = new RegExp(`^${UUID}$`);
const KEY_ARN = new RegExp(`^${ARN}key/${UUID}$`);
const ALIAS_NAME = /^alias\/.+$/;
const ALIAS_ARN = new RegExp(`^${ARN}alias/.+$`);

export interface AwsKmsReference {
  /** The endpoint host from the reference (`localhost:4566`), or "" for AWS's. */
  host: string;
  /** What KMS calls the KeyId: a key id, key ARN, alias name or alias ARN. */
  keyId: string;
  /** The region named by an ARN. */
  arnRegion: string | undefined;
}

export function parseAwsKmsReference(ref: string): AwsKmsReference {
  if (!ref.startsWith(SCHEME)) throw new InputError(`${ref}: not an awskms:// reference (${FORMAT})`);
  const rest = ref.slice(SCHEME.length);
  const slash = rest.indexOf("/");
  if (slash < 0) throw new InputError(`${ref}: expected ${FORMAT}`);
  const host = rest.slice(0, slash);
  const keyId = rest.slice(slash + 1);
  if (host !== "" && !/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) {
    throw new InputError(`${ref}: ${JSON.stringify(host)} is not an endpoint host[:port] (${FORMAT})`);
  }
  const arn = KEY_ARN.exec(keyId) ?? ALIAS_ARN.exec(keyId);
  if (!arn && !KEY_ID.test(keyId) && !ALIAS_NAME.test(keyId)) throw new InputError(`${ref}: ${JSON.stringify(keyId)} is not a KMS key id, key ARN, alias or alias ARN (${FORMAT})`);
  return { host, keyId, arnRegion: arn?.[1] };
}

/** The algorithm tollgate signs with for a KMS KeySpec, and KMS's name for it (which the key must offer). */
const ALGORITHM_FOR_SPEC: Record<string, { algorithm: SigningAlgorithm; kms: SigningAlgorithmSpec }> = {
  ECC_NIST_P256: { algorithm: "ecdsa-p256-sha256", kms: "ECDSA_SHA_256" },
  ECC_NIST_P384: { algorithm: "ecdsa-p384-sha384", kms: "ECDSA_SHA_384" },
  ECC_NIST_P521: { algorithm: "ecdsa-p521-sha512", kms: "ECDSA_SHA_512" },
  // PKCS#1 v1.5 over SHA-256: what cosign and Sigstore verifiers expect of an RSA key.
  RSA_2048: { algorithm: "rsa-pkcs1v15-sha256", kms: "RSASSA_PKCS1_V1_5_SHA_256" },
  RSA_3072: { algorithm: "rsa-pkcs1v15-sha256", kms: "RSASSA_PKCS1_V1_5_SHA_256" },
  RSA_4096: { algorithm: "rsa-pkcs1v15-sha256", kms: "RSASSA_PKCS1_V1_5_SHA_256" },
};

function signingAlgorithmFor(keySpec: string | undefined, offered: readonly string[]): { algorithm: SigningAlgorithm; kms: SigningAlgorithmSpec } | undefined {
  const choice = ALGORITHM_FOR_SPEC[keySpec ?? ""];
  return choice && offered.includes(choice.kms) ? choice : undefined;
}

function firstNonEmpty(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => v !== undefined && v !== "");
}

async function openAwsKms(ref: string, options: SignerOptions): Promise<Signer> {
  const parsed = parseAwsKmsReference(ref);
  const env = options.env ?? process.env;
  const aws = configSection(options.config, "aws");

  let endpoint: string | undefined;
  if (parsed.host !== "") {
    // cosign uses https://HOST; a local emulator (localstack) on this machine is reached over http.
    endpoint = endpointUrl(`${isLoopbackHost(parsed.host) ? "http" : "https"}://${parsed.host}`, ref).href;
  } else {
    const configured = configString(aws, "endpoint");
    if (configured) endpoint = endpointUrl(configured, "signing.aws.endpoint").href;
    else if (env.AWS_ENDPOINT_URL_KMS) endpoint = endpointUrl(env.AWS_ENDPOINT_URL_KMS, "AWS_ENDPOINT_URL_KMS").href;
    else if (env.AWS_ENDPOINT_URL) endpoint = endpointUrl(env.AWS_ENDPOINT_URL, "AWS_ENDPOINT_URL").href;
  }
  const region = firstNonEmpty(parsed.arnRegion, configString(aws, "region"), env.AWS_REGION, env.AWS_DEFAULT_REGION);
  // The environment's static keys when options.env carries them; otherwise the SDK's default chain.
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
      : undefined;
  const secrets = [env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN];

  const { KMSClient, GetPublicKeyCommand, SignCommand } = await import("@aws-sdk/client-kms");
  const timeouts = networkTimeouts(options.timeouts);
  const client = new KMSClient({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: timeouts.connectMs, requestTimeout: timeouts.responseMs, throwOnRequestTimeout: true },
  });
  // A bound on each call as a whole, retries included.
  const callTimeoutMs = MAX_ATTEMPTS * (timeouts.connectMs + timeouts.responseMs);

  const failure = (operation: string, e: unknown): Error => {
    const name = (e as { name?: unknown })?.name;
    const text = sdkErrorText(e, secrets);
    if (name === "NotFoundException") return new InputError(`${ref}: no such key in AWS KMS (${text})`, { code: "NOT_FOUND" });
    if (name === "CredentialsProviderError") return new InputError(`${ref}: no AWS credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a web identity): ${text}`);
    if (typeof (e as Error)?.message === "string" && /region is missing/i.test((e as Error).message)) {
      return new InputError(`${ref}: no AWS region: use a key ARN, set AWS_REGION or signing.aws.region in tollgate.yaml`);
    }
    return new NetworkError(`${ref}: AWS KMS ${operation} failed: ${text}`, { cause: e });
  };

  try {
    let publicKey;
    try {
      publicKey = await client.send(new GetPublicKeyCommand({ KeyId: parsed.keyId }), { abortSignal: AbortSignal.timeout(callTimeoutMs) });
    } catch (e) {
      throw failure("GetPublicKey", e);
    }
    if (publicKey.KeyUsage !== undefined && publicKey.KeyUsage !== "SIGN_VERIFY") {
      throw new InputError(`${ref}: the AWS KMS key's usage is ${publicKey.KeyUsage}, not SIGN_VERIFY: it cannot sign`);
    }
    if (!publicKey.PublicKey || publicKey.PublicKey.length === 0) throw new NetworkError(`${ref}: AWS KMS GetPublicKey returned no public key`);
    const choice = signingAlgorithmFor(publicKey.KeySpec, publicKey.SigningAlgorithms ?? []);
    if (!choice) {
      throw new InputError(
        `${ref}: AWS KMS key spec ${publicKey.KeySpec ?? "(none)"} with algorithms ${(publicKey.SigningAlgorithms ?? []).join(", ") || "(none)"} is not supported (ECC_NIST_P256/P384/P521, or RSA with RSASSA_PKCS1_V1_5_SHA_256)`,
      );
    }
    // Sign with the key the public key came from (an alias resolves to its key's ARN).
    const signingKeyId = publicKey.KeyId || parsed.keyId;
    return new KmsSigner({
      backend: "awskms",
      ref,
      algorithm: choice.algorithm,
      publicKeyDer: publicKey.PublicKey,
      release: () => client.destroy(),
      remoteSign: async (digest) => {
        let signed;
        try {
          signed = await client.send(
            new SignCommand({ KeyId: signingKeyId, Message: digest, MessageType: "DIGEST", SigningAlgorithm: choice.kms }),
            { abortSignal: AbortSignal.timeout(callTimeoutMs) },
          );
        } catch (e) {
          throw failure("Sign", e);
        }
        if (!signed.Signature || signed.Signature.length === 0) throw new NetworkError(`${ref}: AWS KMS Sign returned no signature`);
        if (signed.SigningAlgorithm !== undefined && signed.SigningAlgorithm !== choice.kms) {
          throw new NetworkError(`${ref}: AWS KMS signed with ${signed.SigningAlgorithm}, not the ${choice.kms} asked for`);
        }
        return signed.Signature;
      },
    });
  } catch (e) {
    client.destroy();
    throw e;
  }
}

export const awskmsSource: KeySource = {
  backend: "awskms",
  handles: (ref) => ref.startsWith(SCHEME),
  open: openAwsKms,
};
