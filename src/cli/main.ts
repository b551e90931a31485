import { CommanderError } from "commander";
import { EXIT_USAGE, formatErrorLine, isTollgateError } from "../errors.ts";
import { redactSecrets, terminalText } from "../io/text.ts";
import type { RunState } from "./context.ts";
import { buildProgram } from "./program.ts";

/**
 * Runs the CLI and returns the exit code: 0 pass, 1 gate or verification failed, 2 usage or input
 * error. Errors print one line on stderr; --debug (or TOLLGATE_DEBUG=1) adds the stack.
 */
export async function run(argv: readonly string[] = process.argv): Promise<number> {
  const state: RunState = { exitCode: 0, debug: argv.includes("--debug") || process.env.TOLLGATE_DEBUG === "1" };
  const program = buildProgram(state);
  try {
    await program.parseAsync(argv as string[]);
    return state.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      // Commander has already printed its one line (see configureOutput in program.ts).
      return EXIT_USAGE;
    }
    // The message may quote the input (a file name from an image layer): never raw control characters.
    // Credentials never reach the terminal or a CI log, whatever the error quotes (a last guard: the
    // registry and GitHub clients redact their own messages).
    process.stderr.write(`tollgate: ${terminalText(redactSecrets(formatErrorLine(e)))}\n`);
    if (state.debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return isTollgateError(e) ? e.exitCode : EXIT_USAGE;
  }
}

/** Entry point for bin/tollgate.js: runs and sets the exit code once stdout has drained. */
export async function main(): Promise<void> {
  // A reader that stops early (`tollgate ... | head`) closes the pipe: that ends the run quietly.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  process.exitCode = await run(process.argv);
}
