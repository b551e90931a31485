import { examples, notBuiltYet, type CliApp } from "../../cli/registry.ts";

/** `tollgate verify blob|image|model` and `tollgate verify-bundle` (the sigstore-conformance client contract). */
export function registerVerifyCommands(app: CliApp): void {
  const verify = notBuiltYet(
    app.program.command("verify").description("Verify signatures; fails closed (exit 1) on anything short of a valid signature."),
    "verify a blob, a container image or a model",
  );
  for (const [name, what, ex] of [
    ["blob", "a file's signature", "tollgate verify blob --key cosign.pub --signature release.tar.gz.sig release.tar.gz"],
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

  notBuiltYet(app.program.command("verify-bundle"), "verify a Sigstore bundle against an artifact")
    .description("Verify a Sigstore bundle (v0.1–v0.3) offline against a key or a trusted root.")
    .argument("<bundle>", "the bundle JSON file")
    .argument("[artifact]", "the signed artifact (not needed for DSSE bundles)")
    .option("--key <path>", "public key")
    .option("--trusted-root <path>", "trusted root JSON")
    .addHelpText("after", examples("tollgate verify-bundle artifact.sigstore.json artifact --key cosign.pub"))
    .action(app.notBuilt("verify-bundle"));
}
