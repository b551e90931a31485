import { examples, type CliApp } from "../cli/registry.ts";

/** `tollgate audit`: the append-only log of signing events. */
export function registerAuditCommands(app: CliApp): void {
  const audit = app.program.command("audit").summary("the audit log of signing events").description("Inspect and verify the hash-chained log of every signing event.");
  audit
    .command("verify")
    .description("check that the audit log's hash chain is intact. Formats (--format): table (default), json.")
    .argument("[log]", "the audit log file (default: the configured log)")
    .addHelpText("after", examples("tollgate audit verify"))
    .action(app.notBuilt("audit verify"));
}
