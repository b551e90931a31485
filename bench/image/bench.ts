/**
 * Image SBOM speed and memory (issue #6). A ~150 MB (compressed) image is built once under
 * bench/.work/image: the debootstrap bookworm minbase layer (test/image/fixtures.ts, cached) plus a
 * layer of a large host directory (the Go toolchain when installed), then pushed to Debian's
 * docker-registry on 127.0.0.1. tollgate's `sbom` of the image from the registry and from the OCI
 * layout is timed side by side with the floor for "reading every byte once": `skopeo copy` of the same
 * image to an OCI layout plus `tar -tzf` of its layers. Target: within 2x of the floor; peak memory
 * under 300 MB. Figures are printed, never asserted.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { baseImage, run, toolsMissing } from "../../test/image/fixtures.ts";
import { startRegistry } from "../../test/image/registry-server.ts";
import { ROOT } from "../../test/helpers.ts";

const WORK = join(ROOT, "bench", ".work", "image");
const RUNS = Number(process.env.BENCH_RUNS ?? 2);

interface Measure {
  seconds: number;
  peakMb?: number;
}

/** Runs a command; measures wall time and (polling /proc) the peak resident memory of the process. */
function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env });
    let stderr = "";
    let peakKb = 0;
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const poll = setInterval(async () => {
      try {
        const s = await readFile(`/proc/${child.pid}/status`, "utf8");
        const kb = Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0);
        if (kb > peakKb) peakKb = kb;
      } catch {
        // exited
      }
    }, 20);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${stderr.slice(0, 500)}`));
      resolve({ seconds, peakMb: peakKb / 1024 });
    });
  });
}

async function best(fn: () => Promise<Measure>): Promise<Measure> {
  let b: Measure | undefined;
  for (let i = 0; i < RUNS; i++) {
    const m = await fn();
    if (!b || m.seconds < b.seconds) b = { seconds: m.seconds, peakMb: Math.max(m.peakMb ?? 0, b?.peakMb ?? 0) };
    else b.peakMb = Math.max(b.peakMb ?? 0, m.peakMb ?? 0);
  }
  return b as Measure;
}

async function layerBlobs(layout: string, tag: string): Promise<string[]> {
  const { stdout } = await run("skopeo", ["inspect", "--raw", `oci:${layout}:${tag}`]);
  const manifest = JSON.parse(stdout) as { layers: { digest: string }[] };
  return manifest.layers.map((l) => join(layout, "blobs", "sha256", l.digest.slice(7)));
}

async function tarList(blobs: string[]): Promise<Measure> {
  let seconds = 0;
  for (const b of blobs) seconds += (await measure("tar", ["-tzf", b])).seconds;
  return { seconds };
}

async function main(): Promise<void> {
  const missing = toolsMissing("debootstrap", "umoci", "skopeo", "docker-registry", "tar");
  if (missing) {
    console.log(missing);
    return;
  }
  const base = await baseImage();
  const layout = join(WORK, "layout");
  if (!existsSync(join(WORK, "done"))) {
    await rm(WORK, { recursive: true, force: true });
    await run("mkdir", ["-p", WORK]);
    await run("cp", ["-a", base.layout, layout]);
    const extra = existsSync("/usr/lib/go-1.19") ? "/usr/lib/go-1.19" : "/usr/lib/x86_64-linux-gnu";
    console.log(`building the bench image: debootstrap layer + ${extra} ...`);
    await run("umoci", ["insert", "--image", `${layout}:bookworm`, extra, extra], { maxBuffer: 64 * 1024 * 1024 });
    await run("umoci", ["gc", "--layout", layout]);
    await run("touch", [join(WORK, "done")]);
  }
  const blobs = await layerBlobs(layout, "bookworm");
  let compressed = 0;
  for (const b of blobs) compressed += (await stat(b)).size;
  console.log(`image: ${blobs.length} layers, ${(compressed / 1e6).toFixed(1)} MB compressed`);

  const registry = await startRegistry(join(WORK, "registry"));
  try {
    await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:bookworm`, `docker://${registry.host}/bench:1`]);
    const floorDir = join(WORK, "floor");
    const floorRegistry = await best(async () => {
      await rm(floorDir, { recursive: true, force: true });
      const copy = await measure("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${registry.host}/bench:1`, `oci:${floorDir}:1`]);
      const list = await tarList(await layerBlobs(floorDir, "1"));
      return { seconds: copy.seconds + list.seconds };
    });
    const floorLayout = await best(async () => {
      await rm(floorDir, { recursive: true, force: true });
      const copy = await measure("skopeo", ["copy", "--quiet", `oci:${layout}:bookworm`, `oci:${floorDir}:1`]);
      const list = await tarList(await layerBlobs(floorDir, "1"));
      return { seconds: copy.seconds + list.seconds };
    });
    const out = join(WORK, "sbom.json");
    const tg = (target: string) => () => measure(process.execPath, [join(ROOT, "bin", "tollgate.cjs"), "sbom", target, "--quiet", "--output", out]);
    const fromRegistry = await best(tg(`registry:${registry.host}/bench:1`));
    const components = (JSON.parse(await readFile(out, "utf8")) as { components?: unknown[] }).components?.length ?? 0;
    const fromLayout = await best(tg(`oci-dir:${layout}:bookworm`));
    const rows: [string, Measure, Measure][] = [
      ["registry", fromRegistry, floorRegistry],
      ["oci-dir", fromLayout, floorLayout],
    ];
    console.log(`\n| source | tollgate sbom (s) | floor: skopeo copy + tar -tzf (s) | ratio | tollgate peak RSS (MB) |`);
    console.log(`|---|---|---|---|---|`);
    for (const [name, t, f] of rows) {
      console.log(`| ${name} | ${t.seconds.toFixed(2)} | ${f.seconds.toFixed(2)} | ${(t.seconds / f.seconds).toFixed(2)}x | ${(t.peakMb ?? 0).toFixed(0)} |`);
    }
    console.log(`\n${components} components; best of ${RUNS} runs; target within 2x of the floor and under 300 MB peak.`);
    console.log(`(layers in the floor layout: ${(await readdir(join(floorDir, "blobs", "sha256"))).length} blobs)`);
  } finally {
    await registry.stop();
  }
}

await main();
