import { examples, notBuiltYet, type CliApp } from "../cli/registry.ts";

/** `tollgate audit`: the append-only log of signing events; not built yet. */
export function registerAuditCommands(app: CliApp): void {
  const audit = notBuiltYet(app.program.command("audit").description("Inspect and verify the hash-chained log of every signing event."), "the audit log of signing events");
  notBuiltYet(audit.command("verify"), "check the audit log's hash chain")
    .description("check that the audit log's hash chain is intact. Formats (--format): table (default), json.")
    .argument("[log]", "the audit log file (default: the configured log)")
    .addHelpText("after", examples("tollgate audit verify"))
    .action(app.notBuilt("audit verify"));
}
