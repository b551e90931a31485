/**
 * Reading a Sigstore bundle (v0.1, v0.2, v0.3 and the `vnd.dev.sigstore.bundle.v0.3+json` media type):
 * JSON, then @sigstore/bundle's parsing and per-version validation (v0.1 needs inclusion promises,
 * v0.2 and later inclusion proofs, v0.3 a single certificate). Any problem is reason `BUNDLE`.
 */
import { bundleFromJSON, ValidationError, type Bundle } from "@sigstore/bundle";
import { InputError, isTollgateError } from "../../errors.ts";
import { readRegularFile } from "../../io/files.ts";
import { toVerificationFailure, verificationFailure } from "./errors.ts";

/** Bundles carry a signature, a certificate and a few log entries; 16 MiB leaves room for large DSSE payloads. */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

/** Parses bundle JSON text; `source` names it in messages. */
export function parseBundle(text: string, source: string): Bundle {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw verificationFailure("BUNDLE", `${source}: not JSON (${(e as Error).message})`, e);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw verificationFailure("BUNDLE", `${source}: not a JSON object`);
  checkBase64Fields(json as Record<string, unknown>, source);
  try {
    return bundleFromJSON(json);
  } catch (e) {
    const failure = toVerificationFailure(e, "bundle");
    // A missing or malformed inclusion proof or promise is a failure of the log evidence.
    const fields = e instanceof ValidationError && Array.isArray(e.fields) ? (e.fields as string[]) : [];
    const reason = fields.length > 0 && fields.every((f) => f.startsWith("verificationMaterial.tlogEntries")) ? "TLOG" : "BUNDLE";
    throw verificationFailure(reason, `${source}: ${failure.message}`, e);
  }
}

/** Base64 as protobuf's JSON mapping accepts it: standard or URL-safe alphabet, padding optional. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const BASE64_URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;

/**
 * The bytes fields of a bundle must be base64 (line breaks aside). The protobuf JSON decoder underneath skips characters
 * outside the alphabet, so a corrupted field would otherwise decode to other bytes and fail later for
 * an incidental reason; here it is a malformed bundle.
 */
function checkBase64Fields(json: Record<string, unknown>, source: string): void {
  const at = (value: unknown, path: string): void => {
    if (value === undefined || value === null) return;
    // Line breaks are tolerated (`base64` wraps its output at 76 columns); nothing else is.
    const text = typeof value === "string" ? value.replace(/\r?\n/g, "") : undefined;
    if (text === undefined || !(BASE64.test(text) || BASE64_URL.test(text))) {
      throw verificationFailure("BUNDLE", `${source}: ${path} is not valid base64`);
    }
  };
  const obj = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const message = obj(json["messageSignature"]);
  at(message["signature"], "messageSignature.signature");
  at(obj(message["messageDigest"])["digest"], "messageSignature.messageDigest.digest");
  const envelope = obj(json["dsseEnvelope"]);
  at(envelope["payload"], "dsseEnvelope.payload");
  arr(envelope["signatures"]).forEach((s, i) => at(obj(s)["sig"], `dsseEnvelope.signatures[${i}].sig`));
  const material = obj(json["verificationMaterial"]);
  at(obj(material["certificate"])["rawBytes"], "verificationMaterial.certificate.rawBytes");
  arr(obj(material["x509CertificateChain"])["certificates"]).forEach((c, i) =>
    at(obj(c)["rawBytes"], `verificationMaterial.x509CertificateChain.certificates[${i}].rawBytes`),
  );
  arr(material["tlogEntries"]).forEach((t, i) => {
    const entry = obj(t);
    const where = `verificationMaterial.tlogEntries[${i}]`;
    at(entry["canonicalizedBody"], `${where}.canonicalizedBody`);
    at(obj(entry["logId"])["keyId"], `${where}.logId.keyId`);
    at(obj(entry["inclusionPromise"])["signedEntryTimestamp"], `${where}.inclusionPromise.signedEntryTimestamp`);
    const proof = obj(entry["inclusionProof"]);
    at(proof["rootHash"], `${where}.inclusionProof.rootHash`);
    arr(proof["hashes"]).forEach((h, j) => at(h, `${where}.inclusionProof.hashes[${j}]`));
  });
  arr(obj(material["timestampVerificationData"])["rfc3161Timestamps"]).forEach((t, i) =>
    at(obj(t)["signedTimestamp"], `verificationMaterial.timestampVerificationData.rfc3161Timestamps[${i}].signedTimestamp`),
  );
}

/** Reads input files for verification: a missing or unreadable file is an `InputError` (exit 2). */
export async function readVerificationInput(path: string, maxBytes: number, what: string): Promise<Buffer> {
  try {
    return await readRegularFile(path, maxBytes);
  } catch (e) {
    if (isTollgateError(e) || !(e instanceof Error)) throw e;
    throw new InputError(`cannot read the ${what}: ${e.message}`, { file: path, cause: e });
  }
}

/** Reads and parses the bundle file at `path`. */
export async function readBundle(path: string): Promise<Bundle> {
  const bytes = await readVerificationInput(path, MAX_BUNDLE_BYTES, "bundle");
  return parseBundle(bytes.toString("utf8"), path);
}
