/**
 * The one scan pipeline, used by `tollgate scan`, `tollgate explain`, `tollgate check` and library
 * users: the target's SBOM (built, or given), its components matched against the database with the
 * run's counters, the content findings read while collecting (unsafe pickles, Keras Lambda layers)
 * added to the database's, the database decisions (stale, no data, partial data), and the ecosystems
 * seen noted for `db update`. A `model:` target has no package ecosystem: no database is opened for it.
 */
import { appendAll } from "../collect/collect.ts";
import type { TollgateConfig } from "../config/index.ts";
import type { Decision, Finding, Sbom, Target } from "../model/index.ts";
import type { VulnDb } from "../vulndb/index.ts";
import type { MatchStats } from "./index.ts";

export interface ScanTargetOptions {
  config: TollgateConfig;
  /** The database (a SQLite file, or a directory, all.zip or .json of OSV records), resolved by the caller. */
  dbPath: string;
  /** An SBOM already built or read (check --sbom-sources attestation): not rebuilt. */
  sbom?: Sbom;
  platform?: string;
  insecureRegistries?: readonly string[];
  now?: Date;
  env?: NodeJS.ProcessEnv;
  progress?: (message: string) => void;
  /** Return the database open (for `explain`, which reads its records); the caller closes it. */
  keepDatabase?: boolean;
}

export interface ScanTargetResult {
  sbom: Sbom;
  /** The database's findings, then the content findings. */
  findings: Finding[];
  stats: MatchStats;
  /** `db:stale`, `db:no-data:*`, `db:partial-data:*` (none for a model target). */
  databaseDecisions: Decision[];
  /** The database, when `keepDatabase` and one was opened. */
  db?: VulnDb;
}

/** Match statistics of a run without a database (a model target): nothing looked up. */
function noDatabaseStats(components: number): MatchStats {
  return { components, matched: 0, noEcosystem: components, noVersion: 0, unresolved: 0, unsupportedEcosystem: 0, gitRangesSkipped: 0, findings: 0 };
}

/** SBOM → match → content findings → database decisions, for one target. */
export async function scanTarget(target: Target, options: ScanTargetOptions): Promise<ScanTargetResult> {
  const { config } = options;
  const now = options.now ?? new Date();
  const progress = options.progress ?? (() => undefined);
  let sbom = options.sbom;
  if (!sbom) {
    const { buildSbom, sbomOptionsFrom } = await import("../sbom/index.ts");
    progress("building the SBOM…");
    sbom = await buildSbom(target, { ...sbomOptionsFrom(config, { platform: options.platform, insecureRegistries: options.insecureRegistries }), progress });
  }
  if (target.kind === "model") {
    const findings = [...(sbom.contentFindings ?? [])];
    const stats = noDatabaseStats(sbom.components.length);
    stats.findings = findings.length;
    return { sbom, findings, stats, databaseDecisions: [] };
  }
  const [{ openVulnDb }, { noteSeenEcosystems }, { matchComponents }, { databaseDecisions, seenEcosystems }] = await Promise.all([
    import("../vulndb/index.ts"),
    import("../vulndb/update.ts"),
    import("./index.ts"),
    import("./coverage.ts"),
  ]);
  const db = await openVulnDb(options.dbPath);
  let kept = false;
  try {
    progress("matching against the vulnerability database…");
    const decisions = databaseDecisions(sbom, db, config, now);
    const { findings, stats } = matchComponents(sbom.components, db);
    appendAll(findings, sbom.contentFindings ?? []);
    stats.findings = findings.length;
    // What `db update` downloads by default: the ecosystems scans and checks have seen.
    await noteSeenEcosystems(
      seenEcosystems(sbom.components).map((s) => s.key),
      options.env ?? process.env,
      now,
    );
    progress("");
    const result: ScanTargetResult = { sbom, findings, stats, databaseDecisions: decisions };
    if (options.keepDatabase) {
      result.db = db;
      kept = true;
    }
    return result;
  } finally {
    if (!kept) db.close();
  }
}
