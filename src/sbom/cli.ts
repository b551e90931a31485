import { Option } from "commander";
import { examples, type CliApp } from "../cli/registry.ts";
import { NotImplementedError } from "../errors.ts";
import { parseTarget } from "../target/index.ts";

/** `tollgate sbom`: an SBOM (CycloneDX or SPDX JSON) of a target. */
export function registerSbomCommands(app: CliApp): void {
  app.program
    .command("sbom")
    .summary("write an SBOM (CycloneDX 1.6 or SPDX 2.3 JSON) of a directory, lockfile, image or model")
    .description(
      "Catalog the packages of a target without executing anything and write an SBOM.\n" +
        "Formats (--format): cyclonedx-json (default), spdx-json.",
    )
    .argument("<target>", "what to catalog (see TARGETS in tollgate --help)")
    .addOption(new Option("--spec-version <version>", "CycloneDX spec version").choices(["1.5", "1.6", "1.7"]).default("1.6"))
    .option("--exclude <glob...>", "leave out files and directories matching these globs")
    .option("--deterministic", "fixed timestamp and serial number (also set by SOURCE_DATE_EPOCH)")
    .option("--strict", "exit 2 when any file could not be read")
    .option("--platform <os/arch[/variant]>", "image platform to read from a multi-platform index (default linux/amd64)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .addHelpText(
      "after",
      examples(
        "tollgate sbom .",
        "tollgate sbom package-lock.json --format spdx-json --output sbom.spdx.json",
        "tollgate sbom registry:ghcr.io/org/app:1.2 --output app.cdx.json",
      ),
    )
    .action(
      app.action<[string]>(async ([target], _options, ctx) => {
        await parseTarget(target);
        await ctx.config();
        throw new NotImplementedError("tollgate sbom");
      }),
    );
}
