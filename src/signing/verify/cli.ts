import type { Command } from "commander";
import { examples, notBuiltYet, type CliApp } from "../../cli/registry.ts";
import type { CommandContext } from "../../cli/context.ts";
import { UsageError, VerificationFailedError } from "../../errors.ts";

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
    if (e instanceof VerificationFailedError) {
      throw new VerificationFailedError(`${command}: ${artifactArg}: verification failed [${e.reason}]: ${e.message}`, { reason: e.reason, cause: e });
    }
    throw e;
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
    .summary("verify a blob (image and model: not built yet)");

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

  for (const [name, what, ex] of [
    ["image", "a container image's signatures", "tollgate verify image --key cosign.pub registry:127.0.0.1:5000/app:1"],
    ["model", "a model artifact's signature", "tollgate verify model --signature model.sig --key signing-key-pub.pem ./model-dir"],
  ] as const) {
    notBuiltYet(verify.command(name), `verify ${what}`)
      .description(`verify ${what}`)
      .argument("<artifact>", "what to verify")
      .option("--key <ref>", "public key file, pkcs11:… URI or vault://… key")
      .option("--signature <path>", "signature or bundle file")
      .addHelpText("after", examples(ex))
      .action(app.notBuilt(`verify ${name}`));
  }

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
