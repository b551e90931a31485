/**
 * The distribution client's rules: reference defaults (Docker Hub, library/, latest), when plain HTTP
 * is used, and retries. The retry test puts a small proxy in front of Debian's docker-registry that
 * answers 503 to the first request of every path: a stand-in for a flaky network, which cannot be had
 * for real here.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { collect } from "../../src/collect/index.ts";
import { openImageSource, parseRegistryReference, usesPlainHttp } from "../../src/image/index.ts";
import { runCli, tempDir } from "../helpers.ts";
import { freePort, run, toolsMissing } from "./fixtures.ts";
import { layoutOf, tarOf, writeImage, writeIndex } from "./layout-builder.ts";
import { startRegistry } from "./registry-server.ts";

function externalIPv4(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

describe("registry references and transport", () => {
  test("docker's defaults for references", () => {
    assert.deepEqual(parseRegistryReference("alpine"), { registry: "docker.io", apiHost: "registry-1.docker.io", repository: "library/alpine", tag: "latest" });
    assert.deepEqual(parseRegistryReference("docker.io/grafana/grafana:11.0.0"), { registry: "docker.io", apiHost: "registry-1.docker.io", repository: "grafana/grafana", tag: "11.0.0" });
    const d = `sha256:${"a".repeat(64)}`;
    assert.deepEqual(parseRegistryReference(`ghcr.io/org/app@${d}`), { registry: "ghcr.io", apiHost: "ghcr.io", repository: "org/app", digest: d });
    assert.deepEqual(parseRegistryReference("localhost:5000/x:1"), { registry: "localhost:5000", apiHost: "localhost:5000", repository: "x", tag: "1" });
  });

  test("plain HTTP only for loopback and named insecure registries", () => {
    assert.equal(usesPlainHttp("localhost:5000"), true);
    assert.equal(usesPlainHttp("127.0.0.1:5000"), true);
    assert.equal(usesPlainHttp("127.3.2.1"), true);
    assert.equal(usesPlainHttp("[::1]:5000"), true);
    assert.equal(usesPlainHttp("128.0.0.1:5000"), false);
    assert.equal(usesPlainHttp("registry.internal:5000"), false);
    assert.equal(usesPlainHttp("registry.internal:5000", ["registry.internal:5000"]), true);
    assert.equal(usesPlainHttp("registry.internal:5000", ["registry.internal"]), true);
    assert.equal(usesPlainHttp("ghcr.io", ["registry.internal"]), false);
  });

  test("a multi-platform index pushed with skopeo --all: platform choice and the error listing platforms", { skip: toolsMissing("skopeo", "docker-registry") }, async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"));
    try {
      const layout = join(dir, "layout");
      await mkdir(layout, { recursive: true });
      const amd = await writeImage(layout, [{ tar: await tarOf([{ name: "arch", content: "amd64" }]), compression: "gzip" }], "amd64");
      const arm = await writeImage(layout, [{ tar: await tarOf([{ name: "arch", content: "arm64" }]), compression: "zstd" }], "arm64");
      await writeIndex(layout, [{ desc: amd.manifest }, { desc: arm.manifest }], true);
      await run("skopeo", ["copy", "--quiet", "--all", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout}:multi`, `docker://${registry.host}/multi:1`]);
      const target = { kind: "registry" as const, input: "x", reference: `${registry.host}/multi:1` };
      const arm64 = await openImageSource(target, { platform: "linux/arm64" });
      assert.equal((await arm64.fs.readFile("arch")).toString(), "arm64");
      assert.equal(arm64.metadata.properties?.["tollgate:image:manifestDigest"], arm.manifest.digest);
      await assert.rejects(openImageSource(target, { platform: "windows/amd64" }), /no image for platform windows\/amd64; the index holds linux\/amd64, linux\/arm64 \(choose with --platform\)/);
    } finally {
      await registry.stop();
      await cleanup();
    }
  });

  test("HTTPS by default for other hosts (certificate checked); plain HTTP only with --insecure-registry", { skip: toolsMissing("skopeo", "docker-registry", "openssl") || (externalIPv4() ? false : "SKIPPED: no non-loopback IPv4 address") }, async () => {
    const ip = externalIPv4() as string;
    const { dir, cleanup } = await tempDir();
    const secure = await startRegistry(join(dir, "tls"), undefined, { bindHost: ip, tls: true });
    const plain = await startRegistry(join(dir, "plain"), undefined, { bindHost: ip });
    try {
      const layout = join(dir, "layout");
      await layoutOf(layout, [{ tar: await tarOf([{ name: "var/lib/dpkg/status", content: "Package: a\nStatus: install ok installed\nVersion: 1.0\n" }]), compression: "gzip" }]);
      for (const r of [secure, plain]) await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:t`, `docker://${r.host}/small:1`]);
      const trusted = await runCli(["sbom", `${secure.host}/small:1`], { cwd: dir, env: { NODE_EXTRA_CA_CERTS: secure.caFile as string } });
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.match(trusted.stdout, /pkg:deb\/debian\/a@1\.0/);
      const untrusted = await runCli(["sbom", `${secure.host}/small:1`], { cwd: dir });
      assert.equal(untrusted.code, 2);
      assert.match(untrusted.stderr, /^tollgate: https:\/\/.*(certificate|self-signed|self signed)/i);
      const refused = await runCli(["sbom", `${plain.host}/small:1`], { cwd: dir });
      assert.equal(refused.code, 2, "HTTPS is tried against a plain-HTTP registry and fails");
      const insecure = await runCli(["sbom", `${plain.host}/small:1`, "--insecure-registry", plain.host], { cwd: dir });
      assert.equal(insecure.code, 0, insecure.stderr);
    } finally {
      await secure.stop();
      await plain.stop();
      await cleanup();
    }
  });

  test("basic auth (htpasswd) with credentials from DOCKER_CONFIG", { skip: toolsMissing("skopeo", "docker-registry", "htpasswd") }, async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"), { username: "ci", password: "pw" }, { basic: true });
    try {
      const layout = join(dir, "layout");
      await layoutOf(layout, [{ tar: await tarOf([{ name: "var/lib/dpkg/status", content: "Package: a\nStatus: install ok installed\nVersion: 1.0\n" }]), compression: "gzip" }]);
      await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "ci:pw", `oci:${layout}:t`, `docker://${registry.host}/small:1`]);
      const target = { kind: "registry" as const, input: "x", reference: `${registry.host}/small:1` };
      const none = join(dir, "none");
      await mkdir(none);
      await assert.rejects(openImageSource(target, { env: { ...process.env, DOCKER_CONFIG: none } }), /asks for basic credentials and none are configured/);
      const cfg = join(dir, "cfg");
      await mkdir(cfg);
      await writeFile(join(cfg, "config.json"), JSON.stringify({ auths: { [`http://${registry.host}`]: { username: "ci", password: "pw" } } }));
      const source = await openImageSource(target, { env: { ...process.env, DOCKER_CONFIG: cfg } });
      const r = await collect(source.fs, source.catalogers);
      assert.deepEqual(r.components.filter((c) => c.foundBy === "dpkg").map((c) => `${c.name}@${c.version}`), ["a@1.0"]);
      await writeFile(join(cfg, "config.json"), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from("ci:wrong").toString("base64") } } }));
      await assert.rejects(openImageSource(target, { env: { ...process.env, DOCKER_CONFIG: cfg } }), /access denied \(HTTP 401\)/);
    } finally {
      await registry.stop();
      await cleanup();
    }
  });

  test("5xx answers are retried", { skip: toolsMissing("skopeo", "docker-registry") }, async () => {
    const { dir, cleanup } = await tempDir();
    const registry = await startRegistry(join(dir, "registry"));
    const port = await freePort();
    const seen = new Set<string>();
    let failures = 0;
    const proxy = createServer(async (req, res) => {
      const key = `${req.method} ${req.url}`;
      if (!seen.has(key)) {
        seen.add(key);
        failures++;
        res.writeHead(503).end("try again");
        return;
      }
      const upstream = await fetch(`http://${registry.host}${req.url}`, { method: req.method ?? "GET", headers: { accept: req.headers.accept ?? "*/*" } });
      const headers: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (k !== "content-encoding" && k !== "transfer-encoding") headers[k] = v;
      });
      res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((r) => proxy.listen(port, "127.0.0.1", r));
    try {
      const layout = join(dir, "layout");
      await layoutOf(layout, [
        { tar: await tarOf([{ name: "etc/os-release", content: "ID=debian\nVERSION_ID=12\n" }, { name: "var/lib/dpkg/status", content: "Package: a\nStatus: install ok installed\nVersion: 1.0\n" }]), compression: "gzip" },
      ]);
      await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:t`, `docker://${registry.host}/small:1`]);
      const source = await openImageSource({ kind: "registry", input: "x", reference: `127.0.0.1:${port}/small:1` });
      const r = await collect(source.fs, source.catalogers);
      assert.deepEqual(
        r.components.filter((c) => c.foundBy === "dpkg").map((c) => c.purl),
        ["pkg:deb/debian/a@1.0?distro=debian-12"],
      );
      assert.ok(failures >= 3, `manifest, config and layer each failed once (${failures})`);
    } finally {
      await new Promise((r) => proxy.close(r));
      await registry.stop();
      await cleanup();
    }
  });
});
