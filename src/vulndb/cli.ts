import { examples, type CliApp } from "../cli/registry.ts";
import type { CommandContext } from "../cli/context.ts";
import { InputError, UsageError } from "../errors.ts";
import type { VulnDbStatus } from "./index.ts";

/** The database path for a command: --db, then $TOLLGATE_DB, then tollgate.yaml's db.path, then the XDG cache dir. */
export async function dbPathFor(option: unknown, ctx: CommandContext): Promise<string> {
  const { resolveDbPath } = await import("./index.ts");
  return resolveDbPath(typeof option === "string" ? option : undefined, (await ctx.config()).config);
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

export function statusTable(s: VulnDbStatus): string {
  const lines = [
    `database:  ${s.path}${s.inMemory ? " (loaded in memory)" : ""}`,
    `schema:    ${s.schemaVersion}`,
    `records:   ${s.records}${s.withdrawn ? ` (${s.withdrawn} withdrawn, never matched)` : ""}`,
    `updated:   ${s.updatedAt ? `${s.updatedAt} (${formatAge(s.ageSeconds ?? 0)} ago)` : "never"}`,
  ];
  if (s.sources.length > 0) {
    lines.push("sources:");
    for (const src of s.sources) lines.push(`  ${src.name}  ${src.kind}  ${src.records} records  imported ${src.importedAt}  ${src.location}`);
  }
  if (s.ecosystems.length > 0) {
    lines.push("ecosystems:");
    const w = Math.max(...s.ecosystems.map((e) => e.ecosystem.length));
    for (const e of s.ecosystems) lines.push(`  ${e.ecosystem.padEnd(w)}  ${e.records}`);
  }
  return lines.join("\n") + "\n";
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 256 * 1024 * 1024) throw new InputError("more than 256 MiB on standard input", { file: "<stdin>" });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `tollgate db` and `tollgate version`: the vulnerability database and version ordering. */
export function registerVulnDbCommands(app: CliApp): void {
  const db = app.program
    .command("db")
    .summary("the offline vulnerability database (OSV records in SQLite)")
    .description("Import, update and inspect the vulnerability database.");
  db.command("update")
    .description(
      "download OSV's per-ecosystem exports and swap them in atomically (a failed update leaves the database as it was).\n" +
        "Without --ecosystem: the ecosystems already in the database, else db.ecosystems in tollgate.yaml, else those seen in recent scans.\n" +
        "A full download replaces the ecosystem's records (those OSV removed are deleted; `db import`ed ones are kept); an incremental\n" +
        "update (modified_id.csv) sees only added and changed records, so removals wait for the next full download (--no-incremental).",
    )
    .option("--db <path>", "database path (default: the XDG cache dir; env TOLLGATE_DB)")
    .option("--ecosystem <name...>", "only these OSV ecosystems")
    .option("--base-url <url>", "mirror of OSV's export bucket (config db.base_url)")
    .option("--no-incremental", "always download the whole export (no modified_id.csv); also drops records OSV removed")
    .addHelpText("after", examples("tollgate db update --ecosystem npm PyPI", "tollgate db update --base-url https://mirror.example.com/osv"))
    .action(
      app.action<[]>(async (_args, options, ctx) => {
        const { config } = await ctx.config();
        const dbPath = await dbPathFor(options.db, ctx);
        const ecosystems = (options.ecosystem as string[] | undefined) ?? config.db.ecosystems;
        const [{ updateVulnDb }, { networkTimeoutsFromConfig }] = await Promise.all([import("./update.ts"), import("../io/timeouts.ts")]);
        const result = await updateVulnDb({
          dbPath,
          ...(ecosystems ? { ecosystems } : {}),
          ...((options.baseUrl ?? config.db.base_url) ? { baseUrl: (options.baseUrl as string | undefined) ?? config.db.base_url } : {}),
          incremental: options.incremental !== false,
          timeouts: networkTimeoutsFromConfig(config.timeouts),
          progress: (m) => ctx.progress(m),
        });
        ctx.progress("");
        const format = ctx.formatOf(["table", "json"] as const, "table");
        if (format === "json") {
          await ctx.writeOutput(JSON.stringify(result, null, 2) + "\n");
          return;
        }
        const lines = result.ecosystems.map((e) =>
          e.mode === "unchanged"
            ? `${e.ecosystem}: unchanged since the last update`
            : `${e.ecosystem}: ${e.mode}, ${e.stats!.inserted} new, ${e.stats!.updated} updated, ${e.stats!.unchanged} unchanged${e.stats!.removed ? `, ${e.stats!.removed} removed` : ""}${e.stats!.rejected ? `, ${e.stats!.rejected} invalid skipped` : ""}`,
        );
        await ctx.writeOutput(`${lines.join("\n")}\ndatabase: ${result.dbPath}\n`);
        for (const e of result.ecosystems) for (const p of e.stats?.problems ?? []) ctx.notice(`skipped an invalid record: ${p}`);
      }),
    );
  db.command("import")
    .description("import OSV JSON records (schema 1.x): an all.zip export, a directory of records or files. Idempotent: upserts by id and modified.")
    .argument("<source...>", "all.zip, directory or .json files")
    .option("--db <path>", "database path (default: the XDG cache dir; env TOLLGATE_DB)")
    .option("--skip-invalid", "skip records that are not valid OSV (named on stderr) instead of failing")
    .addHelpText("after", examples("tollgate db import ./npm-all.zip", "tollgate db import advisories/*.json --db ./vulns.db"))
    .action(
      app.action<[string[]]>(async ([sources], options, ctx) => {
        const dbPath = await dbPathFor(options.db, ctx);
        const [{ importOsvSources, openVulnDb }, { withDbLock }] = await Promise.all([import("./index.ts"), import("./update.ts")]);
        // The lock `db update` holds for its whole run, taken before the database is opened: an import
        // never lands between an update's copy and its swap (nor in a file the swap replaced).
        await withDbLock(
          dbPath,
          async () => {
            const store = await openVulnDb(dbPath, { create: true });
            if (store.inMemory) {
              store.close();
              throw new UsageError(`--db ${dbPath}: that is a source of records, not a database file`);
            }
            try {
              const stats = await importOsvSources(store, sources, { skipInvalid: options.skipInvalid === true });
              for (const p of stats.problems) ctx.notice(`skipped an invalid record: ${p}`);
              const format = ctx.formatOf(["table", "json"] as const, "table");
              if (format === "json") await ctx.writeOutput(JSON.stringify({ database: dbPath, ...stats }, null, 2) + "\n");
              else
                await ctx.writeOutput(
                  `imported ${stats.read} record(s) into ${dbPath}: ${stats.inserted} new, ${stats.updated} updated, ${stats.unchanged} unchanged` +
                    `${stats.withdrawn ? `, ${stats.withdrawn} withdrawn (kept, never matched)` : ""}${stats.rejected ? `, ${stats.rejected} invalid skipped` : ""}\n`,
                );
            } finally {
              store.close();
            }
          },
          { progress: (m) => ctx.progress(m) },
        );
      }),
    );
  db.command("status")
    .description("sources, record counts per ecosystem and age. Formats (--format): table (default), json.")
    .option("--db <path>", "database path (default: the XDG cache dir; env TOLLGATE_DB)")
    .addHelpText("after", examples("tollgate db status --format json"))
    .action(
      app.action<[]>(async (_args, options, ctx) => {
        const format = ctx.formatOf(["table", "json"] as const, "table");
        const { openVulnDb } = await import("./index.ts");
        const store = await openVulnDb(await dbPathFor(options.db, ctx));
        try {
          const s = store.status();
          await ctx.writeOutput(format === "json" ? JSON.stringify(s, null, 2) + "\n" : statusTable(s));
        } finally {
          store.close();
        }
      }),
    );

  const version = app.program.command("version").summary("version ordering per ecosystem").description("Compare package versions as OSV orders them.");
  version
    .command("compare")
    .description("print -1, 0 or 1 for A versus B; with --stdin, check `A op B` lines, print the disagreements and exit 1 if any")
    .argument("[a]", "first version")
    .argument("[b]", "second version")
    .requiredOption("--ecosystem <name>", "OSV ecosystem name as OSV spells it (npm, PyPI, Maven, Debian, Rocky Linux, …); an unknown one is refused with the full list")
    .option("--stdin", "read `A op B` lines (op one of <, =, >) from standard input")
    .addHelpText("after", examples("tollgate version compare --ecosystem PyPI 1.0rc1 1.0", "tollgate version compare --ecosystem Debian --stdin < dpkg-versions.txt"))
    .action(
      app.action<[string | undefined, string | undefined]>(async ([a, b], options, ctx) => {
        const ecosystem = options.ecosystem as string;
        if (options.stdin) {
          if (a !== undefined) throw new UsageError("--stdin reads the versions from standard input: give no A B arguments");
          const { checkComparisonLines } = await import("../ecosystem/version/check-lines.ts");
          const { disagreements } = checkComparisonLines(ecosystem, await readStdin());
          if (disagreements.length > 0) {
            await ctx.writeOutput(disagreements.join("\n") + "\n");
            ctx.setExitCode(1);
          }
          return;
        }
        if (a === undefined || b === undefined) throw new UsageError("version compare needs two versions A B (or --stdin)");
        const { compareVersions } = await import("../ecosystem/registry.ts");
        await ctx.writeOutput(`${compareVersions(ecosystem, a, b)}\n`);
      }),
    );
}

