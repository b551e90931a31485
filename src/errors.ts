/**
 * Typed errors. Every error a user can cause carries a code and the process exit code it maps to:
 * 0 pass, 1 gate or verification failed, 2 usage or input error.
 */

export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

export type ErrorCode =
  | "USAGE"
  | "INPUT"
  | "NOT_FOUND"
  | "CONFIG"
  | "NOT_IMPLEMENTED"
  | "LIMIT_EXCEEDED"
  | "UNSAFE_INPUT"
  | "NETWORK"
  | "GATE_FAILED"
  | "VERIFICATION_FAILED"
  | "UNSUPPORTED_NODE";

export class TollgateError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TollgateError";
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A bad flag, missing argument or unknown command. */
export class UsageError extends TollgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("USAGE", message, EXIT_USAGE, options);
    this.name = "UsageError";
  }
}

/**
 * Bad input: a missing or malformed file. The message names the file and, where known, the place
 * (`file:line:col: problem`).
 */
export class InputError extends TollgateError {
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(message: string, where?: { file?: string; line?: number; column?: number; code?: ErrorCode; cause?: unknown }) {
    const place = where?.file
      ? `${where.file}${where.line !== undefined ? `:${where.line}` : ""}${where.line !== undefined && where.column !== undefined ? `:${where.column}` : ""}: `
      : "";
    super(where?.code ?? "INPUT", `${place}${message}`, EXIT_USAGE, { cause: where?.cause });
    this.name = "InputError";
    this.file = where?.file;
    this.line = where?.line;
  }
}

/** A decoder, archive or parser limit was reached (size, entries, depth). */
export class LimitExceededError extends TollgateError {
  constructor(message: string) {
    super("LIMIT_EXCEEDED", message, EXIT_USAGE);
    this.name = "LimitExceededError";
  }
}

/** Input that tries to escape (path traversal, symlink out of the root, bombs). */
export class UnsafeInputError extends TollgateError {
  constructor(message: string) {
    super("UNSAFE_INPUT", message, EXIT_USAGE);
    this.name = "UnsafeInputError";
  }
}

/** A command whose issue has not been built yet. */
export class NotImplementedError extends TollgateError {
  constructor(what: string) {
    super("NOT_IMPLEMENTED", `${what} is not built yet in this version of tollgate`, EXIT_USAGE);
    this.name = "NotImplementedError";
  }
}

/**
 * Why a verification failed, by what was checked (as sigstore-js splits it): the signature over the
 * artifact, the key, the certificate (chain, validity, identity), the transparency log entry, the
 * timestamps, the trust root, the artifact's digest, or the policy above them (wrong signer, missing
 * annotation). `DIGEST_MISMATCH` is content that does not hash to the digest that names it.
 */
export type VerificationReason =
  | "SIGNATURE"
  | "KEY"
  | "CERTIFICATE"
  | "IDENTITY"
  | "TLOG"
  | "TIMESTAMP"
  | "TRUST_ROOT"
  | "BUNDLE"
  | "DIGEST_MISMATCH"
  | "POLICY"
  | "NOT_SIGNED";

export class VerificationFailedError extends TollgateError {
  /** What failed (see VerificationReason). */
  readonly reason: VerificationReason;

  constructor(message: string, options?: { cause?: unknown; reason?: VerificationReason }) {
    super("VERIFICATION_FAILED", message, EXIT_FAIL, options);
    this.name = "VerificationFailedError";
    this.reason = options?.reason ?? "DIGEST_MISMATCH";
  }
}

/**
 * A network failure: a refused or broken connection, a timeout, an HTTP error status. The message is
 * one line naming the host (and, for a timeout, which one), with no credentials in it.
 */
export class NetworkError extends TollgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NETWORK", message, EXIT_USAGE, options);
    this.name = "NetworkError";
  }
}

export function isTollgateError(e: unknown): e is TollgateError {
  return e instanceof TollgateError;
}

/** The one line printed for an error: no stack unless debug. */
export function formatErrorLine(e: unknown): string {
  if (e instanceof TollgateError) return e.message;
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}
