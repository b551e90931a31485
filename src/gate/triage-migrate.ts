import { InputError } from "../errors.ts";
import { SqliteTriageStore, type TriageStoreOptions } from "./triage.ts";
import { PostgresTriageStore } from "./triage-postgres.ts";

/** What `tollgate triage migrate` did. */
export interface TriageMigrateResult {
  /** The PostgreSQL store's schema version afterwards. */
  schemaVersion: number;
  findings: number;
  runs: number;
  /** Findings and runs the destination already had (left as they were). */
  findingsKept: number;
  runsKept: number;
}

/**
 * `tollgate triage migrate`: opens (and so migrates) the PostgreSQL store at `to`; with `from`, copies
 * the SQLite store there in one transaction (`PostgresTriageStore.importDump`), so that a team moving
 * from a cached file to the shared store keeps its acknowledgements, issue links and history. The
 * source is opened as it is and never written (beyond SQLite's own schema upgrade of an old file).
 */
export async function migrateTriageStore(
  from: string | undefined,
  to: string,
  options: { repository?: string; env?: NodeJS.ProcessEnv; timeouts?: TriageStoreOptions["timeouts"] } = {},
): Promise<TriageMigrateResult> {
  const source = from === undefined ? undefined : await SqliteTriageStore.open(from, { create: false });
  try {
    const dump = source ? await source.dump() : undefined;
    if (dump && options.repository === undefined && dump.findings.some((f) => f.repository === "")) {
      throw new InputError(`${from}: its findings name no repository; give --repository owner/name for them in the shared store`);
    }
    const dest = await PostgresTriageStore.open(to, { create: true, env: options.env, timeouts: options.timeouts });
    try {
      const counts = dump ? await dest.importDump(dump, options.repository) : { findings: 0, runs: 0, findingsKept: 0, runsKept: 0 };
      return { schemaVersion: await dest.schema(), ...counts };
    } finally {
      await dest.close();
    }
  } finally {
    await source?.close();
  }
}
