/**
 * The policy above the cryptographic checks: who must have signed. Either a key (`--key`: the bundle
 * must be a keyed bundle whose signature verifies with that key), or a certificate identity
 * (`--certificate-identity` or `--certificate-identity-regexp`, and `--certificate-oidc-issuer` or
 * `--certificate-oidc-issuer-regexp`: the Fulcio certificate's SAN and OIDC issuer). Exactly one of the
 * two; without either nothing says who is trusted, so there is no default.
 *
 * Regular expressions are matched as cosign matches them (Go's `MatchString`: unanchored), so
 * `^…$` anchors are the user's to write; exact values must be equal.
 *
 * Transparency evidence. A keyless bundle always needs it (the certificate lives ten minutes: only a
 * verified time proves it was valid when it signed). A keyed bundle signed without a log (`tollgate sign
 * blob --key` with no `--rekor-url`) has neither log entry nor timestamp: it is refused unless the
 * caller says `--insecure-ignore-tlog` (cosign's flag), which then accepts a bundle with no tlog entry
 * and no timestamp, checking only the signature with the given key. Any evidence such a bundle does
 * carry is still verified: a bad log entry fails even with the flag.
 */
import type { KeyObject } from "node:crypto";
import { UsageError } from "../../errors.ts";
import type { CertificateIdentity } from "./certificate.ts";
import { verificationFailure } from "./errors.ts";

export type Matcher = { readonly exact: string } | { readonly regexp: RegExp };

export type VerificationPolicy =
  | { readonly kind: "key"; readonly key: KeyObject; readonly insecureIgnoreTlog?: boolean }
  | { readonly kind: "certificate"; readonly subject: Matcher; readonly issuer: Matcher };

export interface PolicyOptions {
  key?: KeyObject;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  insecureIgnoreTlog?: boolean;
}

function compile(pattern: string, flag: string): RegExp {
  try {
    return new RegExp(pattern, "u");
  } catch (e) {
    throw new UsageError(`${flag}: not a valid regular expression (${(e as Error).message})`);
  }
}

/** An exact value or an (unanchored, as cosign) regexp from a flag pair; both is a usage error, neither undefined. */
export function matcher(exact: string | undefined, regexp: string | undefined, flag: string): Matcher | undefined {
  if (exact !== undefined && regexp !== undefined) throw new UsageError(`give ${flag} or ${flag}-regexp, not both`);
  if (exact !== undefined) {
    if (exact === "") throw new UsageError(`${flag} is empty`);
    return { exact };
  }
  if (regexp !== undefined) return { regexp: compile(regexp, `${flag}-regexp`) };
  return undefined;
}

/**
 * Checks the combination of policy flags (`key` only counts as given or not) and returns the kind of
 * policy they ask for; conflicting or missing options are usage errors. Called before any file is read.
 */
export function checkPolicyFlags(o: Omit<PolicyOptions, "key"> & { key?: unknown }): { kind: "key" } | { kind: "certificate"; subject: Matcher; issuer: Matcher } {
  const subject = matcher(o.certificateIdentity, o.certificateIdentityRegexp, "--certificate-identity");
  const issuer = matcher(o.certificateOidcIssuer, o.certificateOidcIssuerRegexp, "--certificate-oidc-issuer");
  if (o.key !== undefined) {
    if (subject !== undefined || issuer !== undefined) {
      throw new UsageError("--key verifies a keyed bundle; --certificate-identity/--certificate-oidc-issuer verify a keyless one: give one or the other");
    }
    return { kind: "key" };
  }
  if (o.insecureIgnoreTlog === true) {
    throw new UsageError("--insecure-ignore-tlog is only for --key: a keyless certificate needs a verified time from a log or a timestamp authority");
  }
  if (subject === undefined || issuer === undefined) {
    throw new UsageError(
      "say who must have signed: --key PUBLIC_KEY, or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]",
    );
  }
  return { kind: "certificate", subject, issuer };
}

/** Builds the policy from the options (see checkPolicyFlags for the usage errors). */
export function policyFromOptions(o: PolicyOptions): VerificationPolicy {
  const checked = checkPolicyFlags(o);
  if (checked.kind === "certificate") return checked;
  if (o.key === undefined) throw new UsageError("--key: no key");
  return { kind: "key", key: o.key, insecureIgnoreTlog: o.insecureIgnoreTlog === true };
}

function matches(m: Matcher, value: string): boolean {
  return "exact" in m ? m.exact === value : m.regexp.test(value);
}

function show(m: Matcher): string {
  return "exact" in m ? JSON.stringify(m.exact) : `/${m.regexp.source}/`;
}

/** Checks a verified certificate's identity against a certificate policy (reason `IDENTITY`). */
export function checkIdentity(policy: Extract<VerificationPolicy, { kind: "certificate" }>, identity: CertificateIdentity): void {
  if (!matches(policy.subject, identity.subject)) {
    throw verificationFailure("IDENTITY", `the certificate identity ${JSON.stringify(identity.subject)} does not match ${show(policy.subject)}`);
  }
  if (!matches(policy.issuer, identity.issuer)) {
    throw verificationFailure("IDENTITY", `the certificate OIDC issuer ${JSON.stringify(identity.issuer)} does not match ${show(policy.issuer)}`);
  }
}
