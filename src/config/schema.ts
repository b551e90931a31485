import { z } from "zod";
import { isCalendarDate } from "./dates.ts";

/**
 * The schema of `tollgate.yaml`. Key names under the policy are fixed (users' files must keep
 * working); each domain owns its section. Unknown keys are errors, so typos never pass silently.
 */

export const severityThreshold = z.enum(["none", "low", "medium", "high", "critical"]);
export type SeverityThreshold = z.infer<typeof severityThreshold>;

/** A YAML date (`2026-12-31`) arrives as a string (the yaml library's core schema keeps it one). */
const dateString = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/, "expected a date such as 2026-12-31")
  .refine(isCalendarDate, "not a calendar date (month 01-12, a day that month has)");

export const waiverSchema = z
  .object({
    id: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    package: z.string().min(1).optional(),
    reason: z.string().min(1),
    owner: z.string().min(1).optional(),
    expires: dateString,
  })
  .strict();

export const triageSchema = z
  .object({
    /** A SQLite file (relative to tollgate.yaml) or a postgres:// URL; env TOLLGATE_TRIAGE_URL wins. */
    store: z.string().min(1).default(".tollgate/triage.db"),
    /** The repository runs are recorded under in a shared store (default: github.repository, GITHUB_REPOSITORY). */
    repository: z.string().min(1).max(256).optional(),
    /** true: a run whose findings could not be recorded exits 2 (after its reports), whatever the gate said. */
    required: z.boolean().default(false),
    recurring_after: z.number().int().min(1).default(3),
    github: z
      .object({
        repository: z
          .string()
          .regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name")
          .optional(),
        labels: z.array(z.string().min(1)).default(["security", "tollgate"]),
        enabled: z.boolean().default(true),
      })
      .strict()
      .default({ labels: ["security", "tollgate"], enabled: true }),
  })
  .strict();

/** A size: bytes as a number, or a string such as `512MiB`, `32GiB`, `100MB`. */
const SIZE_UNITS: Record<string, number> = { "": 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4 };
export const sizeBytes = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*([KMGT]i?B|B)?$/i, "expected a size such as 512MiB or 32GiB")
    .transform((s) => {
      const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(s) as RegExpExecArray;
      return Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] as string).toUpperCase()] ?? 1));
    }),
], { error: "expected a size such as 512MiB or 32GiB, or a number of bytes" });

/** A duration such as `7d`, `12h`, `30m`. */
export const durationString = z.string().regex(/^\d+(s|m|h|d|w)$/, "expected a duration such as 7d, 12h or 30m");

export const configSchema = z
  .object({
    // --- policy (the gate) ---
    fail_on: severityThreshold.default("high"),
    warn_on: severityThreshold.default("medium"),
    report: severityThreshold.default("low"),
    only_fixed: z.boolean().default(false),
    unresolved: z.enum(["ignore", "warn", "fail"]).default("warn"),
    /** An input the run could not read (malformed lockfile, a limit hit, a cataloger's failure). */
    unreadable: z.enum(["warn", "fail"]).default("fail"),
    waivers: z.array(waiverSchema).default([]),
    strict_waivers: z.boolean().default(false),
    vex: z.array(z.string().min(1)).default([]),
    triage: triageSchema.default({
      store: ".tollgate/triage.db",
      required: false,
      recurring_after: 3,
      github: { labels: ["security", "tollgate"], enabled: true },
    }),
    // --- vulnerability database ---
    db: z
      .object({
        path: z.string().min(1).optional(),
        max_age: durationString.default("7d"),
        fail_when_stale: z.boolean().default(true),
        /** The database has no records for any ecosystem of the target (fail), or for some of them (warn). */
        no_data: z.enum(["warn", "fail"]).default("fail"),
        partial_data: z.enum(["warn", "fail"]).default("warn"),
        base_url: z.string().url().optional(),
        ecosystems: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .default({ max_age: "7d", fail_when_stale: true, no_data: "fail", partial_data: "warn" }),
    // --- SBOM collection ---
    sbom: z
      .object({
        exclude: z.array(z.string().min(1)).default([]),
        format: z.enum(["cyclonedx-json", "spdx-json"]).default("cyclonedx-json"),
        spec_version: z.enum(["1.5", "1.6", "1.7"]).default("1.6"),
        /** Go: the module cache dependencies' go.mod files are read from (env TOLLGATE_GO_MOD_CACHE wins). */
        go: z.object({ mod_cache: z.string().min(1).optional() }).strict().optional(),
      })
      .strict()
      .default({ exclude: [], format: "cyclonedx-json", spec_version: "1.6" }),
    // --- images ---
    image: z
      .object({
        platform: z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, "expected os/arch[/variant]").default("linux/amd64"),
        insecure_registries: z.array(z.string().min(1)).default([]),
        /** Decoder limits for image layers; unset keys keep the built-in defaults. */
        limits: z
          .object({
            max_decompressed: sizeBytes.optional(),
            max_entry: sizeBytes.optional(),
            max_entries: z.number().int().positive().optional(),
            max_layers: z.number().int().positive().optional(),
            max_java_nested: sizeBytes.optional(),
            max_java_archive_decompressed: sizeBytes.optional(),
            max_java_decompressed: sizeBytes.optional(),
            max_java_depth: z.number().int().min(0).max(16).optional(),
            max_rpm_rows: z.number().int().positive().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ platform: "linux/amd64", insecure_registries: [] }),
    // --- network: registries, OSV downloads, the GitHub API ---
    timeouts: z
      .object({
        connect: durationString.refine((d) => !/^0+[a-z]$/.test(d), "a timeout must be more than 0").default("15s"),
        response: durationString.refine((d) => !/^0+[a-z]$/.test(d), "a timeout must be more than 0").default("30s"),
        idle: durationString.refine((d) => !/^0+[a-z]$/.test(d), "a timeout must be more than 0").default("30s"),
        /** Bytes per second a blob or download must average (its total time: connect + response + size / min_rate). */
        min_rate: sizeBytes.default(512 * 1024),
      })
      .strict()
      .default({ connect: "15s", response: "30s", idle: "30s", min_rate: 512 * 1024 }),
    // --- signing (keys, Sigstore) and the audit log of signing events ---
    signing: z
      .object({
        /** The key reference used when --key is not given (a path, pkcs11:…, hashivault://…, awskms://…, gcpkms://…). */
        key: z.string().min(1).optional(),
        /** Keyless signing and offline verification. */
        fulcio_url: z.string().url().optional(),
        rekor_url: z.string().url().optional(),
        tsa_url: z.string().url().optional(),
        trusted_root: z.string().min(1).optional(),
        /** Vault Transit (hashivault://KEY): address (else VAULT_ADDR), transit mount, and JWT/OIDC login. */
        vault: z
          .object({
            address: z.string().url().optional(),
            transit_mount: z.string().min(1).optional(),
            jwt_mount: z.string().min(1).optional(),
            jwt_role: z.string().min(1).optional(),
            jwt_audience: z.string().min(1).optional(),
          })
          .strict()
          .optional(),
        /** PKCS#11: the module (e.g. /usr/lib/softhsm/libsofthsm2.so) when the URI has no module-path. */
        pkcs11: z.object({ module: z.string().min(1).optional() }).strict().optional(),
        aws: z.object({ region: z.string().min(1).optional(), endpoint: z.string().url().optional() }).strict().optional(),
        gcp: z.object({ endpoint: z.string().url().optional() }).strict().optional(),
      })
      .strict()
      .default({}),
    audit: z
      .object({
        /** The log file (TOLLGATE_AUDIT_LOG wins; default: the XDG state dir). */
        log: z.string().min(1).optional(),
        /** Under GitHub Actions, each event is also a ::notice line and a job summary row. */
        github: z.boolean().default(true),
      })
      .strict()
      .default({ github: true }),
    // --- Dockerfile lint ---
    lint: z
      .object({
        fail_on: z.enum(["error", "warning", "info"]).default("error"),
        ignore: z.array(z.string().regex(/^TG-(?:DF|IMG)-\d{3}$/, "expected a rule id such as TG-DF-001")).default([]),
        severity: z.record(z.string(), z.enum(["error", "warning", "info", "off"])).default({}),
        trusted_registries: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({ fail_on: "error", ignore: [], severity: {}, trusted_registries: [] }),
  })
  .strict();

/** The validated configuration, with every default filled in. */
export type TollgateConfig = z.infer<typeof configSchema>;
export type Waiver = z.infer<typeof waiverSchema>;

/** The default policy, in force when there is no tollgate.yaml. */
export function defaultConfig(): TollgateConfig {
  return configSchema.parse({});
}
