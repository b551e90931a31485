import { examples, type CliApp } from "../cli/registry.ts";
import { NotImplementedError } from "../errors.ts";
import { parseTarget } from "../target/index.ts";

/** `tollgate check` (the main job) and `tollgate triage`. */
export function registerGateCommands(app: CliApp): void {
  app.program
    .command("check")
    .summary("the CI gate: SBOM, match, policy, reports, exit code")
    .description(
      "Build the SBOM of a target, match it against the vulnerability database, apply the policy of\n" +
        "tollgate.yaml (fail_on, waivers, VEX, triage) and write reports. Exit 0 pass, 1 gate failed, 2 error.\n" +
        "Formats (--format): table (default), json, sarif, markdown, junit.",
    )
    .argument("[target]", "what to check", ".")
    .option("--db <path>", "vulnerability database (default: the XDG cache dir; env TOLLGATE_DB)")
    .option("--report <format=path...>", "also write a report, e.g. sarif=out.sarif (repeatable)")
    .option("--emit-vex <path>", "write an OpenVEX document of the waivers and VEX decisions in force")
    .option("--dry-run", "print the GitHub issue actions instead of performing them")
    .option("--platform <os/arch[/variant]>", "image platform to read from a multi-platform index (default linux/amd64)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .addHelpText(
      "after",
      examples(
        "tollgate check",
        "tollgate check examples/vulnerable-app --db examples/vulnerable-app/advisories",
        "tollgate check . --report sarif=tollgate.sarif --report markdown=$GITHUB_STEP_SUMMARY",
      ),
    )
    .action(
      app.action<[string]>(async ([target], _options, ctx) => {
        await parseTarget(target);
        await ctx.config();
        throw new NotImplementedError("tollgate check");
      }),
    );

  const triage = app.program
    .command("triage")
    .summary("the queue of findings below the fail threshold")
    .description("List, acknowledge and export the findings that the gate routed to triage.");
  triage
    .command("list")
    .description("list triaged findings. Formats (--format): table (default), json.")
    .option("--status <status>", "new, acknowledged or fixed")
    .addHelpText("after", examples("tollgate triage list --status new"))
    .action(app.notBuilt("triage list"));
  triage
    .command("ack")
    .description("acknowledge a triaged finding")
    .argument("<id>", "the finding's fingerprint id")
    .requiredOption("--reason <text>", "why it is acknowledged")
    .addHelpText("after", examples('tollgate triage ack 3f9c2a --reason "not reachable from our code"'))
    .action(app.notBuilt("triage ack"));
  triage
    .command("export")
    .description("export the triage queue. Formats (--format): json (default), csv.")
    .addHelpText("after", examples("tollgate triage export --format csv --output triage.csv"))
    .action(app.notBuilt("triage export"));
}
