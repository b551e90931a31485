import type { Command } from "commander";
import type { LoadedConfig } from "../config/index.ts";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic-write.ts";
import { redactSecrets, terminalText } from "../io/text.ts";

/** The global options every command accepts (see `buildProgram`). */
export interface GlobalOptions {
  format?: string;
  output?: string;
  config?: string;
  quiet?: boolean;
  debug?: boolean;
  color?: boolean;
}

/** What a command's action gets: parsed global options and the shared I/O habits. */
export interface CommandContext {
  readonly format: string | undefined;
  readonly output: string | undefined;
  readonly quiet: boolean;
  readonly debug: boolean;
  /** Colour on stdout: a TTY, no --no-color, no NO_COLOR. */
  readonly color: boolean;
  /** tollgate.yaml (from --config, TOLLGATE_CONFIG, ./tollgate.yaml) or the defaults; loaded once. */
  config(): Promise<LoadedConfig>;
  /** The --format value checked against the formats this command writes, or the default. */
  formatOf<T extends string>(allowed: readonly T[], fallback: T): T;
  /** Writes a report to --output (atomically) or to stdout. */
  writeOutput(data: string | Uint8Array): Promise<void>;
  /** A progress line on stderr, only when stderr is a TTY and not --quiet. */
  progress(message: string): void;
  /** A notice on stderr (warnings), unless --quiet. */
  notice(message: string): void;
  /** Why the command fails (an input not read, a database without data): on stderr even with --quiet. */
  failure(message: string): void;
  /** Sets the process exit code the command ends with (0, 1 or 2) without throwing. */
  setExitCode(code: number): void;
}

export interface RunState {
  exitCode: number;
  debug: boolean;
}

export function createContext(cmd: Command, state: RunState, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const quiet = g.quiet === true || env.TOLLGATE_QUIET === "1";
  const debug = g.debug === true || env.TOLLGATE_DEBUG === "1";
  state.debug = debug;
  const noColorEnv = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  const color = g.color !== false && !noColorEnv && process.stdout.isTTY === true;
  let loaded: Promise<LoadedConfig> | undefined;
  // A progress line stays on the terminal until something else is written: every other write to the
  // terminal clears it first, so reports and notices never start in the middle of "building the SBOM…".
  let progressShown = false;
  const clearProgress = (): void => {
    if (!progressShown) return;
    progressShown = false;
    process.stderr.write("\r\x1b[2K");
  };
  return {
    format: g.format,
    output: g.output,
    quiet,
    debug,
    color,
    config() {
      // Loaded on first use: yaml and zod are not paid for by commands that need no configuration.
      loaded ??= import("../config/load.ts").then((m) => m.loadConfig(g.config ?? (env.TOLLGATE_CONFIG || undefined)));
      return loaded;
    },
    formatOf<T extends string>(allowed: readonly T[], fallback: T): T {
      const f = g.format ?? env.TOLLGATE_FORMAT;
      if (f === undefined) return fallback;
      if (!(allowed as readonly string[]).includes(f)) {
        throw new UsageError(`--format ${f}: ${cmd.name()} writes ${allowed.join(", ")}`);
      }
      return f as T;
    },
    async writeOutput(data) {
      clearProgress();
      if (g.output !== undefined && g.output !== "-") {
        await writeFileAtomic(g.output, data);
      } else {
        await new Promise<void>((resolve, reject) => process.stdout.write(data, (err) => (err ? reject(err) : resolve())));
      }
    },
    progress(message) {
      if (quiet || !process.stderr.isTTY) return;
      if (message === "") return clearProgress();
      process.stderr.write(`\r\x1b[2K${terminalText(message)}`);
      progressShown = true;
    },
    notice(message) {
      if (quiet) return;
      clearProgress();
      process.stderr.write(`tollgate: ${terminalText(redactSecrets(message))}\n`);
    },
    failure(message) {
      clearProgress();
      process.stderr.write(`tollgate: ${terminalText(redactSecrets(message))}\n`);
    },
    setExitCode(code) {
      state.exitCode = Math.max(state.exitCode, code);
    },
  };
}
