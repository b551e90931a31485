// `tollgate lint image`: images built with umoci (a real OCI tool, from Debian) out of small root
// filesystems written here, and, when the image tests' debootstrap base image is cached, a real Debian
// image checked against `find -perm /6000` as the oracle for setuid/setgid files.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { lintImage } from "../../src/lint/index.ts";
import { runCli, tempDir } from "../helpers.ts";
import { baseImage, toolsMissing } from "../image/fixtures.ts";

const run = promisify(execFile);
const umociMissing = toolsMissing("umoci");

/**
 * Builds an OCI layout `dir/layout:t` from `dir/rootfs`: GNU tar writes the layer (modes kept),
 * `umoci raw add-layer` stores it and `umoci config` sets the config. (`umoci insert` 0.4.7 writes
 * small layers without the tar trailer, which GNU tar itself rejects, so it is not used here.)
 */
async function buildImage(dir: string, configFlags: string[]): Promise<string> {
  const layout = join(dir, "layout");
  const tar = join(dir, "layer.tar");
  await run("tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", join(dir, "rootfs"), "-cf", tar, "."]);
  await run("umoci", ["init", "--layout", layout]);
  await run("umoci", ["new", "--image", `${layout}:t`]);
  await run("umoci", ["raw", "add-layer", "--image", `${layout}:t`, tar]);
  await run("umoci", ["config", "--image", `${layout}:t`, "--os", "linux", "--architecture", "amd64", ...configFlags]);
  return `oci-dir:${layout}:t`;
}

async function file(root: string, path: string, content: string, mode = 0o644): Promise<void> {
  const full = join(root, path);
  await mkdir(join(full, ".."), { recursive: true });
  await writeFile(full, content);
  await chmod(full, mode);
}

test("lint image: root user, setuid/setgid, world-writable, credential files, secret env, no healthcheck", { skip: umociMissing }, async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const rootfs = join(dir, "rootfs");
    await file(rootfs, "usr/bin/tool", "#!/bin/sh\n", 0o4755);
    await file(rootfs, "usr/bin/grouptool", "#!/bin/sh\n", 0o2755);
    await file(rootfs, "usr/bin/plain", "#!/bin/sh\n", 0o755);
    await file(rootfs, "srv/app/shared.log", "x", 0o666);
    await file(rootfs, "root/.aws/credentials", "[default]\naws_access_key_id = x\n");
    await file(rootfs, "home/app/.npmrc", "//registry.npmjs.org/:_authToken=npm_0123456789abcdefghijklmnopqrstuvwxyz\n");
    await file(rootfs, "home/other/.npmrc", "registry=https://registry.npmjs.org/\n");
    await file(rootfs, "etc/ssl/certs/ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    await file(rootfs, "opt/tls/server.key", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    await file(rootfs, "srv/app/.env", "DATABASE_PASSWORD=hunter2\n");
    const ref = await buildImage(dir, ["--config.env", "API_TOKEN=abc123", "--config.env", "PATH=/usr/bin"]);
    const r = await runCli(["lint", "image", ref, "--format", "json"]);
    assert.equal(r.code, 1, r.stderr);
    const got = (JSON.parse(r.stdout) as { findings: { ruleId: string; file: string; severity: string; message: string }[] }).findings.map((f) => `${f.ruleId} ${f.file}`);
    assert.deepEqual(got.sort(), [
      "TG-IMG-001 image config",
      "TG-IMG-002 /usr/bin/grouptool",
      "TG-IMG-002 /usr/bin/tool",
      "TG-IMG-003 /srv/app/shared.log",
      "TG-IMG-004 /home/app/.npmrc",
      "TG-IMG-004 /opt/tls/server.key",
      "TG-IMG-004 /root/.aws/credentials",
      "TG-IMG-004 /srv/app/.env",
      "TG-IMG-005 image config",
      "TG-IMG-006 image config",
    ]);
    assert.ok(!r.stdout.includes("abc123") && !r.stdout.includes("hunter2") && !r.stdout.includes("npm_0123"), "secrets are never echoed");

    // The same image, hardened: a numeric user, no stray bits, no credentials; only the info remains.
    const clean = await tempDir();
    try {
      await file(join(clean.dir, "rootfs"), "usr/bin/plain", "#!/bin/sh\n", 0o755);
      await file(join(clean.dir, "rootfs"), "home/other/.npmrc", "registry=https://registry.npmjs.org/\n");
      const ref2 = await buildImage(clean.dir, ["--config.user", "10001:10001"]);
      const res = await lintImage({ kind: "oci-dir", input: ref2, path: join(clean.dir, "layout"), tag: "t" });
      assert.deepEqual(res.findings.map((f) => f.ruleId), ["TG-IMG-005"]);
      const cli = await runCli(["lint", "image", ref2, "--fail-on", "warning"]);
      assert.equal(cli.code, 0, cli.stdout + cli.stderr);
      const ignored = await lintImage({ kind: "oci-dir", input: ref2, path: join(clean.dir, "layout"), tag: "t" }, { ignore: ["TG-IMG-005"] });
      assert.deepEqual(ignored.findings, []);
    } finally {
      await clean.cleanup();
    }
  } finally {
    await cleanup();
  }
});

test("lint image: SARIF for image findings has no region; a non-image target is a usage error", { skip: umociMissing }, async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await file(join(dir, "rootfs"), "usr/bin/tool", "x", 0o4755);
    const ref = await buildImage(dir, []);
    const r = await runCli(["lint", "image", ref, "--format", "sarif"]);
    const log = JSON.parse(r.stdout) as { runs: { results: { ruleId: string; locations: { physicalLocation: Record<string, unknown> }[] }[] }[] };
    const res = log.runs[0]?.results.find((x) => x.ruleId === "TG-IMG-002");
    assert.ok(res);
    assert.equal(res.locations[0]?.physicalLocation.region, undefined);
    const bad = await runCli(["lint", "image", `dir:${dir}`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an image/);
  } finally {
    await cleanup();
  }
});

// The cached debootstrap image of the image tests (built here when this file runs first).
const baseMissing = toolsMissing("debootstrap", "umoci");

test("lint image on a real Debian bookworm image: setuid/setgid files equal `find -perm /6000`", { skip: baseMissing }, async () => {
  const base = await baseImage();
  const { stdout } = await run("find", [base.rootfs, "-xdev", "-type", "f", "-perm", "/6000"]);
  const oracle = stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.slice(base.rootfs.length))
    .sort();
  assert.ok(oracle.length > 0);
  const res = await lintImage({ kind: "oci-dir", input: "bookworm", path: base.layout, tag: "bookworm" });
  assert.deepEqual(
    res.findings.filter((f) => f.ruleId === "TG-IMG-002").map((f) => f.file).sort(),
    oracle,
  );
  assert.ok(res.findings.some((f) => f.ruleId === "TG-IMG-001"));
});

test("lint image: a Docker-style config with User and Healthcheck passes TG-IMG-001 and TG-IMG-005", async () => {
  // umoci writes OCI configs, which have no Healthcheck; this layout is assembled by hand (image-spec
  // layout, config with Docker's Healthcheck field) around a layer written by GNU tar.
  const { dir, cleanup } = await tempDir();
  try {
    await file(join(dir, "rootfs"), "app/run", "#!/bin/sh\n", 0o755);
    const tarPath = join(dir, "layer.tar");
    await run("tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", join(dir, "rootfs"), "-cf", tarPath, "."]);
    const layout = join(dir, "layout");
    await mkdir(join(layout, "blobs", "sha256"), { recursive: true });
    const put = async (data: Buffer): Promise<{ digest: string; size: number }> => {
      const hex = createHash("sha256").update(data).digest("hex");
      await writeFile(join(layout, "blobs", "sha256", hex), data);
      return { digest: `sha256:${hex}`, size: data.length };
    };
    const layer = await readFile(tarPath);
    const l = await put(layer);
    const config = await put(
      Buffer.from(
        JSON.stringify({
          architecture: "amd64",
          os: "linux",
          config: { User: "10001:10001", Env: ["PATH=/usr/bin", "PUBLIC_KEY_PATH=/etc/key.pub"], Healthcheck: { Test: ["CMD", "/app/run", "health"] } },
          rootfs: { type: "layers", diff_ids: [l.digest] },
        }),
      ),
    );
    const manifest = await put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
          layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...l }],
        }),
      ),
    );
    await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await writeFile(
      join(layout, "index.json"),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "t" } }] }),
    );
    const res = await lintImage({ kind: "oci-dir", input: layout, path: layout, tag: "t" });
    assert.deepEqual(res.findings, []);
  } finally {
    await cleanup();
  }
});
