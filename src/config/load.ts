import { InputError, LimitExceededError } from "../errors.ts";
import { readRegularFile } from "../io/files.ts";
import { defaultConfigValues } from "./defaults.ts";
import type { TollgateConfig } from "./schema.ts";

export const DEFAULT_CONFIG_FILE = "tollgate.yaml";

export interface LoadedConfig {
  config: TollgateConfig;
  /** The file it came from; undefined when the defaults are in force. */
  file?: string;
}

/** Size limit for a config file: a policy file is small; anything bigger is a mistake or an attack. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * Loads the configuration: `explicit` (from --config or TOLLGATE_CONFIG) must exist; otherwise
 * `./tollgate.yaml` is read when present, else the documented defaults apply.
 */
export async function loadConfig(explicit?: string, cwd: string = process.cwd()): Promise<LoadedConfig> {
  const file = explicit ?? `${cwd}/${DEFAULT_CONFIG_FILE}`;
  let text: string;
  try {
    // A regular file only, opened without blocking: a tollgate.yaml that is a FIFO in a hostile
    // repository must not hang the CI job.
    const buf = await readRegularFile(file, MAX_CONFIG_BYTES, explicit ?? DEFAULT_CONFIG_FILE);
    text = buf.toString("utf8");
  } catch (e) {
    if (e instanceof LimitExceededError) throw new InputError(`config file larger than ${MAX_CONFIG_BYTES} bytes`, { file, code: "CONFIG" });
    if (e instanceof InputError && e.code === "NOT_FOUND" && explicit === undefined) return { config: defaultConfigValues() };
    if (e instanceof InputError) throw new InputError(e.code === "NOT_FOUND" ? "no such file" : "not a regular file", { file: explicit ?? DEFAULT_CONFIG_FILE, code: "CONFIG" });
    const code = (e as NodeJS.ErrnoException).code;
    if (explicit === undefined && code === "ENOENT") return { config: defaultConfigValues() };
    throw new InputError(code === "ENOENT" ? "no such file" : `cannot read: ${(e as Error).message}`, { file: explicit ?? DEFAULT_CONFIG_FILE, code: "CONFIG" });
  }
  const shown = explicit ?? DEFAULT_CONFIG_FILE;
  // yaml and zod are loaded only when there is a file to parse.
  const { parseConfig } = await import("./parse.ts");
  return { config: parseConfig(text, shown), file: shown };
}
