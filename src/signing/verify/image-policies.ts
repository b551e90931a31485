/**
 * Who must have signed an image, from the flags `verify image` and `check --sbom-sources attestation`
 * share: one policy per `--key` (any one of them), or one keyless identity
 * (`--certificate-identity[-regexp]` with `--certificate-oidc-issuer[-regexp]`), and the trusted root
 * (`--trusted-root`, else signing.trusted_root, else the public-good root shipped with tollgate).
 */
import type { TrustedRoot } from "@sigstore/protobuf-specs";
import type { NetworkTimeouts } from "../../io/http.ts";
import type { VerificationPolicy } from "./policy.ts";

export interface ImagePolicyFlags {
  key?: readonly string[];
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  trustedRoot?: string;
  insecureIgnoreTlog?: boolean;
}

/**
 * The policies for these flags. Usage errors (no key and no identity, both, a bad regexp) come before
 * any key is read; an unreadable key is an InputError.
 */
export async function imagePoliciesFromFlags(o: ImagePolicyFlags, keyOptions: { env: NodeJS.ProcessEnv; config: Record<string, unknown>; timeouts?: NetworkTimeouts }): Promise<VerificationPolicy[]> {
  const [{ readPublicKey }, { checkPolicyFlags, policyFromOptions }] = await Promise.all([import("./key.ts"), import("./policy.ts")]);
  const keys = o.key !== undefined && o.key.length > 0 ? [...o.key] : undefined;
  const flags = { ...o, key: keys };
  checkPolicyFlags(flags);
  return keys !== undefined ? await Promise.all(keys.map(async (k) => policyFromOptions({ ...flags, key: await readPublicKey(k, keyOptions) }))) : [policyFromOptions({ ...flags, key: undefined })];
}

/** The policies and the trust root (`--trusted-root`, else `trustedRootDefault` (signing.trusted_root), else the public-good root). */
export async function imageVerificationFromFlags(
  o: ImagePolicyFlags,
  context: { env: NodeJS.ProcessEnv; signingConfig: Record<string, unknown>; trustedRootDefault?: string; timeouts?: NetworkTimeouts },
): Promise<{ policies: VerificationPolicy[]; trustRoot: TrustedRoot; trustRootSource: string }> {
  const policies = await imagePoliciesFromFlags(o, { env: context.env, config: context.signingConfig, ...(context.timeouts ? { timeouts: context.timeouts } : {}) });
  const { loadTrustedRoot } = await import("../trust-root.ts");
  const trust = await loadTrustedRoot(o.trustedRoot ?? context.trustedRootDefault);
  return { policies, trustRoot: trust.root, trustRootSource: trust.source };
}
