/**
 * The one place where failures of the libraries under the verifier (sigstore-js's VerificationError
 * and PolicyError codes, @sigstore/bundle's ValidationError, parse errors of certificates and
 * timestamps) become tollgate's `VerificationFailedError` with a `reason` code. Verification fails
 * closed: an error this module does not recognise is still a verification failure (reason `BUNDLE`:
 * the bundle could not be read as the verifier needs it), never a pass.
 */
import { ValidationError } from "@sigstore/bundle";
import { PolicyError, VerificationError } from "@sigstore/verify";
import { isTollgateError, VerificationFailedError, type VerificationReason } from "../../errors.ts";

/** sigstore-js's verification error codes, by what they check. */
const SIGSTORE_CODE_REASONS: Record<string, VerificationReason> = {
  TLOG_ERROR: "TLOG",
  TLOG_INCLUSION_PROOF_ERROR: "TLOG",
  TLOG_INCLUSION_PROMISE_ERROR: "TLOG",
  TLOG_MISSING_INCLUSION_ERROR: "TLOG",
  TLOG_BODY_ERROR: "TLOG",
  CERTIFICATE_ERROR: "CERTIFICATE",
  PUBLIC_KEY_ERROR: "KEY",
  SIGNATURE_ERROR: "SIGNATURE",
  TIMESTAMP_ERROR: "TIMESTAMP",
  NOT_IMPLEMENTED_ERROR: "BUNDLE",
  UNTRUSTED_SIGNER_ERROR: "IDENTITY",
};

/** A verification failure for `reason`. */
export function verificationFailure(reason: VerificationReason, message: string, cause?: unknown): VerificationFailedError {
  return new VerificationFailedError(message, { reason, cause });
}

/** The reason a sigstore-js error code maps to (exported for the tests of the mapping). */
export function reasonForSigstoreCode(code: string): VerificationReason {
  return SIGSTORE_CODE_REASONS[code] ?? "BUNDLE";
}

/**
 * Any error thrown while verifying, as a `VerificationFailedError`: tollgate's own errors pass through
 * (an `InputError` stays exit 2), sigstore-js's codes are mapped, anything else is a malformed bundle.
 */
export function toVerificationFailure(e: unknown, what = "bundle"): Error {
  if (isTollgateError(e)) return e;
  if (e instanceof VerificationError || e instanceof PolicyError) {
    const code = String(e.code);
    const detail = e.cause instanceof Error && e.cause.message !== e.message ? ` (${e.cause.message})` : "";
    return verificationFailure(reasonForSigstoreCode(code), `${e.message}${detail} [${code}]`, e);
  }
  if (e instanceof ValidationError) {
    const fields = Array.isArray(e.fields) && e.fields.length > 0 ? `: ${e.fields.join(", ")}` : "";
    return verificationFailure("BUNDLE", `${e.message}${fields}`, e);
  }
  const message = e instanceof Error ? e.message : String(e);
  return verificationFailure("BUNDLE", `malformed ${what}: ${message}`, e);
}
