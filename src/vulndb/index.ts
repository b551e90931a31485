import { NotImplementedError } from "../errors.ts";
import { cacheDir } from "../io/paths.ts";

/** The vulnerability database (OSV records in SQLite). Defined by the vulnerability-database issue. */
export interface VulnDb {
  close(): void;
}

/** The default database path: $TOLLGATE_DB, else <cache dir>/vulns.db. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.TOLLGATE_DB ?? `${cacheDir(env)}/vulns.db`;
}

/**
 * Opens the database at `path`: a SQLite file, or (for examples and tests) a directory, all.zip or
 * .json file of OSV records loaded into an in-memory database.
 */
export async function openVulnDb(path: string = defaultDbPath()): Promise<VulnDb> {
  throw new NotImplementedError(`the vulnerability database (${path})`);
}
