import type { Command } from "commander";
import { examples, type CliApp } from "../cli/registry.ts";

/**
 * Marks a command of a part of tollgate that is not built yet: its `--help` says so on its first
 * line, and its summary (the line in the parent's command list) ends with "(not built yet)".
 */
export function notBuiltYet(cmd: Command, summary?: string): Command {
  const name = cmd.parent?.parent ? `${cmd.parent.name()} ${cmd.name()}` : cmd.name();
  if (summary !== undefined) cmd.summary(`${summary} (not built yet)`);
  return cmd.addHelpText("before", `tollgate ${name}: not built yet in this version of tollgate; it exits 2.\n`);
}

/** `tollgate keys`, `sign`, `verify`, `verify-bundle`: signing and verification (not built yet). */
export function registerSigningCommands(app: CliApp): void {
  const keys = notBuiltYet(app.program.command("keys").description("Create and inspect signing keys."), "signing keys (files, PKCS#11 HSMs, Vault Transit)");
  notBuiltYet(keys.command("generate"), "generate a key pair")
    .description("generate a key pair (cosign-compatible ECDSA P-256 or an OpenPGP key)")
    .option("--type <type>", "cosign or openpgp", "cosign")
    .option("--output-prefix <prefix>", "write PREFIX.key and PREFIX.pub", "cosign")
    .addHelpText("after", examples("tollgate keys generate --output-prefix release"))
    .action(app.notBuilt("keys generate"));

  const sign = notBuiltYet(app.program.command("sign").description("Sign artifacts; every signing event is written to the audit log."), "sign a blob, a container image or a model");
  for (const [name, what, ex] of [
    ["blob", "a file", "tollgate sign blob --key cosign.key release.tar.gz"],
    ["image", "a container image (cosign-compatible signature in the registry)", "tollgate sign image --key cosign.key registry:127.0.0.1:5000/app:1"],
    ["model", "a model artifact (OpenSSF model-signing bundle or OpenPGP detached signature)", "tollgate sign model --key model.key ./model-dir"],
  ] as const) {
    notBuiltYet(sign.command(name), `sign ${what}`)
      .description(`sign ${what}`)
      .argument("<artifact>", "what to sign")
      .option("--key <ref>", "key file, pkcs11:… URI or vault://… key")
      .addHelpText("after", examples(ex))
      .action(app.notBuilt(`sign ${name}`));
  }

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
