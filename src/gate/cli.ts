import { isAbsolute, join, dirname, resolve } from "node:path";
import { examples, type CliApp } from "../cli/registry.ts";
import type { LoadedConfig } from "../config/index.ts";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic-write.ts";
import { terminalText as t } from "../io/text.ts";
import type { ReportFormat } from "../report/index.ts";
import { parseTarget } from "../target/index.ts";
import { shortFingerprint } from "./fingerprint.ts";
import type { TriageStatus } from "./triage.ts";

// The pipeline's modules are loaded when a command runs, not at start-up: `tollgate --help` and the
// other commands do not pay for them.
const loadCheck = () => import("./check.ts");
const loadReports = () => import("../report/index.ts");
const loadTriage = () => import("./triage.ts");

const CHECK_FORMATS = ["table", "json", "sarif", "markdown", "junit"] as const;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The triage store path: --store, else triage.store from the config (relative to the config file). */
function storePath(options: Record<string, unknown>, loaded: LoadedConfig): string {
  if (typeof options.store === "string") return options.store;
  const p = loaded.config.triage.store;
  if (isAbsolute(p) || /^postgres(ql)?:\/\//i.test(p)) return p;
  return loaded.file ? join(dirname(resolve(loaded.file)), p) : p;
}

/** `tollgate check` (the main job) and `tollgate triage`. */
export function registerGateCommands(app: CliApp): void {
  app.program
    .command("check")
    .summary("the CI gate: SBOM, match, policy, reports, exit code")
    .description(
      "Build the SBOM of a target, match it against the vulnerability database, apply the policy of\n" +
        "tollgate.yaml (fail_on, waivers, VEX, triage) and write reports. Exit 0 pass, 1 gate failed, 2 error.\n" +
        "Formats (--format): table (default), json, sarif, markdown, junit. --report also takes openvex.",
    )
    .argument("[target]", "what to check", ".")
    .option("--db <path>", "vulnerability database (default: the XDG cache dir; env TOLLGATE_DB)")
    .option("--report <format=path>", "also write a report, e.g. sarif=out.sarif (repeatable)", collect)
    .option("--emit-vex <path>", "write an OpenVEX document of the waivers and VEX decisions in force")
    .option("--dry-run", "print the GitHub issue actions instead of performing them")
    .option("--platform <os/arch[/variant]>", "image platform to read from a multi-platform index (default linux/amd64)")
    .option("--insecure-registry <host...>", "registries reached over plain HTTP (localhost and 127.0.0.0/8 always are)")
    .addHelpText(
      "after",
      examples(
        "tollgate check",
        "tollgate check examples/vulnerable-app --db examples/advisories",
        "tollgate check . --report sarif=tollgate.sarif --report markdown=$GITHUB_STEP_SUMMARY",
        "tollgate check . --format json --output report.json --emit-vex tollgate.vex.json",
      ),
    )
    .action(
      app.action<[string]>(async ([input], options, ctx) => {
        const [{ runCheck }, { describeIssueAction }, { inputLine, openVexDocument, parseReportSpec, renderReport }] = await Promise.all([
          loadCheck(),
          import("./github.ts"),
          loadReports(),
        ]);
        const format = ctx.formatOf(CHECK_FORMATS, "table");
        const reports = ((options.report as string[] | undefined) ?? []).map(parseReportSpec);
        const target = await parseTarget(input);
        const loaded = await ctx.config();
        const result = await runCheck(target, {
          config: loaded.config,
          configFile: loaded.file,
          db: options.db as string | undefined,
          dryRun: options.dryRun === true,
          platform: options.platform as string | undefined,
          insecureRegistries: options.insecureRegistry as string[] | undefined,
          progress: (m) => ctx.progress(m),
        });
        ctx.progress("");
        await ctx.writeOutput(renderReport(format, result, { color: ctx.color }));
        for (const r of reports) await writeFileAtomic(r.path, renderReport(r.format as ReportFormat, result));
        if (typeof options.emitVex === "string") {
          await writeFileAtomic(options.emitVex, openVexDocument(result));
          if (!result.decisions.some((d) => d.suppressed)) ctx.notice(`${options.emitVex}: no waiver or VEX decision is in force; the OpenVEX document has no statements`);
        }
        // Notices, problems and issue actions name packages, files and advisories: controls shown escaped.
        for (const n of result.notices) ctx.notice(t(n));
        // Inputs not read and databases without data: on stderr as well as in every report, so that a
        // gate that could not see something never passes (or fails) without saying why.
        for (const d of result.decisions) {
          if (!d.problem && !d.rule.startsWith("db:")) continue;
          // The same place as the reports give it (relative to the working directory).
          const line = d.problem ? `input not read: ${inputLine(result, d)} (${d.rule})` : `${d.message ?? d.rule} (${d.rule})`;
          if (d.outcome === "fail") ctx.failure(line);
          else ctx.notice(line);
        }
        if (options.dryRun === true) {
          if (result.issues.length === 0) process.stderr.write("tollgate: dry run: no GitHub issue actions\n");
          for (const a of result.issues) process.stderr.write(`tollgate: dry run: ${t(describeIssueAction(a))}\n`);
        }
        if (result.outcome === "fail") ctx.setExitCode(1);
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
    .option("--store <path>", "the triage store (default: triage.store in tollgate.yaml)")
    .addHelpText("after", examples("tollgate triage list --status new"))
    .action(
      app.action<[]>(async (_args, options, ctx) => {
        const format = ctx.formatOf(["table", "json"] as const, "table");
        const status = options.status as string | undefined;
        if (status !== undefined && !["new", "acknowledged", "fixed"].includes(status)) throw new UsageError(`--status ${status}: expected new, acknowledged or fixed`);
        const { openTriageStore } = await loadTriage();
        const store = await openTriageStore(storePath(options, await ctx.config()), { create: false });
        try {
          const entries = await store.list(status ? { status: status as TriageStatus } : {});
          if (format === "json") {
            await ctx.writeOutput(`${JSON.stringify(entries, null, 2)}\n`);
            return;
          }
          const lines = entries.map((e) =>
            // The store holds what lockfiles and advisories said: control characters shown escaped.
            [t(shortFingerprint(e.fingerprint)), t(e.status).padEnd(12), t(e.severity).padEnd(8), t(e.vulnerabilityId).padEnd(20), t(`${e.package}${e.version ? `@${e.version}` : ""}`), `runs ${e.runCount}`, `last ${t(e.lastSeen.slice(0, 10))}`, e.issueNumber !== undefined ? `#${e.issueNumber}` : ""]
              .join("  ")
              .trimEnd(),
          );
          await ctx.writeOutput(lines.length ? `${lines.join("\n")}\n` : "");
          if (lines.length === 0) ctx.notice("the triage queue is empty");
        } finally {
          await store.close();
        }
      }),
    );
  triage
    .command("ack")
    .description("acknowledge a triaged finding")
    .argument("<id>", "the finding's fingerprint id (or a unique prefix of at least 6 digits)")
    .requiredOption("--reason <text>", "why it is acknowledged")
    .option("--store <path>", "the triage store (default: triage.store in tollgate.yaml)")
    .addHelpText("after", examples('tollgate triage ack 3f9c2a --reason "not reachable from our code"'))
    .action(
      app.action<[string]>(async ([id], options, ctx) => {
        const reason = String(options.reason).trim();
        if (!reason) throw new UsageError("--reason: must not be empty");
        const { openTriageStore } = await loadTriage();
        const store = await openTriageStore(storePath(options, await ctx.config()), { create: false });
        try {
          const e = await store.acknowledge(id, reason, new Date());
          ctx.notice(`acknowledged ${t(shortFingerprint(e.fingerprint))} (${t(e.vulnerabilityId)} in ${t(e.package)})`);
        } finally {
          await store.close();
        }
      }),
    );
  triage
    .command("export")
    .description("export the triage queue. Formats (--format): json (default), csv.")
    .option("--store <path>", "the triage store (default: triage.store in tollgate.yaml)")
    .addHelpText("after", examples("tollgate triage export --format csv --output triage.csv"))
    .action(
      app.action<[]>(async (_args, options, ctx) => {
        const format = ctx.formatOf(["json", "csv"] as const, "json");
        const { openTriageStore } = await loadTriage();
        const store = await openTriageStore(storePath(options, await ctx.config()), { create: false });
        try {
          const entries = await store.list();
          const { triageToCsv } = await loadTriage();
          await ctx.writeOutput(format === "csv" ? triageToCsv(entries) : `${JSON.stringify({ schemaVersion: "1.0", entries }, null, 2)}\n`);
        } finally {
          await store.close();
        }
      }),
    );
}
