import { examples, notBuiltYet, type CliApp } from "../cli/registry.ts";

/** `tollgate sign blob|image|model`: every signing event is written to the audit log. */
export function registerSignCommands(app: CliApp): void {
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

}
