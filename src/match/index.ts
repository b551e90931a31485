import { NotImplementedError } from "../errors.ts";
import type { Finding, Sbom } from "../model/index.ts";
import type { VulnDb } from "../vulndb/index.ts";

/** Matches every component of an SBOM against the database: one finding per vulnerability and component. */
export async function matchSbom(_sbom: Sbom, _db: VulnDb): Promise<Finding[]> {
  throw new NotImplementedError("matching");
}
