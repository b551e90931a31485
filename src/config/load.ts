import { readFile } from "node:fs/promises";
import { InputError } from "../errors.ts";
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
    const buf = await readFile(file);
    if (buf.length > MAX_CONFIG_BYTES) throw new InputError(`config file larger than ${MAX_CONFIG_BYTES} bytes`, { file, code: "CONFIG" });
    text = buf.toString("utf8");
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (explicit === undefined && code === "ENOENT") return { config: defaultConfigValues() };
    throw new InputError(code === "ENOENT" ? "no such file" : `cannot read: ${(e as Error).message}`, { file: explicit ?? DEFAULT_CONFIG_FILE, code: "CONFIG" });
  }
  const shown = explicit ?? DEFAULT_CONFIG_FILE;
  // yaml and zod are loaded only when there is a file to parse.
  const { parseConfig } = await import("./parse.ts");
  return { config: parseConfig(text, shown), file: shown };
}
