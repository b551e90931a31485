export { isCalendarDate } from "./dates.ts";
export { durationSeconds } from "./duration.ts";
export { loadConfig, DEFAULT_CONFIG_FILE, type LoadedConfig } from "./load.ts";
export { parseConfig } from "./parse.ts";
export { configSchema, defaultConfig, severityThreshold, type TollgateConfig, type Waiver, type SeverityThreshold } from "./schema.ts";
