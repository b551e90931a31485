/**
 * Model hashing speed and memory (issue 14, "Performance"). A 2 GiB model directory is written once
 * under bench/.work/model: one 1.5 GiB weight file and eight 64 MiB shards of random bytes. tollgate's
 * `hashFiles` (src/io/hash-files.ts: SHA-256 streamed in 1 MiB chunks, files in parallel lanes: the main thread and worker
 * threads) is timed against `openssl dgst -sha256` over the same files (one process, the reference:
 * it uses the CPU's SHA instructions; Debian's sha256sum does not), page cache warm for both:
 *   1. the single large file, one lane (main thread) — target ≥ 90% of openssl's speed;
 *   2. the eight shards, 2 lanes (main + 1 worker) — target ≥ 1.5× one openssl process over them;
 *   3. the whole directory, 2 lanes (bounded by the largest file: one lane hashes 1.5 GiB alone).
 * Peak resident memory (VmHWM, worker threads included) is printed for each tollgate run: flat
 * whatever the file size. Figures are printed, never asserted.
 */
import { spawn } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "../../test/helpers.ts";

const WORK = join(ROOT, "bench", ".work", "model");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MiB = 1024 * 1024;
const LARGE = { name: "model-large.safetensors", bytes: 1536 * MiB };
const SHARDS = Array.from({ length: 8 }, (_, i) => ({ name: `model-${String(i + 1).padStart(5, "0")}-of-00008.safetensors`, bytes: 64 * MiB }));

interface Measure {
  seconds: number;
  peakMb: number;
  stdout: string;
}

/** Runs a command; wall time and the peak resident memory of the process (polled from /proc). */
function measure(cmd: string, args: string[]): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let peakKb = 0;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const poll = setInterval(() => {
      readFile(`/proc/${child.pid}/status`, "utf8").then(
        (s) => {
          const kb = Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0);
          if (kb > peakKb) peakKb = kb;
        },
        () => undefined,
      );
    }, 20);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}: ${stderr.slice(0, 500)}`));
      resolve({ seconds, peakMb: peakKb / 1024, stdout });
    });
  });
}

/** The fastest of RUNS runs (the machine is shared: the best run is the least disturbed one). */
async function best(fn: () => Promise<Measure & { inner?: number }>): Promise<Measure & { inner?: number }> {
  let b: (Measure & { inner?: number }) | undefined;
  let peak = 0;
  for (let i = 0; i < RUNS; i++) {
    const m = await fn();
    peak = Math.max(peak, m.peakMb);
    if (!b || m.seconds < b.seconds) b = m;
  }
  return { ...b!, peakMb: peak };
}

async function writeRandom(path: string, bytes: number): Promise<void> {
  if (existsSync(path) && (await stat(path)).size === bytes) return;
  const h = await open(path, "w");
  const chunk = Buffer.allocUnsafe(16 * MiB);
  try {
    for (let off = 0; off < bytes; off += chunk.length) {
      randomFillSync(chunk);
      await h.write(chunk, 0, Math.min(chunk.length, bytes - off));
    }
  } finally {
    await h.close();
  }
}

function openssl(files: string[]): Promise<Measure> {
  return measure("openssl", ["dgst", "-sha256", ...files]);
}

async function tollgate(concurrency: number, files: string[]): Promise<Measure & { inner: number }> {
  const m = await measure(process.execPath, [join(ROOT, "bench", "model", "hash-run.ts"), String(concurrency), ...files]);
  const out = JSON.parse(m.stdout) as { seconds: number; digests: Record<string, string> };
  return { ...m, inner: out.seconds };
}

/** Checks that tollgate and openssl agree on every digest (a fast wrong hash is no result). */
async function agree(files: string[]): Promise<void> {
  const o = await openssl(files);
  const t = JSON.parse((await tollgate(2, files)).stdout) as { digests: Record<string, string> };
  for (const line of o.stdout.trim().split("\n")) {
    const m = /^SHA2?-?256\((.*)\)= ([0-9a-f]{64})$/.exec(line);
    if (!m || t.digests[m[1]!] !== m[2]) throw new Error(`digest mismatch: ${line}`);
  }
}

function gbps(bytes: number, seconds: number): string {
  return `${(bytes / seconds / 1e9).toFixed(2)} GB/s`;
}

async function main(): Promise<void> {
  await mkdir(WORK, { recursive: true });
  console.log(`writing the 2 GiB model directory in ${WORK} (once)…`);
  await writeRandom(join(WORK, LARGE.name), LARGE.bytes);
  for (const s of SHARDS) await writeRandom(join(WORK, s.name), s.bytes);
  const large = [join(WORK, LARGE.name)];
  const shards = SHARDS.map((s) => join(WORK, s.name));
  const all = [...large, ...shards];
  const shardBytes = SHARDS.reduce((n, s) => n + s.bytes, 0);
  // Page cache warm for everyone, and the digests checked.
  await agree(all);

  const rows: string[][] = [["case", "openssl (1 process)", "tollgate hashFiles", "ratio (openssl time / tollgate time)", "tollgate peak RSS"]];
  const o1 = await best(() => openssl(large));
  const t1 = await best(() => tollgate(1, large));
  rows.push(["1.5 GiB file, 1 lane", `${o1.seconds.toFixed(2)} s (${gbps(LARGE.bytes, o1.seconds)})`, `${t1.seconds.toFixed(2)} s wall, ${t1.inner!.toFixed(2)} s in hashFiles (${gbps(LARGE.bytes, t1.inner!)})`, `${(o1.seconds / t1.seconds).toFixed(2)} wall, ${(o1.seconds / t1.inner!).toFixed(2)} hashing (target ≥ 0.90)`, `${t1.peakMb.toFixed(0)} MB`]);
  const o2 = await best(() => openssl(shards));
  const t2 = await best(() => tollgate(2, shards));
  rows.push(["8 × 64 MiB, 2 lanes", `${o2.seconds.toFixed(2)} s (${gbps(shardBytes, o2.seconds)})`, `${t2.seconds.toFixed(2)} s wall, ${t2.inner!.toFixed(2)} s in hashFiles (${gbps(shardBytes, t2.inner!)})`, `${(o2.seconds / t2.seconds).toFixed(2)} wall, ${(o2.seconds / t2.inner!).toFixed(2)} hashing (target ≥ 1.5)`, `${t2.peakMb.toFixed(0)} MB`]);
  const o3 = await best(() => openssl(all));
  const t3 = await best(() => tollgate(2, all));
  rows.push(["whole 2 GiB dir, 2 lanes", `${o3.seconds.toFixed(2)} s`, `${t3.seconds.toFixed(2)} s wall, ${t3.inner!.toFixed(2)} s in hashFiles`, `${(o3.seconds / t3.seconds).toFixed(2)} wall (bound: 2 GiB / 1.5 GiB = 1.33)`, `${t3.peakMb.toFixed(0)} MB`]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
  console.log(`hashFiles from ${(JSON.parse((await tollgate(1, large)).stdout) as { module: string }).module}`);
  console.log(`best of ${RUNS} runs each; load average at the end: ${(await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ")} on ${(await import("node:os")).availableParallelism()} cores`);
}

await main();
