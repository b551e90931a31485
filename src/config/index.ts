export { durationSeconds } from "./duration.ts";
export { loadConfig, parseConfig, DEFAULT_CONFIG_FILE, type LoadedConfig } from "./load.ts";
export { configSchema, defaultConfig, severityThreshold, type TollgateConfig, type Waiver, type SeverityThreshold } from "./schema.ts";
