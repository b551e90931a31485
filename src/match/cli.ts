import { examples, type CliApp } from "../cli/registry.ts";
import { NotImplementedError } from "../errors.ts";
import { parseTarget } from "../target/index.ts";

/** `tollgate scan`: match a target's components against the vulnerability database. */
export function registerScanCommands(app: CliApp): void {
  app.program
    .command("scan")
    .summary("list the known vulnerabilities of a target's components")
    .description(
      "Build the SBOM of a target (or read one) and match its components against the OSV database.\n" +
        "Formats (--format): table (default), json.",
    )
    .argument("<target>", "a directory, lockfile, SBOM or image")
    .option("--db <path>", "vulnerability database (default: the XDG cache dir; env TOLLGATE_DB)")
    .option("--explain", "show, for each finding, the record, range and comparison that matched")
    .option("--platform <os/arch[/variant]>", "image platform to read from a multi-platform index (default linux/amd64)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .addHelpText("after", examples("tollgate scan .", "tollgate scan sbom:app.cdx.json --format json --output findings.json"))
    .action(
      app.action<[string]>(async ([target], _options, ctx) => {
        await parseTarget(target);
        await ctx.config();
        throw new NotImplementedError("tollgate scan");
      }),
    );
}
