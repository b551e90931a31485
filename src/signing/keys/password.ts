/**
 * The password of an encrypted key file: `TOLLGATE_PASSWORD`, else `COSIGN_PASSWORD` (set but empty is
 * an empty password, as cosign reads it), else a prompt on a terminal, else a usage error naming the
 * variables. The password is never logged, echoed or written anywhere.
 */
import { UsageError } from "../../errors.ts";
import type { SignerOptions } from "./types.ts";

export const PASSWORD_VARIABLES = ["TOLLGATE_PASSWORD", "COSIGN_PASSWORD"] as const;

/** The password from the environment, or undefined when neither variable is set. */
export function passwordFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of PASSWORD_VARIABLES) {
    const value = env[name];
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * The password for `what` (a key file): from the environment, else from `options.promptPassword`
 * (asked twice and compared when `confirm` is set, for a new key), else a UsageError.
 */
export async function readPassword(what: string, options: SignerOptions, confirm = false): Promise<string> {
  const fromEnv = passwordFromEnv(options.env ?? process.env);
  if (fromEnv !== undefined) return fromEnv;
  const prompt = options.promptPassword;
  if (prompt === undefined) {
    throw new UsageError(`${what} needs a password: set TOLLGATE_PASSWORD (or COSIGN_PASSWORD), or run on a terminal to be asked`);
  }
  const first = await prompt(`Enter password for private key ${what}: `);
  if (confirm) {
    const again = await prompt(`Enter password for private key ${what} again: `);
    if (again !== first) throw new UsageError("the two passwords differ");
  }
  return first;
}

/**
 * Asks for a password on the terminal with echo off (raw mode on stdin, which must be a TTY). The
 * question goes to stderr. Ctrl-C or Ctrl-D cancels with a UsageError.
 */
export function promptPasswordOnTty(question: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) return Promise.reject(new UsageError("no terminal to ask for a password: set TOLLGATE_PASSWORD (or COSIGN_PASSWORD)"));
  return new Promise((resolve, reject) => {
    const chars: string[] = [];
    const wasRaw = input.isRaw;
    // Echo off before the question is shown: a password typed (or pasted) as soon as the prompt
    // appears must never reach the screen.
    input.setRawMode(true);
    process.stderr.write(question);
    input.resume();
    input.setEncoding("utf8");
    const finish = (error: Error | undefined): void => {
      input.off("data", onData);
      input.setRawMode(wasRaw);
      input.pause();
      process.stderr.write("\n");
      const password = chars.join("");
      chars.fill("");
      if (error) reject(error);
      else resolve(password);
    };
    const onData = (data: string): void => {
      for (const ch of data) {
        if (ch === "\r" || ch === "\n") return finish(undefined);
        if (ch === "\u0003" || ch === "\u0004") return finish(new UsageError("password entry cancelled"));
        if (ch === "\u007f" || ch === "\b") chars.pop();
        else if (ch >= " ") chars.push(ch);
      }
    };
    input.on("data", onData);
  });
}

/** The prompt a CLI command offers: on a terminal (stdin and stderr both TTYs) only. */
export function terminalPasswordPrompt(): SignerOptions["promptPassword"] {
  return process.stdin.isTTY && process.stderr.isTTY ? promptPasswordOnTty : undefined;
}
