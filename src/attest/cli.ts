import { examples, notBuiltYet, type CliApp } from "../cli/registry.ts";

/** `tollgate attest`: in-toto attestations (SBOM, SLSA provenance); not built yet. */
export function registerAttestCommands(app: CliApp): void {
  notBuiltYet(app.program.command("attest"), "create in-toto attestations (SBOM, SLSA provenance) for an artifact")
    .description("Wrap an SBOM or SLSA v1 provenance in an in-toto statement, sign it as DSSE and store it.")
    .argument("<artifact>", "the subject: a file or an image reference")
    .option("--predicate <path>", "predicate file (an SBOM or provenance)")
    .option("--type <type>", "cyclonedx, spdx or slsaprovenance", "cyclonedx")
    .option("--key <ref>", "signing key")
    .addHelpText("after", examples("tollgate attest registry:127.0.0.1:5000/app:1 --predicate sbom.cdx.json --key cosign.key"))
    .action(app.notBuilt("attest"));
}
