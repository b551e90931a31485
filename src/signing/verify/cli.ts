import type { Command } from "commander";
import { examples, type CliApp } from "../../cli/registry.ts";
import type { CommandContext } from "../../cli/context.ts";
import { UsageError, VerificationFailedError } from "../../errors.ts";
import type { VerificationPolicy } from "./policy.ts";
import { registerVerifyModelCommand } from "../model/cli.ts";
import { registerVerifyProvenanceCommand } from "../../attest/provenance-cli.ts";

/** A VerificationFailedError said again with what was being verified (`verify image: REF`); other errors as they are. */
function withVerificationContext(e: unknown, what: string): unknown {
  return e instanceof VerificationFailedError ? new VerificationFailedError(`${what}: verification failed [${e.reason}]: ${e.message}`, { reason: e.reason, cause: e }) : e;
}

/** The options `verify blob` and `verify-bundle` share. */
interface VerifyOptions {
  bundle?: string;
  key?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  trustedRoot?: string;
  insecureIgnoreTlog?: boolean;
  staging?: boolean;
}

/**
 * Reads the inputs, verifies, and reports: a one-line verdict on stderr and, with `--format json`, the
 * verified signer, time and log entries on stdout. A failed verification is one line naming the
 * reason code (exit 1); unreadable inputs and bad flags exit 2.
 */
async function runVerification(command: string, artifactArg: string, o: VerifyOptions, ctx: CommandContext): Promise<void> {
  const format = ctx.formatOf(["text", "json"] as const, "text");
  if (o.bundle === undefined || o.bundle === "") throw new UsageError(`${command}: --bundle <file> is required`);
  if (o.staging === true && o.trustedRoot === undefined) {
    throw new UsageError(`${command}: --staging needs --trusted-root (tollgate ships only the public-good trust root)`);
  }
  const [{ readPublicKey }, { checkPolicyFlags, policyFromOptions }, { readBundle }, { readArtifactArgument }, { loadTrustedRoot }, { verifyBundle }, { verdictJson, verdictLine }] =
    await Promise.all([
      import("./key.ts"),
      import("./policy.ts"),
      import("./bundle.ts"),
      import("./artifact.ts"),
      import("../trust-root.ts"),
      import("./verifier.ts"),
      import("./report.ts"),
    ]);
  checkPolicyFlags(o); // usage errors before any file is read
  // A key reference's public key comes from its backend, with tollgate.yaml's `signing:` settings.
  const keyOptions = async () => {
    const [{ config }, { networkTimeoutsFromConfig }] = await Promise.all([ctx.config(), import("../../io/timeouts.ts")]);
    return { env: process.env, config: config.signing as Record<string, unknown>, timeouts: networkTimeoutsFromConfig(config.timeouts) };
  };
  const policy = policyFromOptions({ ...o, key: o.key !== undefined ? await readPublicKey(o.key, await keyOptions()) : undefined });
  const artifact = await readArtifactArgument(artifactArg);
  try {
    // `verify blob` takes signing.trusted_root from tollgate.yaml; verify-bundle is the conformance
    // contract: --trusted-root or the public-good root, nothing else.
    const trustedRoot = o.trustedRoot ?? (command === "verify blob" ? (await ctx.config()).config.signing.trusted_root : undefined);
    const trust = await loadTrustedRoot(trustedRoot);
    const bundle = await readBundle(o.bundle);
    const result = verifyBundle(bundle, artifact, policy, trust.root);
    ctx.notice(verdictLine(result));
    if (format === "json") await ctx.writeOutput(verdictJson(result, { bundle: o.bundle, trustedRoot: trust.source }));
  } catch (e) {
    throw withVerificationContext(e, `${command}: ${artifactArg}`);
  }
}

interface VerifyImageOptions extends Omit<VerifyOptions, "key" | "bundle" | "staging"> {
  key: string[];
  policy?: string;
  annotations: string[];
  insecureRegistry?: string[];
  attestationType?: string;
  gpgKeyring?: string;
  signatureDir?: string;
  caRoots?: string;
  caIntermediates?: string;
}

/**
 * `verify image`: the verified payloads as JSON on stdout (cosign's output), a one-line verdict on
 * stderr; no satisfying signature is exit 1 with the reason code, bad flags and unreadable keys exit 2.
 */
async function runImageVerification(image: string, o: VerifyImageOptions, ctx: CommandContext): Promise<void> {
  if (o.gpgKeyring !== undefined || o.signatureDir !== undefined) return runOpenPgpImageVerification(image, o, ctx);
  if (o.caRoots !== undefined || o.caIntermediates !== undefined) return runPrivatePkiImageVerification(image, o, ctx);
  const [{ readPublicKey }, { checkPolicyFlags, policyFromOptions }, { loadTrustedRoot }, { verifyImage, imageReferenceArgument }, { networkTimeoutsFromConfig }] = await Promise.all([
    import("./key.ts"),
    import("./policy.ts"),
    import("../trust-root.ts"),
    import("../verify-image.ts"),
    import("../../io/timeouts.ts"),
  ]);
  const keys = o.key.length > 0 ? o.key : undefined;
  const identityFlags = [o.certificateIdentity, o.certificateIdentityRegexp, o.certificateOidcIssuer, o.certificateOidcIssuerRegexp].some((f) => f !== undefined);
  if (o.policy !== undefined) {
    if (keys !== undefined || identityFlags) throw new UsageError("verify image: --policy says who must have signed; give it or --key / --certificate-identity flags, not both");
  } else checkPolicyFlags({ ...o, key: keys });
  const reference = imageReferenceArgument(image);
  const annotations: Record<string, string> = {};
  for (const a of o.annotations) {
    const eq = a.indexOf("=");
    if (eq <= 0) throw new UsageError(`-a ${a}: expected key=value`);
    annotations[a.slice(0, eq)] = a.slice(eq + 1);
  }
  const { config } = await ctx.config();
  const timeouts = networkTimeoutsFromConfig(config.timeouts);
  const keyOptions = { env: process.env, config: config.signing as Record<string, unknown>, timeouts };
  let policies: VerificationPolicy[];
  if (o.policy !== undefined) {
    const [{ parseImagePolicy, policyEntryFor, MAX_IMAGE_POLICY_BYTES }, { readVerificationInput }] = await Promise.all([import("../image-policy.ts"), import("./bundle.ts")]);
    const file = await parseImagePolicy((await readVerificationInput(o.policy, MAX_IMAGE_POLICY_BYTES, "image policy")).toString("utf8"), o.policy);
    const entry = policyEntryFor(file, reference);
    if (entry === undefined) {
      throw new VerificationFailedError(`verify image: ${image}: verification failed [POLICY]: no entry of ${o.policy} matches this image`, { reason: "POLICY" });
    }
    for (const [k, v] of Object.entries(entry.annotations)) {
      if (annotations[k] !== undefined && annotations[k] !== v) throw new UsageError(`-a ${k}=${annotations[k]}: the policy's entry ${JSON.stringify(entry.match)} requires ${k}=${v}`);
      annotations[k] = v;
    }
    const insecureIgnoreTlog = o.insecureIgnoreTlog === true;
    policies = [
      ...(await Promise.all(entry.keys.map(async (k) => policyFromOptions({ key: await readPublicKey(k, keyOptions), insecureIgnoreTlog })))),
      ...entry.identities.map((id) =>
        policyFromOptions({
          ...(id.subject !== undefined ? { certificateIdentity: id.subject } : {}),
          ...(id.subjectRegExp !== undefined ? { certificateIdentityRegexp: id.subjectRegExp } : {}),
          ...(id.issuer !== undefined ? { certificateOidcIssuer: id.issuer } : {}),
          ...(id.issuerRegExp !== undefined ? { certificateOidcIssuerRegexp: id.issuerRegExp } : {}),
        }),
      ),
    ];
  } else {
    const { imagePoliciesFromFlags } = await import("./image-policies.ts");
    policies = await imagePoliciesFromFlags({ ...o, key: keys ?? [] }, keyOptions);
  }
  const trust = await loadTrustedRoot(o.trustedRoot ?? config.signing.trusted_root);
  if (o.attestationType !== undefined) {
    const [{ predicateTypeOf }, { verifyImageAttestations }] = await Promise.all([import("../attest-image.ts"), import("../verify-image.ts")]);
    const predicateType = predicateTypeOf(o.attestationType);
    try {
      const result = await verifyImageAttestations(image, predicateType, {
        policies,
        trustRoot: trust.root,
        annotations,
        registry: { env: process.env, timeouts, ...(o.insecureRegistry !== undefined ? { insecureRegistries: o.insecureRegistry } : {}) },
        // As `attest` and cosign: legacy attestations stored in another repository.
        ...(process.env.COSIGN_REPOSITORY ? { signatureRepository: process.env.COSIGN_REPOSITORY } : {}),
      });
      const n = result.verified.length;
      ctx.notice(`verified ${image} (${result.imageDigest}): ${n} attestation${n === 1 ? "" : "s"} of type ${predicateType} satisfy the policy (${result.verified.map((v) => v.format).join(", ")})`);
      // The verified in-toto statements (predicate included), as a JSON array.
      await ctx.writeOutput(`${JSON.stringify(result.verified.map((v) => v.statement))}\n`);
    } catch (e) {
      if (e instanceof VerificationFailedError) {
        throw new VerificationFailedError(`verify image: ${image}: attestation verification failed [${e.reason}]: ${e.message}`, { reason: e.reason, cause: e });
      }
      throw e;
    }
    return;
  }
  try {
    const result = await verifyImage(image, {
      policies,
      trustRoot: trust.root,
      annotations,
      registry: { env: process.env, timeouts, ...(o.insecureRegistry !== undefined ? { insecureRegistries: o.insecureRegistry } : {}) },
      // As `sign image` and cosign: legacy signatures stored in another repository.
      ...(process.env.COSIGN_REPOSITORY ? { signatureRepository: process.env.COSIGN_REPOSITORY } : {}),
    });
    const n = result.verified.length;
    ctx.notice(`verified ${image} (${result.imageDigest}): ${n} signature${n === 1 ? "" : "s"} satisfy the policy (${result.verified.map((v) => v.format).join(", ")})`);
    await ctx.writeOutput(`${JSON.stringify(result.verified.map((v) => v.payload))}\n`);
  } catch (e) {
    throw withVerificationContext(e, `verify image: ${image}`);
  }
}

/**
 * `verify image --gpg-keyring FILE --signature-dir DIR`: containers/image OpenPGP simple signatures
 * (skopeo/podman `signedBy`), read from the lookaside directory; the verified payloads as JSON.
 */
async function runOpenPgpImageVerification(image: string, o: VerifyImageOptions, ctx: CommandContext): Promise<void> {
  if (o.gpgKeyring === undefined || o.signatureDir === undefined) throw new UsageError("verify image: --gpg-keyring and --signature-dir go together (OpenPGP simple signatures in a lookaside directory)");
  const cosignFlags = [o.certificateIdentity, o.certificateIdentityRegexp, o.certificateOidcIssuer, o.certificateOidcIssuerRegexp, o.policy, o.attestationType, o.trustedRoot, o.insecureIgnoreTlog].some((f) => f !== undefined);
  if (o.key.length > 0 || cosignFlags || o.annotations.length > 0) {
    throw new UsageError("verify image: --gpg-keyring verifies OpenPGP simple signatures; --key, identity, -a, --policy, --attestation-type and --trusted-root are for cosign signatures");
  }
  const [{ verifyImageOpenPgp }, { networkTimeoutsFromConfig }] = await Promise.all([import("../verify-image-openpgp.ts"), import("../../io/timeouts.ts")]);
  const { config } = await ctx.config();
  try {
    const result = await verifyImageOpenPgp(image, {
      keyringPath: o.gpgKeyring,
      signatureDir: o.signatureDir,
      registry: { env: process.env, timeouts: networkTimeoutsFromConfig(config.timeouts), insecureRegistries: [...config.image.insecure_registries, ...(o.insecureRegistry ?? [])] },
    });
    const n = result.verified.length;
    ctx.notice(`verified ${image} (${result.imageDigest}): ${n} OpenPGP signature${n === 1 ? "" : "s"} by ${[...new Set(result.verified.map((v) => v.signingKeyId))].join(", ")}`);
    await ctx.writeOutput(`${JSON.stringify(result.verified.map((v) => v.json))}\n`);
  } catch (e) {
    throw withVerificationContext(e, `verify image: ${image}`);
  }
}

/**
 * `verify image --ca-roots FILE [--ca-intermediates FILE] --certificate-identity ID --insecure-ignore-tlog`:
 * legacy signatures made with a certificate from a private PKI (no Fulcio, no Rekor), as cosign's
 * `--ca-roots` and containers/image's `pki` requirement verify them (verify/private-pki.ts).
 */
async function runPrivatePkiImageVerification(image: string, o: VerifyImageOptions, ctx: CommandContext): Promise<void> {
  if (o.caRoots === undefined) throw new UsageError("verify image: --ca-intermediates needs --ca-roots");
  if (o.key.length > 0 || o.policy !== undefined || o.attestationType !== undefined || o.trustedRoot !== undefined) {
    throw new UsageError("verify image: --ca-roots verifies private-PKI certificates; --key, --policy, --attestation-type and --trusted-root cannot be used with it");
  }
  const [{ matcher }, { readPemCertificates }, { verifyImage, imageReferenceArgument }, { networkTimeoutsFromConfig }] = await Promise.all([
    import("./policy.ts"),
    import("./private-pki.ts"),
    import("../verify-image.ts"),
    import("../../io/timeouts.ts"),
  ]);
  const subject = matcher(o.certificateIdentity, o.certificateIdentityRegexp, "--certificate-identity");
  if (subject === undefined) throw new UsageError("verify image --ca-roots: give --certificate-identity or --certificate-identity-regexp (a subject alternative name of the signing certificate)");
  const issuer = matcher(o.certificateOidcIssuer, o.certificateOidcIssuerRegexp, "--certificate-oidc-issuer");
  if (o.insecureIgnoreTlog !== true) {
    throw new UsageError("verify image --ca-roots: private-PKI signatures are verified without a transparency log; say so with --insecure-ignore-tlog (as cosign)");
  }
  imageReferenceArgument(image);
  const annotations: Record<string, string> = {};
  for (const a of o.annotations) {
    const eq = a.indexOf("=");
    if (eq <= 0) throw new UsageError(`-a ${a}: expected key=value`);
    annotations[a.slice(0, eq)] = a.slice(eq + 1);
  }
  const pki = {
    roots: await readPemCertificates(o.caRoots),
    intermediates: o.caIntermediates !== undefined ? await readPemCertificates(o.caIntermediates) : [],
    subject,
    ...(issuer !== undefined ? { issuer } : {}),
  };
  const { config } = await ctx.config();
  const { publicGoodTrustedRoot } = await import("../trust-root.ts");
  try {
    const result = await verifyImage(image, {
      policies: [],
      pki,
      trustRoot: publicGoodTrustedRoot().root, // unused: no Fulcio, no log
      annotations,
      registry: { env: process.env, timeouts: networkTimeoutsFromConfig(config.timeouts), ...(o.insecureRegistry !== undefined ? { insecureRegistries: o.insecureRegistry } : {}) },
      ...(process.env.COSIGN_REPOSITORY ? { signatureRepository: process.env.COSIGN_REPOSITORY } : {}),
    });
    const n = result.verified.length;
    ctx.notice(`verified ${image} (${result.imageDigest}): ${n} signature${n === 1 ? "" : "s"} by a certificate of the given CA roots (no transparency log)`);
    await ctx.writeOutput(`${JSON.stringify(result.verified.map((v) => v.payload))}\n`);
  } catch (e) {
    throw withVerificationContext(e, `verify image: ${image}`);
  }
}

function addVerifyOptions(cmd: Command): Command {
  return cmd
    .option("--bundle <file>", "the Sigstore bundle (v0.1–v0.3) to verify")
    .option("--key <path>", "a PEM public key: the bundle must be signed by it (keyed bundles)")
    .option("--certificate-identity <id>", "the signer's identity: the certificate's SAN (keyless bundles)")
    .option("--certificate-identity-regexp <re>", "the signer's identity as a regular expression (unanchored, as cosign)")
    .option("--certificate-oidc-issuer <url>", "the OIDC issuer of the signer's certificate")
    .option("--certificate-oidc-issuer-regexp <re>", "the OIDC issuer as a regular expression (unanchored, as cosign)")
    .option("--trusted-root <file>", "a trusted_root.json (default: for verify blob, signing.trusted_root in tollgate.yaml; else the Sigstore public-good root shipped with tollgate)")
    .option("--insecure-ignore-tlog", "with --key: accept a bundle without transparency log entry or timestamp (cosign's flag)");
}

/** `tollgate verify blob|image|model` and `tollgate verify-bundle` (the sigstore-conformance client contract). */
export function registerVerifyCommands(app: CliApp): void {
  const verify = app.program
    .command("verify")
    .description("Verify signatures; fails closed (exit 1) on anything short of a valid signature.")
    .summary("verify a blob, an image or a model");

  addVerifyOptions(
    verify
      .command("blob")
      .summary("verify a file's Sigstore bundle, keyed or keyless, offline")
      .description(
        "verify a file's Sigstore bundle offline: with --key, a keyed bundle; with --certificate-identity[-regexp] and " +
          "--certificate-oidc-issuer[-regexp], a keyless one (Fulcio chain, Rekor inclusion proof or SET, timestamps) " +
          "against the trusted root. Exit 0 verified, 1 not verified (the reason code is in the message), 2 usage or unreadable input.",
      )
      .argument("<file>", "the signed file"),
  )
    .addHelpText(
      "after",
      examples(
        "tollgate verify blob --bundle release.tar.gz.sigstore.json --key cosign.pub release.tar.gz",
        "tollgate verify blob --bundle out.sigstore.json --key cosign.pub --insecure-ignore-tlog out.bin   # signed with --tlog-upload=false",
        "tollgate verify blob --bundle r.sigstore.json --certificate-identity-regexp '^https://github.com/acme/' \\\n      --certificate-oidc-issuer https://token.actions.githubusercontent.com --format json release.tar.gz",
      ),
    )
    .action(app.action(([file]: [string], options, ctx) => runVerification("verify blob", file, options as VerifyOptions, ctx)));

  verify
    .command("image")
    .summary("verify a container image's cosign signatures in its registry (.sig tag and Sigstore bundle referrers)")
    .description(
      "Verify a container image's cosign signatures: the reference is resolved to its manifest digest, then the legacy " +
        "sha256-<hex>.sig signatures and the Sigstore bundles attached as OCI 1.1 referrers are verified with --key (any of " +
        "several) or a keyless identity (--certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]). Prints the " +
        "verified payloads as JSON (as cosign verify does). Exit 0 when a signature satisfies the policy, 1 when none does, 2 usage.",
    )
    .argument("<image>", "registry:REF or a bare reference (tag or digest)")
    .option("--key <ref>", "a PEM public key file, or a key reference (pkcs11:…, hashivault://…, awskms://…, gcpkms://…); repeatable: any one of them", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--certificate-identity <id>", "the signer's identity: the certificate's SAN (keyless)")
    .option("--certificate-identity-regexp <re>", "the signer's identity as a regular expression (unanchored, as cosign)")
    .option("--certificate-oidc-issuer <url>", "the OIDC issuer of the signer's certificate")
    .option("--certificate-oidc-issuer-regexp <re>", "the OIDC issuer as a regular expression (unanchored, as cosign)")
    .option("-a, --annotations <key=value>", "an annotation the signed payload must carry; repeatable", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--trusted-root <file>", "a trusted_root.json (default: signing.trusted_root in tollgate.yaml, else the Sigstore public-good root)")
    .option("--insecure-ignore-tlog", "with --key: accept signatures without a Rekor SET or timestamp (a keyed signature not uploaded to a log)")
    .option("--policy <file>", "a policy file (YAML/JSON): per image glob, the keys or identities that must have signed (instead of --key and identity flags)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .option("--ca-roots <file>", "private PKI (cosign's flag): PEM root certificates a legacy signature's certificate must chain to, instead of Fulcio; needs --certificate-identity and --insecure-ignore-tlog")
    .option("--ca-intermediates <file>", "with --ca-roots: PEM intermediate certificates (the signature's chain annotation is also used)")
    .option("--gpg-keyring <file>", "verify containers/image OpenPGP simple signatures (sign image --gpg-key, skopeo --sign-by) with the keys of this keyring (binary or armored), instead of cosign signatures")
    .option("--signature-dir <dir>", "with --gpg-keyring: the lookaside directory (registries.d lookaside: file:///DIR) holding <repo>@sha256=<hex>/signature-N")
    .option("--attestation-type <type>", "verify attestations (tollgate attest, cosign attest) of this predicate type instead of signatures: cyclonedx, spdx, slsaprovenance1, vuln, custom… or a URI; prints the verified in-toto statements as a JSON array")
    .addHelpText(
      "after",
      examples(
        "tollgate verify image --key cosign.pub registry:127.0.0.1:5000/app:1",
        "tollgate verify image --key cosign.pub --attestation-type cyclonedx registry:127.0.0.1:5000/app:1",
        "tollgate verify image --gpg-keyring release.gpg --signature-dir /var/lib/containers/sigstore 127.0.0.1:5000/app:1",
        "tollgate verify image --policy deploy-policy.yaml registry.example.com/team/app:1   # images: [{match: 'registry.example.com/team/*', keys: [release.pub]}]",
        "tollgate verify image --key cosign.pub --insecure-ignore-tlog -a env=prod registry:127.0.0.1:5000/app@sha256:…",
        "tollgate verify image --certificate-identity-regexp '^https://github.com/acme/' \\\n      --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/acme/app:1",
      ),
    )
    .action(app.action(([image]: [string], options, ctx) => runImageVerification(image, options as unknown as VerifyImageOptions, ctx)));

  registerVerifyModelCommand(verify, app);
  registerVerifyProvenanceCommand(app, verify);

  addVerifyOptions(
    app.program
      .command("verify-bundle")
      .summary("verify a Sigstore bundle against an artifact (sigstore-conformance client contract)")
      .description(
        "Verify a Sigstore bundle (v0.1–v0.3) offline, as the sigstore-conformance client protocol says: " +
          "--bundle FILE with --key PEM or --certificate-identity and --certificate-oidc-issuer, an optional --trusted-root, " +
          "and the artifact or its digest (sha256:<hex>, when no such file exists). Exit 0 verified, 1 not verified, 2 usage.",
      )
      .argument("<file-or-digest>", "the artifact, or sha256:<hex> (for DSSE bundles: a subject of the in-toto statement)"),
  )
    .option("--staging", "the bundle comes from Sigstore staging (needs --trusted-root: only the public-good root is shipped)")
    .addHelpText(
      "after",
      examples(
        "tollgate verify-bundle --bundle a.txt.sigstore.json --key key.pub a.txt",
        "tollgate verify-bundle --bundle a.sigstore.json --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main \\\n      --certificate-oidc-issuer https://token.actions.githubusercontent.com sha256:4d6f…",
      ),
    )
    .action(app.action(([file]: [string], options, ctx) => runVerification("verify-bundle", file, options as VerifyOptions, ctx)));
}
