import { examples, notBuiltYet, type CliApp } from "../../cli/registry.ts";

/** `tollgate keys`: generate keys and print the public key of any key reference. */
export function registerKeyCommands(app: CliApp): void {
  const keys = notBuiltYet(app.program.command("keys").description("Create and inspect signing keys."), "signing keys (files, PKCS#11 HSMs, Vault Transit)");
  notBuiltYet(keys.command("generate"), "generate a key pair")
    .description("generate a key pair (cosign-compatible ECDSA P-256 or an OpenPGP key)")
    .option("--type <type>", "cosign or openpgp", "cosign")
    .option("--output-prefix <prefix>", "write PREFIX.key and PREFIX.pub", "cosign")
    .addHelpText("after", examples("tollgate keys generate --output-prefix release"))
    .action(app.notBuilt("keys generate"));

}
