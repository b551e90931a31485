/**
 * The PostgreSQL triage store's schema, as numbered migrations. Each is applied once, in order, in
 * one transaction that holds `pg_advisory_xact_lock(MIGRATION_LOCK)`, and recorded in
 * `tollgate.schema_migrations`; runners that start together wait for the one that migrates and then
 * find the schema current. A migration is never edited once released: changes are new migrations.
 *
 * Everything lives in the `tollgate` schema. Findings are keyed by repository + fingerprint, which
 * is the hash of target + package identity (the purl without its version) + vulnerability id; the
 * unique constraint on (repository, target, package, vulnerability_id) says the same in columns.
 * `scopes` holds one row per repository and target: `recordRun` locks it (`FOR UPDATE`), so runs of
 * one target are recorded one after the other and each counts once.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The advisory lock taken while migrating: ("toll" as an int4, 1). */
export const MIGRATION_LOCK: readonly [number, number] = [0x746f6c6c, 1];

export const SCHEMA = "tollgate";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "findings, runs and scopes",
    sql: `
      CREATE TABLE tollgate.runs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        repository text NOT NULL,
        target text NOT NULL,
        at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        first_seen_count integer NOT NULL DEFAULT 0,
        recurring_count integer NOT NULL DEFAULT 0,
        reappeared_count integer NOT NULL DEFAULT 0,
        fixed_count integer NOT NULL DEFAULT 0
      );
      CREATE INDEX runs_scope ON tollgate.runs (repository, target, id);

      CREATE TABLE tollgate.scopes (
        repository text NOT NULL,
        target text NOT NULL,
        last_run_id bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (repository, target)
      );

      CREATE TABLE tollgate.findings (
        repository text NOT NULL,
        fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
        vulnerability_id text NOT NULL,
        aliases jsonb NOT NULL,
        package text NOT NULL,
        version text,
        severity text NOT NULL,
        fixed_versions jsonb NOT NULL,
        summary text,
        target text NOT NULL,
        first_seen timestamptz NOT NULL,
        last_seen timestamptz NOT NULL,
        run_count integer NOT NULL,
        last_run_id bigint NOT NULL,
        status text NOT NULL CHECK (status IN ('new', 'acknowledged', 'fixed')),
        ack_reason text,
        ack_at timestamptz,
        fixed_at timestamptz,
        issue_number integer,
        issue_url text,
        issue_state text CHECK (issue_state IN ('open', 'closed')),
        issue_claim text,
        issue_claimed_at timestamptz,
        PRIMARY KEY (repository, fingerprint),
        UNIQUE (repository, target, package, vulnerability_id)
      ) WITH (fillfactor = 80);
      -- No index on the columns a run updates (run_count, last_seen, status…): those updates stay
      -- heap-only (HOT), which keeps a run of a large project short while it holds its scope's lock.
      CREATE INDEX findings_scope ON tollgate.findings (repository, target);
      CREATE INDEX findings_fingerprint ON tollgate.findings (fingerprint text_pattern_ops);
    `,
  },
];

/** The newest schema version this tollgate knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;
