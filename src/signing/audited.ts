/**
 * The one flow every signing command follows around the audit log (blob, image, attestation): open the
 * key (or sign keyless), prepare the signature in memory, record the success, then store it — so an
 * audit log that cannot take the event fails the command before anything is written or pushed — and
 * record every failure, before or after, with its error (one line, secrets removed).
 */
import { UsageError } from "../errors.ts";
import { redactSecrets } from "../io/text.ts";
import { recordSigningEvent, signerIdentity, type RecordOptions, type SigningEvent } from "../audit/index.ts";
import { openSigner } from "./keys/index.ts";
import type { Signer, SignerOptions } from "./keys/types.ts";

/** The key and audit options every signing command takes and hands to `signAudited` as they are. */
export interface SigningKeyOptions {
  audit?: RecordOptions;
  /** A signer the caller opened (kept open), or a key reference opened here (and closed here). */
  signer?: Signer;
  keyRef?: string;
  signerOptions?: SignerOptions;
}

/** The `SigningKeyOptions` of a command's options, only those set (for spreading into `signAudited`). */
export function signingKeyOptions(o: SigningKeyOptions): SigningKeyOptions {
  return {
    ...(o.audit ? { audit: o.audit } : {}),
    ...(o.signer ? { signer: o.signer } : {}),
    ...(o.keyRef !== undefined ? { keyRef: o.keyRef } : {}),
    ...(o.signerOptions ? { signerOptions: o.signerOptions } : {}),
  };
}

export interface AuditedSigning<P, R> extends SigningKeyOptions {
  operation: string;
  /** The artifact as the user named it. */
  artifact: string;
  /** Where the signature goes, when known before signing. */
  output?: string;
  env: NodeJS.ProcessEnv;
  /** Without a key: keyless signing (prepare gets no signer), or this usage error. */
  withoutKey: "keyless" | { error: string };
  /** Builds the signature in memory; fills the event's artifact digest (and output); adds secrets to redact. */
  prepare(signer: Signer | undefined, event: SigningEvent, secrets: string[]): Promise<P>;
  /** Writes or pushes what `prepare` built. */
  store(prepared: P): Promise<R>;
}

export async function signAudited<P, R>(o: AuditedSigning<P, R>): Promise<R> {
  const audit: RecordOptions = { env: o.env, ...o.audit };
  const event: SigningEvent = {
    operation: o.operation,
    artifact: o.artifact,
    artifactDigest: "",
    result: "failure",
    ...(o.output !== undefined ? { output: o.output } : {}),
    signer: signerIdentity(o.env),
  };
  const secrets: string[] = [];
  let opened: Signer | undefined;
  let prepared: P;
  try {
    let signer = o.signer;
    if (!signer && o.keyRef !== undefined) {
      event.keyRef = o.keyRef;
      opened = await openSigner(o.keyRef, { env: o.env, ...o.signerOptions });
      signer = opened;
    }
    if (signer) {
      event.backend = signer.backend;
      event.keyRef = signer.ref;
      event.keyId = await signer.keyId();
    } else if (o.withoutKey === "keyless") {
      event.backend = "keyless";
    } else {
      throw new UsageError(o.withoutKey.error);
    }
    prepared = await o.prepare(signer, event, secrets);
  } catch (e) {
    await opened?.close().catch(() => undefined);
    await recordFailure(event, e, secrets, audit);
    throw e;
  }
  await opened?.close();
  event.result = "success";
  // An audit log that cannot take the event fails the command before anything is written or pushed.
  await recordSigningEvent(event, audit);
  try {
    return await o.store(prepared);
  } catch (e) {
    await recordFailure({ ...event, result: "failure" }, e, secrets, audit);
    throw e;
  }
}

/** Records a failed attempt; an audit failure on top of the signing error must not hide it. */
async function recordFailure(event: SigningEvent, e: unknown, secrets: readonly string[], audit: RecordOptions): Promise<void> {
  event.result = "failure";
  event.error = redactSecrets(e instanceof Error ? e.message : String(e), secrets).split("\n")[0];
  await recordSigningEvent(event, audit).catch(() => undefined);
}
