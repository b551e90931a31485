import { Option } from "commander";
import { examples, type CliApp } from "../cli/registry.ts";
import type { DockerfileTemplate } from "./index.ts";

/** `tollgate init`: CI workflow, Dependabot, policy and hardened Dockerfile scaffolding. */
export function registerInitCommands(app: CliApp): void {
  app.program
    .command("init")
    .summary("scaffold the CI workflow, Dependabot, tollgate.yaml and a hardened Dockerfile")
    .description(
      "Detect the repository's ecosystems and write the pipeline files; never overwrites without --force.\n" +
        "Writes .github/workflows/tollgate.yml, .github/dependabot.yml and tollgate.yaml (and, with\n" +
        "--dockerfile, a hardened Dockerfile and a .dockerignore). Formats (--format): text (default), json.",
    )
    .argument("[dir]", "the repository root", ".")
    .addOption(new Option("--dockerfile <template>", "also write a hardened Dockerfile: node or python-ml").choices(["node", "python-ml"]))
    .option("--force", "overwrite existing files")
    .option("--tollgate-repository <repo@sha>", "build tollgate in CI from this GitHub repository and commit: OWNER/NAME@<40-hex SHA> (default: this repository when it is tollgate's, else left for you to set in the workflow)")
    .option("--tollgate-package <spec>", "install tollgate in CI from this npm package spec instead, e.g. tollgate@1.2.3 once it is published")
    .addHelpText(
      "after",
      examples("tollgate init", "tollgate init --dockerfile node", "tollgate init --tollgate-repository OWNER/tollgate@<commit-sha>", "tollgate init path/to/repo --dockerfile python-ml --force"),
    )
    .action(
      app.action<[string]>(async ([dir], options, ctx) => {
        const format = ctx.formatOf(["text", "json"] as const, "text");
        const { initRepository } = await import("./index.ts");
        const result = await initRepository(dir, {
          dockerfile: options.dockerfile as DockerfileTemplate | undefined,
          force: options.force === true,
          tollgatePackage: options.tollgatePackage as string | undefined,
          tollgateRepository: options.tollgateRepository as string | undefined,
        });
        if (format === "json") {
          await ctx.writeOutput(`${JSON.stringify(result, null, 2)}\n`);
        } else {
          const lines = [
            `Detected: ${result.ecosystems.map((e) => `${e.ecosystem} (${e.directories.join(", ")})`).join("; ") || "no ecosystem"}`,
            ...result.files.map((f) => `${f.status.padEnd(11)} ${f.path}${f.status === "skipped" ? " (exists; --force overwrites it)" : ` — ${f.what}`}`),
          ];
          await ctx.writeOutput(`${lines.join("\n")}\n`);
        }
        for (const note of result.notes) ctx.notice(note);
        const skipped = result.files.filter((f) => f.status === "skipped").length;
        if (skipped > 0) ctx.notice(`${skipped} existing file${skipped === 1 ? "" : "s"} kept; run with --force to overwrite`);
      }),
    );
}
