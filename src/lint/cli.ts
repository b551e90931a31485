import { examples, type CliApp } from "../cli/registry.ts";

/** `tollgate lint`: Dockerfile hardening rules. */
export function registerLintCommands(app: CliApp): void {
  const lint = app.program.command("lint").summary("hardening lint for Dockerfiles").description("Check Dockerfiles against tollgate's hardening rules (TG-DF-###).");
  lint
    .command("dockerfile")
    .description("lint Dockerfiles (default: every Dockerfile, *.Dockerfile and Containerfile in the tree).\nFormats (--format): table (default), json, sarif.")
    .argument("[paths...]", "Dockerfiles or directories")
    .option("--fail-on <level>", "exit 1 when a finding reaches error, warning or info", "error")
    .addHelpText("after", examples("tollgate lint dockerfile", "tollgate lint dockerfile Dockerfile --format sarif --output lint.sarif"))
    .action(app.notBuilt("lint dockerfile"));
}
