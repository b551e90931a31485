import { isAbsolute, join, dirname, resolve } from "node:path";
import { Option } from "commander";
import { examples, type CliApp } from "../cli/registry.ts";
import type { LoadedConfig } from "../config/index.ts";
import { shortFingerprint, type Sbom, type TriageStatus } from "../model/index.ts";
import { durationSeconds } from "../config/duration.ts";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic-write.ts";
import { terminalText as t } from "../io/text.ts";
import { parseTarget } from "../target/index.ts";

// The pipeline's modules are loaded when a command runs, not at start-up: `tollgate --help` and the
// other commands do not pay for them.
const loadCheck = () => import("./check.ts");
const loadReports = () => import("../report/index.ts");
const loadTriage = () => import("./triage.ts");


function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * The triage store: --store, else $TOLLGATE_TRIAGE_URL, else triage.store from the config (a path
 * relative to the config file, or a URL).
 */
function storePath(options: Record<string, unknown>, loaded: LoadedConfig): string {
  if (typeof options.store === "string") return options.store;
  const p = process.env.TOLLGATE_TRIAGE_URL?.trim() || loaded.config.triage.store;
  if (isAbsolute(p) || /^postgres(ql)?:\/\//i.test(p)) return p;
  return loaded.file ? join(dirname(resolve(loaded.file)), p) : p;
}

const ATTESTATION_FLAGS = ["key", "certificateIdentity", "certificateIdentityRegexp", "certificateOidcIssuer", "certificateOidcIssuerRegexp", "trustedRoot", "insecureIgnoreTlog", "attestationType"] as const;

/**
 * `--sbom-sources` (trivy's name; `--sbom-from` is the same): `catalog` (default), `attestation`, or
 * both in order. From an attestation, the SBOM is the predicate of a verified cyclonedx/spdx
 * attestation of the image (src/signing/attested-sbom.ts, verified as `verify image --attestation-type`
 * verifies); when none verifies the check fails closed (exit 1), unless `catalog` follows, which
 * catalogs the image and says so. Returns the SBOM (absent: catalog) and the line saying where it
 * came from, or undefined to catalog as usual.
 */
async function sbomFromSources(
  target: Awaited<ReturnType<typeof parseTarget>>,
  options: Record<string, unknown>,
  loaded: LoadedConfig,
): Promise<{ sbom?: Sbom; sbomSource: string } | undefined> {
  const a = options.sbomSources as string | undefined;
  const b = options.sbomFrom as string | undefined;
  if (a !== undefined && b !== undefined && a !== b) throw new UsageError("--sbom-sources and --sbom-from are the same option; give one");
  const sources = (a ?? b ?? "catalog").split(",").map((x) => x.trim().toLowerCase());
  for (const s of sources) {
    if (s === "oci" || s === "rekor") throw new UsageError(`--sbom-sources ${s}: tollgate reads an SBOM only from a verified attestation (attestation) or by cataloging (catalog)`);
    if (s !== "attestation" && s !== "catalog") throw new UsageError(`--sbom-sources ${JSON.stringify(s.slice(0, 40))}: expected attestation, catalog or attestation,catalog`);
  }
  if (new Set(sources).size !== sources.length) throw new UsageError("--sbom-sources: a source is named twice");
  const usesAttestation = sources[0] === "attestation" || sources.includes("attestation");
  if (!usesAttestation) {
    const given = ATTESTATION_FLAGS.filter((f) => options[f] !== undefined);
    if (given.length > 0) throw new UsageError(`--${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for --sbom-sources attestation`);
    return undefined;
  }
  if (sources[0] !== "attestation") throw new UsageError("--sbom-sources catalog,attestation: cataloging always gives an SBOM; put attestation first");
  if (target.kind !== "registry") throw new UsageError(`--sbom-sources attestation: attestations are read from a registry; give registry:REF, not ${target.input}`);
  const [{ imageVerificationFromFlags }, { sbomFromAttestation }, { networkTimeoutsFromConfig }, { VerificationFailedError }] = await Promise.all([
    import("../signing/verify/image-policies.ts"),
    import("../signing/attested-sbom.ts"),
    import("../io/timeouts.ts"),
    import("../errors.ts"),
  ]);
  const { config } = loaded;
  const timeouts = networkTimeoutsFromConfig(config.timeouts);
  const { policies, trustRoot } = await imageVerificationFromFlags(
    {
      key: (options.key as string[] | undefined) ?? [],
      ...(options.certificateIdentity !== undefined ? { certificateIdentity: options.certificateIdentity as string } : {}),
      ...(options.certificateIdentityRegexp !== undefined ? { certificateIdentityRegexp: options.certificateIdentityRegexp as string } : {}),
      ...(options.certificateOidcIssuer !== undefined ? { certificateOidcIssuer: options.certificateOidcIssuer as string } : {}),
      ...(options.certificateOidcIssuerRegexp !== undefined ? { certificateOidcIssuerRegexp: options.certificateOidcIssuerRegexp as string } : {}),
      ...(options.trustedRoot !== undefined ? { trustedRoot: options.trustedRoot as string } : {}),
      insecureIgnoreTlog: options.insecureIgnoreTlog === true,
    },
    { env: process.env, signingConfig: config.signing as Record<string, unknown>, timeouts, ...(config.signing.trusted_root !== undefined ? { trustedRootDefault: config.signing.trusted_root } : {}) },
  );
  try {
    const attested = await sbomFromAttestation(target, {
      ...(options.attestationType !== undefined ? { type: options.attestationType as string } : {}),
      policies,
      trustRoot,
      registry: { env: process.env, timeouts, insecureRegistries: [...config.image.insecure_registries, ...((options.insecureRegistry as string[] | undefined) ?? [])] },
      ...(process.env.COSIGN_REPOSITORY ? { signatureRepository: process.env.COSIGN_REPOSITORY } : {}),
    });
    return { sbom: attested.sbom, sbomSource: attested.description };
  } catch (e) {
    if (!(e instanceof VerificationFailedError)) throw e;
    if (sources[1] !== "catalog") {
      throw new VerificationFailedError(`check: ${target.input}: no verified SBOM attestation [${e.reason}]: ${e.message} (the SBOM is not cataloged instead: --sbom-sources attestation,catalog allows it)`, { reason: e.reason, cause: e });
    }
    // Said in every report (the notices), not only on stderr.
    return { sbomSource: `SBOM cataloged from the image: no verified SBOM attestation for ${target.input} [${e.reason}]: ${e.message} (--sbom-sources attestation,catalog)` };
  }
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
    .option(
      "--sbom-sources <list>",
      "where a registry image's SBOM comes from, in order (trivy's flag): catalog (default: read the image), attestation (the predicate of a verified " +
        "cyclonedx/spdx attestation: needs --key or --certificate-identity with --certificate-oidc-issuer; none verified fails, exit 1), " +
        "attestation,catalog (fall back to cataloging, with a notice)",
    )
    .addOption(new Option("--sbom-from <list>", "the same as --sbom-sources").hideHelp())
    .option("--key <ref>", "with --sbom-sources attestation: a public key the attestation must be signed by; repeatable (any one)", collect)
    .option("--certificate-identity <id>", "with --sbom-sources attestation: the keyless signer's identity (certificate SAN)")
    .option("--certificate-identity-regexp <re>", "the keyless signer's identity as a regular expression")
    .option("--certificate-oidc-issuer <url>", "the OIDC issuer of the keyless signer's certificate")
    .option("--certificate-oidc-issuer-regexp <re>", "the OIDC issuer as a regular expression")
    .option("--trusted-root <file>", "a trusted_root.json for the attestation (default: signing.trusted_root, else the Sigstore public-good root)")
    .option("--insecure-ignore-tlog", "with --key: accept an attestation without a Rekor SET or timestamp")
    .option("--attestation-type <type>", "with --sbom-sources attestation: cyclonedx (default) or spdx")
    .addHelpText(
      "after",
      examples(
        "tollgate check",
        "tollgate check registry:ghcr.io/acme/app@sha256:… --sbom-sources attestation --key cosign.pub",
        "tollgate check examples/vulnerable-app --db examples/advisories",
        "tollgate check . --report sarif=tollgate.sarif --report markdown=$GITHUB_STEP_SUMMARY",
        "tollgate check . --format json --output report.json --emit-vex tollgate.vex.json",
      ),
    )
    .action(
      app.action<[string]>(async ([input], options, ctx) => {
        const [{ runCheck }, { CHECK_FORMATS, describeIssueAction, inputLine, openVexDocument, parseReportSpec, renderReport }] = await Promise.all([loadCheck(), loadReports()]);
        const format = ctx.formatOf(CHECK_FORMATS, "table");
        const reports = ((options.report as string[] | undefined) ?? []).map(parseReportSpec);
        const target = await parseTarget(input);
        const loaded = await ctx.config();
        const attested = await sbomFromSources(target, options, loaded);
        const result = await runCheck(target, {
          ...(attested ?? {}),
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
        for (const r of reports) await writeFileAtomic(r.path, renderReport(r.format, result));
        if (typeof options.emitVex === "string") {
          await writeFileAtomic(options.emitVex, openVexDocument(result));
          if (!result.decisions.some((d) => d.suppressed)) ctx.notice(`${options.emitVex}: no waiver or VEX decision is in force; the OpenVEX document has no statements`);
        }
        // Notices, problems and issue actions name packages, files and advisories: controls shown escaped.
        for (const n of result.notices) {
          // With triage.required, the store's error is why the run fails: shown even with --quiet.
          if (result.triageError !== undefined && loaded.config.triage.required && n.startsWith("triage store not updated")) ctx.failure(t(n));
          else ctx.notice(t(n));
        }
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
        // triage.required: a run that could not record its findings fails as an error (exit 2).
        if (result.triageError !== undefined && loaded.config.triage.required) ctx.setExitCode(2);
      }),
    );

  const triage = app.program
    .command("triage")
    .summary("the queue of findings below the fail threshold")
    .description(
      "List, acknowledge and export the findings that the gate routed to triage, in a\n" +
        "SQLite file or a PostgreSQL store shared by many repositories\n" +
        "(triage.store: postgres://…, or TOLLGATE_TRIAGE_URL).",
    );
  const STORE_HELP = "the triage store: a SQLite path or a postgres:// URL (default: $TOLLGATE_TRIAGE_URL, then triage.store in tollgate.yaml)";
  const REPOSITORY_HELP = "only this repository (owner/name) of a shared store";
  triage
    .command("list")
    .description("list triaged findings. Formats (--format): table (default), json.")
    .option("--status <status>", "new, acknowledged or fixed")
    .option("--repository <owner/name>", REPOSITORY_HELP)
    .option("--store <location>", STORE_HELP)
    .addHelpText("after", examples("tollgate triage list --status new", "tollgate triage list --repository acme/web --format json"))
    .action(
      app.action<[]>(async (_args, options, ctx) => {
        const format = ctx.formatOf(["table", "json"] as const, "table");
        const status = options.status as string | undefined;
        if (status !== undefined && !["new", "acknowledged", "fixed"].includes(status)) throw new UsageError(`--status ${status}: expected new, acknowledged or fixed`);
        const store = await openStoreFor(options, await ctx.config());
        try {
          const entries = await store.list({ ...(status ? { status: status as TriageStatus } : {}), ...repositoryFilter(options) });
          if (format === "json") {
            await ctx.writeOutput(`${JSON.stringify(entries, null, 2)}\n`);
            return;
          }
          const lines = entries.map((e) =>
            // The store holds what lockfiles and advisories said: control characters shown escaped.
            [t(shortFingerprint(e.fingerprint)), t(e.status).padEnd(12), t(e.severity).padEnd(8), t(e.vulnerabilityId).padEnd(20), t(`${e.package}${e.version ? `@${e.version}` : ""}`), `runs ${e.runCount}`, `last ${t(e.lastSeen.slice(0, 10))}`, e.issueNumber !== undefined ? `#${e.issueNumber}` : "", e.repository ? t(e.repository) : ""]
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
    .option("--repository <owner/name>", "the repository of the finding, when a shared store has it in several")
    .option("--store <location>", STORE_HELP)
    .addHelpText("after", examples('tollgate triage ack 3f9c2a --reason "not reachable from our code"', 'tollgate triage ack 3f9c2a --repository acme/web --reason "dev only"'))
    .action(
      app.action<[string]>(async ([id], options, ctx) => {
        const reason = String(options.reason).trim();
        if (!reason) throw new UsageError("--reason: must not be empty");
        const store = await openStoreFor(options, await ctx.config());
        try {
          const e = await store.acknowledge(id, reason, new Date(), repositoryFilter(options));
          ctx.notice(`acknowledged ${t(shortFingerprint(e.fingerprint))} (${t(e.vulnerabilityId)} in ${t(e.package)}${e.repository ? ` of ${t(e.repository)}` : ""})`);
        } finally {
          await store.close();
        }
      }),
    );
  triage
    .command("export")
    .description("export the triage queue (and, in JSON, the run history). Formats (--format): json (default), csv.")
    .option("--repository <owner/name>", REPOSITORY_HELP)
    .option("--store <location>", STORE_HELP)
    .addHelpText("after", examples("tollgate triage export --format csv --output triage.csv", "tollgate triage export --repository acme/web --output web.json"))
    .action(
      app.action<[]>(async (_args, options, ctx) => {
        const format = ctx.formatOf(["json", "csv"] as const, "json");
        const store = await openStoreFor(options, await ctx.config());
        try {
          const entries = await store.list(repositoryFilter(options));
          const { triageToCsv } = await loadTriage();
          await ctx.writeOutput(
            format === "csv" ? triageToCsv(entries) : `${JSON.stringify({ schemaVersion: "1.1", entries, runs: await store.runs(repositoryFilter(options)) }, null, 2)}\n`,
          );
        } finally {
          await store.close();
        }
      }),
    );
  triage
    .command("migrate")
    .description(
      "Copy a SQLite triage store into a PostgreSQL one: findings, acknowledgements,\n" +
        "issue links and run history (what the destination has is kept). With --to\n" +
        "alone: bring the PostgreSQL schema up to date (as the schema's owner).",
    )
    .option("--from <sqlite:PATH>", "the SQLite store to copy")
    .requiredOption("--to <postgres://…>", "the PostgreSQL store (password from PGPASSWORD or a pgpass file, not the URL)")
    .option("--repository <owner/name>", "the repository for findings the SQLite store recorded without one")
    .addHelpText("after", examples("tollgate triage migrate --from sqlite:.tollgate/triage.db --to postgres://tollgate@db.internal/tollgate --repository acme/web"))
    .action(
      app.action<[]>(async (_args, options, ctx) => {
        const to = String(options.to);
        const { isPostgresLocation } = await loadTriage();
        if (!isPostgresLocation(to)) throw new UsageError("--to: expected a postgres:// or postgresql:// URL");
        const from = options.from as string | undefined;
        if (from !== undefined && !/^sqlite:./.test(from)) throw new UsageError("--from: expected sqlite:PATH");
        const { migrateTriageStore } = await import("./triage-migrate.ts");
        const loaded = await ctx.config();
        const counts = await migrateTriageStore(from?.slice("sqlite:".length), to, {
          repository: options.repository as string | undefined,
          timeouts: storeTimeouts(loaded),
        });
        ctx.notice(
          from === undefined
            ? `the triage store schema is current (version ${counts.schemaVersion})`
            : `copied ${counts.findings} finding(s) and ${counts.runs} run(s)${counts.findingsKept + counts.runsKept > 0 ? `; kept ${counts.findingsKept} finding(s) and ${counts.runsKept} run(s) the destination already had` : ""}`,
        );
      }),
    );
}

/** `--repository`, as a filter: any repository when not given. */
function repositoryFilter(options: Record<string, unknown>): { repository?: string } {
  return typeof options.repository === "string" ? { repository: options.repository } : {};
}

/** The statement and connection limits of a PostgreSQL store, from the `timeouts:` config. */
function storeTimeouts(loaded: LoadedConfig): { connectMs: number; statementMs: number; idleMs: number } {
  const c = loaded.config.timeouts;
  return { connectMs: durationSeconds(c.connect) * 1000, statementMs: durationSeconds(c.response) * 1000, idleMs: durationSeconds(c.idle) * 1000 };
}

/** Opens the store a `triage` command names (it must exist already). */
async function openStoreFor(options: Record<string, unknown>, loaded: LoadedConfig) {
  const { openTriageStore } = await loadTriage();
  return openTriageStore(storePath(options, loaded), { create: false, timeouts: storeTimeouts(loaded) });
}
