import { examples, type CliApp } from "../cli/registry.ts";
import type { CommandContext } from "../cli/context.ts";
import { isCalendarDate } from "../config/dates.ts";
import { UsageError } from "../errors.ts";
import { terminalText } from "../io/text.ts";
import type { AuditEntry, AuditVerification } from "./log.ts";

/** The log a command reads: its argument or --log, else the configured one (auditLogPath). */
async function logPathFor(given: string | undefined, ctx: CommandContext): Promise<string> {
  if (given !== undefined) {
    if (given === "") throw new UsageError("the audit log path is empty");
    return given;
  }
  const { auditLogPath } = await import("./index.ts");
  return auditLogPath({ config: (await ctx.config()).config });
}

/** `--since`: a calendar date (midnight UTC) or a date and time (UTC when no offset is given). */
function parseSince(s: string): number {
  if (!isCalendarDate(s)) throw new UsageError(`--since ${s}: expected a date such as 2026-12-01 or 2026-12-01T18:00:00Z`);
  const withTime = s.includes("T") ? s : `${s}T00:00:00Z`;
  const zoned = /(?:Z|[+-]\d{2}:\d{2})$/.test(withTime) ? withTime : `${withTime}Z`;
  return Date.parse(zoned);
}

function verificationText(v: AuditVerification): string {
  const where = terminalText(v.path);
  if (v.intact) {
    const head = v.head ? `; head ${v.head.seq}:${v.head.hash}` : "";
    return `${where}: intact, ${v.entries} entr${v.entries === 1 ? "y" : "ies"}${head}\n`;
  }
  return `${where}: TAMPERED: ${terminalText(v.problem?.message ?? "")}\n` + `(${v.entries} entr${v.entries === 1 ? "y" : "ies"} before it intact)\n`;
}

/** `tollgate audit`: verify and list the append-only, hash-chained log of signing events. */
export function registerAuditCommands(app: CliApp): void {
  const audit = app.program
    .command("audit")
    .summary("the audit log of signing events")
    .description(
      "Inspect and verify the hash-chained log of every signing event. The log is TOLLGATE_AUDIT_LOG, else audit.log in tollgate.yaml, else $XDG_STATE_HOME/tollgate/audit.log (~/.local/state/tollgate/audit.log).",
    );
  audit
    .command("verify")
    .description(
      "check that the audit log's hash chain is intact: exit 0 intact, 1 tampered (naming the first bad line and what is wrong), 2 when the log cannot be read. " +
        "A chain cannot show that its last entries were cut off or its tail consistently rewritten: give --anchor SEQ:HASH, an entry's seq and hash recorded elsewhere " +
        "(the GitHub job summary, a remote log), to check that too. Formats (--format): table (default), json.",
    )
    .argument("[log]", "the audit log file (default: the configured log)")
    .option("--anchor <seq:hash>", "the log must contain entry SEQ with this hash (as the job summary or ::notice line shows it)")
    .addHelpText("after", examples("tollgate audit verify", "tollgate audit verify ci-audit.log --anchor 42:3f9c…", "tollgate audit verify --format json"))
    .action(
      app.action<[string | undefined]>(async ([log], options, ctx) => {
        const format = ctx.formatOf(["table", "json"] as const, "table");
        const { verifyAuditLog, parseAnchor } = await import("./log.ts");
        let anchor;
        if (options.anchor !== undefined) {
          anchor = parseAnchor(String(options.anchor));
          if (!anchor) throw new UsageError(`--anchor ${String(options.anchor)}: expected SEQ:HASH (a positive number, a colon, 64 hex digits)`);
        }
        const path = await logPathFor(log, ctx);
        const v = await verifyAuditLog(path, { anchor });
        await ctx.writeOutput(format === "json" ? `${JSON.stringify(v, null, 2)}\n` : verificationText(v));
        if (!v.intact) ctx.setExitCode(1);
      }),
    );
  audit
    .command("list")
    .description(
      "list the signing events in the audit log, oldest first. The chain is checked as it is read: a tampered log is listed up to its first bad line and the command exits 1. Formats (--format): table (default), json.",
    )
    .option("--log <file>", "the audit log file (default: the configured log)")
    .option("--artifact <digest|name>", "only events for this artifact: its digest (sha256:…) or its name as given when signing")
    .option("--key <keyid>", "only events signed with this key: its key id (or a prefix of at least 8 hex digits) or its key reference")
    .option("--since <date>", "only events at or after this date (2026-12-01, or 2026-12-01T18:00:00Z)")
    .addHelpText("after", examples("tollgate audit list", "tollgate audit list --artifact sha256:3f9c… --format json", "tollgate audit list --key 1a2b3c4d --since 2026-12-01"))
    .action(
      app.action<[]>(async (_args, options, ctx) => {
        const format = ctx.formatOf(["table", "json"] as const, "table");
        const artifact = options.artifact as string | undefined;
        const key = (options.key as string | undefined)?.trim();
        if (key !== undefined && key === "") throw new UsageError("--key: empty");
        const since = options.since === undefined ? undefined : parseSince(String(options.since));
        const keyIsPrefix = key !== undefined && /^[0-9a-f]{8,64}$/i.test(key);
        const matches = (e: AuditEntry): boolean =>
          (artifact === undefined || e.artifactDigest === artifact || e.artifact === artifact) &&
          (key === undefined || e.keyRef === key || e.keyId === key || (keyIsPrefix && e.keyId !== undefined && e.keyId.startsWith(key.toLowerCase()))) &&
          (since === undefined || Date.parse(e.time) >= since);
        const { verifyAuditLog } = await import("./log.ts");
        const path = await logPathFor(options.log as string | undefined, ctx);
        const shown: AuditEntry[] = [];
        const v = await verifyAuditLog(path, { onEntry: (e) => matches(e) && shown.push(e) });
        if (format === "json") {
          await ctx.writeOutput(`${JSON.stringify(shown, null, 2)}\n`);
        } else {
          const t = (s: string | undefined): string => terminalText(s ?? "");
          const lines = shown.map((e) =>
            [String(e.seq).padStart(5), t(e.time), t(e.operation).padEnd(12), t(e.result).padEnd(7), t(e.artifactDigest.length > 19 ? `${e.artifactDigest.slice(0, 19)}…` : e.artifactDigest), t(e.keyId ? e.keyId.slice(0, 12) : "-").padEnd(12), t(e.backend ?? "-").padEnd(10), t(e.artifact)]
              .join("  ")
              .trimEnd(),
          );
          await ctx.writeOutput(lines.length ? `${lines.join("\n")}\n` : "");
          if (lines.length === 0) ctx.notice(v.entries === 0 ? `${path}: no signing events` : "no signing event matches");
        }
        if (!v.intact) {
          ctx.failure(`${path}: TAMPERED: ${v.problem?.message ?? ""}; listed up to there (run tollgate audit verify)`);
          ctx.setExitCode(1);
        }
      }),
    );
}
