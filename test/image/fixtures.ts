/**
 * Real images for the image tests, built with Debian's own tools: a `debootstrap --variant=minbase
 * bookworm` root filesystem, turned into an OCI layout with umoci. Both are cached under the XDG cache
 * directory (keyed by suite and variant), so a fresh machine builds them once (about a minute).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const run = promisify(execFile);

export function toolsMissing(...tools: string[]): string | false {
  if (tools.includes("debootstrap") && process.getuid?.() !== 0) return "SKIPPED: debootstrap (the base image) needs root";
  const missing = tools.filter((t) => !["/usr/bin", "/usr/sbin", "/bin", "/sbin"].some((d) => existsSync(join(d, t))));
  // In CI, .ci/run installs these: a missing tool there is a broken CI script, so the test runs and fails.
  if (missing.length > 0 && process.env.CI === "true") return false;
  return missing.length ? `SKIPPED: ${missing.join(", ")} not installed (apt-get install ${missing.join(" ")}; see .ci/apt-packages.txt)` : false;
}

const CACHE = join(process.env.XDG_CACHE_HOME?.startsWith("/") ? process.env.XDG_CACHE_HOME : join(homedir(), ".cache"), "tollgate-tests");
const KEY = "bookworm-minbase-v1";

async function aptMirror(): Promise<string> {
  for (const f of ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]) {
    try {
      const text = await readFile(f, "utf8");
      const m = /^URIs:\s*(\S+)/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\b/m.exec(text);
      if (m) return m[1] as string;
    } catch {
      // try the next
    }
  }
  return "http://deb.debian.org/debian";
}

/** A lock across test processes: mkdir is atomic. */
async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(CACHE, { recursive: true });
  const lock = join(CACHE, `${name}.lock`);
  for (let i = 0; ; i++) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, "pid"), String(process.pid));
      break;
    } catch {
      // A lock left by a process that died is taken over.
      const pid = Number(await readFile(join(lock, "pid"), "utf8").catch(() => "0"));
      let alive = true;
      try {
        if (pid > 0) process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (pid > 0 && !alive) await rm(lock, { recursive: true, force: true });
      else if (i > 600) throw new Error(`lock ${lock} held for 10 minutes; remove it if stale`);
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export interface BaseImage {
  rootfs: string;
  /** OCI layout holding tag "bookworm": one gzip layer of the rootfs. */
  layout: string;
}

/** The debootstrap rootfs and its one-layer OCI layout, built once and cached. */
export async function baseImage(): Promise<BaseImage> {
  const dir = join(CACHE, KEY);
  const rootfs = join(dir, "rootfs");
  const layout = join(dir, "layout");
  if (existsSync(join(dir, "done"))) return { rootfs, layout };
  return withLock(KEY, async () => {
    if (existsSync(join(dir, "done"))) return { rootfs, layout };
    const tmp = `${dir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    await run("debootstrap", ["--variant=minbase", "bookworm", join(tmp, "rootfs"), await aptMirror()], { maxBuffer: 64 * 1024 * 1024 });
    await run("sh", ["-c", 'rm -f "$1"/var/cache/apt/archives/*.deb; rm -rf "$1"/var/lib/apt/lists/*', "sh", join(tmp, "rootfs")]);
    const l = join(tmp, "layout");
    await run("umoci", ["init", "--layout", l]);
    await run("umoci", ["new", "--image", `${l}:bookworm`]);
    await run("umoci", ["insert", "--image", `${l}:bookworm`, join(tmp, "rootfs"), "/"], { maxBuffer: 64 * 1024 * 1024 });
    await run("umoci", ["config", "--image", `${l}:bookworm`, "--config.cmd", "/bin/bash", "--os", "linux", "--architecture", "amd64"]);
    await run("umoci", ["gc", "--layout", l]);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    await run("touch", [join(dir, "done")]);
    return { rootfs, layout };
  });
}

/** `dpkg-query -W` over a rootfs: the oracle for the package list. Sorted "name version" lines. */
export async function dpkgQuery(rootfs: string): Promise<string[]> {
  const { stdout } = await run("dpkg-query", ["-W", `--admindir=${join(rootfs, "var/lib/dpkg")}`, "-f", "${Package} ${Version}\\n"], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split("\n").filter((l) => l !== "").sort();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}
