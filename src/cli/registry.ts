import type { Command } from "commander";
import { NotImplementedError } from "../errors.ts";
import { createContext, type CommandContext, type RunState } from "./context.ts";

/**
 * What a domain's `register` function gets: the root program and a way to wrap its actions so that
 * they receive a CommandContext. Each domain registers its own commands (src/<domain>/cli.ts).
 */
export interface CliApp {
  program: Command;
  /** Wraps an action: positional arguments, then the command's own options, then the context. */
  action<A extends unknown[]>(
    handler: (args: A, options: Record<string, unknown>, ctx: CommandContext) => Promise<void> | void,
  ): (...raw: unknown[]) => Promise<void>;
  /** An action for a command whose issue has not been built yet: says so and exits 2. */
  notBuilt(what: string): (...raw: unknown[]) => Promise<void>;
}

export type Registrar = (app: CliApp) => void;

export function createApp(program: Command, state: RunState): CliApp {
  const app: CliApp = {
    program,
    action(handler) {
      return async (...raw: unknown[]) => {
        const cmd = raw[raw.length - 1] as Command;
        const options = raw[raw.length - 2] as Record<string, unknown>;
        const args = raw.slice(0, -2) as Parameters<typeof handler>[0];
        const ctx = createContext(cmd, state);
        await handler(args, options, ctx);
      };
    },
    notBuilt(what) {
      return app.action(() => {
        throw new NotImplementedError(`tollgate ${what}`);
      });
    },
  };
  return app;
}

/** Help text listing examples, appended after a command's options. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}

/**
 * Marks a command of a part of tollgate that is not built yet: its `--help` says so on its first
 * line, and its summary (the line in the parent's command list) ends with "(not built yet)".
 */
export function notBuiltYet(cmd: Command, summary?: string): Command {
  const name = cmd.parent?.parent ? `${cmd.parent.name()} ${cmd.name()}` : cmd.name();
  if (summary !== undefined) cmd.summary(`${summary} (not built yet)`);
  return cmd.addHelpText("before", `tollgate ${name}: not built yet in this version of tollgate; it exits 2.\n`);
}
