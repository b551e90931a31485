import { examples, type CliApp } from "../cli/registry.ts";

/** `tollgate db` and `tollgate version`: the vulnerability database and version ordering. */
export function registerVulnDbCommands(app: CliApp): void {
  const db = app.program
    .command("db")
    .summary("the offline vulnerability database (OSV records in SQLite)")
    .description("Import, update and inspect the vulnerability database.");
  db.command("update")
    .description("download OSV's per-ecosystem exports and swap them in atomically")
    .option("--db <path>", "database path (default: the XDG cache dir; env TOLLGATE_DB)")
    .option("--ecosystem <name...>", "only these OSV ecosystems")
    .option("--base-url <url>", "mirror of OSV's export bucket")
    .addHelpText("after", examples("tollgate db update --ecosystem npm PyPI"))
    .action(app.notBuilt("db update"));
  db.command("import")
    .description("import OSV JSON records: an all.zip export, a directory of records or files")
    .argument("<source...>", "all.zip, directory or .json files")
    .option("--db <path>", "database path (default: the XDG cache dir; env TOLLGATE_DB)")
    .addHelpText("after", examples("tollgate db import ./npm-all.zip", "tollgate db import advisories/*.json --db ./vulns.db"))
    .action(app.notBuilt("db import"));
  db.command("status")
    .description("sources, record counts per ecosystem and age. Formats (--format): table (default), json.")
    .option("--db <path>", "database path (default: the XDG cache dir; env TOLLGATE_DB)")
    .addHelpText("after", examples("tollgate db status --format json"))
    .action(app.notBuilt("db status"));

  const version = app.program.command("version").summary("version ordering per ecosystem").description("Compare package versions as OSV orders them.");
  version
    .command("compare")
    .description("print -1, 0 or 1 for A versus B; with --stdin, check `A op B` lines and print the disagreements")
    .argument("[a]", "first version")
    .argument("[b]", "second version")
    .requiredOption("--ecosystem <name>", "OSV ecosystem name, e.g. npm, PyPI, Maven, Go, Debian")
    .option("--stdin", "read `A op B` lines (op one of <, =, >) from standard input")
    .addHelpText("after", examples("tollgate version compare --ecosystem PyPI 1.0rc1 1.0", "tollgate version compare --ecosystem Debian --stdin < dpkg-versions.txt"))
    .action(app.notBuilt("version compare"));
}
