import { examples, type CliApp } from "../cli/registry.ts";

/** `tollgate init`: CI workflow, Dependabot, policy and hardened Dockerfile scaffolding. */
export function registerInitCommands(app: CliApp): void {
  app.program
    .command("init")
    .summary("scaffold the CI workflow, Dependabot, tollgate.yaml and a hardened Dockerfile")
    .description("Detect the repository's ecosystems and write the pipeline files; never overwrites without --force.")
    .option("--dockerfile <template>", "also write a hardened Dockerfile: node or python-ml")
    .option("--force", "overwrite existing files")
    .addHelpText("after", examples("tollgate init", "tollgate init --dockerfile node"))
    .action(app.notBuilt("init"));
}
