/**
 * One timed hashFiles run for bench/model/bench.ts, in its own process so that its peak resident
 * memory (VmHWM, worker threads included) is measured alone: `node hash-run.ts CONCURRENCY FILE...`.
 * Uses the built module (dist/, or BENCH_DIST), as users run it: a worker started from a .ts source
 * pays for type stripping in every thread. Prints one JSON line: seconds spent in hashFiles, the
 * module used, and the digests.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type HashFiles = (paths: readonly string[], options?: { concurrency?: number }) => Promise<Map<string, string>>;
const dist = process.env.BENCH_DIST ?? fileURLToPath(new URL("../../dist", import.meta.url));
const built = join(dist, "io", "hash-files.js");
const module = existsSync(built) ? pathToFileURL(built).href : new URL("../../src/io/hash-files.ts", import.meta.url).href;
const { hashFiles } = (await import(module)) as { hashFiles: HashFiles };
const [concurrency, ...files] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const digests = await hashFiles(files, { concurrency: Number(concurrency) });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ seconds, module, digests: Object.fromEntries(digests) }));
