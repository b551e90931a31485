import type { TollgateConfig } from "./schema.ts";

/**
 * The defaults of schema.ts written out, so that a run with no tollgate.yaml loads neither yaml nor
 * zod (together ~70 ms of start-up). They must equal `configSchema.parse({})` exactly:
 * test/config/config.test.ts compares what loadConfig returns with no file to defaultConfig().
 * A fresh object each call, as configSchema.parse returns.
 */
export function defaultConfigValues(): TollgateConfig {
  return {
    fail_on: "high",
    warn_on: "medium",
    report: "low",
    only_fixed: false,
    unresolved: "warn",
    unreadable: "fail",
    waivers: [],
    strict_waivers: false,
    vex: [],
    triage: { store: ".tollgate/triage.db", required: false, recurring_after: 3, github: { labels: ["security", "tollgate"], enabled: true } },
    db: { max_age: "7d", fail_when_stale: true, no_data: "fail", partial_data: "warn" },
    sbom: { exclude: [], format: "cyclonedx-json", spec_version: "1.6" },
    image: { platform: "linux/amd64", insecure_registries: [] },
    timeouts: { connect: "15s", response: "30s", idle: "30s", min_rate: 524288 },
    signing: {},
    audit: { github: true },
    lint: { fail_on: "error", ignore: [], severity: {}, trusted_registries: [] },
  };
}
