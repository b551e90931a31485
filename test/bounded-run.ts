/**
 * Runs a snippet of ES module code in a child Node process with a wall-clock limit and a small heap,
 * for the tests of inputs that used to hang or exhaust memory (FIFOs, endless SQLite views): a hang in
 * synchronous or native code cannot be interrupted by node:test's own timeout, but a child can be
 * killed. The snippet imports the sources by absolute URL (`src(path)`), through Node's type stripping.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./helpers.ts";

export interface BoundedResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the child was killed at the time limit: the input hung. */
  timedOut: boolean;
}

/** The file URL of a source module, for the snippet's imports: src("src/image/index.ts"). */
export function src(path: string): string {
  return pathToFileURL(join(ROOT, path)).href;
}

export function runBounded(code: string, options: { timeoutMs: number; maxOldSpaceMb?: number }): Promise<BoundedResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${options.maxOldSpaceMb ?? 256}`, "--no-warnings", "--input-type=module", "-e", code],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
    );
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d.length + stdout.length > 1_000_000 ? "" : d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d.length + stderr.length > 1_000_000 ? "" : d));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ code: exitCode, signal, stdout, stderr, timedOut });
    });
  });
}
