import { examples, type CliApp } from "../cli/registry.ts";
import type { CommandContext } from "../cli/context.ts";
import type { Finding, Sbom } from "../model/index.ts";
import { problemLine } from "../collect/collect.ts";
import { parseTarget } from "../target/index.ts";
import { dbPathFor } from "../vulndb/cli.ts";
import type { VulnDb } from "../vulndb/index.ts";
import type { MatchStats } from "./index.ts";
import { terminalText as t } from "../io/text.ts";

interface ScanOptions {
  db?: string;
  explain?: boolean;
  platform?: string;
  insecureRegistry?: string[];
}

/**
 * `scanTarget` (./scan.ts) for the CLI: the database from --db / TOLLGATE_DB / the config, kept open for
 * the reports; the database decisions and the inputs not read said on stderr (exit 1 when the policy
 * says so: db.fail_when_stale, db.no_data, db.partial_data, unreadable: fail, as `check` fails).
 */
async function scanForCli(input: string, options: ScanOptions, ctx: CommandContext): Promise<{ sbom: Sbom; db: VulnDb | undefined; findings: Finding[]; stats: MatchStats }> {
  const target = await parseTarget(input);
  const { config } = await ctx.config();
  const { scanTarget } = await import("./scan.ts");
  const { sbom, db, findings, stats, databaseDecisions } = await scanTarget(target, {
    config,
    dbPath: await dbPathFor(options.db, ctx),
    ...(options.platform !== undefined ? { platform: options.platform } : {}),
    ...(options.insecureRegistry !== undefined ? { insecureRegistries: options.insecureRegistry } : {}),
    progress: (m) => ctx.progress(m),
    keepDatabase: true,
  });
  for (const d of databaseDecisions) {
    if (d.outcome === "fail") ctx.setExitCode(1);
    const key = d.rule.startsWith("db:stale") ? "db.fail_when_stale" : d.rule.startsWith("db:no-data") ? "db.no_data" : "db.partial_data";
    if (d.outcome === "fail") ctx.failure(`${t(d.message ?? d.rule)}; failing (${key})`);
    else ctx.notice(t(d.message ?? d.rule));
  }
  // Inputs not read: their packages are missing from the findings (exit 1 under `unreadable: fail`).
  for (const p of sbom.problems) {
    if (config.unreadable === "fail") {
      ctx.setExitCode(1);
      ctx.failure(`input not read: ${t(problemLine(p))}; failing (unreadable: fail)`);
    } else ctx.notice(`input not read: ${t(problemLine(p))}`);
  }
  if (stats.gitRangesSkipped > 0 && !ctx.quiet) ctx.notice(`${stats.gitRangesSkipped} GIT (commit) range(s) skipped: they need the source repository`);
  if (stats.unresolved > 0) ctx.notice(`${stats.unresolved} component(s) without an exact version were not matched (unresolved)`);
  return { sbom, db, findings, stats };
}

/** `tollgate scan` and `tollgate explain`: match a target's components against the vulnerability database. */
export function registerScanCommands(app: CliApp): void {
  app.program
    .command("scan")
    .summary("list the known vulnerabilities of a target's components")
    .description(
      "Build the SBOM of a target (or read one) and match its components against the OSV database.\n" +
        "Formats (--format): table (default), json (a versioned findings document, schemaVersion 1.0).\n" +
        "Exit code 0 whatever was found (the gate is `tollgate check`); 1 when an input could not be read\n" +
        "(unreadable: fail), the database is stale (db.fail_when_stale) or has no records for the target's\n" +
        "ecosystems (db.no_data, db.partial_data).",
    )
    .argument("<target>", "a directory, lockfile, SBOM or image")
    .option("--db <path>", "vulnerability database (default: the XDG cache dir; env TOLLGATE_DB); also a directory, all.zip or .json of OSV records")
    .option("--explain", "show, for each finding, the record, range and comparison that matched")
    .option("--platform <os/arch[/variant]>", "image platform to read from a multi-platform index (default linux/amd64)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .addHelpText("after", examples("tollgate scan .", "tollgate scan sbom:app.cdx.json --format json --output findings.json", "tollgate scan package-lock.json --explain"))
    .action(
      app.action<[string]>(async ([input], rawOptions, ctx) => {
        const options = rawOptions as ScanOptions;
        const [{ explainFinding, SCAN_REPORTERS }, { findReporter, reporterFormats }] = await Promise.all([import("./report.ts"), import("../report/reporter.ts")]);
        const format = ctx.formatOf(reporterFormats(SCAN_REPORTERS), "table");
        const { db, findings, stats } = await scanForCli(input, options, ctx);
        try {
          if (format === "table" && options.explain && findings.length > 0) {
            await ctx.writeOutput(findings.map((f) => explainFinding(f, db)).join("\n"));
          } else {
            await ctx.writeOutput(findReporter(SCAN_REPORTERS, format, "scan").render({ findings, target: input, ...(db ? { db } : {}), stats }));
          }
        } finally {
          db?.close();
        }
      }),
    );
  app.program
    .command("explain")
    .summary("show why one vulnerability matched a target: the record, range and comparison")
    .description("Match a target like `tollgate scan` and explain the findings for one vulnerability id (any of its aliases: GHSA, CVE, PYSEC…).\nFormats (--format): text (default), json.\nExit code 1 when the vulnerability does not affect the target.")
    .argument("<vuln-id>", "a vulnerability id or alias, e.g. GHSA-35jh-r3h4-6jhm or CVE-2021-23337")
    .argument("<target>", "a directory, lockfile, SBOM or image")
    .option("--db <path>", "vulnerability database (default: the XDG cache dir; env TOLLGATE_DB)")
    .option("--platform <os/arch[/variant]>", "image platform to read from a multi-platform index (default linux/amd64)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .addHelpText("after", examples("tollgate explain CVE-2021-23337 .", "tollgate explain GHSA-35jh-r3h4-6jhm package-lock.json --db examples/advisories"))
    .action(
      app.action<[string, string]>(async ([id, input], rawOptions, ctx) => {
        const options = rawOptions as ScanOptions;
        const format = ctx.formatOf(["text", "json"] as const, "text");
        const { db, findings } = await scanForCli(input, options, ctx);
        const { explainFinding, findingsDocument } = await import("./report.ts");
        try {
          const wanted = id.toUpperCase();
          const hits = findings.filter((f) => f.aliases.some((a) => a.toUpperCase() === wanted));
          if (format === "json") {
            await ctx.writeOutput(JSON.stringify({ ...findingsDocument(hits, { target: input, db }), records: db ? [...new Set(hits.flatMap((h) => h.matchedBy.filter((m) => m.kind !== "content").map((m) => m.advisoryId)))].map((r) => db.get(r)) : [] }, null, 2) + "\n");
          } else if (hits.length > 0) {
            await ctx.writeOutput(hits.map((f) => explainFinding(f, db)).join("\n"));
          } else {
            const rec = db?.get(id);
            await ctx.writeOutput(
              rec
                ? `${t(id)} is in the database (${t(rec.id)}${rec.withdrawn ? `, withdrawn ${t(rec.withdrawn)}` : ""}) but affects no component of ${t(input)}${rec.withdrawn ? " (withdrawn records are never matched)" : ""}.\n`
                : db ? `${t(id)} is not in the database ${t(db.path)}.\n` : `${t(id)} was not found in ${t(input)}.\n`,
            );
          }
          if (hits.length === 0) ctx.setExitCode(1);
        } finally {
          db?.close();
        }
      }),
    );
}
